"""End to end on Hintereisferner (offline): daily climate, model grid, calibration of
variant D to the WGMS annual series 1953-2002, then OGGM's inversion and run tasks with
``GlaUnTIMassBalance``."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

pytestmark = pytest.mark.slow

YEARS = np.arange(1953, 2003)


@pytest.fixture(scope="module")
def hef_d(oggm_sample_data, tmp_path_factory):
    from oggm import cfg

    from oggm_glaunti.integration import (glaunti_calibrate, glaunti_model_grid, hintereisferner_gdir,
                                          process_daily_from_monthly)

    gdir = hintereisferner_gdir(tmp_path_factory.mktemp("hef_d"))
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)
    cfg.PARAMS["glaunti_variant"] = "D"
    calib = glaunti_calibrate(gdir, variant="D", ref_years=(1953, 2002))
    return gdir, calib


def test_calibrated_mean_matches_wgms(hef_d):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    gdir, calib = hef_d
    assert calib["calibrated_parameters"] == ["temp_bias"]  # annual data only
    mb = GlaUnTIMassBalance(gdir)  # reads the calibration by default
    assert mb.variant == "D" and mb.temp_bias == pytest.approx(calib["temp_bias"])
    fls = gdir.read_pickle("model_flowlines")
    modelled = mb.get_specific_mb(fls=fls, year=YEARS)
    observed = gdir.get_ref_mb_data().loc[1953:2002, "ANNUAL_BALANCE"]
    assert abs(modelled.mean() - observed.mean()) < 20.0  # mm w.e. per year
    assert np.corrcoef(modelled, observed.values)[0, 1] > 0.6

    grid = np.array([mb.grid_specific_mb(y) for y in YEARS])
    assert np.abs(grid - modelled).max() < 100.0  # 0.1 m w.e. per year, every year


def test_oggm_tasks_run_with_glaunti(hef_d):
    from oggm import tasks
    from oggm.core.massbalance import MultipleFlowlineMassBalance

    from oggm_glaunti.integration import GlaUnTIMassBalance

    gdir, _ = hef_d
    tasks.apparent_mb_from_any_mb(gdir, mb_model_class=GlaUnTIMassBalance, mb_years=(1953, 2002))
    tasks.prepare_for_inversion(gdir)
    tasks.mass_conservation_inversion(gdir)
    tasks.filter_inversion_output(gdir)
    tasks.init_present_time_glacier(gdir)
    volume = tasks.get_inversion_volume(gdir)
    assert 0.3e9 < volume < 1.5e9  # HEF: about 0.6-0.9 km3

    def diagnostics(suffix):
        with xr.open_dataset(gdir.get_filepath("model_diagnostics", filesuffix=suffix)) as ds:
            return ds.load()

    tasks.run_from_climate_data(gdir, ys=1954, ye=2003, mb_model_class=GlaUnTIMassBalance,
                                output_filesuffix="_gl_hist")
    hist = diagnostics("_gl_hist")
    assert len(hist.time) == 50
    assert 0.4 < hist.volume_m3[-1] / hist.volume_m3[0] < 1.0  # the glacier loses mass

    tasks.run_random_climate(gdir, nyears=100, y0=1985, seed=1, mb_model_class=GlaUnTIMassBalance,
                             output_filesuffix="_gl_rand")
    rand = diagnostics("_gl_rand")
    assert len(rand.time) == 101 and 0 < rand.volume_m3[-1] < rand.volume_m3[0]

    tasks.run_with_hydro(gdir, run_task=tasks.run_from_climate_data, ys=1990, ye=2003,
                         mb_model_class=GlaUnTIMassBalance, output_filesuffix="_gl_hydro")
    hydro = diagnostics("_gl_hydro")
    assert float(hydro.melt_on_glacier.sum()) > 0 and float(hydro.snowfall_on_glacier.sum()) > 0

    historical = MultipleFlowlineMassBalance(gdir, mb_model_class=GlaUnTIMassBalance,
                                             use_inversion_flowlines=True)
    tasks.run_dynamic_spinup(gdir, spinup_start_yr=1979, target_yr=2000, ye=2003,
                             mb_model_historical=historical, minimise_for="area",
                             output_filesuffix="_gl_spinup")
    spin = diagnostics("_gl_spinup")
    assert 0.3e9 < float(spin.volume_m3[-1]) < 1.5e9
