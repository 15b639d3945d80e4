"""The one sequence runner: any variant over consecutive hydrological years.

State (SWE or GRU hidden state) carries from period to period and year to year; callers
never write the season bookkeeping themselves.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array

from .forcing import YearForcing
from .models import GlaUnTIModel, Model, YearResult
from .plan import DayPlan


class SequenceResult(NamedTuple):
    """Outputs of :func:`run_years`, each with a leading year axis.

    Attributes
    ----------
    years : :class:`~oggm_glaunti.core.models.YearResult` stacked over years (its
        ``final_state`` is each year's end state).
    start_states : the state at the start of each year (to restart any year exactly).
    final_state : the state after the last year.
    """

    years: YearResult
    start_states: Array
    final_state: Array


@eqx.filter_jit
def run_years(
    model: Model,
    years: YearForcing,
    state: Optional[Array] = None,
    daily: bool = False,
    remat_years: bool = False,
) -> SequenceResult:
    """Run ``model`` over a stack of years (see :func:`~oggm_glaunti.core.forcing.stack_years`).

    Parameters
    ----------
    model : a variant model (A, B, C or D).
    years : stacked :class:`~oggm_glaunti.core.forcing.YearForcing`, leading axis = years.
    state : the state at the start of the first year; None starts fresh (SWE = S_c, or the
        GRU's learned initial state).
    daily : also return daily SMB series (memory: years x steps x cells).
    remat_years : recompute each year's internals in the backward pass instead of storing
        them (use when differentiating long sequences on large grids).
    """
    cells = years.outline.shape[1:]
    fresh = state is None
    state0 = model.initial_state(cells) if fresh else jnp.asarray(state)

    def body(carry, year):
        state, index = carry
        carried = jnp.logical_or(index > 0, not fresh)
        res = model.run_year(year, state, carried, daily)
        return (res.final_state, index + 1), (res, state)

    if remat_years:
        body = jax.checkpoint(body)
    (final, _), (results, starts) = jax.lax.scan(body, (state0, jnp.int32(0)), years)
    return SequenceResult(results, starts, final)


@eqx.filter_jit
def run_cell_years(
    model: Model,
    temperature: Array,
    precipitation: Array,
    plan: DayPlan,
    state: Array,
    corrections: Optional[Array] = None,
    carried: bool = True,
) -> SequenceResult:
    """Run ``model`` over consecutive years on any set of cells (e.g. flowline points), each
    year through the model's own ``run_cells`` (e.g.
    :meth:`~oggm_glaunti.core.models.GlaUnTIModel.run_cells`) with the corrections given - the same
    code as a grid year once its corrections are known - with daily SMB and climate.

    Parameters
    ----------
    model : a variant model (A, B, C or D).
    temperature, precipitation : ``(n_years, n_days, *cells)`` degC and m w.e. per day.
    plan : the years' day plans, stacked (leading axis = years).
    state : the state entering the first year, ``(*cells)`` (``(*cells, 16)`` for B).
    corrections : ``(n_years, 5, *cells)`` d1..d5 of each year for C and D (e.g. the grid's,
        carried to the cells), None for A and B.
    carried : ``state`` comes from a previous period (the usual case; see
        :meth:`~oggm_glaunti.core.models.GRUModel.run_cells`); later years always carry it.

    Returns
    -------
    :class:`SequenceResult` whose ``years`` hold ``daily`` and ``climate``.
    """
    state0 = jnp.asarray(state)

    def body(carry, inputs):
        state, index = carry
        corr, t, p, pl = inputs
        res = model.run_cells(t, p, pl, state, jnp.logical_or(index > 0, carried), corr, daily=True, climate=True)
        return (res.final_state, index + 1), (res, state)

    (final, _), (results, starts) = jax.lax.scan(
        body, (state0, jnp.int32(0)), (corrections, temperature, precipitation, plan))
    return SequenceResult(results, starts, final)


def run_year(model: Model, year: YearForcing, state: Optional[Array] = None, daily: bool = False,
             corrections: Optional[Array] = None) -> YearResult:
    """Run one (unstacked) year; a convenience over :func:`run_years`.

    ``corrections`` (5, H, W), for variants C and D only, replaces the corrector's output
    (see :meth:`~oggm_glaunti.core.models.GlaUnTIModel.run_corrected`).
    """
    if corrections is not None:
        if not isinstance(model, GlaUnTIModel):
            raise ValueError(f"corrections were given, but variant {model.variant} has no corrector")
        if state is None:
            state = model.initial_state(year.outline.shape)
        return _run_corrected(model, year, state, corrections, daily)
    stacked = jax.tree_util.tree_map(lambda a: jnp.asarray(a)[None], year)
    out = run_years(model, stacked, state, daily)
    return jax.tree_util.tree_map(lambda a: a[0], out.years)


@eqx.filter_jit
def _run_corrected(model, year, state, corrections, daily):
    return model.run_corrected(year, jnp.asarray(state), jnp.asarray(corrections), daily)
