"""Calibration a glaciologist can trust: synthetic glaciers whose WGMS series the model
itself produced (with noise of the stated uncertainties) under a known temperature bias
and precipitation factor. One seasonal pair leaves prcp_fac at its prior with the
reference mean matched; a full seasonal series recovers both, within the reported
uncertainties."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

TRUE_TEMP_BIAS = 0.6
TRUE_PRCP_FAC = 1.3
HYDRO_YEARS = list(range(1978, 2002))  # 24 WGMS years 1979-2002
SIGMA = {"annual": 0.20, "winter": 0.15, "summer": 0.20}  # the documented defaults


@pytest.fixture(scope="module")
def truth(hef_daily):
    """{kind: {hydrological year: value (m w.e.)}} of variant A under the true adjustments."""
    import jax.numpy as jnp

    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.integration.calibration.objective import Objective
    from oggm_glaunti.integration.calibration.observations import Observations

    run = GlaUnTIMassBalance(hef_daily, variant="A", temp_bias=0.0, prcp_fac=1.0).glacier_run
    obs = Observations(annual={y: 0.0 for y in HYDRO_YEARS}, winter={y: 0.0 for y in HYDRO_YEARS},
                       summer={y: 0.0 for y in HYDRO_YEARS})
    objective = Objective(run, obs, HYDRO_YEARS, ("temp_bias", "prcp_fac"))
    simulated = objective.simulated(jnp.asarray([TRUE_TEMP_BIAS, math.log(TRUE_PRCP_FAC)], jnp.float32))
    return {kind: {y: simulated[y][kind] for y in HYDRO_YEARS} for kind in SIGMA}


def wgms_table(truth, seasonal_years, seed=3) -> pd.DataFrame:
    """A WGMS-like table (mm w.e., WGMS year = hydrological year + 1) with noise of the
    documented uncertainties; winter and summer balances only in ``seasonal_years``."""
    rng = np.random.default_rng(seed)
    rows = {}
    for y in HYDRO_YEARS:
        noise = {k: rng.normal(0.0, s) for k, s in SIGMA.items()}
        winter = truth["winter"][y] + noise["winter"]
        summer = truth["summer"][y] + noise["summer"]
        seasonal = y in seasonal_years
        rows[y + 1] = {"ANNUAL_BALANCE": 1000 * (winter + summer if seasonal else truth["annual"][y] + noise["annual"]),
                       "WINTER_BALANCE": 1000 * winter if seasonal else np.nan,
                       "SUMMER_BALANCE": 1000 * summer if seasonal else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("YEAR")


def calibrate(gdir, monkeypatch, table):
    from oggm_glaunti.integration import glaunti_calibrate

    monkeypatch.setattr(gdir, "get_ref_mb_data", lambda *a, **k: table)
    return glaunti_calibrate(gdir, variant="A")


def test_one_seasonal_pair_keeps_prcp_fac_at_its_prior_and_matches_the_mean(hef_daily, truth, monkeypatch):
    table = wgms_table(truth, seasonal_years={HYDRO_YEARS[-1]})
    calib = calibrate(hef_daily, monkeypatch, table)

    assert calib["calibrated_parameters"] == ["temp_bias"]
    assert calib["prcp_fac"] == 1.0
    assert "1 year(s) with seasonal data" in calib["why"]["prcp_fac"]
    assert calib["status"] == "converged"
    annual = calib["misfit_m_we"]["annual"]
    assert annual["n"] == 24
    assert abs(annual["bias"]) < 0.001  # the reference-period mean, within 1 mm w.e./yr
    assert calib["matched_mean"]["kind"] == "annual" and calib["matched_mean"]["misfit_m_we"] < 0.001
    # the lone pair is scored, not allowed to move the fit: its misfits are reported
    assert calib["misfit_m_we"]["winter"]["n"] == 1 and calib["misfit_m_we"]["summer"]["n"] == 1
    assert calib["uncertainty"]["temp_bias_sd"] > 0


def test_full_seasonal_series_recovers_both_parameters_within_their_uncertainty(hef_daily, truth, monkeypatch):
    table = wgms_table(truth, seasonal_years=set(HYDRO_YEARS))
    calib = calibrate(hef_daily, monkeypatch, table)

    assert calib["calibrated_parameters"] == ["temp_bias", "prcp_fac"]
    assert "24 years with seasonal data" in calib["why"]["prcp_fac"]
    sd = calib["uncertainty"]
    # stated tolerances: 0.3 degC and 15 % with this much data ...
    assert calib["temp_bias"] == pytest.approx(TRUE_TEMP_BIAS, abs=0.3)
    assert calib["prcp_fac"] == pytest.approx(TRUE_PRCP_FAC, rel=0.15)
    # ... and the reported uncertainties cover the truth (2 standard deviations)
    assert abs(calib["temp_bias"] - TRUE_TEMP_BIAS) < 2 * sd["temp_bias_sd"]
    assert abs(math.log(calib["prcp_fac"] / TRUE_PRCP_FAC)) < 2 * sd["log_prcp_fac_sd"]
    assert sd["prcp_fac_range_1sd"][0] < calib["prcp_fac"] < sd["prcp_fac_range_1sd"][1]
    assert abs(calib["misfit_m_we"]["annual"]["bias"]) < 0.001
    assert sd["reduced_chi2"] < 2.0  # noise of the stated size: a consistent fit
    assert not calib["warnings"]
