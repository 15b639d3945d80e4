"""A glacier's observations as the arrays the calibration objective reads its runs with.

The simulation is the glacier's own run (:class:`~.glacier_run.GlacierRun`): the runs of
:meth:`~.glacier_run.GlacierRun.runs_for`, each observed year's segment from its spin-up to
its last observed year. The observations are read off the runs' weighted daily SMB with
the observation operators (:mod:`oggm_glaunti.observation_operators`): glacier-wide seasons
and stake records are windows inclusive at both ends, a date shared by two periods counted
once in full, a glacier-wide year's window its WGMS survey dates where recorded, else the
glacier's calendar's (:func:`observation_windows`); the geodetic mean is the mean of the
hydrological years' period totals (consecutive years then add up to the whole span).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from ...observation_operators import band_weights, window_weights
from ..run.glacier_run import GlacierRun
from ..run.glacier_year import GridArrays, ReferenceYears
from ..session.params import get_param

#: Glacier-wide data kinds, in the order of the simulated seasons.
SEASON_KINDS = ("annual", "winter", "summer")
#: Every data kind a calibration can fit.
DATA_KINDS = ("annual", "winter", "summer", "geodetic", "stakes", "profile")


@dataclass(frozen=True)
class ObjectiveSpec:
    """What is fitted, which data kind's mean is held (``match_mean``: 'annual',
    'geodetic' or None) and the kinds scored only: static in the compiled loss, so
    nothing of the glacier's grid (its corrector window) is, and glaciers with observations
    of the same shapes share it."""

    parameters: tuple[str, ...]
    match_mean: Optional[str]
    score_only: tuple[str, ...] = ()


class StakeData(NamedTuple):
    """Stake records: ``weight`` (N, n_steps, S) 1 where a step of a run counts towards a
    record's window, ``value`` (S,) observed balance (m w.e.)."""

    weight: Array
    value: Array


class ProfileData(NamedTuple):
    """Elevation-band profiles: ``values`` and ``mask`` (Y, B) the observed band balances
    (m w.e.) of the scored years."""

    values: Array
    mask: Array


class Readout(NamedTuple):
    """What each run's year is read into (see :func:`.forward_runs.read_year`), on the
    cells the calibration runs (:class:`CalibrationCells`): the glacier-wide period totals
    (``outline``, the cells' outline fractions) and daily series (``daily``: when a season
    window needs it), the stakes' cells ``stake_index`` (S,) (positions in the cell
    list), and the elevation bands ``bands`` (B, n) of the profiles, each band's cells
    with weights summing to 1."""

    outline: Array
    daily: bool
    stake_index: Optional[Array]
    bands: Optional[Array]


class CalibrationCells(NamedTuple):
    """The model grid's cells a calibration runs, as a list (see :func:`calibration_cells`).

    ``index`` (n,) their flat indices in the model grid; ``cells`` their
    :class:`~.glacier_year.GridArrays`, each field a (..., n_padded) list padded to a
    multiple of :data:`CELL_BUCKET` (outline 0 in the padding); ``window`` the corrector's
    window as a grid of its own (C, D; its cells are the list's first, row by row), or
    None (A).
    """

    index: np.ndarray
    cells: GridArrays
    window: Optional[GridArrays]


#: The cell list is padded to a multiple of this, so that glaciers of similar size share
#: the compiled runs.
CELL_BUCKET = 128


