"""Reader for the GlaUnTI dataset as released: one :class:`GlacierData` per glacier.

The layout is the paper's dataset (doi:10.4121/5ea53bc3-…), read unchanged as the
published code reads it; ``docs/dataset_format.md`` documents it and
:mod:`oggm_glaunti.dataset_layout` names its files, variables and columns: ``index.csv`` at
the root, then per glacier ``temperature.nc``, ``precipitation.nc``, ``orography.nc``,
``dem.nc``, ``outlines.nc``, optional ``facies.nc``, ``total_smb.csv`` and optional
``point_smb.csv``. Temperature is stored at the climate's orography height; each
hydrological year's forcing downscales it with that year's DEM layer and the lapse rate of
Maslov et al., egusphere-2026-515 (:meth:`GlacierData.year_forcing`).

Every problem raises :class:`DatasetError` (a ``ValueError``) naming the glacier, the file
and, where it applies, the year or date. No JAX here.
"""

from __future__ import annotations

import os
import warnings
from typing import Iterable, NamedTuple, Optional

import numpy as np
import pandas as pd

from ..dataset_layout import (
    DEM_FILE, FACIES_FILE, INDEX_COLUMNS, INDEX_FILE, LAPSE_RATE, OROGRAPHY_FILE, OUTLINE_FILE,
    POINT_SMB_FILE, PRECIPITATION_FILE, TEMPERATURE_FILE, TOTAL_SMB_FILE,
)
from .dataset_grids import (
    DatasetError, DatasetWarning, Grid, check_same_grid, lonlat_to_rowcol, read_facies, read_geometry,
    read_orography, read_precipitation, read_temperature,
)
from .dataset_tables import read_point_smb, read_total_smb
from .records import GlacierData, SeasonWindow, StakeObs

__all__ = [
    "DatasetError", "DatasetWarning", "FoldSplit", "check_folds", "INDEX_COLUMNS", "LAPSE_RATE",
    "read_dataset", "read_glacier", "read_index", "split_by_fold",
]


class FoldSplit(NamedTuple):
    """Glacier names of the training, validation and test subsets (Maslov et al., egusphere-2026-515)."""

    train: list[str]
    validation: list[str]
    test: list[str]


def read_index(root: str | os.PathLike) -> pd.DataFrame:
    """The dataset's ``index.csv``: one row per glacier, columns :data:`~oggm_glaunti.dataset_layout.INDEX_COLUMNS`.

    ``fold``, ``max_year``, ``height`` and ``width`` are integers; names are unique.
    """
    path = os.path.join(os.fspath(root), INDEX_FILE)
    if not os.path.isfile(path):
        raise DatasetError(None, path, "the dataset index is missing (see docs/dataset_format.md)")
    index = pd.read_csv(path, dtype={"name": str, "wgms_name": str, "region": str})
    missing = [c for c in INDEX_COLUMNS if c not in index.columns]
    if missing:
        raise DatasetError(None, path, f"lacks column(s) {missing}; expected {list(INDEX_COLUMNS)}")
    for column in ("fold", "max_year", "height", "width"):
        values = pd.to_numeric(index[column], errors="coerce")
        if values.isna().any() or (values != values.round()).any():
            name = index["name"][values.isna() | (values != values.round())].iloc[0]
            raise DatasetError(name, path, f"column {column!r} must hold integers")
        index[column] = values.astype(np.int64)
    duplicated = index["name"].duplicated()
    if duplicated.any():
        raise DatasetError(index["name"][duplicated].iloc[0], path, "the name appears more than once")
    return index


def split_by_fold(index: pd.DataFrame, test: int = 0, validation: int = 1) -> FoldSplit:
    """Names for training (all other folds), validation and test, in index order."""
    if test == validation:
        raise ValueError(f"the test and validation folds must differ; both are {test}")
    fold = index["fold"].astype(int)
    names = index["name"].astype(str)
    return FoldSplit(
        train=names[~fold.isin([test, validation])].tolist(),
        validation=names[fold == validation].tolist(),
        test=names[fold == test].tolist(),
    )


