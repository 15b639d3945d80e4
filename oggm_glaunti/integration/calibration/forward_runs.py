"""The calibration's runs, year by year, with their derivatives in forward mode.

Each run is the glacier run's year (:mod:`.glacier_year`) with the parameter vector
(:class:`~.layout.ParameterLayout`) traced, in the pieces the MB model's years run
(:func:`~.glacier_year.run_compiled_year`): for C and D the sensitivity runs, the corrector
and the corrected TI run, each compiled on its own. The TI runs are cell-local: they run
on a list of the cells whose results the calibration needs
(:class:`~.objective_data.CalibrationCells`: the corrector's window for C and D, the
glacier's cells for A), padded to a size bucket, so that glaciers of similar size share
them; only the corrector is compiled per glacier window (a calibration's whole run traced
as one program would be compiled anew for every glacier), and the model grid's padding
and, for A, the terrain around the glacier are not run at all.

The derivatives are forward-mode: ``jax.jvp`` along each coordinate of the parameter
vector, the state's derivatives carried from piece to piece and year to year. Nothing of
a year is stored for them, and for a calibration on one mean (temp_bias alone) they cost
a fraction of the run itself.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array

from ...core import GlaUnTIModel
from ..run.glacier_year import GridArrays, grid_forcing
from .layout import ParameterLayout
from .objective_data import CalibrationCells, ObjectiveData, Readout


class YearReadout(NamedTuple):
    """What the objective reads of a run's year: the glacier-wide ``total`` of its periods
    and, as the :class:`~.objective_data.Readout` asks, its weighted daily SMB glacier-wide
    (n_steps,), at the stakes' cells (n_steps, S) and as band means (n_steps, B), m w.e."""

    total: Array
    daily: Optional[Array]
    stakes: Optional[Array]
    bands: Optional[Array]


def _needs_daily(readout: Readout) -> bool:
    return readout.daily or readout.stake_index is not None or readout.bands is not None


def read_year(res, readout: Readout) -> YearReadout:
    """The :class:`YearReadout` of a year's result on any cells, a list or a grid
    (traceable)."""
    outline = readout.outline
    area = outline.sum()
    total = jnp.einsum("p...,...->", res.period_smb, outline) / area
    daily = jnp.einsum("t...,...->t", res.daily, outline) / area if readout.daily else None
    stakes = None
    if readout.stake_index is not None:
        stakes = res.daily.reshape(res.daily.shape[0], -1)[:, readout.stake_index]
    bands = None if readout.bands is None else jnp.einsum("t...,b...->tb", res.daily, readout.bands)
    return YearReadout(total, daily, stakes, bands)


def _forward(f, theta, basis, primals: tuple, tangents: tuple):
    """``f(theta, *primals)`` and its derivatives along each row of ``basis`` (P, n), the
    primals' own derivatives ``tangents`` given with a leading P axis. P = 0: no derivatives."""
    if basis.shape[0] == 0:
        out = f(theta, *primals)
        return out, jax.tree_util.tree_map(lambda a: jnp.zeros((0,) + jnp.shape(a), a.dtype), out)

    def along(d_theta, *d_primals):
        return jax.jvp(f, (theta, *primals), (d_theta, *d_primals))

    return jax.vmap(along, out_axes=(None, 0))(basis, *tangents)


@eqx.filter_jit
def _fresh_state(model, layout: ParameterLayout, theta, basis, log_prcp_fac, shape: tuple[int, ...]):
    def f(th):
        return layout.adjusted(model, th, log_prcp_fac)[0].initial_state(shape)

    return _forward(f, theta, basis, (), ())


@eqx.filter_jit
def _sensitivities(model, layout: ParameterLayout, theta, basis, log_prcp_fac, reference, grid: GridArrays,
                   state, state_dot):
    def f(th, swe):
        m, bias, fac = layout.adjusted(model, th, log_prcp_fac)
        return m.sensitivities(grid_forcing(reference, bias, fac, grid), swe)

    return _forward(f, theta, basis, (state,), (state_dot,))


