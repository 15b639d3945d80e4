"""The GlaUnTI workflow on the 20 Ötztal glaciers of OGGM's test data, with 2 processes.

The same sequence as for Hintereisferner, region-wide and in parallel:

1. the glaciers from OGGM's sample data (:func:`oetztal_gdirs`: flowlines, MonthlyTIModel
   calibration, inversion - the starting point of any OGGM workflow);
2. daily climate (disaggregated HISTALP) and the GlaUnTI model grid;
3. GlaUnTI calibration: on the glacier's own WGMS annual series where it has at least five
   years in 1980-2012 (in OGGM's sample data: Hintereis- and Kesselwandferner), otherwise
   on the regional WGMS mean over the same years passed as a geodetic-style mean;
4. inversion with GlaUnTI's apparent MB, then ``run_from_climate_data`` (1980-2013),
   ``run_random_climate`` (100 years), ``run_with_hydro`` and ``run_dynamic_spinup`` with
   GlaUnTI as the historical MB model.

It prints the regional volumes and the time of each step. Offline::

    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python sandbox/oetztal_regional.py
"""

from __future__ import annotations

import argparse
import tempfile
import time

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

REF_YEARS = (1980, 2012)  # WGMS years inside HISTALP_oetztal.nc (full years 1802-2013)
MIN_WGMS_YEARS = 5  # fewer annual balances in REF_YEARS: calibrate on the regional mean


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="D", choices=list("ACD"), help="GlaUnTI variant (default D)")
    parser.add_argument("--processes", type=int, default=2, help="OGGM processes (default 2)")
    parser.add_argument("--glaciers", type=int, default=None, help="only the first N glaciers")
    parser.add_argument("--working-dir", default=None, help="OGGM working directory (default: temporary)")
    args = parser.parse_args()

    import geopandas as gpd
    from oggm import cfg, tasks, utils, workflow

    from oggm_glaunti.integration import (GlaUnTIMassBalance, glaunti_model_grid, oetztal_gdirs,
                                          process_daily_from_monthly)

    clock = time.perf_counter()

    def done(what):
        nonlocal clock
        print(f"{what:62s} {time.perf_counter() - clock:6.0f} s", flush=True)
        clock = time.perf_counter()

    ids = None
    if args.glaciers:
        ids = list(gpd.read_file(utils.get_demo_file("rgi_oetztal.shp")).RGIId[:args.glaciers])
    gdirs = oetztal_gdirs(args.working_dir or tempfile.mkdtemp(), rgi_ids=ids)
    done(f"{len(gdirs)} glaciers: flowlines, MonthlyTIModel calibration, inversion")

    cfg.PARAMS["use_multiprocessing"] = True
    cfg.PARAMS["mp_processes"] = args.processes
    cfg.PARAMS["glaunti_variant"] = args.variant
    cfg.PARAMS["continue_on_error"] = False
    workflow.execute_entity_task(process_daily_from_monthly, gdirs)
    workflow.execute_entity_task(glaunti_model_grid, gdirs)
    done("daily climate and GlaUnTI grids")

    with_wgms, others = calibrate(gdirs, args.variant)
    done(f"GlaUnTI {args.variant} calibration ({len(with_wgms)} on WGMS, {len(others)} on the regional mean)")

    workflow.execute_entity_task(tasks.apparent_mb_from_any_mb, gdirs, mb_model_class=GlaUnTIMassBalance,
                                 mb_years=REF_YEARS)
    workflow.inversion_tasks(gdirs)
    workflow.execute_entity_task(tasks.init_present_time_glacier, gdirs)
    volume = sum(tasks.get_inversion_volume(g) for g in gdirs)
    done(f"inversion with GlaUnTI's apparent MB: {volume * 1e-9:.2f} km3")

    run_dynamics(gdirs, done)


