"""Every OGGM entry point reads the same run: the MB model's grid SMB, the calibration's
simulated glacier-wide values and misfits, and the gridded output agree to float32
round-off for the same years and parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

#: Hydrological years across a segment boundary of the state rule (1980).
YEARS = (1979, 1980, 1981)
ROUND_OFF = 2e-5  # m w.e.: float32 sums of a year of daily values


def test_mb_model_calibration_and_gridded_output_agree(hef_daily):
    import jax.numpy as jnp

    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.integration.calibration.objective import Objective
    from oggm_glaunti.integration.output.gridded_output import glaunti_gridded_smb
    from oggm_glaunti.integration.calibration.observations import Observations

    mb = GlaUnTIMassBalance(hef_daily, variant="D", temp_bias=0.0, prcp_fac=1.0)
    run, adj = mb.glacier_run, mb.adjustments
    outline = run.grid.outline.astype(np.float64)

    def glacier_mean(field):
        return (np.asarray(field, np.float64) * outline).sum((-2, -1)) / outline.sum()

    glaunti_gridded_smb(hef_daily, ys=YEARS[0], ye=YEARS[-1], variant="D", daily=True, filesuffix="_one_run")
    with xr.open_dataset(hef_daily.get_filepath("glaunti_gridded_smb", filesuffix="_one_run")) as ds:
        ds = ds.load()
    dates = ds["time"].values.astype("datetime64[D]")
    per_date = glacier_mean(ds["smb_daily"].values)  # each date once, in full (ends: half)

    def window(d0, d1):
        sel = (dates >= np.datetime64(d0)) & (dates <= np.datetime64(d1))
        return per_date[sel].sum()

    # gridded output == the MB model's years (period totals) and calendar years
    for k, year in enumerate(YEARS):
        np.testing.assert_allclose(ds["smb_annual"].values[k], run.year(year, adj).period_smb.sum(0),
                                   atol=ROUND_OFF)
    calendar = mb.grid_smb(1981)  # 1 Jan 1981 .. 1 Jan 1982, the 1 Januaries by half
    from_daily = window("1981-01-01", "1982-01-01") - 0.5 * (per_date[dates == np.datetime64("1981-01-01")][0]
                                                            + per_date[dates == np.datetime64("1982-01-01")][0])
    assert glacier_mean(calendar) == pytest.approx(from_daily, abs=ROUND_OFF)
    assert mb.grid_specific_mb(1981) == pytest.approx(glacier_mean(calendar) * 1000.0, abs=1e-3)

    # the calibration's simulation == the same run, read through the observation windows
    obs = Observations(annual={y: 0.0 for y in YEARS}, winter={1980: 0.0}, summer={1980: 0.0})
    objective = Objective(run, obs, list(YEARS), ("temp_bias", "prcp_fac"))
    theta = jnp.zeros(2, jnp.float32)
    simulated = objective.simulated(theta)
    middle = simulated[1980]  # its windows lie inside the gridded file's dates
    assert middle["annual"] == pytest.approx(window("1980-10-01", "1981-10-01"), abs=ROUND_OFF)
    assert middle["winter"] == pytest.approx(window("1980-10-01", "1981-05-01"), abs=ROUND_OFF)
    assert middle["summer"] == pytest.approx(window("1981-05-01", "1981-10-01"), abs=ROUND_OFF)
    for k, year in enumerate(YEARS):
        assert simulated[year]["total"] == pytest.approx(glacier_mean(ds["smb_annual"].values[k]), abs=ROUND_OFF)
    misfit = objective.misfit(theta)  # the calibration's evaluation: model minus observation
    assert misfit["annual"]["n"] == 3
    assert misfit["annual"]["bias"] == pytest.approx(np.mean([simulated[y]["annual"] for y in YEARS]), abs=1e-6)

    # under adjustments, the MB model and the calibration (traced adjustments) still agree
    warm = GlaUnTIMassBalance(hef_daily, variant="D", temp_bias=1.0, prcp_fac=1.1)
    theta = jnp.asarray([1.0, math.log(1.1)], jnp.float32)
    for year, values in objective.simulated(theta).items():
        grid = warm.glacier_run.year(year, warm.adjustments).period_smb.sum(0)
        assert values["total"] == pytest.approx(glacier_mean(grid), abs=ROUND_OFF)
        assert abs(values["total"] - simulated[year]["total"]) > 0.01  # the adjustments act
