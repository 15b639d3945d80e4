"""Evaluation files with the published code's structure, and pooling them (Maslov et al., egusphere-2026-515).

The published GlaUnTI code writes one JSON per glacier and model::

    {"true_pred": {"point" | "glacier-wide": {
        "overall": {"annual" | "winter" | "summer": {"true": [...], "pred": [...]}},
        "per_year": {"annual" | "winter" | "summer": {"<year>": {"true": [...], "pred": [...]}}}}}}

values in m w.e. :func:`write_glacier_json` writes that structure from our pairs (adding the
keys ``glacier`` and ``model``, which the published files lack and readers ignore);
:func:`read_pairs` reads any such files, ours or the published code's, back into pairs that
:func:`scores_of` scores per scale and season, as the paper's skill table. No JAX here.
"""

from __future__ import annotations

import json
import os
from typing import Iterable

import numpy as np
import pandas as pd

from ..atomic import atomic_path
from ..metrics import format_table, skill
from .records import SEASONS

#: Our kind names and the published files' keys.
KIND_KEYS = {"point": "point", "glacier_wide": "glacier-wide"}
PAIR_COLUMNS = ["glacier", "kind", "season", "year", "modelled", "observed"]


def glacier_json(pairs: pd.DataFrame, glacier: str, model: str = "") -> dict:
    """The published structure of one glacier's pairs (columns kind, season, year,
    modelled, observed)."""
    out = {}
    for kind, key in KIND_KEYS.items():
        overall, per_year = {}, {}
        for season in SEASONS:
            sel = pairs[(pairs["kind"] == kind) & (pairs["season"] == season)]
            overall[season] = {"true": sel["observed"].astype(float).tolist(),
                               "pred": sel["modelled"].astype(float).tolist()}
            per_year[season] = {str(int(year)): {"true": g["observed"].astype(float).tolist(),
                                                 "pred": g["modelled"].astype(float).tolist()}
                                for year, g in sel.groupby("year", sort=True)}
        out[key] = {"overall": overall, "per_year": per_year}
    return {"glacier": glacier, "model": model, "true_pred": out}


def write_glacier_json(pairs: pd.DataFrame, folder: str | os.PathLike, model: str = "") -> list[str]:
    """Write ``<folder>/<glacier>.json`` for each glacier of ``pairs``; returns the paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for glacier, table in pairs.groupby("glacier", sort=False):
        path = os.path.join(os.fspath(folder), f"{glacier}.json")
        with atomic_path(path) as tmp, open(tmp, "w") as f:
            json.dump(glacier_json(table, str(glacier), model), f, indent=1)
        paths.append(path)
    return paths


def _pairs_of(path: str, block: dict, kind: str, season: str) -> tuple[list, list]:
    try:
        true, pred = list(block["true"]), list(block["pred"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: true_pred/{KIND_KEYS[kind]}/overall/{season} lacks 'true' or "
                         "'pred' lists (not a GlaUnTI evaluation file?)") from exc
    if len(true) != len(pred):
        raise ValueError(f"{path}: true_pred/{KIND_KEYS[kind]}/overall/{season} has {len(true)} "
                         f"observed but {len(pred)} modelled values")
    return true, pred


def read_pairs(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """The ``overall`` pairs of evaluation JSON files (ours or the published code's).

    The glacier is the file's ``glacier`` key, else its name without ``.json``. A scale or
    season missing from a file contributes no pairs.

    Raises
    ------
    ValueError
        for a file that is not JSON or has no ``true_pred``, naming the file.
    """
    rows = []
    for path in map(os.fspath, paths):
        try:
            with open(path) as f:
                content = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot be read as JSON ({exc})") from exc
        if not isinstance(content, dict) or "true_pred" not in content:
            raise ValueError(f"{path}: has no 'true_pred' key (not a GlaUnTI evaluation file?)")
        glacier = content.get("glacier") or os.path.splitext(os.path.basename(path))[0]
        for kind, key in KIND_KEYS.items():
            overall = (content["true_pred"].get(key) or {}).get("overall") or {}
            for season in SEASONS:
                if season in overall:
                    true, pred = _pairs_of(path, overall[season], kind, season)
                    rows += [(glacier, kind, season, None, p, t) for t, p in zip(true, pred)]
    table = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    for column in ("modelled", "observed"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(np.float64)
    return table


def scores_of(pairs: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """``{kind: {season: skill}}`` of a table of pairs, pooled (the paper's skill table;
    empty seasons give n = 0)."""
    return {kind: {season: skill(*(pairs.loc[(pairs["kind"] == kind) & (pairs["season"] == season), c]
                                   .to_numpy(np.float64) for c in ("modelled", "observed")))
                   for season in SEASONS}
            for kind in KIND_KEYS}


def pooled_table(pooled: dict, digits: int = 3) -> str:
    """Pooled scores as a Markdown table, rows 'point annual' ... 'glacier-wide summer'."""
    rows = {f"{key} {season}": pooled[kind][season] for kind, key in KIND_KEYS.items() for season in SEASONS}
    return format_table(rows, "pooled (m w.e.)", digits)
