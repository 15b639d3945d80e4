"""Wall time of each differentiable tool on Hintereisferner (model grid 48 x 80 cells, the
glacier's own 46 x 69): inverse offset, attribution (100 steps), first-order uncertainty of
a 30-year trajectory (target: under 10 minutes on 2 CPU cores), a Monte Carlo ensemble, and
sensitivities.

Offline: ``GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af4... \\
GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python benchmarks/tools_speed.py``.
Prints figures only. Each tool runs twice in one process: the first call compiles (and
runs the glacier run's years it needs), the second reuses the compiled code. The grid
cache is cleared before each call, so the glacier run's own years are run again.
"""

from __future__ import annotations

import argparse
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", default="AD")
    parser.add_argument("--horizon", type=int, default=30, help="years of the uncertainty trajectory")
    parser.add_argument("--members", type=int, default=200, help="Monte Carlo members (0: skip)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from oggm_glaunti.integration import glaunti_model_grid, hintereisferner_gdir, process_daily_from_monthly
    from oggm_glaunti.integration.run.grid_cache import clear_grid_cache
    from oggm_glaunti.integration.tools import tasks

    gdir = hintereisferner_gdir(tempfile.mkdtemp(prefix="tools_speed_"), invert=False, init_present_time=False)
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)
    last = 2001
    cases = {
        "offset (20 years, Newton)": (tasks.glaunti_offset_for_target, dict(target_years=(1982, last))),
        "attribution (1 year, 100 steps)": (tasks.glaunti_attribution, dict(year=2000, steps=100)),
        f"uncertainty, first order ({args.horizon} years)": (
            tasks.glaunti_forcing_uncertainty, dict(years=(last - args.horizon + 1, last))),
        "sensitivities (10 years)": (tasks.glaunti_sensitivities, dict(years=(1992, last))),
    }
    if args.members:
        cases[f"uncertainty + Monte Carlo {args.members} ({args.horizon} years)"] = (
            tasks.glaunti_forcing_uncertainty, dict(years=(last - args.horizon + 1, last), members=args.members))
    print(f"{'variant':8s}{'tool':48s}" + "".join(f"{'call ' + str(k + 1):>10s}" for k in range(args.repeats)))
    for variant in args.variants:
        for name, (task, kwargs) in cases.items():
            times = []
            for _ in range(args.repeats):
                clear_grid_cache()
                start = time.time()
                task(gdir, variant=variant, continue_on_error=False, **kwargs)
                times.append(time.time() - start)
            print(f"{variant:8s}{name:48s}" + "".join(f"{t:9.1f}s" for t in times), flush=True)


if __name__ == "__main__":
    main()
