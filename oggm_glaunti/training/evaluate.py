"""Skill of a model against a dataset's observations, as the published code scores it
(Maslov et al., egusphere-2026-515; ``docs/dataset_format.md``, "Scoring: the published convention").

Each glacier runs its years in sequence (spin-up included, state carried) with daily
output. The periods' weighted daily SMB are joined into one series per date, **summing the
values of a date two periods share** (a boundary day, weighted 1/2 in each neighbour,
appears once with its full value). Over the scored years, from that series:

- **glacier-wide**: the sum over the window's dates, both ends included, as an
  outline-weighted mean with the observed year's outline (annual ``begin..end``, winter
  ``begin..midseason``, summer ``midseason..end``), against the observed glacier-wide SMB;
- **point**: the stake cell's sum over the stake's *own* dates, both ends included,
  against the stake's value. Stakes whose dates fall outside the run are left out; "index"
  records are left out unless asked for.

So evaluated values count both end days in full, unlike the loss's period sums (1/2 at the
ends); the values can be set against the published code's pair by pair
(:mod:`~oggm_glaunti.training.published_json` writes and pools its JSON files). The window
convention is the one of :mod:`oggm_glaunti.observation_operators`, shared with the
calibration.

Scores (:func:`oggm_glaunti.metrics.skill`): n, Pearson r, RMSE, MAE, bias = mean(model -
obs), per kind and season, pooled and per glacier.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import Optional, Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax import Array
from tqdm.auto import tqdm

from ..atomic import atomic_path
from ..core.forcing import YearForcing
from ..core.models import Model
from ..core.sequence import run_years
from ..metrics import SCORES, json_safe
from ..observation_operators import window_sum
from .gradients import start_state
from .published_json import KIND_KEYS, pooled_table, scores_of, write_glacier_json
from .records import GlacierData
from .sequences import GlacierSequence, prepare_sequence

KINDS = tuple(KIND_KEYS)
_CELL_SLOTS = 8  # stake cells are padded to a multiple of this (fewer compilations)


@eqx.filter_jit
def _run_chunk(model: Model, state: Optional[Array], forcing: YearForcing, cells: Array,
               neighbour_outlines: Array) -> tuple[Array, Array, Array]:
    """Glacier-wide daily SMB (n, steps, 3), daily SMB at ``cells`` (n, steps, k), end state.

    The glacier-wide columns are outline-weighted means of each step's field with the
    year's own outline, the previous run year's and the next run year's
    (``neighbour_outlines`` (n, 2, H, W)): a boundary day shared with a neighbour is scored
    with the neighbour's outline when it counts in the neighbour's window.
    """
    out = run_years(model, forcing, state, daily=True)
    daily = out.years.daily  # (n, steps, H, W), weighted steps
    outlines = jnp.concatenate([forcing.outline[:, None], neighbour_outlines], axis=1)  # (n, 3, H, W)
    gw = jnp.einsum("nshw,nkhw->nsk", daily, outlines) / jnp.sum(outlines, axis=(-2, -1))[:, None, :]
    points = daily.reshape(daily.shape[:2] + (-1,))[:, :, cells]
    return gw, points, out.final_state


def _stakes_to_score(sequence: GlacierSequence, include_index: bool):
    glacier, scored = sequence.glacier, set(sequence.selection.scored)
    first = glacier.windows[sequence.years[0]].begin
    last = glacier.windows[sequence.years[-1]].end
    return [s for s in glacier.stakes
            if s.year in scored and (include_index or not s.is_index)
            and np.isfinite(s.balance) and s.begin >= first and s.end <= last and s.end > s.begin]


def _neighbour_outlines(glacier: GlacierData, years: Sequence[int]) -> np.ndarray:
    """(n, 2, H, W): the outline of the previous and of the next run year (own at the ends)."""
    outline = np.stack([glacier.outline[glacier.geometry_index(y)] for y in years])
    previous = np.concatenate([outline[:1], outline[:-1]])
    following = np.concatenate([outline[1:], outline[-1:]])
    return np.stack([previous, following], axis=1)


def _season_dates(window) -> dict[str, tuple[np.datetime64, np.datetime64]]:
    dates = {"annual": (window.begin, window.end)}
    if window.seasonal:
        dates.update(winter=(window.begin, window.midseason), summer=(window.midseason, window.end))
    return dates


class NonFiniteSMB(ValueError):
    """The model gave NaN or infinite SMB for observations it was scored on."""


def require_finite_modelled(table: pd.DataFrame, glacier: str) -> None:
    """Refuse ``glacier``'s pairs when any modelled value is NaN or infinite.

    Raises
    ------
    NonFiniteSMB
        naming the glacier, the years and what to change (the weights).
    """
    bad = ~np.isfinite(table["modelled"].to_numpy(float))
    if bad.any():
        years = sorted({int(y) for y in table.loc[bad, "year"]})
        raise NonFiniteSMB(
            f"the model gives NaN or infinite SMB for {int(bad.sum())} of {len(table)} observations of "
            f"glacier {glacier!r} (years {years[0]}-{years[-1]}): its weights are unusable (e.g. a "
            "diverged training); evaluate an earlier, finite model")


def glacier_pairs(model: Model, sequence: GlacierSequence, include_index: bool = False) -> pd.DataFrame:
    """Modelled and observed values of one glacier: columns glacier, kind, season, year,
    begin, end, row, col, modelled, observed (one row per observation scored), valued by the
    published convention (module docstring).

    Raises
    ------
    NonFiniteSMB
        when the model gives NaN or infinite SMB for any of them (:func:`require_finite_modelled`).
    """
    glacier = sequence.glacier
    height, width = glacier.shape
    stakes = _stakes_to_score(sequence, include_index)
    flat = np.array([s.row * width + s.col for s in stakes], np.int64)
    cells, which = np.unique(flat, return_inverse=True)
    slots = max(_CELL_SLOTS, -(-len(cells) // _CELL_SLOTS) * _CELL_SLOTS)
    padded = np.zeros(slots, np.int32)
    padded[:len(cells)] = cells
    first = glacier.windows[sequence.years[0]].begin
    n_dates = int((glacier.windows[sequence.years[-1]].end - first).astype(int)) + 1
    series = np.zeros((n_dates, slots), np.float64)  # joined daily SMB at the stake cells
    neighbours = _neighbour_outlines(glacier, sequence.years)
    year_steps = {}  # run year -> (date index of its steps, glacier-wide (steps, 3): own/prev/next outline)
    state = start_state(*eqx.partition(model, eqx.is_array), glacier.shape)
    for i, (start, stop) in enumerate(sequence.chunks):
        forcing = sequence.forcing(i)
        gw, points, state = _run_chunk(model, state, forcing, padded, neighbours[start:stop])
        gw, points = np.asarray(gw, np.float64), np.asarray(points, np.float64)
        for k, year in enumerate(sequence.years[start:stop]):  # steps land on their dates
            active = np.asarray(forcing.plan.active[k])
            days = np.asarray(forcing.plan.day_index[k])[active]
            offset = int((glacier.windows[year].begin - first).astype(int))
            np.add.at(series, offset + days, points[k][active])
            year_steps[year] = (offset + days, gw[k][active])

    position = {y: i for i, y in enumerate(sequence.years)}

    @functools.cache
    def glacier_wide_series(year: int) -> np.ndarray:
        """The joined glacier-wide daily SMB (per date from ``first``) with ``year``'s outline."""
        joined = np.zeros(n_dates, np.float64)
        # (run year, its column scored with this year's outline): own, previous (next=this), next
        for k, column in ((position[year], 0), (position[year] - 1, 2), (position[year] + 1, 1)):
            if 0 <= k < len(sequence.years):
                index, values = year_steps[sequence.years[k]]
                np.add.at(joined, index, values[:, column])
        return joined

    rows = []
    for obs in glacier.glacier_wide:
        window = glacier.windows.get(obs.year)
        if obs.year not in position or obs.year not in sequence.selection.scored or not np.isfinite(obs.balance):
            continue
        dates = _season_dates(window)
        if obs.season not in dates:
            continue
        begin, end = dates[obs.season]
        rows.append(dict(kind="glacier_wide", season=obs.season, year=obs.year, begin=str(begin),
                         end=str(end), row=None, col=None,
                         modelled=float(window_sum(glacier_wide_series(obs.year), first, begin, end)),
                         observed=obs.balance))
    for stake, k in zip(stakes, which):
        rows.append(dict(kind="point", season=stake.season, year=stake.year, begin=str(stake.begin),
                         end=str(stake.end), row=stake.row, col=stake.col,
                         modelled=float(window_sum(series[:, k], first, stake.begin, stake.end)),
                         observed=stake.balance))
    table = pd.DataFrame(rows, columns=["kind", "season", "year", "begin", "end", "row", "col",
                                        "modelled", "observed"])
    table.insert(0, "glacier", glacier.name)
    require_finite_modelled(table, glacier.name)
    return table


