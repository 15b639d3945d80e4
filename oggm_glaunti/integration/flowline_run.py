"""From the model grid to flowline points: elevation mapping and the points' TI run.

How the 2D corrector meets the flowline
---------------------------------------
Each hydrological year, the corrections d1..d5 and the state entering the year are
computed on the model grid (:mod:`.grid_run`). They are carried to any set of flowline
heights by elevation: glacier cells are grouped in bands of ``band_dz`` metres, each band
takes the outline-weighted mean of the field, and each point interpolates linearly between
band centres (points above or below the glacier take the highest or lowest band). The TI
model (or the GRU) then runs on the points' own heights - the temperature follows each
point's elevation - so ice dynamics feel the elevation feedback.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..core import MAX_DAYS_PER_YEAR, GlaUnTIModel, GRUModel, make_day_plan, run_ti
from ..core.ti import forcing_terms
from .grid_run import Adjustments, GridRun, adjusted_model

#: Flowline point counts are padded up to a multiple of this, so that flowlines of other
#: lengths reuse the compiled point run.
POINT_BUCKET = 64


def map_by_elevation(field: np.ndarray, elevation: np.ndarray, outline: np.ndarray,
                     heights: np.ndarray, band_dz: float) -> np.ndarray:
    """Carry a grid field ``(*lead, H, W)`` to points at ``heights`` (see module docstring).

    Returns ``(*lead, n_points)``.
    """
    on = outline > 0
    z = elevation[on]
    w = outline[on]
    values = field.reshape(field.shape[: field.ndim - 2] + (-1,))[..., on.ravel()]
    band = np.floor((z - z.min()) / band_dz).astype(int)
    n_bands = band.max() + 1
    weight = np.bincount(band, weights=w, minlength=n_bands)
    used = weight > 0
    centre = (np.bincount(band, weights=w * z, minlength=n_bands)[used] / weight[used])
    flat = values.reshape(-1, values.shape[-1])
    out = np.empty((flat.shape[0], len(heights)))
    for i, row in enumerate(flat):
        means = np.bincount(band, weights=w * row, minlength=n_bands)[used] / weight[used]
        out[i] = np.interp(heights, centre, means)
    return out.reshape(field.shape[: field.ndim - 2] + (len(heights),))


class PointSeries(NamedTuple):
    """Daily results on flowline points for one calendar year (NumPy, float64).

    Attributes
    ----------
    month : (n_steps,)
        calendar month (1-12) each step is attributed to, 0 if inactive.
    smb : (n_steps, n)
        weighted daily SMB, m w.e.
    weight : (n_steps,)
        each step's weight in the day plan (0.5 on a period's first and last day).
    temperature, tpos, precipitation, accumulation : (n_steps, n)
        daily temperature and smooth positive temperature at the points (degC), and the
        effective total and solid precipitation after the model's precipitation factor
        (m w.e./day), unweighted.
    """

    month: np.ndarray
    smb: np.ndarray
    weight: np.ndarray
    temperature: np.ndarray | None = None
    tpos: np.ndarray | None = None
    precipitation: np.ndarray | None = None
    accumulation: np.ndarray | None = None


@eqx.filter_jit
def _run_points(model, corrections, temperature, precipitation, plan, state):
    if isinstance(model, GRUModel):
        res = model.gru.run(temperature, precipitation, plan, state, True, daily=True)
        t = temperature[plan.day_index]
        p = precipitation[plan.day_index]
        return res.daily, res.final_state, t, jnp.maximum(t, 0.0), p, p * (t < 0)
    values = model.ti.constrained()
    if corrections is not None:
        values = values.corrected(corrections)
    res = run_ti(values, temperature, precipitation, plan, state, daily=True)
    t = temperature[plan.day_index]
    p = precipitation[plan.day_index]
    terms = forcing_terms(values, t, p)
    # The model's own precipitation factor applies to rain and snow alike: OGGM's hydro
    # output takes liquid = prcp - prcpsol.
    return (res.daily, res.final_state, t, terms.potential_melt / values.ddf_snow,
            p * values.prec_scale, terms.accumulation)


def _pad(a: np.ndarray, n: int, axis: int = -1) -> np.ndarray:
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, n - a.shape[axis])
    return np.pad(a, pad, mode="edge")


def point_calendar_year(run: GridRun, heights: np.ndarray, year: int, adj: Adjustments,
                        band_dz: float) -> PointSeries:
    """Run the points at ``heights`` through the hydrological years overlapping ``year``."""
    n = len(heights)
    n_pad = max(POINT_BUCKET, -(-n // POINT_BUCKET) * POINT_BUCKET)
    h = _pad(np.asarray(heights, np.float64), n_pad)
    hydro = [year] if run.start_month == 1 else [year - 1, year]
    model = adjusted_model(run.model, adj.melt_f)
    grid = run.grid
    state = None
    chunks = []
    for i, hy in enumerate(hydro):
        out = run.year(hy, adj)
        if state is None:
            state = map_by_elevation(np.moveaxis(out.start_state, -1, 0) if out.start_state.ndim == 3
                                     else out.start_state, grid.elevation, grid.outline, h, band_dz)
            if out.start_state.ndim == 3:
                state = np.moveaxis(state, 0, -1)
        corrections = None
        if out.corrections is not None:
            corrections = jnp.asarray(map_by_elevation(out.corrections, grid.elevation, grid.outline, h, band_dz),
                                      jnp.float32)
        w = run.window(hy)
        t, p = run.climate_window(hy, adj)
        temperature = (t[:, None] + run.lapse_rate * (h[None] - run.climate.ref_hgt)).astype(np.float32)
        precipitation = np.broadcast_to(p[:, None], temperature.shape).astype(np.float32)
        temperature = _pad(temperature, MAX_DAYS_PER_YEAR, axis=0)
        precipitation = _pad(precipitation, MAX_DAYS_PER_YEAR, axis=0)
        plan = make_day_plan(w.n_days, w.split, n_steps=MAX_DAYS_PER_YEAR + 1, open_end=w.open_end)
        daily, state, tt, tpos, pp, acc = _run_points(
            model, corrections, temperature, precipitation, jax.tree_util.tree_map(jnp.asarray, plan),
            jnp.asarray(state, jnp.float32))
        dates = w.begin + plan.day_index
        attributed = dates.copy()
        if w.split is not None:  # 1 January closing the first period belongs to the old year
            closing = np.flatnonzero(plan.active & (plan.period == 0))[-1]
            attributed[closing] -= 1
        in_year = plan.active & (attributed.astype("datetime64[Y]").astype(int) + 1970 == year)
        month = np.where(in_year, attributed.astype("datetime64[M]").astype(int) % 12 + 1, 0)
        chunks.append((month, np.asarray(daily), plan.weight, np.asarray(tt), np.asarray(tpos),
                       np.asarray(pp), np.asarray(acc)))
    cat = [np.concatenate(parts) for parts in zip(*chunks)]
    keep = cat[0] > 0
    month = cat[0][keep]
    series = [c[keep][:, :n].astype(np.float64) for c in cat[1:2]]
    weight = cat[2][keep].astype(np.float64)
    clim = [c[keep][:, :n].astype(np.float64) for c in cat[3:]]
    return PointSeries(month, series[0], weight, *clim)