def _check_geometry_years(name: str, path: str, windows: dict[int, SeasonWindow],
                          geometry_years: np.ndarray, dem_path: str) -> None:
    """Every year of ``total_smb.csv`` runs with its own DEM/outline layer (``.sel(year=Y)``)."""
    missing = sorted(set(windows) - set(int(y) for y in geometry_years))
    if missing:
        raise DatasetError(name, path, f"the year has no geometry layer in {dem_path} / {OUTLINE_FILE} "
                           f"(their years: {int(geometry_years[0])}..{int(geometry_years[-1])}); every "
                           f"simulated year needs its DEM and outline ({len(missing)} year(s) lack one: "
                           f"{missing})", year=missing[0])


def _stakes(name: str, path: str, grid: Grid, windows: dict[int, SeasonWindow], first: np.datetime64,
            last: np.datetime64, outside: str) -> tuple[StakeObs, ...]:
    table = read_point_smb(name, path, first, last)
    if table.empty:
        return ()
    row, col = lonlat_to_rowcol(grid, table["longitude"].to_numpy(), table["latitude"].to_numpy())
    off = (row < 0) | (row >= grid.shape[0]) | (col < 0) | (col >= grid.shape[1])
    if off.any():
        i = int(np.argmax(off))
        problem = (f"{int(off.sum())} stake record(s) lie outside the glacier grid, the first at "
                   f"lat {table['latitude'].iloc[i]}, lon {table['longitude'].iloc[i]}")
        if outside == "error":
            raise DatasetError(name, path, problem + " (check the coordinates, or read with "
                               "outside_stakes='warn' to drop them)", year=int(table["year"].iloc[i]))
        warnings.warn(str(DatasetError(name, path, problem + "; they are dropped",
                                       year=int(table["year"].iloc[i]))), DatasetWarning, stacklevel=3)
    no_window = ~table["year"].isin(list(windows)) & ~off
    if no_window.any():
        year = int(table["year"][no_window].iloc[0])
        raise DatasetError(name, path, "stake records for a hydrological year that has no window: "
                           f"add the year's dates to {TOTAL_SMB_FILE}", year=year)
    return tuple(
        StakeObs(int(r.year), str(r.season), np.datetime64(r.begin, "D"), np.datetime64(r.end, "D"),
                 int(row[i]), int(col[i]), float(r.balance), bool(r.is_index))
        for i, r in enumerate(table.itertuples(index=False)) if not off[i]
    )