@dataclass
class Evaluation:
    """Pairs and scores of an evaluation.

    Attributes
    ----------
    pairs : one row per scored observation (see :func:`glacier_pairs`).
    pooled : ``{kind: {season: scores}}`` over all glaciers.
    per_glacier : ``{glacier: {kind: {season: scores}}}``.
    """

    pairs: pd.DataFrame
    pooled: dict
    per_glacier: dict

    def table(self, digits: int = 3) -> str:
        """The pooled scores as a Markdown table (rows 'point annual' ... 'glacier-wide summer')."""
        return pooled_table(self.pooled, digits)

    def to_dict(self) -> dict:
        return {"scores": list(SCORES), "pooled": json_safe(self.pooled),
                "per_glacier": json_safe(self.per_glacier)}

    def write_json(self, path: str | os.PathLike) -> None:
        """The scores (``to_dict()``) as JSON, written atomically."""
        with atomic_path(path, suffix=".json") as tmp, open(tmp, "w") as f:
            json.dump(self.to_dict(), f, indent=1)

    def write_glacier_json(self, folder: str | os.PathLike, model: str = "") -> list[str]:
        """One JSON per glacier with the published structure (:mod:`.published_json`)."""
        return write_glacier_json(self.pairs, folder, model)

    def plot(self, path: str | os.PathLike, title: str = "") -> None:
        """Modelled-vs-observed scatter plots (rows point / glacier-wide, columns seasons), PNG."""
        from .plots import scatter_plot  # matplotlib only when plotting

        scatter_plot(self.pairs, self.pooled, path, title)


