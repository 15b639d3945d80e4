"""Observation operators: how a model run is compared with observations.

One module for the conventions that calibration, evaluation and training share, so that
they cannot drift apart. Pure NumPy (no OGGM, no JAX): the operators build weights once,
outside any trace, and the callers apply them to their (traced) daily series.

Conventions
-----------
- **Observation windows** (stakes, glacier-wide seasons) are inclusive at both ends, and
  a date shared by two periods (a period's last day is the next one's first, weighted 1/2
  in each) counts once with its full value: both of its half-weighted steps are inside
  the window. This is how the published code scores a glacier (``docs/dataset_format.md``).
  A window ``begin..end`` over the model's weighted daily steps is therefore the sum of
  every step whose date lies in ``[begin, end]``.
- **Elevation-band profiles**: bands of width ``dz`` on the model grid, edges at
  multiples of ``dz``; a band's value is the plain mean over the grid cells whose centre
  elevation lies in ``[lower, upper)`` and which have more than half of their area on the
  glacier (outline fraction > 0.5). An observed profile (values at altitudes, e.g. the
  WGMS band centres) is put on the same bands as the mean of its values inside each band.
- **Years and seasons** (which dates a hydrological or WGMS year and its winter and
  summer hold, in either hemisphere) are the calendar's: :mod:`oggm_glaunti.hydro_calendar`.
"""

from __future__ import annotations

import numpy as np


def window_weights(dates: np.ndarray, active: np.ndarray, begin, end) -> np.ndarray:
    """Weights selecting the steps of observation windows (see the module docstring).

    Parameters
    ----------
    dates, active : (..., n_steps)
        each step's date and whether it is a real step (not padding).
    begin, end : datetime64, scalars or (n_windows,)
        first and last date of each window, both included.

    Returns
    -------
    (..., n_steps, n_windows) float32: 1 where a step counts towards a window, else 0.
    """
    begin = np.atleast_1d(np.asarray(begin, "datetime64[D]"))
    end = np.atleast_1d(np.asarray(end, "datetime64[D]"))
    if np.any(end < begin):
        raise ValueError("an observation window ends before it begins")
    d = np.asarray(dates, "datetime64[D]")[..., None]
    inside = (d >= begin) & (d <= end) & np.asarray(active, bool)[..., None]
    return inside.astype(np.float32)


def glacier_mean(field: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Outline-weighted glacier mean of ``(..., H, W)`` fields: ``(...)``."""
    outline = np.asarray(outline, np.float64)
    return (np.asarray(field, np.float64) * outline).sum((-2, -1)) / outline.sum()


def window_sum(series: np.ndarray, first_date: np.datetime64, begin, end) -> np.ndarray:
    """Sum of a per-date series ``(n_dates, ...)`` (each date once, with its full value;
    date ``i`` is ``first_date + i``) over the window ``begin..end``, both included: the
    same windows as :func:`window_weights` on the steps of a run."""
    first = np.datetime64(first_date, "D")
    b = int((np.datetime64(begin, "D") - first).astype(int))
    e = int((np.datetime64(end, "D") - first).astype(int))
    if not 0 <= b <= e < len(series):
        raise ValueError(f"window {begin}..{end} is not inside the series ({first} + {len(series)} days)")
    return np.asarray(series[b:e + 1]).sum(0)


#: Cells with more than this fraction of their area on the glacier make up the bands.
BAND_MIN_OUTLINE_FRACTION = 0.5


def band_edges(elevation: np.ndarray, outline: np.ndarray, dz: float) -> np.ndarray:
    """Edges (B + 1,) of the ``dz`` bands, at multiples of ``dz``, spanning the glacier
    cells of a grid (see the module docstring)."""
    z = np.asarray(elevation, np.float64)[np.asarray(outline) > BAND_MIN_OUTLINE_FRACTION]
    if z.size == 0:
        raise ValueError("the grid has no cell with more than half of its area on the glacier")
    lower, upper = np.floor(z.min() / dz) * dz, (np.floor(z.max() / dz) + 1) * dz
    return np.arange(lower, upper + dz / 2, dz)


def band_weights(elevation: np.ndarray, outline: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``(B, H, W)`` weights: band ``b``'s glacier cells, each ``1 / count`` (zero for a
    band without cells), so that ``einsum('bhw,hw->b', weights, field)`` is the band mean."""
    z = np.asarray(elevation, np.float64)
    glacier = np.asarray(outline) > BAND_MIN_OUTLINE_FRACTION
    edges = np.asarray(edges, np.float64)
    inside = (z[None] >= edges[:-1, None, None]) & (z[None] < edges[1:, None, None]) & glacier[None]
    count = inside.sum((1, 2), keepdims=True)
    return np.where(count > 0, inside / np.maximum(count, 1), 0.0)


def profile_on_bands(altitudes: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Observed profiles ``(..., n_altitudes)`` as band means ``(..., B)`` over the bands of
    ``edges`` (NaN where a band holds no finite value)."""
    altitudes = np.asarray(altitudes, np.float64)
    values = np.asarray(values, np.float64)
    out = np.full(values.shape[:-1] + (len(edges) - 1,), np.nan)
    band = np.searchsorted(edges, altitudes, side="right") - 1
    for b in range(len(edges) - 1):
        cols = values[..., band == b]
        if cols.shape[-1]:
            finite = np.isfinite(cols)
            total = np.where(finite, cols, 0.0).sum(-1)
            n = finite.sum(-1)
            out[..., b] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    return out
