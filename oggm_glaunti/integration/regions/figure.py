"""The region's figure: total glacier volume and area through time, one line per model.

Reads OGGM's compiled run output (``utils.compile_run_output``: ``volume`` in m3 and
``area`` in m2 per glacier and year) of each model's runs, in time order (e.g. the dynamic
spin-up, then the projection from its end), and sums over the glaciers. Only glaciers that
every model ran are drawn, so that the lines compare the same ice.
"""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from ...atomic import atomic_path  # noqa: E402

_COLOURS = {"MonthlyTIModel": "tab:grey", "GlaUnTI A": "tab:orange", "GlaUnTI C": "tab:green",
            "GlaUnTI D": "tab:blue"}


def regional_series(paths: list[str], rgi_ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Years, total volume (km3) and total area (km2) of the glaciers ``rgi_ids`` from the
    compiled run outputs ``paths`` (in time order; a year shared by two files is taken
    from the later one).

    Raises
    ------
    ValueError
        a glacier of ``rgi_ids`` has no value (NaN) in a file: it did not run there.
    """
    years, volume, area = [], [], []
    for path in paths:
        with xr.open_dataset(path) as ds:
            ds = ds.sel(rgi_id=list(rgi_ids))
            missing = [str(r) for r in ds.rgi_id.values if bool(ds.volume.sel(rgi_id=r).isnull().all())]
            if missing:
                raise ValueError(f"{os.path.basename(path)} has no run of {missing}: draw only glaciers that ran")
            keep = ds.time.values > (years[-1][-1] if years else -np.inf)
            years.append(ds.time.values[keep])
            volume.append(ds.volume.sum("rgi_id").values[keep] * 1e-9)
            area.append(ds.area.sum("rgi_id").values[keep] * 1e-6)
    return np.concatenate(years), np.concatenate(volume), np.concatenate(area)


def _first_year(path: str) -> float:
    with xr.open_dataset(path) as ds:
        return float(ds.time.values[0])


def region_figure(runs: dict[str, list[str]], rgi_ids: list[str], path: str | os.PathLike,
                  title: str) -> str:
    """Draw the region's volume and area through time for each model.

    Parameters
    ----------
    runs : dict
        model label -> compiled run outputs in time order.
    rgi_ids : list of str
        the glaciers summed (each must have run for every model).
    path : path-like
        PNG file (written atomically).
    title : str
        the figure's title.
    """
    fig, (ax_v, ax_a) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for label, paths in runs.items():
        years, volume, area = regional_series(paths, rgi_ids)
        colour = _COLOURS.get(label)
        ax_v.plot(years, volume, color=colour, label=label)
        ax_a.plot(years, area, color=colour, label=label)
    joins = {_first_year(p) for paths in runs.values() for p in paths[1:]}
    for ax in (ax_v, ax_a):  # where one run (e.g. the spin-up) hands over to the next
        for year in joins:
            ax.axvline(year, color="k", lw=0.6, ls=":")
    ax_v.set_ylabel("total volume (km$^3$)")
    ax_a.set_ylabel("total area (km$^2$)")
    for ax in (ax_v, ax_a):
        ax.set_xlabel("year")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    path = os.fspath(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return path