def calibrate(gdirs, variant: str) -> tuple[list, list]:
    """GlaUnTI calibration (step 3): on the glacier's WGMS series where it has at least
    MIN_WGMS_YEARS in REF_YEARS, otherwise on the regional WGMS mean as a geodetic-style
    mean. Returns (the glaciers calibrated on WGMS, the others)."""
    import geopandas as gpd
    from oggm import utils, workflow

    from oggm_glaunti.integration import glaunti_calibrate
    from oggm_glaunti.integration.session.sample_glaciers import wgms_mean_balance

    links, _ = utils.get_wgms_files()
    with_wgms = [g for g in gdirs if g.rgi_id in set(links["RGI50_ID"]) and _wgms_years(g) >= MIN_WGMS_YEARS]
    others = [g for g in gdirs if g not in with_wgms]
    workflow.execute_entity_task(glaunti_calibrate, with_wgms, variant=variant, ref_years=REF_YEARS)
    if others:
        all_ids = gpd.read_file(utils.get_demo_file("rgi_oetztal.shp")).RGIId
        regional = wgms_mean_balance(sorted({i.split("_")[0] for i in all_ids}), REF_YEARS)
        workflow.execute_entity_task(glaunti_calibrate, others, variant=variant, use_wgms=False,
                                     geodetic=(REF_YEARS[0], REF_YEARS[1] + 1, regional))
    return with_wgms, others


def run_dynamics(gdirs, done) -> None:
    """The OGGM runs with GlaUnTI (step 4 after the inversion); ``done(text)`` reports a step."""
    from oggm import tasks, utils, workflow
    from oggm.core.massbalance import MultipleFlowlineMassBalance

    from oggm_glaunti.integration import GlaUnTIMassBalance

    runs = {  # OGGM names its log lines after the task, so no functools.partial here
        "_hist": (tasks.run_from_climate_data, dict(ys=1980, ye=2013)),
        "_random": (tasks.run_random_climate, dict(nyears=100, y0=1995, seed=1)),
        "_hydro": (tasks.run_with_hydro, dict(run_task=tasks.run_from_climate_data, ys=1990, ye=2013)),
    }
    for suffix, (task, kwargs) in runs.items():
        workflow.execute_entity_task(task, gdirs, mb_model_class=GlaUnTIMassBalance,
                                     output_filesuffix=f"_glaunti{suffix}", **kwargs)
        ds = utils.compile_run_output(gdirs, input_filesuffix=f"_glaunti{suffix}")
        volume = ds.volume.sum(dim="rgi_id")
        done(f"{task.__name__}: {float(volume[0]) * 1e-9:.2f} -> {float(volume[-1]) * 1e-9:.2f} km3")

    workflow.execute_entity_task(_dynamic_spinup, gdirs, mb_class=GlaUnTIMassBalance,
                                 multiple=MultipleFlowlineMassBalance)
    ds = utils.compile_run_output(gdirs, input_filesuffix="_glaunti_spinup")
    volume = ds.volume.sum(dim="rgi_id")
    done(f"run_dynamic_spinup 1979-2013: {float(volume[0]) * 1e-9:.2f} -> {float(volume[-1]) * 1e-9:.2f} km3")


def _wgms_years(gdir) -> int:
    """Number of WGMS annual balances of the glacier within REF_YEARS."""
    annual = gdir.get_ref_mb_data()["ANNUAL_BALANCE"].loc[REF_YEARS[0]:REF_YEARS[1]]
    return int(annual.notna().sum())


def _dynamic_spinup(gdir, mb_class, multiple):
    # the historical MB model is an instance, built inside the worker
    from oggm import tasks

    historical = multiple(gdir, mb_model_class=mb_class, use_inversion_flowlines=True)
    tasks.run_dynamic_spinup(gdir, spinup_start_yr=1979, target_yr=2000, ye=2013,
                             mb_model_historical=historical, minimise_for="area",
                             output_filesuffix="_glaunti_spinup")


if __name__ == "__main__":
    main()
