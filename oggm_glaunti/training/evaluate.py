"""Skill of a model against a dataset's observations, as the paper reports it (spec section 8).

Each glacier runs its years in sequence (spin-up included) with daily output; over the
scored years:

- **glacier-wide**: the outline-weighted mean daily SMB summed over the glacier's season
  window (annual: begin..end, winter: begin..midseason, summer: midseason..end), against
  the observed glacier-wide SMB;
- **point**: the stake cell's daily SMB summed over the stake's *own* dates, against the
  stake's value. Stakes whose dates fall outside the run are left out; "index" records
  are left out unless asked for.

Windows follow the published evaluation (:mod:`oggm_glaunti.observation_operators`): both
end dates included, a date shared by two periods counted once with its full value.

Scores (:func:`oggm_glaunti.metrics.skill`): n, Pearson r, RMSE, MAE, bias = mean(model -
obs), per kind and season, pooled and per glacier.
"""

from __future__ import annotations

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

from ..core.forcing import YearForcing
from ..core.models import Model
from ..core.sequence import run_years
from ..metrics import SCORES, format_table, json_safe, skill
from ..observation_operators import window_sum
from .gradients import start_state
from .losses import outline_mean
from .records import SEASONS, GlacierData
from .sequences import GlacierSequence, prepare_sequence

KINDS = ("point", "glacier_wide")
_CELL_SLOTS = 8  # stake cells are padded to a multiple of this (fewer compilations)


@eqx.filter_jit
def _run_chunk(model: Model, state: Optional[Array], forcing: YearForcing,
               cells: Array) -> tuple[Array, Array]:
    """Daily SMB (n, steps, 1 + k): the glacier-wide mean, then at ``cells``; end state."""
    out = run_years(model, forcing, state, daily=True)
    daily = out.years.daily
    gw = outline_mean(daily, forcing.outline[:, None])
    points = daily.reshape(daily.shape[:2] + (-1,))[:, :, cells]
    return jnp.concatenate([gw[..., None], points], -1), out.final_state


def _stakes_to_score(sequence: GlacierSequence, include_index: bool):
    glacier, scored = sequence.glacier, set(sequence.selection.scored)
    first = glacier.windows[sequence.years[0]].begin
    last = glacier.windows[sequence.years[-1]].end
    return [s for s in glacier.stakes
            if s.year in scored and (include_index or not s.is_index)
            and np.isfinite(s.balance) and s.begin >= first and s.end <= last and s.end > s.begin]


def glacier_pairs(model: Model, sequence: GlacierSequence, include_index: bool = False) -> pd.DataFrame:
    """Modelled and observed values of one glacier: columns glacier, kind, season, year,
    begin, end, row, col, modelled, observed (one row per observation scored)."""
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
    series = np.zeros((n_dates, 1 + slots), np.float64)  # per-date glacier-wide, stake-cell SMB
    state = start_state(*eqx.partition(model, eqx.is_array), glacier.shape)
    for i, (start, stop) in enumerate(sequence.chunks):
        forcing = sequence.forcing(i)
        points, state = _run_chunk(model, state, forcing, padded)
        points = np.asarray(points, np.float64)
        for k, year in enumerate(sequence.years[start:stop]):  # steps land on their dates
            active = np.asarray(forcing.plan.active[k])
            offset = int((glacier.windows[year].begin - first).astype(int))
            np.add.at(series, offset + np.asarray(forcing.plan.day_index[k])[active], points[k][active])

    rows = []
    index = {y: i for i, y in enumerate(sequence.years)}
    for obs in glacier.glacier_wide:
        window = glacier.windows.get(obs.year)
        if obs.year not in index or obs.year not in sequence.selection.scored or not np.isfinite(obs.balance):
            continue
        if obs.season != "annual" and not window.seasonal:
            continue
        begin, end = {"annual": (window.begin, window.end), "winter": (window.begin, window.midseason),
                      "summer": (window.midseason, window.end)}[obs.season]
        rows.append(dict(kind="glacier_wide", season=obs.season, year=obs.year, begin=None, end=None,
                         row=None, col=None, modelled=float(window_sum(series[:, 0], first, begin, end)),
                         observed=obs.balance))
    for stake, k in zip(stakes, which):
        value = float(window_sum(series[:, 1 + k], first, stake.begin, stake.end))
        rows.append(dict(kind="point", season=stake.season, year=stake.year, begin=str(stake.begin),
                         end=str(stake.end), row=stake.row, col=stake.col, modelled=value,
                         observed=stake.balance))
    table = pd.DataFrame(rows, columns=["kind", "season", "year", "begin", "end", "row", "col",
                                        "modelled", "observed"])
    table.insert(0, "glacier", glacier.name)
    return table


def scores_of(pairs: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """``{kind: {season: skill}}`` of a table of pairs (empty seasons give n = 0)."""
    out = {}
    for kind in KINDS:
        out[kind] = {}
        for season in SEASONS:
            sel = pairs[(pairs["kind"] == kind) & (pairs["season"] == season)]
            out[kind][season] = skill(sel["modelled"].to_numpy(float), sel["observed"].to_numpy(float))
    return out


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
        rows = {f"{kind.replace('_', '-')} {season}": self.pooled[kind][season]
                for kind in KINDS for season in SEASONS}
        return format_table(rows, "pooled (m w.e.)", digits)

    def to_dict(self) -> dict:
        return {"scores": list(SCORES), "pooled": json_safe(self.pooled),
                "per_glacier": json_safe(self.per_glacier)}

    def write_json(self, path: str | os.PathLike) -> None:
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1)

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
