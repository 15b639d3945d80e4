"""Cost of ``geometry='evolving'`` next to ``'static'`` on Hintereisferner (variant D).

Offline: ``GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af4... \\
GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python benchmarks/evolving_geometry.py``.
Prints figures only.

For each mode, after one short run that compiles everything, with the process-wide grid
cache emptied before each run (a glacier's first run with its parameters), the modes
alternating:

- a 100-year ``run_from_climate_data`` (1903-2002, HISTALP): seconds per run and per year;
- a 100-year ``run_random_climate`` around 1985;
- the mapping: building :class:`~oggm_glaunti.integration.run.geometry.FlowlineGridMap`
  once, and one year's geometry from the flowlines;
- one compiled grid year on the present-day and on a thinned glacier.

Each figure is the best of ``--repeat`` runs (the machine may be shared: say so when you
quote them).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

from oggm import cfg, tasks  # noqa: E402

from oggm_glaunti.integration import (GlaUnTIMassBalance, glaunti_model_grid, hintereisferner_gdir,  # noqa: E402
                                      process_daily_from_monthly)
from oggm_glaunti.integration.run.grid_cache import clear_grid_cache  # noqa: E402

MODES = ("static", "evolving")


def best_of(repeat: int, run) -> dict:
    """The best time of each mode over ``repeat`` rounds, the modes alternating (so that a
    change of the machine's load does not favour one)."""
    times = {mode: [] for mode in MODES}
    for _ in range(repeat):
        for mode in MODES:
            cfg.PARAMS["glaunti_geometry"] = mode
            clear_grid_cache()
            started = time.perf_counter()
            run()
            times[mode].append(time.perf_counter() - started)
    cfg.PARAMS["glaunti_geometry"] = "static"
    return {mode: min(t) for mode, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs per figure (the best is printed)")
    args = parser.parse_args()
    gdir = hintereisferner_gdir(tempfile.mkdtemp(prefix="glaunti_bench_"))
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)
    cfg.PARAMS["glaunti_variant"] = "D"
    tasks.run_from_climate_data(gdir, ys=1990, ye=1993, mb_model_class=GlaUnTIMassBalance,
                                output_filesuffix="_compile")

    runs = {
        "run_from_climate_data 1903-2002": lambda: tasks.run_from_climate_data(
            gdir, ys=1903, ye=2003, mb_model_class=GlaUnTIMassBalance, output_filesuffix="_bench"),
        "run_random_climate 100 years, y0=1985": lambda: tasks.run_random_climate(
            gdir, nyears=100, y0=1985, seed=1, mb_model_class=GlaUnTIMassBalance, output_filesuffix="_bench"),
    }
    print(f"Hintereisferner, GlaUnTI D, best of {args.repeat}, grid cache cold, compiled")
    for name, run in runs.items():
        for mode, seconds in best_of(args.repeat, run).items():
            print(f"   {name:40s} {mode:9s} {seconds:6.1f} s ({seconds / 100 * 1000:5.0f} ms per year)", flush=True)

    from oggm_glaunti.integration.grid.glacier_data import read_model_grid
    from oggm_glaunti.integration.run.geometry import FlowlineGridMap

    fls, grid = gdir.read_pickle("model_flowlines"), read_model_grid(gdir)
    started = time.perf_counter()
    grid_map = FlowlineGridMap(grid, fls)
    built = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        grid_map.geometry(fls)
    print(f"   mapping: built once in {built * 1000:.1f} ms; one year's geometry "
          f"{(time.perf_counter() - started) / 20 * 1000:.1f} ms ({grid.shape[0]} x {grid.shape[1]} cells, "
          f"{sum(fl.nx for fl in fls)} flowline points)")
    one_grid_year(gdir, fls, grid_map, args.repeat)


def one_grid_year(gdir, fls, grid_map, repeat: int) -> None:
    """One compiled grid year on the present-day glacier and on the same glacier 30 % thinner
    and without its 10 lowest points, alternating: does the geometry change the year's cost?"""
    import copy

    import numpy as np

    from oggm_glaunti.integration.run.glacier_year import run_compiled_year

    mb = GlaUnTIMassBalance(gdir, variant="D")
    run, adj = mb.glacier_run, mb.adjustments
    model, (bias, factor) = run.model_for(adj), run._adj_arrays(adj)
    thinned = copy.deepcopy(fls)
    thick = thinned[-1].thick * 0.7
    thick[np.flatnonzero(thick > 0)[-10:]] = 0
    thinned[-1].thick = thick
    geometry = grid_map.geometry(thinned)
    arrays = {"present-day": run.arrays,
              "thinned": run.arrays_for(geometry.outline, geometry.elevation, geometry.facies)}
    reference, state = run.reference_years([1990]).at(0), run.year(1990, adj).start_state
    times = {name: [] for name in arrays}
    for _ in range(5 * repeat):
        for name, grid_arrays in arrays.items():
            started = time.perf_counter()
            out = run_compiled_year(model, reference, state, True, bias, factor, grid_arrays, run.window_size)
            out[2].block_until_ready()
            times[name].append(time.perf_counter() - started)
    print("   one grid year: " + ", ".join(f"{name} {min(t) * 1000:.0f} ms" for name, t in times.items()))


if __name__ == "__main__":
    main()
