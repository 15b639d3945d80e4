"""Skill scores of modelled against observed SMB, as in the paper (Maslov et al., egusphere-2026-515).

Plain NumPy, shared by the training layer's evaluation and the demo.
"""

from __future__ import annotations

import math

import numpy as np

#: The scores :func:`skill` returns, in table order.
SCORES = ("n", "r", "rmse", "mae", "bias")


def skill(modelled, observed, min_pairs_for_r: int = 2) -> dict[str, float]:
    """Pearson r, RMSE, MAE and bias (mean of modelled − observed) over pairs where both exist.

    Parameters
    ----------
    modelled, observed : array-like of the same shape
        values in the same unit (NaN marks a missing pair).
    min_pairs_for_r : int
        fewest pairs for which r is given (2, the published code's rule, gives r = ±1 for
        two pairs; the calibration's skill asks for 3).

    Returns
    -------
    dict
        ``n`` (number of pairs), ``r`` (NaN with fewer than ``min_pairs_for_r`` pairs or no
        spread), ``rmse``, ``mae`` and ``bias`` (NaN with no pairs).
    """
    modelled = np.asarray(modelled, np.float64).ravel()
    observed = np.asarray(observed, np.float64).ravel()
    if modelled.shape != observed.shape:
        raise ValueError(f"skill: modelled has {modelled.size} values but observed has {observed.size}")
    both = np.isfinite(modelled) & np.isfinite(observed)
    m, o = modelled[both], observed[both]
    n = int(both.sum())
    if n == 0:
        return {"n": 0, "r": math.nan, "rmse": math.nan, "mae": math.nan, "bias": math.nan}
    error = m - o
    spread = m.std() > 0 and o.std() > 0
    r = float(np.corrcoef(m, o)[0, 1]) if n >= max(min_pairs_for_r, 2) and spread else math.nan
    return {"n": n, "r": r, "rmse": float(np.sqrt(np.mean(error**2))),
            "mae": float(np.mean(np.abs(error))), "bias": float(np.mean(error))}


def format_table(rows: dict[str, dict[str, float]], first_header: str = "", digits: int = 3) -> str:
    """A Markdown table: one row per key of ``rows``, one column per score of :data:`SCORES`."""
    header = f"| {first_header} | " + " | ".join(SCORES) + " |"
    lines = [header, "|" + "---|" * (len(SCORES) + 1)]
    for name, scores in rows.items():
        cells = [str(int(scores["n"]))] + [
            "–" if not np.isfinite(scores[key]) else f"{scores[key]:.{digits}f}" for key in SCORES[1:]
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def json_safe(value):
    """``value`` with every non-finite float (nested in dicts and lists) as None and NumPy
    values as Python ones, for standard JSON."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # NumPy scalars and arrays
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
