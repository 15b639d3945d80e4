"""From the model grid to flowline points: elevation mapping and the points' model year.

How the 2D corrector meets the flowline
---------------------------------------
Each hydrological year, the corrections d1..d5 and the state entering the year are
computed on the model grid (:mod:`.glacier_run`). They are carried to any set of flowline
heights by elevation: glacier cells are grouped in bands of ``band_dz`` metres, each band
takes the outline-weighted mean of the field, and each point interpolates linearly between
band centres (points above or below the glacier take the highest or lowest band). The
points then run the model's own year (:func:`~oggm_glaunti.core.sequence.run_cell_years`,
the code a grid year runs once its corrections are known) on their own heights, under the
grid's forcing adjustment (:func:`~.glacier_year.adjusted_forcing`: the temperature follows
each point's elevation), so ice dynamics feel the elevation feedback. Which state the points
start from is the state rule's (:mod:`.glacier_run`, "Flowline points").
With an evolving geometry (:mod:`.evolving_run`) each hydrological year has its own bands,
those of the glacier it sees.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ...core import DayPlan, run_cell_years
from ...hydro_calendar import calendar_year, month_of
from .glacier_run import GlacierRun
from .glacier_year import Adjustments, adjusted_forcing

#: Flowline point counts are padded up to a multiple of this, so that flowlines of other
#: lengths reuse the compiled point run.
POINT_BUCKET = 64


class ElevationBands(NamedTuple):
    """Glacier cells grouped in elevation bands (see the module docstring).

    Attributes
    ----------
    cells : (n_cells,) int
        flat indices of the glacier cells (outline > 0).
    averaging : (n_bands, n_cells)
        outline weights of each band's mean, rows summing to 1.
    centre : (n_bands,)
        outline-weighted mean elevation of each band, increasing.
    """

    cells: np.ndarray
    averaging: np.ndarray
    centre: np.ndarray


def elevation_bands(elevation: np.ndarray, outline: np.ndarray, band_dz: float) -> ElevationBands:
    """Bands of ``band_dz`` metres over the glacier cells of the grid (empty bands dropped)."""
    on = (outline > 0).ravel()
    z = elevation.ravel()[on].astype(np.float64)
    w = outline.ravel()[on].astype(np.float64)
    band = np.floor((z - z.min()) / band_dz).astype(int)
    _, band = np.unique(band, return_inverse=True)
    averaging = np.zeros((band.max() + 1, len(z)))
    averaging[band, np.arange(len(z))] = w
    averaging /= averaging.sum(1, keepdims=True)
    return ElevationBands(np.flatnonzero(on), averaging, averaging @ z)


def band_means(field: np.ndarray, bands: ElevationBands) -> np.ndarray:
    """Band means of a grid field ``(*lead, H, W)``: ``(*lead, n_bands)``."""
    flat = field.reshape(field.shape[: field.ndim - 2] + (-1,))[..., bands.cells]
    return flat @ bands.averaging.T


def to_points(means: np.ndarray, centre: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """Linear interpolation of band means ``(*lead, n_bands)`` to ``heights`` (clamped at
    the highest and lowest band, like ``np.interp``): ``(*lead, n_points)``."""
    if len(centre) == 1:
        return np.repeat(means, len(heights), axis=-1)
    x = np.clip(heights, centre[0], centre[-1])
    i = np.clip(np.searchsorted(centre, x, side="right") - 1, 0, len(centre) - 2)
    frac = (x - centre[i]) / (centre[i + 1] - centre[i])
    return means[..., i] * (1.0 - frac) + means[..., i + 1] * frac


def map_by_elevation(field: np.ndarray, elevation: np.ndarray, outline: np.ndarray,
                     heights: np.ndarray, band_dz: float) -> np.ndarray:
    """Carry a grid field ``(*lead, H, W)`` to points at ``heights`` (see module docstring).

    Returns ``(*lead, n_points)``.
    """
    bands = elevation_bands(elevation, outline, band_dz)
    return to_points(band_means(field, bands), bands.centre, np.asarray(heights, np.float64))


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
        the points' :class:`~oggm_glaunti.core.models.ClimateSeries`: daily temperature and
        positive melt temperature (degC), and the effective total and solid precipitation
        after the model's precipitation factor (m w.e./day), unweighted.
    date : (n_steps,) datetime64[D]
        the calendar day each step counts towards (a day on a period boundary has two
        half-weighted steps).
    """

    month: np.ndarray
    smb: np.ndarray
    weight: np.ndarray
    temperature: np.ndarray | None = None
    tpos: np.ndarray | None = None
    precipitation: np.ndarray | None = None
    accumulation: np.ndarray | None = None
    date: np.ndarray | None = None


