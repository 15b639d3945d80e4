"""Wall time of ``glaunti_calibrate`` on Hintereisferner (WGMS annual series 1953-2002).

Twice in one process: the first call compiles, the second shows the cost of a glacier
whose grid shape and year span were met before. Also prints how many times the loss and
its gradient were evaluated and what each evaluation cost.

Offline: ``GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af4... \\
GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python benchmarks/calibration.py``.
Prints figures only.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

import jax  # noqa: E402

from oggm_glaunti.integration import (glaunti_calibrate, glaunti_model_grid, hintereisferner_gdir,  # noqa: E402
                                      process_daily_from_monthly)
from oggm_glaunti.integration.calibration import objective as calibration_objective  # noqa: E402


class EvaluationClock:
    """Counts and times :meth:`Objective.evaluate` (blocking on its result; repeated
    evaluations at the same parameters are cached and cost nothing)."""

    def __init__(self):
        self.times = []
        self._original = calibration_objective.Objective.evaluate

    def __enter__(self):
        clock = self

        def timed(objective, theta, *args, **kwargs):
            t0 = time.perf_counter()
            out = jax.block_until_ready(clock._original(objective, theta, *args, **kwargs))
            clock.times.append(time.perf_counter() - t0)
            return out

        calibration_objective.Objective.evaluate = timed
        return self

    def __exit__(self, *exc):
        calibration_objective.Objective.evaluate = self._original


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", default="D", choices=list("ACD"))
    args = parser.parse_args()
    gdir = hintereisferner_gdir(f"{tempfile.mkdtemp()}/hef")
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)

    print(f"glaunti_calibrate, variant {args.variant}, Hintereisferner, WGMS 1953-2002 (wall seconds)")
    for label in ("first call (compiles)", "second call (compiled)"):
        with EvaluationClock() as clock:
            t0 = time.perf_counter()
            calib = glaunti_calibrate(gdir, variant=args.variant, ref_years=(1953, 2002))
            total = time.perf_counter() - t0
        later = clock.times[1:] or clock.times
        print(f"  {label:24s} {total:6.1f}   {len(clock.times)} evaluations of loss and gradient: "
              f"first {clock.times[0]:.1f}, then {min(later):.1f}-{max(later):.1f} each; "
              f"temp_bias {calib['temp_bias']:+.3f} degC")


if __name__ == "__main__":
    main()
