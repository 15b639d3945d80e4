"""Observation targets of one glacier, laid out per hydrological year for the loss.

The loss (Maslov et al., egusphere-2026-515) compares the model with point (stake) and glacier-wide SMB. Its
normalisations (sum of the stake date weights per season, number of observed years per
season, number of scored years) depend only on the data, so they are computed here once,
in NumPy, and folded into per-observation weights: the loss then is a plain weighted sum
over years, which lets a glacier's sequence be cut into chunks of years (see
:mod:`~oggm_glaunti.training.gradients`) without changing its value.

Seasons are indexed as in :data:`~oggm_glaunti.training.records.SEASONS`: 0 annual,
1 winter, 2 summer. A seasonal year's annual SMB is winter + summer; for an annual year
the model's second period is zero, so ``annual = period 0 + period 1`` holds for both.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence

import numpy as np

from .dataset_grids import DatasetWarning
from .records import SEASONS, GlacierData, SeasonWindow

#: Width (days) of the Gaussian date weights of the point term (Maslov et al., egusphere-2026-515).
TAU_DAYS = 6.355375070295649
#: Stake slots per year are padded to a multiple of this, so glaciers share compiled code.
STAKE_SLOT_MULTIPLE = 8


class YearTargets(NamedTuple):
    """Targets of one year (NumPy arrays); stacked, each gains a leading year axis.

    Attributes
    ----------
    gw_obs : (3,) observed glacier-wide SMB per season (0 where none), m w.e.
    gw_weight : (3,) 1 / (number of scored years observed in that season), 0 where none.
    stake_cell : (K,) int32 flat cell index ``row * W + col`` of each stake slot.
    stake_season : (K,) int32 season index of each slot.
    stake_obs : (K,) observed point SMB, m w.e. (0 in empty slots).
    stake_weight : (K,) date weight / (sum of date weights of that season), 0 when empty.
    reg_weight : () 1 / (number of scored years) in a scored year, else 0 (corrector
        regulariser, averaged over the scored years).
    """

    gw_obs: np.ndarray
    gw_weight: np.ndarray
    stake_cell: np.ndarray
    stake_season: np.ndarray
    stake_obs: np.ndarray
    stake_weight: np.ndarray
    reg_weight: np.ndarray


@dataclass(frozen=True)
class YearSelection:
    """Which years of a glacier are run and which of them are scored.

    Attributes
    ----------
    run : consecutive hydrological years run in sequence (spin-up first).
    scored : the years whose observations enter the loss (a tail of ``run``).
    """

    run: tuple[int, ...]
    scored: tuple[int, ...]


def select_years(glacier: GlacierData, spinup_years: int = 5, first_year: Optional[int] = None,
                 last_year: Optional[int] = None, run_from: Optional[int] = None) -> YearSelection:
    """Run and scored years of ``glacier``.

    Parameters
    ----------
    glacier : the glacier.
    spinup_years : unscored years run before the first scored year (published: 5).
    first_year, last_year : inclusive range of scored years; default: everything after the
        glacier's first ``spinup_years`` years, to its last year.
    run_from : start the run at this year if it is earlier than the spin-up start (e.g. to
        score validation years after training years, continuing the same run).

    Raises
    ------
    ValueError
        If no year is left to score, or a year inside the run lacks a season window (the
        state could not be carried across the gap).
    """
    if spinup_years < 0:
        raise ValueError(f"spinup_years must be >= 0, got {spinup_years}")
    available = glacier.years
    if not available:
        raise ValueError(f"glacier {glacier.name}: no hydrological year lies inside its forcing")
    if first_year is None:
        first_year = available[min(spinup_years, len(available) - 1)]
        if len(available) <= spinup_years:
            raise ValueError(
                f"glacier {glacier.name}: {len(available)} year(s) of data, not more than the "
                f"{spinup_years} spin-up years; nothing left to score"
            )
    last_year = available[-1] if last_year is None else min(int(last_year), available[-1])
    start = int(first_year) - spinup_years
    start = max(start if run_from is None else min(start, int(run_from)), available[0])
    run = tuple(range(start, last_year + 1))
    missing = sorted(set(run) - set(available))
    if missing:
        raise ValueError(
            f"glacier {glacier.name}: years {missing} lack a season window inside the forcing, "
            f"but the run {start}..{last_year} must be consecutive to carry the snow state"
        )
    scored = tuple(y for y in run if y >= first_year)
    if not scored:
        raise ValueError(f"glacier {glacier.name}: no year to score in {first_year}..{last_year}")
    return YearSelection(run, scored)


def season_dates(window: SeasonWindow, season: str) -> Optional[tuple[np.datetime64, np.datetime64]]:
    """The glacier's own (begin, end) of ``season`` in ``window``; None if it has no such season."""
    if season == "annual":
        return window.begin, window.end
    if not window.seasonal:
        return None
    return (window.begin, window.midseason) if season == "winter" else (window.midseason, window.end)


