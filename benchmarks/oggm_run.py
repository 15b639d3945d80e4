"""Wall time of a 100-year ``run_random_climate`` on Hintereisferner: OGGM's MonthlyTIModel
against GlaUnTI A and D, first-call (compile) times, and glaciers of other sizes.

Offline: ``GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af4... \\
GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python benchmarks/oggm_run.py``.
Prints figures only.

Three figures per model (each a new ``GlaUnTIMassBalance``, as OGGM makes one per task):

- *first call*: a fresh process - JAX compiles, and the model grid's years are computed;
- *compiled, grid cold*: compiled code reused, the process-wide cache of grid results
  cleared (a glacier's first run with new parameters);
- *compiled, grid cached*: a second run on the glacier with the same parameters (the grid
  years come from the cache; the flowline points still run every year).

Then two Ötztal glaciers: Kesselwandferner, whose grid falls in another shape bucket
than Hintereisferner's, and a glacier of another size in Kesselwandferner's bucket. The
compile cost each pays is its first call minus its compiled, grid-cold run; the functions
JAX compiled during its first call are listed with their XLA compilation times (the
second glacier of a bucket should compile no TI run - ``_sensitivities``, ``_corrected`` -
only the corrector for its own grid size, ``_corrections``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import tempfile
import time

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

from oggm import cfg, tasks  # noqa: E402
from oggm.core.massbalance import MonthlyTIModel  # noqa: E402

from oggm_glaunti.integration import (GlaUnTIMassBalance, glaunti_calibrate, glaunti_model_grid,  # noqa: E402
                                      hintereisferner_gdir, oetztal_gdirs, process_daily_from_monthly)
from oggm_glaunti.integration.run.grid_cache import clear_grid_cache  # noqa: E402

#: Kesselwandferner (4.0 km2), then RGI50-11.00958 (4.4 km2): same 48x48 grid bucket.
OTHER_GLACIERS = ("RGI50-11.00787", "RGI50-11.00958")


@contextlib.contextmanager
def compilations():
    """Collects {function: XLA compilation seconds} of what JAX compiles inside the block."""
    import jax

    found: dict = {}

    class Collect(logging.Handler):
        def emit(self, record):
            m = re.match(r"Finished XLA compilation of jit\((\w+)\) in ([0-9.e-]+) sec", record.getMessage())
            if m and not m.group(1).startswith(("broadcast", "convert", "_where", "concatenate")):
                found[m.group(1)] = found.get(m.group(1), 0.0) + float(m.group(2))

    handler = Collect(level=logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("jax._src.dispatch", "jax._src.interpreters.pxla")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    jax.config.update("jax_log_compiles", True)
    for lg in loggers:  # collected here, not printed
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
        lg.propagate = False
    try:
        yield found
    finally:
        for lg, (level, propagate) in zip(loggers, saved):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate
        jax.config.update("jax_log_compiles", False)


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


def three_runs(gdir, label, nyears, repeats, compiled=None):
    """(first call, compiled with the grid cache cleared, compiled with the grid cached);
    the compiled figures are the fastest of ``repeats`` runs. ``compiled`` collects what
    the first call compiled (see :func:`compilations`)."""
    with compilations() if compiled is not None else contextlib.nullcontext({}) as found:
        first = timed_run(gdir, GlaUnTIMassBalance, f"{label}_first", nyears)
    if compiled is not None:
        compiled.update(found)
    cold, cached = [], []
    for _ in range(repeats):
        clear_grid_cache()
        cold.append(timed_run(gdir, GlaUnTIMassBalance, f"{label}_cold", nyears))
        cached.append(timed_run(gdir, GlaUnTIMassBalance, f"{label}_cached", nyears))
    return first, min(cold), min(cached)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nyears", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per figure after the first call; the fastest is printed")
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    hef = hintereisferner_gdir(f"{work}/hef")
    prepare(hef, "AD")
    others = oetztal_gdirs(f"{work}/oetztal", rgi_ids=list(OTHER_GLACIERS), initialize=False)
    for gdir in others:  # timing only: the published D without calibration (no WGMS for 00958)
        prepare(gdir, "")

    print(f"run_random_climate, {args.nyears} years, y0=1985, seed=1 (wall seconds, fastest of "
          f"{args.repeats} after the first call; ratio to MonthlyTIModel)")
    # The first run also pays OGGM's own first-call costs: best of the repeats after it.
    timed_run(hef, MonthlyTIModel, "ti_first", args.nyears)
    t_ti = min(timed_run(hef, MonthlyTIModel, "ti", args.nyears) for _ in range(args.repeats))
    print(f"  MonthlyTIModel                    {t_ti:7.2f}")
    header = "first call   compiled, grid cold   compiled, grid cached"
    print(f"  {'':33} {header}")
    for variant in "AD":
        cfg.PARAMS["glaunti_variant"] = variant
        first, cold, cached = three_runs(hef, variant, args.nyears, args.repeats)
        grid = GlaUnTIMassBalance(hef).glacier_run.grid.shape
        print(f"  GlaUnTI {variant}, Hintereisferner {grid[0]}x{grid[1]}  {first:7.2f}      "
              f"{cold:7.2f} ({cold / t_ti:4.1f}x)      {cached:7.2f} ({cached / t_ti:4.1f}x)")
    cfg.PARAMS["glaunti_variant"] = "D"
    for gdir in others:
        compiled: dict = {}
        first, cold, cached = three_runs(gdir, gdir.rgi_id, args.nyears, args.repeats, compiled)
        run = GlaUnTIMassBalance(gdir).glacier_run
        grid, own = run.grid.shape, run.window_size
        print(f"  GlaUnTI D, {gdir.rgi_id} {grid[0]}x{grid[1]} (own grid {own[0]}x{own[1]}), "
              f"{gdir.rgi_area_km2:4.1f} km2: first call {first:.2f}, grid cold {cold:.2f}, grid cached "
              f"{cached:.2f}; compile paid {first - cold:.2f}")
        print("      compiled in its first call: " + (", ".join(f"{k} {v:.2f} s" for k, v in sorted(compiled.items()))
                                                      or "nothing"))


if __name__ == "__main__":
    main()
