"""Wall time of a 100-year ``run_random_climate`` on Hintereisferner: OGGM's MonthlyTIModel
against GlaUnTI A and D, first-call (compile) times, and a second glacier of another size.

Offline: ``GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af4... \\
GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python benchmarks/oggm_run.py``.
Prints figures only.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from oggm_glaunti.integration.offline import prepare_salem_cache

prepare_salem_cache()

from oggm import cfg, tasks  # noqa: E402
from oggm.core.massbalance import MonthlyTIModel  # noqa: E402

from oggm_glaunti.integration import (GlaUnTIMassBalance, glaunti_calibrate, glaunti_model_grid,  # noqa: E402
                                      hintereisferner_gdir, oetztal_gdirs, process_daily_from_monthly)

SECOND_GLACIER = "RGI50-11.00787"  # Kesselwandferner, a smaller Ötztal glacier


def prepare(gdir, variants):
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)
    for variant in variants:
        glaunti_calibrate(gdir, variant=variant, ref_years=(1980, 2002))


def timed_run(gdir, mb_class, label, nyears, **kwargs):
    t0 = time.perf_counter()
    tasks.run_random_climate(gdir, nyears=nyears, y0=1985, seed=1, mb_model_class=mb_class,
                             output_filesuffix=f"_bench_{label}", **kwargs)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nyears", type=int, default=100)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    hef = hintereisferner_gdir(f"{work}/hef")
    prepare(hef, "AD")
    second = oetztal_gdirs(f"{work}/oetztal", rgi_ids=[SECOND_GLACIER], initialize=False)[0]
    prepare(second, "D")

    print(f"run_random_climate, {args.nyears} years, y0=1985, seed=1 (wall seconds)")
    t_ti = timed_run(hef, MonthlyTIModel, "ti", args.nyears)
    print(f"  MonthlyTIModel                         {t_ti:8.2f}")
    for variant in "AD":
        cfg.PARAMS["glaunti_variant"] = variant
        first = timed_run(hef, GlaUnTIMassBalance, f"{variant}1", args.nyears)
        # A new instance: caches of results are gone, compiled code stays.
        again = timed_run(hef, GlaUnTIMassBalance, f"{variant}2", args.nyears)
        grid = GlaUnTIMassBalance(hef)._run.grid.shape
        print(f"  GlaUnTI {variant} (grid {grid[0]}x{grid[1]}) first call {first:8.2f}   compiled {again:8.2f}"
              f"   ratio to MonthlyTIModel {again / t_ti:5.1f}")
    cfg.PARAMS["glaunti_variant"] = "D"
    grid = GlaUnTIMassBalance(second)._run.grid.shape
    first = timed_run(second, GlaUnTIMassBalance, "D_second", args.nyears)
    again = timed_run(second, GlaUnTIMassBalance, "D_second2", args.nyears)
    print(f"  GlaUnTI D on {SECOND_GLACIER} (grid {grid[0]}x{grid[1]}), after Hintereisferner: "
          f"first call {first:.2f}, compiled {again:.2f}")


if __name__ == "__main__":
    main()