def date_weight(delta_begin: np.ndarray, delta_end: np.ndarray, tau: float = TAU_DAYS) -> np.ndarray:
    """``exp(-(dbegin/tau)^2) * exp(-(dend/tau)^2)``, deltas in days (stake - glacier date)."""
    delta_begin = np.asarray(delta_begin, np.float64)
    delta_end = np.asarray(delta_end, np.float64)
    return np.exp(-((delta_begin / tau) ** 2)) * np.exp(-((delta_end / tau) ** 2))


def _days(a: np.datetime64, b: np.datetime64) -> float:
    return float((np.datetime64(a, "D") - np.datetime64(b, "D")).astype(np.int64))


def build_targets(glacier: GlacierData, selection: YearSelection, tau: float = TAU_DAYS,
                  stake_slots: Optional[int] = None) -> YearTargets:
    """Stacked :class:`YearTargets` over ``selection.run`` (leading axis = run years).

    Observations outside the scored years, "index" stakes, and seasonal observations in a
    year whose window has no midseason are left out (the latter with a warning).

    Raises
    ------
    ValueError
        If a stake lies outside the grid or names an unknown season.
    """
    height, width = glacier.shape
    index = {y: i for i, y in enumerate(selection.run)}
    scored = set(selection.scored)
    n = len(selection.run)
    gw_obs = np.zeros((n, 3), np.float32)
    gw_seen = np.zeros((n, 3), bool)
    dropped = 0
    for obs in glacier.glacier_wide:
        season = _season_index(obs.season, glacier.name)
        if obs.year not in scored or not math.isfinite(obs.balance):
            continue
        if season_dates(glacier.windows[obs.year], obs.season) is None:
            dropped += 1
            continue
        gw_obs[index[obs.year], season] = obs.balance
        gw_seen[index[obs.year], season] = True
    counts = gw_seen.sum(0)
    gw_weight = np.where(gw_seen, 1.0 / np.maximum(counts, 1), 0.0).astype(np.float32)

    rows: list[list[tuple[int, int, float, float]]] = [[] for _ in range(n)]
    for stake in glacier.stakes:
        season = _season_index(stake.season, glacier.name)
        if not (0 <= stake.row < height and 0 <= stake.col < width):
            raise ValueError(
                f"glacier {glacier.name}: stake at (row {stake.row}, col {stake.col}) in "
                f"{stake.year} lies outside the {height}x{width} grid"
            )
        if stake.is_index or stake.year not in scored or not math.isfinite(stake.balance):
            continue
        dates = season_dates(glacier.windows[stake.year], stake.season)
        if dates is None:
            dropped += 1
            continue
        w = float(date_weight(_days(stake.begin, dates[0]), _days(stake.end, dates[1]), tau))
        rows[index[stake.year]].append((stake.row * width + stake.col, season, stake.balance, w))
    if dropped:
        warnings.warn(f"glacier {glacier.name}: {dropped} winter/summer observation(s) in years "
                      "without a midseason date were left out of the loss", DatasetWarning, stacklevel=2)

    most = max((len(r) for r in rows), default=0)
    slots = stake_slots or max(STAKE_SLOT_MULTIPLE, -(-most // STAKE_SLOT_MULTIPLE) * STAKE_SLOT_MULTIPLE)
    if slots < most:
        raise ValueError(f"stake_slots={slots} is fewer than the {most} stakes of one year")
    cell = np.zeros((n, slots), np.int32)
    season_of = np.zeros((n, slots), np.int32)
    value = np.zeros((n, slots), np.float32)
    weight = np.zeros((n, slots), np.float64)
    for i, records in enumerate(rows):
        for k, (c, s, v, w) in enumerate(records):
            cell[i, k], season_of[i, k], value[i, k], weight[i, k] = c, s, v, w
    totals = np.array([weight[season_of == s].sum() for s in range(3)])
    norm = np.where(totals[season_of] > 0, weight / np.where(totals > 0, totals, 1.0)[season_of], 0.0)

    reg = np.array([1.0 / len(scored) if y in scored else 0.0 for y in selection.run], np.float32)
    return YearTargets(gw_obs, gw_weight, cell, season_of, value, norm.astype(np.float32), reg)


def _season_index(season: str, name: str) -> int:
    if season not in SEASONS:
        raise ValueError(f"glacier {name}: unknown season {season!r}; expected one of {SEASONS}")
    return SEASONS.index(season)


def slice_targets(targets: YearTargets, start: int, stop: int) -> YearTargets:
    """The targets of run years ``start..stop-1``."""
    return YearTargets(*(a[start:stop] for a in targets))


def count_observations(targets: YearTargets | Sequence[YearTargets]) -> dict[str, int]:
    """Numbers of scored glacier-wide and point observations (for logs and reports)."""
    items = [targets] if isinstance(targets, YearTargets) else list(targets)
    return {
        "glacier_wide": int(sum((t.gw_weight > 0).sum() for t in items)),
        "point": int(sum((t.stake_weight > 0).sum() for t in items)),
    }
