"""Attribution of a year's glacier-wide SMB to its daily temperature and precipitation by
integrated gradients (Maslov et al., egusphere-2026-515, appendix A).

For a function ``f(T, P)`` of the year's daily forcing (n_days, H, W) and a baseline
``(T0, P0)`` - the per-cell calendar-month climatology (:func:`month_climatology`) - the
attribution of each day and cell is ``(x - x0) * mean_k grad f(x0 + a_k (x - x0))`` with
``a_k = (k + 1/2) / steps`` (midpoint rule; 100 steps as published). Completeness: the
attributions add up to ``f(x) - f(x0)``; :func:`integrated_gradients` measures the gap
and raises :class:`~.errors.AttributionIncomplete` above its bound.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .checks import check_count, check_positive
from .errors import AttributionIncomplete

#: Completeness bound (relative to the absolute change f(x) - f(x0)), and the floor of that denominator
#: (m w.e.): a year close to its baseline is judged in absolute terms.
COMPLETENESS_BOUND = 0.02
ABSOLUTE_FLOOR = 0.01


class Attribution(NamedTuple):
    """Integrated gradients of one year.

    Attributes
    ----------
    temperature, precipitation : (n_days, H, W) attributions, m w.e. of glacier-wide SMB.
    value, baseline_value : f(x), f(x0), m w.e.
    completeness_error : abs(sum of attributions - (f(x) - f(x0))) / max(abs(f(x) - f(x0)), floor).
    steps : the number of gradient evaluations.
    """

    temperature: np.ndarray
    precipitation: np.ndarray
    value: float
    baseline_value: float
    completeness_error: float
    steps: int


def month_climatology(values: np.ndarray, months: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean of ``values`` (n_days, ...) per calendar month (1..12) over the ``valid`` days:
    (12, ...). A month with no valid day is NaN."""
    values = np.asarray(values, np.float64)
    out = np.full((12,) + values.shape[1:], np.nan)
    for m in range(1, 13):
        sel = valid & (months == m)
        if sel.any():
            out[m - 1] = values[sel].mean(0)
    return out


def integrated_gradients(f: Callable, x: tuple, baseline: tuple, steps: int = 100,
                         bound: float = COMPLETENESS_BOUND) -> Attribution:
    """Integrated gradients of the scalar ``f(temperature, precipitation)``.

    Parameters
    ----------
    f : traceable function of the two (n_days, ...) forcing arrays, returning a scalar.
    x, baseline : (temperature, precipitation) of the year and of the baseline.
    steps : gradient evaluations along the path (100 as published).
    bound : largest relative completeness error accepted.
    """
    steps = check_count("steps", steps)
    bound = check_positive("bound", bound)
    x = tuple(jnp.asarray(a, jnp.float32) for a in x)
    baseline = tuple(jnp.asarray(a, jnp.float32) for a in baseline)
    diff = tuple(a - b for a, b in zip(x, baseline))
    grad = jax.jit(jax.grad(f, argnums=(0, 1)))
    value_of = jax.jit(f)
    total = tuple(jnp.zeros_like(a) for a in x)
    for k in range(steps):
        alpha = (k + 0.5) / steps
        g = grad(*(b + alpha * d for b, d in zip(baseline, diff)))
        total = tuple(t + gk for t, gk in zip(total, g))
    attr = tuple(np.asarray(t / steps * d) for t, d in zip(total, diff))
    value, base_value = float(value_of(*x)), float(value_of(*baseline))
    change = value - base_value
    error = abs(float(sum(a.sum(dtype=np.float64) for a in attr)) - change) / max(abs(change), ABSOLUTE_FLOOR)
    if not error <= bound:
        raise AttributionIncomplete(
            f"integrated gradients with {steps} steps add up to {float(sum(a.sum() for a in attr)):+.4f} m w.e. "
            f"but f(x) - f(baseline) = {change:+.4f} m w.e.: completeness error {error:.1%} exceeds the bound "
            f"{bound:.0%}; use more steps (e.g. steps={4 * steps})")
    return Attribution(attr[0], attr[1], value, base_value, float(error), steps)


def monthly_sums(attribution: np.ndarray, months: np.ndarray) -> np.ndarray:
    """(12,) attribution summed over the cells and the days of each calendar month (1..12)."""
    per_day = np.asarray(attribution, np.float64).reshape(len(months), -1).sum(1)
    return np.array([per_day[months == m].sum() for m in range(1, 13)])
