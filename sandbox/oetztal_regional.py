"""The GlaUnTI workflow on the 20 Ötztal glaciers of OGGM's test data, with 2 processes.

Daily climate (disaggregated HISTALP), model grid, calibration of GlaUnTI (variant D by
default) on each glacier's WGMS series or the regional WGMS mean (see
``oetztal_gdirs``), inversion with GlaUnTI's apparent MB, then a 1980-2003 historical run
and a 100-year random-climate run. Offline:

    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python sandbox/oetztal_regional.py
"""

from __future__ import annotations

import argparse
import tempfile
import time

from oggm_glaunti.integration.offline import prepare_salem_cache

prepare_salem_cache()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", default="D", choices=list("ACD"))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--ref-years", type=int, nargs=2, default=(1980, 2002))
    parser.add_argument("--working-dir", default=None)
    args = parser.parse_args()

    from oggm import cfg, tasks, utils, workflow

    from oggm_glaunti.integration import (GlaUnTIMassBalance, glaunti_calibrate, glaunti_model_grid,
                                          oetztal_gdirs, process_daily_from_monthly)

    t0 = time.perf_counter()
    gdirs = oetztal_gdirs(args.working_dir or tempfile.mkdtemp())
    cfg.PARAMS["use_multiprocessing"] = True
    cfg.PARAMS["mp_processes"] = args.processes
    cfg.PARAMS["glaunti_variant"] = args.variant
    cfg.PARAMS["continue_on_error"] = False
    workflow.execute_entity_task(process_daily_from_monthly, gdirs)
    workflow.execute_entity_task(glaunti_model_grid, gdirs)
    workflow.execute_entity_task(glaunti_calibrate, gdirs, variant=args.variant, ref_years=tuple(args.ref_years))
    print(f"prepared and calibrated {len(gdirs)} glaciers in {time.perf_counter() - t0:.0f} s")

    workflow.execute_entity_task(tasks.apparent_mb_from_any_mb, gdirs, mb_model_class=GlaUnTIMassBalance,
                                 mb_years=tuple(args.ref_years))
    workflow.inversion_tasks(gdirs)
    workflow.execute_entity_task(tasks.init_present_time_glacier, gdirs)
    workflow.execute_entity_task(tasks.run_from_climate_data, gdirs, ys=1980, ye=2003,
                                 mb_model_class=GlaUnTIMassBalance, output_filesuffix="_glaunti_hist")
    workflow.execute_entity_task(tasks.run_random_climate, gdirs, nyears=100, y0=1985, seed=1,
                                 mb_model_class=GlaUnTIMassBalance, output_filesuffix="_glaunti_rand")
    ds = utils.compile_run_output(gdirs, input_filesuffix="_glaunti_rand")
    volume = ds.volume.sum(dim="rgi_id")
    print(f"regional volume: {float(volume[0]) / 1e9:.2f} km3 -> {float(volume[-1]) / 1e9:.2f} km3 after 100 years")
    print(f"total {time.perf_counter() - t0:.0f} s with {args.processes} processes")


if __name__ == "__main__":
    main()
