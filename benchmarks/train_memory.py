"""Peak memory and time of one loss-and-gradient over a glacier's whole sequence.

Variant C (published weights, corrector trainable, TI frozen) over ``--years`` hydrological
years on a synthetic ``--rows`` x ``--cols`` grid (default 442 x 575 for 35 years: the
published training's largest glacier, Bruarjokull, whose published code needs ~26 GB).
Each year's forcing is generated on demand (seeded by the year), as a dataset reader that
memory-maps its files would provide it, so nothing but the training code holds forcing.

Prints peak resident memory (``resource.getrusage``; on a GPU also the device's peak
bytes in use) and wall time per glacier-year (compilation included, reported apart for a
1-year warm-up). Run alone: ``python benchmarks/train_memory.py`` (full size, minutes) or
``python benchmarks/train_memory.py --rows 110 --cols 144 --years 8`` for a quick look;
``--chunk-years 0`` holds the whole stacked sequence (the memory a single scan needs).
Prints figures only; nothing here asserts.
"""

from __future__ import annotations

import argparse
import resource
import time

import jax
import numpy as np

from oggm_glaunti.core import year_forcing
from oggm_glaunti.synthetic import glacier_geometry, synthetic_forcing
from oggm_glaunti.training.gradients import sequence_value_and_grad
from oggm_glaunti.training.initialisation import split_model
from oggm_glaunti.training.records import GlacierData, GlacierWideObs, SeasonWindow, StakeObs
from oggm_glaunti.training.sequences import prepare_sequence
from oggm_glaunti.weights import load_pretrained


class OnDemandGlacier(GlacierData):
    """A synthetic glacier whose forcing is generated per year, never held whole."""

    generation_s: float = 0.0

    def year_forcing(self, year, n_days=None, seasonal=None):
        t0 = time.perf_counter()
        window = self.windows[year]
        days = int((window.end - window.begin).astype(int)) + 1
        temperature, precipitation = synthetic_forcing(self.shape, days, np.random.default_rng(year))
        out = year_forcing(temperature, precipitation, window.begin,
                           split=int((window.midseason - window.begin).astype(int)),
                           outline=self.outline[0], elevation=self.elevation[0], n_days=n_days)
        OnDemandGlacier.generation_s += time.perf_counter() - t0
        return out


def make_glacier(shape: tuple[int, int], first_year: int, n_years: int) -> OnDemandGlacier:
    elevation, outline = glacier_geometry(shape)
    start, stop = np.datetime64(f"{first_year - 1}-10-01"), np.datetime64(f"{first_year + n_years - 1}-10-01")
    dates = np.arange(start, stop + 1)
    empty = np.broadcast_to(np.zeros((), np.float32), (len(dates),) + shape)  # no memory
    years = range(first_year, first_year + n_years)
    windows = {y: SeasonWindow(y, np.datetime64(f"{y - 1}-10-01"), np.datetime64(f"{y}-10-01"),
                               np.datetime64(f"{y}-05-01")) for y in years}
    rows, cols = np.nonzero(outline)
    pick = np.random.default_rng(0).choice(len(rows), 10, replace=False)
    gw = tuple(GlacierWideObs(y, s, v) for y in years for s, v in
               (("annual", -0.8), ("winter", 1.2), ("summer", -2.0)))
    stakes = tuple(StakeObs(y, "annual", w.begin + 2, w.end - 3, int(rows[k]), int(cols[k]), -1.0)
                   for y, w in windows.items() for k in pick)
    return OnDemandGlacier("benchmark", 2, dates, empty, empty, np.array([first_year]),
                           elevation[None], np.full((1,) + shape, 10.0, np.float32), outline[None],
                           windows, gw, stakes)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB -> GiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=442)
    parser.add_argument("--cols", type=int, default=575)
    parser.add_argument("--years", type=int, default=35, help="run years (spin-up + scored)")
    parser.add_argument("--spinup", type=int, default=5, help="unscored spin-up years")
    parser.add_argument("--chunk-years", type=int, default=1,
                        help="years per chunk (0: the whole sequence in one stacked scan)")
    parser.add_argument("--variant", default="C", choices=list("ACD"))
    args = parser.parse_args()

    shape = (args.rows, args.cols)
    model = load_pretrained(args.variant)
    trainable, frozen = split_model(model, train_ti=args.variant == "A")
    glacier = make_glacier(shape, 1990, args.years)
    chunk = args.chunk_years or args.years
    print(f"variant {args.variant}, grid {shape[0]}x{shape[1]}, {args.years} years "
          f"({args.spinup} spin-up), {chunk} year(s) per chunk, devices {jax.devices()}")
    base = peak_rss_gib()

    warm = prepare_sequence(make_glacier(shape, 1990, 2), spinup_years=1, chunk_years=1)
    t0 = time.perf_counter()
    jax.block_until_ready(sequence_value_and_grad(trainable, frozen, warm, prior=args.variant == "A"))
    warm_s = time.perf_counter() - t0

    sequence = prepare_sequence(glacier, spinup_years=args.spinup, chunk_years=chunk)
    OnDemandGlacier.generation_s = 0.0
    t0 = time.perf_counter()
    loss, terms, grads = sequence_value_and_grad(trainable, frozen, sequence, prior=args.variant == "A")
    jax.block_until_ready(grads)
    seconds = time.perf_counter() - t0
    norm = float(jax.numpy.sqrt(sum(jax.numpy.sum(g**2) for g in jax.tree_util.tree_leaves(grads))))
    print(f"loss {float(loss):.4f}, gradient norm {norm:.4g}, finite: {np.isfinite(norm)}")
    print(f"warm-up (2 years, compilation included): {warm_s:.1f} s")
    print(f"time: {seconds:.1f} s for {args.years} glacier-years = {seconds / args.years:.2f} s per "
          f"glacier-year (of which forcing generation {OnDemandGlacier.generation_s:.1f} s; "
          f"chunk shapes compiled on first use)")
    print(f"peak resident memory: {peak_rss_gib():.2f} GiB (after imports and weights: {base:.2f} GiB)")
    stats = jax.devices()[0].memory_stats() if jax.devices()[0].platform != "cpu" else None
    if stats:
        print(f"device peak bytes in use: {stats.get('peak_bytes_in_use', 0) / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
