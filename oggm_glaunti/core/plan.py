"""The day plan: how one hydrological year's days map onto its periods.

A year's forcing covers ``n_days`` dates from its begin to its end date, both inclusive
(consecutive years share their boundary date). The year is one period (annual) or two
(winter = days ``0..split``, summer = days ``split..n_days-1``), the split day belonging
to both. Every period weights its first and last day by 0.5 (Maslov et al., egusphere-2026-515).

The plan unrolls this into a fixed-length sequence of *steps*: each step names the day of
forcing it reads, its weight, its period (0 or 1) and whether it starts a period. Steps
past the end are inactive padding, so years of different lengths and split dates share
one compiled scan. :func:`scan_plan` is the one sequential loop of the package: the TI
model, its sensitivity runs and the GRU all run through it.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

#: Days an ordinary year is padded to: a leap year plus its shared end date (a seasonal
#: year takes one step more), so that every ordinary year shares one compiled model.
#: Longer years (WGMS years on floating survey dates, e.g. 370 days) are padded to
#: :func:`padded_days`.
MAX_DAYS_PER_YEAR = 367
#: Years longer than :data:`MAX_DAYS_PER_YEAR` are padded to a multiple of this (few
#: extra compiled shapes).
LONG_YEAR_MULTIPLE = 8


def padded_days(n_days: int) -> int:
    """Days a year of ``n_days`` forcing days (begin and end included) is padded to:
    :data:`MAX_DAYS_PER_YEAR` for an ordinary year, else ``n_days`` rounded up to a
    multiple of :data:`LONG_YEAR_MULTIPLE`. A year of any length runs (padding steps are
    inactive: they change no result)."""
    n_days = int(n_days)
    if n_days <= MAX_DAYS_PER_YEAR:
        return MAX_DAYS_PER_YEAR
    return -(-n_days // LONG_YEAR_MULTIPLE) * LONG_YEAR_MULTIPLE


class DayPlan(NamedTuple):
    """Per-step arrays of a year's plan, each of shape (n_steps,).

    Attributes
    ----------
    day_index : int32, the forcing day each step reads.
    weight : float32, the step's weight (0.5 at period edges, 1 inside, 0 when inactive).
    period : int32, 0 (annual or winter) or 1 (summer).
    period_start : bool, the step is the first of its period.
    active : bool, False for padding steps.
    """

    day_index: Array
    weight: Array
    period: Array
    period_start: Array
    active: Array


def make_day_plan(n_days: int, split: Optional[int] = None, n_steps: Optional[int] = None,
                  open_end: bool = False) -> DayPlan:
    """Build the plan of one year.

    Parameters
    ----------
    n_days : number of forcing days, begin and end dates included (at least 2).
    split : index of the midseason day (winter ends, summer begins), or None for one
        annual period. Must satisfy ``0 < split < n_days - 1``.
    n_steps : total length after padding; default the minimum needed. Use a fixed
        value (e.g. ``MAX_DAYS_PER_YEAR + 1``) to share one compiled model between years.
    open_end : the last day is shared with no following period (a record that ends
        there), so it gets the full weight 1 instead of 0.5.

    Returns
    -------
    DayPlan of NumPy arrays.
    """
    n_days = int(n_days)
    if n_days < 2:
        raise ValueError(f"a period needs at least 2 days (begin and end); got n_days={n_days}")
    if split is None:
        periods = [np.arange(n_days)]
    else:
        split = int(split)
        if not 0 < split < n_days - 1:
            raise ValueError(
                f"split={split} must lie strictly inside the year (1..{n_days - 2}) so that "
                "winter and summer each have at least two days"
            )
        periods = [np.arange(split + 1), np.arange(split, n_days)]
    used = sum(len(p) for p in periods)
    n_steps = used if n_steps is None else int(n_steps)
    if n_steps < used:
        raise ValueError(f"n_steps={n_steps} is shorter than the {used} steps this year needs")

    day_index = np.zeros(n_steps, np.int32)
    weight = np.zeros(n_steps, np.float32)
    period = np.zeros(n_steps, np.int32)
    start = np.zeros(n_steps, bool)
    active = np.zeros(n_steps, bool)
    pos = 0
    for pid, days in enumerate(periods):
        sl = slice(pos, pos + len(days))
        day_index[sl] = days
        weight[sl] = 1.0
        weight[pos] = weight[pos + len(days) - 1] = 0.5
        period[sl] = pid
        start[pos] = True
        active[sl] = True
        pos += len(days)
    if open_end:
        weight[pos - 1] = 1.0
    return DayPlan(day_index, weight, period, start, active)


class PlanResult(NamedTuple):
    """What a scan over a plan returns.

    Attributes
    ----------
    period_smb : (2, ...) weighted SMB sum of each period (the second is zero when annual);
        a pytree of such arrays when the step returns a pytree of SMB.
    daily : (n_steps, ...) weighted SMB of each step (zero when inactive), or None.
    final_state : the state after the last active step.
    """

    period_smb: Array
    daily: Optional[Array]
    final_state: object


StepFn = Callable[[object, object, Array, Array], tuple[object, Array]]


def scan_plan(step: StepFn, state0: object, inputs: object, plan: DayPlan, daily: bool = False) -> PlanResult:
    """Run ``step`` over the active steps of ``plan``, summing SMB per period.

    Parameters
    ----------
    step : ``step(state, inputs_t, weight, period_start) -> (new_state, smb)``, pure;
        ``smb`` may be one array or a pytree of arrays (e.g. several trajectories).
    state0 : initial state (any pytree).
    inputs : pytree of arrays with leading axis n_steps, sliced per step.
    plan : the year's :class:`DayPlan` (JAX or NumPy arrays).
    daily : also return the per-step SMB series (costs n_steps x cells of memory).

    Notes
    -----
    Each step adds its SMB to its own period's slot only (a dynamic index), instead of
    adding masked SMB to both slots: on CPU that halves the cost of the whole scan,
    since XLA then keeps the step in a few fused kernels.
    """

    def add_to_period(sums, smb, period):
        current = jax.lax.dynamic_index_in_dim(sums, period, axis=0, keepdims=False)
        return jax.lax.dynamic_update_index_in_dim(sums, current + smb, period, axis=0)

    def body(carry, xs):
        state, sums = carry
        x, weight, period, start, active = xs
        new_state, smb = step(state, x, weight, start)
        smb = jax.tree_util.tree_map(lambda s: jnp.where(active, s, 0.0), smb)
        state = jax.tree_util.tree_map(lambda n, o: jnp.where(active, n, o), new_state, state)
        sums = jax.tree_util.tree_map(lambda total, s: add_to_period(total, s, period), sums, smb)
        return (state, sums), (smb if daily else None)

    smb_shapes = jax.eval_shape(
        lambda s, x: step(s, x, plan.weight[0], plan.period_start[0])[1],
        state0,
        jax.tree_util.tree_map(lambda a: a[0], inputs),
    )
    sums0 = jax.tree_util.tree_map(lambda s: jnp.zeros((2,) + s.shape, s.dtype), smb_shapes)
    xs = (inputs, jnp.asarray(plan.weight), jnp.asarray(plan.period),
          jnp.asarray(plan.period_start), jnp.asarray(plan.active))
    (final_state, sums), series = jax.lax.scan(body, (state0, sums0), xs)
    return PlanResult(sums, series, final_state)