class PointYear(NamedTuple):
    """What the points need of one hydrological year, independent of their heights.

    Attributes
    ----------
    state : (n_bands,) or (16, n_bands)
        band means of the grid's start state (SWE, or the GRU's hidden state).
    corrections : (5, n_bands) or None
        band means of the corrections (None for A and B).
    temperature, precipitation : (MAX_DAYS_PER_YEAR,) float32
        daily climate at the reference height, not adjusted.
    plan : DayPlan
        the year's day plan (JAX arrays, padded to MAX_DAYS_PER_YEAR + 1 steps).
    dates : (n_steps,) datetime64
        the calendar date each step counts towards (the 1 January that closes a winter
        period counts towards the old year).
    centre : (n_bands,)
        the elevations of the bands ``state`` and ``corrections`` are given at (the
        glacier of that year: with an evolving geometry each year has its own bands).
    """

    state: np.ndarray
    corrections: np.ndarray | None
    temperature: np.ndarray
    precipitation: np.ndarray
    plan: DayPlan
    dates: np.ndarray
    centre: np.ndarray


def point_year(run: GlacierRun, hy: int, adj: Adjustments, bands: ElevationBands) -> PointYear:
    """Summarise hydrological year ``hy`` of the grid run for :func:`point_calendar_year`."""
    out = run.year(hy, adj)
    start = out.start_state
    state = band_means(np.moveaxis(start, -1, 0) if start.ndim == 3 else start, bands)
    corrections = None if out.corrections is None else band_means(out.corrections, bands)
    ref = run.reference_years([hy])
    temperature, precipitation, plan, _ = ref.at(0)
    dates = ref.step_dates()[0]
    w = run.window(hy)
    if w.split is not None:  # 1 January closing the first period belongs to the old year
        closing = np.flatnonzero(plan.active & (plan.period == 0))[-1]
        dates[closing] -= 1
    return PointYear(state, corrections, temperature, precipitation,
                     jax.tree_util.tree_map(jnp.asarray, plan), dates, bands.centre)


def _pad(a: np.ndarray, n: int, axis: int = -1) -> np.ndarray:
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, n - a.shape[axis])
    return np.pad(a, pad, mode="edge")


def point_calendar_year(run: GlacierRun, heights: np.ndarray, year: int, adj: Adjustments,
                        summaries: dict[int, PointYear], bands) -> PointSeries:
    """Run the points at ``heights`` through the hydrological years overlapping ``year``.

    ``summaries`` caches :func:`point_year` per hydrological year (the caller keeps one per
    set of adjustments); ``bands`` are the grid's :class:`ElevationBands`, or a function of
    the hydrological year giving that year's (an evolving geometry).
    """
    bands_of = bands if callable(bands) else (lambda _: bands)
    n = len(heights)
    n_pad = max(POINT_BUCKET, -(-n // POINT_BUCKET) * POINT_BUCKET)
    h = _pad(np.asarray(heights, np.float64), n_pad)
    hydro = run.calendar.overlapping(year)
    for hy in hydro:
        if hy not in summaries:
            summaries[hy] = point_year(run, hy, adj, bands_of(hy))
    years = [summaries[hy] for hy in hydro]
    state = to_points(years[0].state, years[0].centre, h)
    if state.ndim == 2:  # GRU hidden state (16, n) -> (n, 16)
        state = state.T
    corrections = None
    if years[0].corrections is not None:
        corrections = np.stack([to_points(y.corrections, y.centre, h) for y in years]).astype(np.float32)
    # the grid's forcing adjustment, at the points' heights (float32, as the grid's year)
    temperature, precipitation = adjusted_forcing(
        np.stack([y.temperature for y in years]), np.stack([y.precipitation for y in years]),
        np.float32(adj.temp_bias), np.float32(adj.prcp_fac), run.offset(h))
    plan = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[y.plan for y in years])
    res = run_cell_years(run.model_for(adj), temperature, precipitation, plan,
                         jnp.asarray(state, jnp.float32), corrections).years
    daily, (tt, tpos, pp, acc) = res.daily, res.climate
    dates = np.concatenate([y.dates for y in years])
    active = np.concatenate([np.asarray(y.plan.active) for y in years])
    in_year = active & (calendar_year(dates) == year)
    month = month_of(dates[in_year])
    weight = np.concatenate([np.asarray(y.plan.weight) for y in years])[in_year].astype(np.float64)

    def kept(a):
        return np.asarray(a).reshape(-1, n_pad)[in_year][:, :n].astype(np.float64)

    return PointSeries(month, kept(daily), weight, kept(tt), kept(tpos), kept(pp), kept(acc),
                       dates[in_year].astype("datetime64[D]"))