def read_glacier(root: str | os.PathLike, name: str, index: Optional[pd.DataFrame] = None,
                 outside_stakes: str = "error") -> GlacierData:
    """Read one glacier of a dataset folder.

    Parameters
    ----------
    root : the dataset folder (holding ``index.csv``).
    name : the glacier's name (its row in ``index.csv`` and its sub-folder).
    index : the already-read index (default: read ``index.csv``).
    outside_stakes : ``"error"`` (default) refuses stakes off the grid; ``"warn"`` drops
        them with a warning.

    Raises
    ------
    DatasetError
        For any missing file or invalid content, naming glacier, file and year.
    """
    if outside_stakes not in ("error", "warn"):
        raise ValueError(f"outside_stakes must be 'error' or 'warn'; got {outside_stakes!r}")
    root = os.fspath(root)
    index = read_index(root) if index is None else index
    rows = index[index["name"] == name]
    if rows.empty:
        raise DatasetError(name, os.path.join(root, INDEX_FILE), "the glacier is not listed")
    entry = rows.iloc[0]
    folder = os.path.join(root, name)
    if not os.path.isdir(folder):
        raise DatasetError(name, folder, "the glacier's folder is missing")
    path = lambda f: os.path.join(folder, f)  # noqa: E731

    dates, temperature, grid = read_temperature(name, path(TEMPERATURE_FILE))
    p_dates, precipitation, p_grid = read_precipitation(name, path(PRECIPITATION_FILE))
    check_same_grid(name, path(PRECIPITATION_FILE), p_grid, grid, path(TEMPERATURE_FILE))
    if not np.array_equal(p_dates, dates):
        raise DatasetError(name, path(PRECIPITATION_FILE), f"its days {p_dates[0]}..{p_dates[-1]} differ "
                           f"from those of {TEMPERATURE_FILE} ({dates[0]}..{dates[-1]})")
    orography, o_grid = read_orography(name, path(OROGRAPHY_FILE))
    check_same_grid(name, path(OROGRAPHY_FILE), o_grid, grid, path(TEMPERATURE_FILE))
    geometry_years, elevation, elevation_std, outline = read_geometry(
        name, path(DEM_FILE), path(OUTLINE_FILE), grid, path(TEMPERATURE_FILE))
    facies = (read_facies(name, path(FACIES_FILE), grid, path(TEMPERATURE_FILE))
              if os.path.isfile(path(FACIES_FILE)) else {})
    if grid.shape != (int(entry["height"]), int(entry["width"])):
        raise DatasetError(name, os.path.join(root, INDEX_FILE), f"height x width {entry['height']} x "
                           f"{entry['width']} differ from the grid's {grid.shape[0]} x {grid.shape[1]}")

    first, last = dates[0], dates[-1]
    windows, glacier_wide = read_total_smb(name, path(TOTAL_SMB_FILE), first, last)
    _check_geometry_years(name, path(TOTAL_SMB_FILE), windows, geometry_years, DEM_FILE)
    stakes = (_stakes(name, path(POINT_SMB_FILE), grid, windows, first, last, outside_stakes)
              if os.path.isfile(path(POINT_SMB_FILE)) else ())
    return GlacierData(
        name=name, fold=int(entry["fold"]), dates=dates, temperature=temperature,
        precipitation=precipitation, geometry_years=geometry_years, elevation=elevation,
        elevation_std=elevation_std, outline=outline, windows=windows, glacier_wide=glacier_wide,
        stakes=stakes, facies_by_year=facies, crs=grid.crs.to_wkt(),
        x=grid.x, y=grid.y, orography=orography,
    )


def check_folds(root: str | os.PathLike, index: pd.DataFrame, folds: Iterable[int],
                role: str = "") -> list[int]:
    """The sorted folds asked for, if at least one glacier of the index is in one of them.

    Raises
    ------
    DatasetError
        naming the folds asked for (``role``, e.g. "training", says for what) and the folds
        the index holds.
    """
    asked = sorted({int(f) for f in folds})
    present = sorted(int(f) for f in index["fold"].unique())
    if not set(asked) & set(present):
        raise DatasetError(None, os.path.join(os.fspath(root), INDEX_FILE),
                           f"no glacier is in the {role + ' ' if role else ''}folds {asked} asked for; "
                           f"the folds in the index are {present}")
    return asked


def read_dataset(root: str | os.PathLike, names: Optional[Iterable[str]] = None,
                 folds: Optional[Iterable[int]] = None, **kwargs) -> list[GlacierData]:
    """Read the glaciers of a dataset folder, in index order.

    Parameters
    ----------
    root : the dataset folder.
    names : only these glaciers (all must be listed in the index); default all.
    folds : only glaciers of these folds; default all.
    **kwargs : passed to :func:`read_glacier` (``outside_stakes``).
    """
    index = read_index(root)
    selected = index
    if names is not None:
        names = list(names)
        unknown = sorted(set(names) - set(index["name"]))
        if unknown:
            raise DatasetError(unknown[0], os.path.join(os.fspath(root), INDEX_FILE),
                               f"the glacier is not listed (unknown: {unknown})")
        selected = selected[selected["name"].isin(names)]
    if folds is not None:
        selected = selected[selected["fold"].isin(check_folds(root, index, folds))]
    return [read_glacier(root, name, index=index, **kwargs) for name in selected["name"]]