def calibration_cells(run: GlacierRun, corrected: bool, stake_cells=()) -> CalibrationCells:
    """The cells a calibration runs: the corrector's window (``corrected``: C and D, whose
    corrector reads the whole window and whose state there feeds the next year's), else
    the glacier's cells, then any glacier or stake cell not among them. The years are
    cell-local outside the corrector, so the model grid's other cells (its padding to a
    size bucket; for A, the terrain around the glacier) change nothing the calibration
    reads; their outline is 0."""
    width = run.grid.shape[1]
    glacier = np.flatnonzero(run.grid.outline.ravel() > 0)
    window = None
    if corrected:
        (row0, col0), (n_rows, n_cols) = run.arrays.window_origin, run.window_size
        rows, cols = np.meshgrid(np.arange(row0, row0 + n_rows), np.arange(col0, col0 + n_cols), indexing="ij")
        index = (rows * width + cols).ravel()
        crop = (slice(row0, row0 + n_rows), slice(col0, col0 + n_cols))
        window = GridArrays(run.arrays.offset[crop], tuple(a[(Ellipsis,) + crop] for a in run.arrays.static),
                            np.zeros(2, np.int32))
    else:
        index = glacier
    extra = np.setdiff1d(np.union1d(glacier, np.asarray(stake_cells, int)), index)
    index = np.concatenate([index, extra]).astype(int)
    n_padded = -(-len(index) // CELL_BUCKET) * CELL_BUCKET
    cells = GridArrays(_on_cells(run.arrays.offset, index, n_padded),
                       tuple(_on_cells(a, index, n_padded) for a in run.arrays.static), np.zeros(2, np.int32))
    return CalibrationCells(index, cells, window)


def _on_cells(field, index: np.ndarray, n_padded: int) -> np.ndarray:
    """A grid field (..., H, W) on the cell list ``index`` (..., n_padded), zero in the padding."""
    flat = np.asarray(field).reshape(np.shape(field)[:-2] + (-1,))[..., index]
    return np.pad(flat, [(0, 0)] * (flat.ndim - 1) + [(0, n_padded - len(index))])


class ObjectiveData(NamedTuple):
    """A glacier's runs and observations.

    ``reference``: the runs' climate at the reference height; ``fresh`` (N,) the run starts
    from a fresh state; ``seasons`` (N, n_steps, Y, 3) the annual, winter and summer windows
    of the Y scored years over the runs' steps (zero on spin-up runs: a date's value is
    its own years'); ``targets`` maps each glacier-wide kind to (values, mask), each (Y,);
    ``geodetic`` is (value (1,), mask of its runs (N,)) or None; ``sigmas`` maps each kind
    to its observation uncertainty (m w.e.); ``prior`` holds the prior standard deviations
    (temp_bias degC, log prcp_fac, TI relative); ``log_prcp_fac`` the fixed log
    precipitation factor used when it is not fitted.
    """

    reference: ReferenceYears
    fresh: np.ndarray
    readout: Readout
    seasons: Array
    targets: dict
    geodetic: Optional[tuple]
    stakes: Optional[StakeData]
    profiles: Optional[ProfileData]
    sigmas: dict
    prior: tuple
    log_prcp_fac: Array


def observation_windows(run: GlacierRun, obs, years) -> dict[int, tuple]:
    """{year: (begin, midseason, end)} of each scored hydrological year of ``years``: the
    WGMS record's survey dates (``obs.windows``; a year of any length, e.g. 370 days), else
    the glacier's calendar's (``run.calendar``)."""
    return {int(y): tuple(obs.windows.get(int(y), run.calendar.window(int(y)))) for y in years}


def objective_runs(run: GlacierRun, obs, windows: dict) -> list[tuple[int, bool, bool]]:
    """The runs that simulate the scored years' ``windows`` (:func:`observation_windows`)
    and the stake windows of ``obs``: a window's dates lie in the runs of the hydrological
    years holding them (a surveyed window may reach into the years before and after), its
    first and last date shared with the years before and after."""
    first = min(w[0] for w in windows.values())
    last = max(w[2] for w in windows.values())
    if obs.stakes is not None and len(obs.stakes):
        first = min(first, obs.stakes["date0"].values.astype("datetime64[D]").min())
        last = max(last, obs.stakes["date1"].values.astype("datetime64[D]").max())
    needed = {int(y) for y in run.full_years if run.calendar.begin(y) <= last and run.calendar.end(y) >= first}
    return run.runs_for(sorted(needed))


def objective_data(run: GlacierRun, obs, windows: dict, runs, cells: CalibrationCells, sigmas: dict,
                   log_prcp_fac: float, daily: bool) -> ObjectiveData:
    """The arrays of :class:`ObjectiveData` for the observations ``obs`` of the scored
    hydrological years, in the order of their ``windows`` (:func:`observation_windows`),
    over ``runs`` (:func:`objective_runs`), read on ``cells``; ``daily``: read the runs'
    glacier-wide daily series even when no observed kind needs it."""
    years = list(windows)
    run_years = [y for y, _, _ in runs]
    n_padded = cells.cells.offset.shape[-1]
    own = np.array([o for _, _, o in runs], np.float32)
    ref = run.reference_years(run_years)
    dates, active = ref.step_dates(), np.asarray(ref.plan.active)
    begin, mid, end = (np.array([windows[y][k] for y in years], "datetime64[D]") for k in range(3))
    bounds = np.stack([(begin, end), (begin, mid), (mid, end)], -1)  # (2, Y, 3)
    seasons = window_weights(dates, active, bounds[0].ravel(), bounds[1].ravel())
    seasons = (seasons * own[:, None, None]).reshape(dates.shape + bounds.shape[1:])
    targets = {}
    for kind in SEASON_KINDS:
        series = getattr(obs, kind)
        mask = np.isin(years, list(series)).astype(np.float32)
        if mask.any():
            targets[kind] = (np.asarray([series.get(y, 0.0) for y in years], np.float32), mask)
    geodetic = None
    if obs.geodetic is not None:
        y0, y1, value = obs.geodetic
        mask = own * np.isin(run_years, list(range(y0, y1 + 1)))
        if mask.any():
            geodetic = (np.asarray([value], np.float32), mask)
    stakes, stake_index = None, None
    if obs.stakes is not None and len(obs.stakes):
        weight = window_weights(dates, active, obs.stakes["date0"].values, obs.stakes["date1"].values)
        stakes = StakeData(weight * own[:, None, None], obs.stakes["balance"].values.astype(np.float32))
        stake_index = _positions(cells.index, stake_cells(run, obs))
    profiles, bands = None, None
    if obs.profiles is not None:
        bands, profiles = _profile_data(run, obs.profiles, years)
        bands = _on_cells(bands, cells.index, n_padded)
    readout = Readout(jnp.asarray(_on_cells(run.grid.outline, cells.index, n_padded), jnp.float32),
                      bool(daily or targets), None if stake_index is None else jnp.asarray(stake_index),
                      None if bands is None else jnp.asarray(bands))
    prior = tuple(np.float32(get_param(k)) for k in (
        "glaunti_calib_temp_bias_sd", "glaunti_calib_log_prcp_fac_sd", "glaunti_calib_ti_relative_sd"))
    sigmas = {k: np.float32(v) for k, v in sigmas.items()}
    on_device = jax.tree_util.tree_map(jnp.asarray, (seasons, targets, geodetic, stakes, profiles, sigmas, prior,
                                                     np.float32(log_prcp_fac)))
    return ObjectiveData(ref, np.array([f for _, f, _ in runs]), readout, *on_device)


def stake_cells(run: GlacierRun, obs) -> np.ndarray:
    """The flat model-grid index of each stake record's cell (empty without stakes)."""
    if obs.stakes is None or not len(obs.stakes):
        return np.zeros(0, int)
    return (obs.stakes["row"] * run.grid.shape[1] + obs.stakes["col"]).values.astype(int)


def _positions(index: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Where each of the grid cells ``flat`` sits in the cell list ``index``."""
    order = np.argsort(index)
    return order[np.searchsorted(index, flat, sorter=order)]


def _profile_data(run: GlacierRun, prof, years) -> tuple[np.ndarray, ProfileData]:
    """The bands (B, H, W) of the profiles' band edges on the model grid, and the observed
    band balances of ``years``."""
    bands = band_weights(run.grid.elevation, run.grid.outline, prof.band_edges)
    values = np.zeros((len(years), len(prof.band_edges) - 1), np.float32)
    mask = np.zeros_like(values)
    for k, year in enumerate(years):
        if year in prof.values:
            row = prof.values[year]
            values[k] = np.nan_to_num(row)
            mask[k] = np.isfinite(row)
    return bands.astype(np.float32), ProfileData(values, mask)


def default_sigmas(obs, sigmas: dict | None = None) -> dict:
    """The uncertainty (m w.e.) of one value of each data kind present in ``obs``: the
    user's (``sigmas``), else the geodetic mean's own, else ``glaunti_calib_sigma_<kind>``."""
    sigmas = dict(sigmas or {})
    unknown = set(sigmas) - set(DATA_KINDS)
    if unknown:
        raise ValueError(f"sigmas: unknown data kind(s) {sorted(unknown)}; known: {list(DATA_KINDS)}")
    out = {}
    for kind in obs.kinds():
        value = sigmas.get(kind)
        if value is None and kind == "geodetic" and obs.geodetic_sigma is not None:
            value = obs.geodetic_sigma
        value = float(get_param(f"glaunti_calib_sigma_{kind}", value))
        if not value > 0 or not np.isfinite(value):
            raise ValueError(f"sigmas[{kind!r}] must be a positive uncertainty in m w.e.; got {value}")
        out[kind] = value
    return out
