"""Modelled-vs-observed scatter plots of an evaluation (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .records import SEASONS

_KIND_TITLES = {"point": "point", "glacier_wide": "glacier-wide"}


def scatter_plot(pairs: pd.DataFrame, pooled: dict, path: str | os.PathLike, title: str = "") -> None:
    """Write a 2 x 3 grid (point / glacier-wide x annual / winter / summer) to ``path``.

    Each panel: one colour per glacier, the 1:1 line, and n, r and RMSE of the pooled pairs.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # no display needed; keeps a user's backend if set
    import matplotlib.pyplot as plt

    glaciers = list(dict.fromkeys(pairs["glacier"]))
    colours = plt.get_cmap("tab10" if len(glaciers) <= 10 else "tab20")
    fig, axes = plt.subplots(2, 3, figsize=(12, 8), squeeze=False)
    handles: dict = {}  # each glacier is named in the legend by its first points, in any panel
    for r, kind in enumerate(_KIND_TITLES):
        for c, season in enumerate(SEASONS):
            ax = axes[r][c]
            sel = pairs[(pairs["kind"] == kind) & (pairs["season"] == season)]
            for i, name in enumerate(glaciers):
                g = sel[sel["glacier"] == name]
                if len(g):
                    points = ax.scatter(g["observed"], g["modelled"], s=10, alpha=0.7, color=colours(i % colours.N))
                    handles.setdefault(name, points)
            values = np.concatenate([sel["observed"].to_numpy(float), sel["modelled"].to_numpy(float)])
            if values.size:
                lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
                pad = 0.05 * (hi - lo or 1.0)
                ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=0.8)
                ax.set_xlim(lo - pad, hi + pad)
                ax.set_ylim(lo - pad, hi + pad)
            s = pooled[kind][season]
            text = f"n={s['n']}" + ("" if not s["n"] else f"\nr={s['r']:.3f}\nRMSE={s['rmse']:.3f}")
            ax.text(0.04, 0.96, text, transform=ax.transAxes, va="top", fontsize=8)
            ax.set_title(f"{_KIND_TITLES[kind]} {season}")
            ax.set_xlabel("observed (m w.e.)")
            ax.set_ylabel("modelled (m w.e.)")
    if handles and len(glaciers) <= 20:
        named = [n for n in glaciers if n in handles]
        axes[0][0].legend([handles[n] for n in named], named, fontsize=6, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=110)
    plt.close(fig)
