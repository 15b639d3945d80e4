"""``glaunti_calibrate`` on stakes and a geodetic mean: it recovers a known temperature bias
and precipitation factor from observations the model itself produced with them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

TRUE_TEMP_BIAS = 0.7
TRUE_PRCP_FAC = 1.25
STAKE_YEARS = range(1995, 2000)  # hydrological years (1 Oct Y .. 30 Sep Y+1): 5, the rule for prcp_fac
GEODETIC = (1997, 2000)  # 1 Jan 1997 .. 1 Jan 2000: hydrological years 1996-1998


def stake_records(gdir, n_stakes=4) -> pd.DataFrame:
    """Winter and summer records at glacier cells spread over the elevation range."""
    import pyproj
    import xarray as xr

    with xr.open_dataset(gdir.get_filepath("glaunti_grid")) as ds:
        outline, elevation = ds["outline_fraction"].values, ds["elevation"].values
        x, y, srs = ds["x"].values, ds["y"].values, ds.attrs["pyproj_srs"]
    rows, cols = np.nonzero(outline > 0.99)
    order = np.argsort(elevation[rows, cols])
    pick = order[np.linspace(0, len(order) - 1, n_stakes).astype(int)]
    lon, lat = pyproj.Transformer.from_crs(srs, "EPSG:4326", always_xy=True).transform(
        x[cols[pick]], y[rows[pick]])
    records = []
    for year in STAKE_YEARS:
        for date0, date1 in ((f"{year}-10-01", f"{year + 1}-05-01"), (f"{year + 1}-05-01", f"{year + 1}-10-01")):
            records += [{"date0": date0, "date1": date1, "lat": la, "lon": lo, "balance": 0.0}
                        for lo, la in zip(lon, lat)]
    return pd.DataFrame(records)


def test_calibration_recovers_a_known_bias_and_factor_from_stakes_and_geodetic(hef_daily, tmp_path):
    import jax.numpy as jnp

    from oggm_glaunti.integration import GlaUnTIMassBalance, glaunti_calibrate
    from oggm_glaunti.integration.calibration.objective import Objective
    from oggm_glaunti.integration.calibration.observations import Observations, from_stakes

    records = stake_records(hef_daily)
    csv = tmp_path / "stakes.csv"
    records.to_csv(csv, index=False)

    # The observations: the model's own values under the true adjustments.
    run = GlaUnTIMassBalance(hef_daily, variant="A", temp_bias=0.0, prcp_fac=1.0).glacier_run
    obs = Observations()
    from_stakes(hef_daily, obs, csv, run.grid)
    geodetic_years = range(GEODETIC[0] - 1, GEODETIC[1] - 1)
    truth = Objective(run, obs, sorted(obs.years() | set(geodetic_years)), ("temp_bias", "prcp_fac"))
    theta = jnp.asarray([TRUE_TEMP_BIAS, math.log(TRUE_PRCP_FAC)], jnp.float32)
    records["balance"] = truth.stake_sums(theta)
    records.to_csv(csv, index=False)
    simulated = truth.simulated(theta)
    geodetic_mm = float(np.mean([simulated[y]["total"] for y in geodetic_years])) * 1000.0
    assert np.ptp(records["balance"]) > 1.0  # the stakes see accumulation and ablation

    calib = glaunti_calibrate(hef_daily, variant="A", use_wgms=False, stakes_csv=str(csv),
                              geodetic=(*GEODETIC, geodetic_mm))

    assert calib["calibrated_parameters"] == ["temp_bias", "prcp_fac"]  # 5 years of stakes separate the two
    assert calib["status"] == "converged" and calib["matched_mean"]["kind"] == "geodetic"
    assert calib["temp_bias"] == pytest.approx(TRUE_TEMP_BIAS, abs=0.02)
    assert calib["prcp_fac"] == pytest.approx(TRUE_PRCP_FAC, rel=0.02)
    assert calib["misfit_m_we"]["stakes"]["n"] == len(records)
    assert calib["misfit_m_we"]["stakes"]["rmse"] < 0.01
    assert calib["misfit_m_we"]["geodetic"]["n"] == 1
    assert abs(calib["misfit_m_we"]["geodetic"]["bias"]) < 0.01
    assert calib["loss_history"][-1] < 1e-2 * calib["loss_history"][0]
    assert any(s.startswith("stakes (40 records") for s in calib["data"])
    # the MB model reads the calibration by default
    mb = GlaUnTIMassBalance(hef_daily, variant="A")
    assert (mb.temp_bias, mb.prcp_fac) == pytest.approx((calib["temp_bias"], calib["prcp_fac"]))


def test_skill_cross_validates_on_the_glaciers_own_series(hef_daily):
    """glaunti_skill holds every WGMS year out once per split kind and scores it against
    MonthlyTIModel; JSON and figure written."""
    import json
    import os

    from oggm_glaunti.integration.calibration.skill import folds, glaunti_skill

    assert folds(range(1991, 2003), "blocked", n_blocks=2) == [list(range(1991, 1997)), list(range(1997, 2003))]
    assert folds(range(1991, 2003), "leave_k_out", k=5)[-1] == [2001, 2002]
    result = glaunti_skill(hef_daily, variant="A", splits=("blocked", "leave_k_out"), k=4,
                           ref_years=(1991, 2002))
    assert result["n_years"] == 12
    for split in ("blocked", "leave_k_out"):
        scores = result["splits"][split]["held_out_scores"]
        for model in ("calibrated", "uncalibrated", "MonthlyTIModel"):
            assert scores[model]["annual"]["n"] == 12  # every year held out once
            assert scores[model]["annual"]["rmse"] > 0 and -1 <= scores[model]["annual"]["r"] <= 1
            assert scores[model]["profile"]["n"] > 12  # WGMS profiles, several bands per year
    folds_info = result["splits"]["leave_k_out"]["folds"]
    assert [f["held_out"] for f in folds_info] == [[1991, 1992, 1993, 1994], [1995, 1996, 1997, 1998],
                                                   [1999, 2000, 2001, 2002]]
    assert all(f["monthly_ti_melt_f"] > 0 for f in folds_info)
    with open(os.path.join(hef_daily.dir, "glaunti_skill_A.json")) as f:
        assert json.load(f)["splits"]["blocked"]["held_out_scores"] == result["splits"]["blocked"]["held_out_scores"]
    with open(os.path.join(hef_daily.dir, result["figure"]), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
