"""The model's year on a glacier's grid: the forcing built from the climate at the reference
height, then the core's year. Traceable in the adjustments and the TI parameters, so the
calibration differentiates through the very code the MB model runs
(:class:`~.glacier_run.GlacierRun` runs years, under its state rule, through
:func:`run_compiled_year`).

The corrector sees only the glacier's own grid (``ModelGrid.window``: the layout before
padding and size bucketing), so a glacier's SMB does not depend on the bucket its grid
falls in; the TI runs, which are cell-local, run on the whole bucketed grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...core import DayPlan, GlaUnTIModel, TIModel, YearForcing, YearResult
from ...core.models import Model
from ...hydro_calendar import step_dates
from ..units import melt_f_to_ddf_snow_log


@dataclass(frozen=True)
class Adjustments:
    """Calibration knobs on top of a variant: forcing offsets and the snow DDF.

    Attributes
    ----------
    temp_bias : float
        degC added to the daily temperature.
    prcp_fac : float
        factor on the daily precipitation (on top of the variant's own c_p).
    melt_f : float or None
        snow degree-day factor DDF_s in mm w.e. degC-1 day-1 (OGGM's unit), or None for
        the variant's own (4.96 for the published A/C/D). Ignored by variant B.
    """

    temp_bias: float = 0.0
    prcp_fac: float = 1.0
    melt_f: float | None = None


def adjusted_model(model: Model, melt_f: float | None) -> Model:
    """The model with its snow DDF set to ``melt_f`` (mm w.e. degC-1 day-1) if given."""
    if melt_f is None or not isinstance(model, (TIModel, GlaUnTIModel)):
        return model
    return eqx.tree_at(lambda m: m.ti.ddf_snow_log, model, jnp.float32(melt_f_to_ddf_snow_log(melt_f)))


class ReferenceYears(NamedTuple):
    """Years of climate at the reference height, padded to a common length and stacked.

    Attributes
    ----------
    temperature, precipitation : (n_years, MAX_DAYS_PER_YEAR) float32
        degC and m w.e. per day, without adjustments.
    plan : DayPlan
        the years' day plans, stacked.
    membership : (n_years, MAX_DAYS_PER_YEAR, n_months)
        one-hot calendar month of each day.
    begin : (n_years,) datetime64
        first date of each year.
    """

    temperature: np.ndarray
    precipitation: np.ndarray
    plan: DayPlan
    membership: np.ndarray
    begin: np.ndarray

    def at(self, i: int) -> tuple:
        """Year ``i``'s (temperature, precipitation, plan, membership): the ``reference``
        of :func:`run_glacier_year`."""
        return (self.temperature[i], self.precipitation[i],
                jax.tree_util.tree_map(lambda a: a[i], self.plan), self.membership[i])

    def step_dates(self) -> np.ndarray:
        """(n_years, n_steps) the date of each step."""
        return step_dates(self.begin, self.plan.day_index)


class GridArrays(NamedTuple):
    """What a year needs of the model grid, as arrays.

    offset : (H, W) degC, lapse rate times (cell elevation - reference height).
    static : (outline, elevation, elevation_std, facies), the corrector's static inputs.
    window_origin : (2,) int32, the first row and column of the glacier's own grid.
    """

    offset: np.ndarray
    static: tuple
    window_origin: np.ndarray


def adjusted_forcing(temperature, precipitation, temp_bias, prcp_fac, offset):
    """The forcing adjustment, the one the grid (:func:`grid_forcing`) and the flowline
    points (:func:`~.flowline_run.point_calendar_year`) both apply: the reference-height
    temperature plus ``temp_bias``, moved to each cell's or point's elevation by ``offset``
    (lapse rate times the height above the reference height,
    :meth:`~.glacier_run.GlacierRun.offset`); the precipitation times ``prcp_fac``, the
    same everywhere. Traceable in the adjustments.

    Parameters
    ----------
    temperature, precipitation : (..., n_days) degC and m w.e. per day at the reference height.
    temp_bias, prcp_fac : scalars (or arrays broadcasting against the leading axes).
    offset : ``(*cells)`` degC.

    Returns
    -------
    temperature, precipitation : ``(..., n_days, *cells)``
    """
    cells = tuple(range(-jnp.ndim(offset), 0))
    t = jnp.expand_dims(jnp.asarray(temperature) + temp_bias, cells) + offset
    p = jnp.broadcast_to(jnp.expand_dims(jnp.asarray(precipitation) * prcp_fac, cells), t.shape)
    return t, p


def grid_forcing(reference, temp_bias, prcp_fac, grid: GridArrays, cell_delta=None) -> YearForcing:
    """One year's forcing on the grid from reference-height series (traceable in the
    adjustments): :func:`adjusted_forcing` at the cells (``grid.offset``). ``cell_delta``
    (temperature, precipitation), each broadcastable to (n_days, H, W), is added to the
    grid's forcing (the differentiable tools' per-cell changes; see
    :mod:`oggm_glaunti.integration.tools`)."""
    temperature, precipitation, plan, membership = reference
    t, p = adjusted_forcing(temperature, precipitation, temp_bias, prcp_fac, grid.offset)
    if cell_delta is not None:
        t, p = t + cell_delta[0], p + cell_delta[1]
    return YearForcing(t, p, plan, membership, *grid.static)


def _window(grid: GridArrays, size: tuple[int, int] | None):
    return None if size is None else (grid.window_origin[0], grid.window_origin[1], *size)


def run_glacier_year(model: Model, reference, state, carried, temp_bias, prcp_fac, grid: GridArrays,
                     window_size: tuple[int, int] | None, daily: bool = False, cell_delta=None,
                     correction_delta=None) -> YearResult:
    """The model's year on a glacier's grid: :func:`grid_forcing`, then the core's year,
    the corrector restricted to the glacier's own grid (``window_size`` at
    ``grid.window_origin``). Traceable in every array argument (``cell_delta``: see
    :func:`grid_forcing`; ``correction_delta``, (5, H, W) or None, C and D only: added to
    the corrector's fields d1..d5, see :meth:`~oggm_glaunti.core.GlaUnTIModel.run_year`)."""
    year = grid_forcing(reference, temp_bias, prcp_fac, grid, cell_delta)
    return model.run_year(year, state, carried, daily, window=_window(grid, window_size),
                          correction_delta=correction_delta)


def scan_runs(model: Model, reference, fresh, temp_bias, prcp_fac, grid: GridArrays,
              window_size: tuple[int, int] | None, extra, output, daily: bool = False):
    """Run a stack of runs in order under the glacier run's state rule, traceably.

    Each run starts from a fresh state where ``fresh`` (N,) is True and carries the previous
    run's state otherwise (the stacks of :meth:`.GlacierRun.runs_for`). ``reference`` has a
    leading run axis; ``temp_bias`` and ``prcp_fac`` are scalars or (N,) per run.
    ``output(result, extra_k)`` reduces each run's :class:`YearResult` with its slice of
    ``extra`` (a pytree with a leading run axis, or None). Returns the stacked outputs.
    """
    outline = grid.static[0]
    n = fresh.shape[0]
    bias = jnp.broadcast_to(jnp.asarray(temp_bias, jnp.float32), (n,))
    factor = jnp.broadcast_to(jnp.asarray(prcp_fac, jnp.float32), (n,))

    def step(state, xs):
        ref, starts_fresh, b, f, x = xs
        state = jnp.where(starts_fresh, model.initial_state(outline.shape), state)
        res = run_glacier_year(model, ref, state, jnp.logical_not(starts_fresh), b, f, grid, window_size, daily)
        return res.final_state, output(res, x)

    return jax.lax.scan(step, model.initial_state(outline.shape), (reference, fresh, bias, factor, extra))[1]


# The MB model's driver runs the same year in compiled pieces, so that glaciers of one
# grid bucket share the TI runs whatever their own grid: only the corrector is compiled
# per window size. (Not a scan over years: XLA on CPU ran the daily scans 1.3x slower
# nested in an outer loop.)
@eqx.filter_jit
def _whole_year(model, reference, state, carried, temp_bias, prcp_fac, grid, daily):
    res = run_glacier_year(model, reference, state, carried, temp_bias, prcp_fac, grid, None, daily)
    return res.final_state, res.corrections, res.period_smb, res.daily


@eqx.filter_jit
def _sensitivities(model, reference, state, temp_bias, prcp_fac, grid):
    return model.sensitivities(grid_forcing(reference, temp_bias, prcp_fac, grid), state)


@eqx.filter_jit
def _corrections(model, reference, sens, temp_bias, prcp_fac, grid, window_size):
    year = grid_forcing(reference, temp_bias, prcp_fac, grid)
    return model.corrections_from(year, sens, _window(grid, window_size))


@eqx.filter_jit
def _corrected(model, reference, state, corrections, temp_bias, prcp_fac, grid, daily):
    res = model.run_corrected(grid_forcing(reference, temp_bias, prcp_fac, grid), state, corrections, daily)
    return res.final_state, res.corrections, res.period_smb, res.daily


def run_compiled_year(model: Model, reference, state, carried: bool, temp_bias, prcp_fac, grid: GridArrays,
                      window_size: tuple[int, int], daily: bool = False, corrections=None):
    """:func:`run_glacier_year` through compiled pieces: (final state, corrections, period
    SMB, daily SMB or None). ``corrections`` (C, D) replaces the corrector's (a year re-run,
    or a year too short for the corrector's inputs). ``temp_bias`` and ``prcp_fac`` should
    be arrays: traced, so that new values compile nothing."""
    if isinstance(model, GlaUnTIModel):
        if corrections is None:
            sens = _sensitivities(model, reference, state, temp_bias, prcp_fac, grid)
            corrections = _corrections(model, reference, sens, temp_bias, prcp_fac, grid, window_size)
        return _corrected(model, reference, state, corrections, temp_bias, prcp_fac, grid, daily)
    return _whole_year(model, reference, state, jnp.asarray(carried), temp_bias, prcp_fac, grid, daily)
