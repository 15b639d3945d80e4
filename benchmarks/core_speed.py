"""Speed of the core: ns per cell-day for variants A and C, plus first-call compile times.

Forward (period sum, daily series) and value-and-grad of a glacier-wide loss, on 64x89 and
210x145 grids over 365 days, after JIT warm-up. Run: ``python benchmarks/core_speed.py``.
Prints figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from oggm_glaunti.core import run_year, year_forcing
from oggm_glaunti.synthetic import glacier_geometry, synthetic_forcing
from oggm_glaunti.weights import load_pretrained

N_DAYS = 365


def synthetic_year(shape, seed=0):
    temperature, precipitation = synthetic_forcing(shape, N_DAYS, np.random.default_rng(seed))
    elevation, outline = glacier_geometry(shape)
    return year_forcing(temperature, precipitation, "2001-10-01", outline=outline, elevation=elevation)


def glacier_loss(model, year):
    smb = run_year(model, year).period_smb.sum(0)
    return (jnp.sum(smb * year.outline) / jnp.sum(year.outline) + 0.8) ** 2


def trainable(model):
    """The corrector for C (TI frozen, as in training), the TI parameters for A."""
    return model.corrector if hasattr(model, "corrector") else model.ti


def make_cases(model):
    def value_and_grad(model, year):
        part = trainable(model)

        def loss(part):
            return glacier_loss(eqx.tree_at(trainable, model, part), year)

        return jax.value_and_grad(loss)(part)

    return {
        "forward (period sum)": eqx.filter_jit(lambda m, y: run_year(m, y).period_smb),
        "forward (daily series)": eqx.filter_jit(lambda m, y: run_year(m, y, daily=True).daily),
        "value_and_grad": eqx.filter_jit(value_and_grad),
    }


def timed(fn, *args, repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    compile_s = time.perf_counter() - t0
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return compile_s, best


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (best is kept)")
    args = parser.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {N_DAYS} days, float32")
    print(f"{'variant':8s}{'grid':>10s}  {'case':26s}{'ns/cell-day':>12s}{'first call s':>14s}")
    for variant in ("A", "C"):
        model = load_pretrained(variant)
        for shape in ((64, 89), (210, 145)):
            year = synthetic_year(shape)
            cell_days = shape[0] * shape[1] * N_DAYS
            for name, fn in make_cases(model).items():
                compile_s, best = timed(fn, model, year, repeats=args.repeats)
                print(f"{variant:8s}{'%dx%d' % shape:>10s}  {name:26s}{best / cell_days * 1e9:12.1f}{compile_s:14.2f}")


if __name__ == "__main__":
    main()