@eqx.filter_jit
def _corrections(model, layout: ParameterLayout, theta, basis, log_prcp_fac, reference, window: GridArrays,
                 sens, sens_dot):
    """The corrector on its window (a grid of its own), from the sensitivity channels of
    the cell list, whose first cells are the window's, row by row; zero on the others."""
    def f(th, channels):
        m, bias, fac = layout.adjusted(model, th, log_prcp_fac)
        shape = window.offset.shape
        on_window = channels[:, : shape[0] * shape[1]].reshape((channels.shape[0],) + shape)
        fields = m.corrections_from(grid_forcing(reference, bias, fac, window), on_window)
        fields = fields.reshape(fields.shape[0], -1)
        return jnp.pad(fields, ((0, 0), (0, channels.shape[1] - fields.shape[1])))

    return _forward(f, theta, basis, (sens,), (sens_dot,))


@eqx.filter_jit
def _corrected(model, layout: ParameterLayout, theta, basis, log_prcp_fac, reference, grid: GridArrays,
               readout: Readout, state, state_dot, corrections, corrections_dot):
    def f(th, swe, fields):
        m, bias, fac = layout.adjusted(model, th, log_prcp_fac)
        res = m.run_corrected(grid_forcing(reference, bias, fac, grid), swe, fields, _needs_daily(readout))
        return res.final_state, read_year(res, readout)

    return _forward(f, theta, basis, (state, corrections), (state_dot, corrections_dot))


@eqx.filter_jit
def _whole_year(model, layout: ParameterLayout, theta, basis, log_prcp_fac, reference, grid: GridArrays,
                readout: Readout, state, state_dot):
    def f(th, swe):
        m, bias, fac = layout.adjusted(model, th, log_prcp_fac)
        res = m.run_year(grid_forcing(reference, bias, fac, grid), swe, True, _needs_daily(readout))
        return res.final_state, read_year(res, readout)

    return _forward(f, theta, basis, (state,), (state_dot,))


def run_forward(model, layout: ParameterLayout, theta, data: ObjectiveData, cells: CalibrationCells,
                derivatives: bool) -> tuple[YearReadout, YearReadout]:
    """The :class:`YearReadout` of each run at ``theta``, stacked (N, ...), and with
    ``derivatives`` its derivatives along each coordinate of ``theta`` (P, N, ...; else
    P = 0). Runs a run's pieces as :func:`~.glacier_year.run_compiled_year` does, on
    ``cells``; fresh runs start from the (fitted) model's initial state."""
    theta = jnp.asarray(theta, jnp.float32)
    n = theta.shape[0]
    basis = jnp.eye(n, dtype=jnp.float32)[: n if derivatives else 0]
    fixed = (model, layout, theta, basis, data.log_prcp_fac)
    grid = cells.cells
    if isinstance(model, GlaUnTIModel) and cells.window is None:
        raise ValueError(f"variant {model.variant} needs the corrector's window among the calibration cells")
    outputs, derivs = [], []
    for k, fresh in enumerate(data.fresh):
        reference = data.reference.at(k)
        if fresh:
            state, state_dot = _fresh_state(*fixed, tuple(grid.offset.shape))
        if isinstance(model, GlaUnTIModel):
            sens, sens_dot = _sensitivities(*fixed, reference, grid, state, state_dot)
            corr, corr_dot = _corrections(*fixed, reference, cells.window, sens, sens_dot)
            (state, out), (state_dot, out_dot) = _corrected(*fixed, reference, grid, data.readout, state,
                                                            state_dot, corr, corr_dot)
        else:
            (state, out), (state_dot, out_dot) = _whole_year(*fixed, reference, grid, data.readout, state,
                                                             state_dot)
        outputs.append(out)
        derivs.append(out_dot)
    return _stack(outputs, 0), _stack(derivs, 1)


def _stack(items: list[YearReadout], axis: int) -> YearReadout:
    return jax.tree_util.tree_map(lambda *a: jnp.stack(a, axis), *items)
