"""The glacier's run, traced for the tools: a stack of the runs that give some hydrological
years under the glacier run's state rule
(:meth:`~oggm_glaunti.integration.run.glacier_run.GlacierRun.runs_for`), and functions that
run them through :func:`~oggm_glaunti.integration.run.glacier_year.run_glacier_year` - the year
function of the MB model - with a temperature offset and forcing noise on the
reference-height series.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...tools.core_inputs import glacier_wide
from ..run.glacier_run import GlacierRun
from ..run.glacier_year import Adjustments, run_glacier_year, scan_runs


class RunStack(NamedTuple):
    """The runs giving ``years``, in order.

    Attributes
    ----------
    years : the hydrological years asked for.
    runs : (hydrological year, starts fresh, is a year's own run) of each run.
    reference : (temperature, precipitation, plan, membership), each with a leading run axis.
    fresh, own : (N,) the run starts fresh; the run is the own run of one of ``years``
        (the others are spin-up, or earlier years of the segment).
    day_numbers, valid : (N, n_days) each day's number in the daily record, and whether
        the run reads it.
    """

    years: list
    runs: list
    reference: tuple
    fresh: np.ndarray
    own: np.ndarray
    day_numbers: np.ndarray
    valid: np.ndarray


def check_years(run: GlacierRun, years, what: str) -> list[int]:
    """Hydrological years ``y0..y1`` (inclusive) as a list, or ``ValueError`` naming the
    years the daily climate offers."""
    y0, y1 = (int(y) for y in years)
    full = [int(y) for y in run.full_years]
    if y0 > y1:
        raise ValueError(f"{what}: first year {y0} is after last year {y1}")
    if y0 < full[0] or y1 > full[-1]:
        raise ValueError(
            f"{what} {y0}-{y1} (hydrological years) is outside the daily climate "
            f"({run.climate.dates[0]} to {run.climate.dates[-1]}), which gives full hydrological years "
            f"{full[0]}-{full[-1]}; choose years inside it or extend the climate file")
    return list(range(y0, y1 + 1))


def run_stack(run: GlacierRun, years: list[int]) -> RunStack:
    runs = run.runs_for(years)
    ref = run.reference_years([y for y, _, _ in runs])
    day_index = np.asarray(ref.plan.day_index)
    active = np.asarray(ref.plan.active)
    n_read = np.array([day_index[k][active[k]].max() + 1 for k in range(len(runs))])
    first = np.array([run.climate.index_of(b) for b in ref.begin])
    n_days = ref.temperature.shape[1]
    numbers = first[:, None] + np.arange(n_days)[None]
    valid = np.arange(n_days)[None] < n_read[:, None]
    reference = jax.tree_util.tree_map(jnp.asarray, (ref.temperature, ref.precipitation, ref.plan, ref.membership))
    return RunStack(list(years), runs, reference, np.array([f for _, f, _ in runs]),
                    np.array([o and y in years for y, _, o in runs]), numbers, valid)


def day_range(run: GlacierRun, years: list[int]) -> tuple[int, int]:
    """Record day numbers of the first and last day of hydrological years ``years``."""
    return run.climate.index_of(run.calendar.begin(years[0])), run.climate.index_of(run.calendar.end(years[-1]))


def _perturbed(reference, d_t, d_logp):
    t, p, plan, membership = reference
    return (t + d_t, p * jnp.exp(d_logp), plan, membership)


@eqx.filter_jit
def run_totals(model, stack_reference, fresh, grid, window_size, temp_bias, prcp_fac, d_t, d_logp):
    """(N,) glacier-wide SMB of each run (m w.e.), through the calibration's own
    :func:`.scan_runs`, with per-run ``temp_bias`` and ``prcp_fac``
    (N,), and noise ``d_t``, ``d_logp`` (N, n_days) on the reference series."""
    outline = grid.static[0]
    return scan_runs(model, _perturbed(stack_reference, d_t, d_logp), fresh, temp_bias, prcp_fac, grid,
                     window_size, None, lambda res, _: glacier_wide(res.period_smb.sum(0), outline))


class TracedRun:
    """A glacier run under its adjustments, as traceable functions of the tools' inputs."""

    def __init__(self, run: GlacierRun, adj: Adjustments):
        self.run, self.adj = run, adj
        self.model = run.model_for(adj)
        self.grid = jax.tree_util.tree_map(jnp.asarray, run.arrays)
        self.outline = self.grid.static[0]

    def totals(self, stack: RunStack, offset=None, factor=None, d_t=None, d_logp=None):
        """(N,) glacier-wide SMB of the stack's runs; ``offset`` (N,) degC on top of the
        adjustments' temperature bias, ``factor`` (N,) on top of their precipitation factor."""
        n, n_days = stack.day_numbers.shape
        zeros = jnp.zeros((n, n_days), jnp.float32)
        bias = jnp.float32(self.adj.temp_bias) + (jnp.zeros(n) if offset is None else offset)
        fac = jnp.float32(self.adj.prcp_fac) * (jnp.ones(n) if factor is None else factor)
        return run_totals(self.model, stack.reference, jnp.asarray(stack.fresh), self.grid, self.run.window_size,
                          bias, fac, zeros if d_t is None else d_t,
                          zeros if d_logp is None else d_logp)

    def year(self, reference, state, carried, d_t, d_logp, cell_delta=None):
        """One run's cell SMB (H, W) and final state, with noise on the reference series."""
        res = run_glacier_year(self.model, _perturbed(reference, d_t, d_logp), state, carried,
                               jnp.float32(self.adj.temp_bias), jnp.float32(self.adj.prcp_fac), self.grid,
                               self.run.window_size, cell_delta=cell_delta)
        return res.period_smb.sum(0), res.final_state