def evaluate(model: Model, glaciers: Sequence[GlacierData], spinup_years: int = 5,
             first_year: Optional[int] = None, last_year: Optional[int] = None,
             chunk_years: Optional[int] = None, include_index: bool = False,
             progress: bool = False, run_from: Optional[int] = None) -> Evaluation:
    """Run ``model`` over each glacier and score it.

    Parameters
    ----------
    model : any variant.
    glaciers : the glaciers to evaluate (e.g. the test fold).
    spinup_years, first_year, last_year : run and scored years (see
        :func:`~oggm_glaunti.training.targets.select_years`).
    chunk_years : memory control (see :func:`~oggm_glaunti.training.sequences.prepare_sequence`).
    include_index : also score stakes coded "index".
    progress : show a progress bar.
    run_from : start the runs at this year if earlier than the spin-up start.

    Raises
    ------
    NonFiniteSMB
        when the model gives NaN or infinite SMB for an observation (see :func:`glacier_pairs`).
    """
    tables = []
    for glacier in tqdm(glaciers, desc="evaluate", disable=not progress):
        sequence = prepare_sequence(glacier, spinup_years, first_year, last_year, chunk_years,
                                    run_from=run_from)
        tables.append(glacier_pairs(model, sequence, include_index))
    pairs = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=["glacier", "kind", "season", "year", "modelled", "observed"])
    per_glacier = {name: scores_of(t) for name, t in pairs.groupby("glacier", sort=False)}
    return Evaluation(pairs, scores_of(pairs), per_glacier)
