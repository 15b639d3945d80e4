"""Reading and checking the gridded files of one glacier of a GlaUnTI dataset folder.

The layout is the released dataset's (``docs/dataset_format.md``,
:mod:`oggm_glaunti.dataset_layout`); this module knows the netCDF side: the grid (x/y cell
centres and the CF grid mapping that rioxarray writes), daily forcing (no ``units``
attribute: the released variables are in degC and m per day, checked by range), annual
geometry and facies. Every failure is a :class:`DatasetError` naming the
glacier, the file and, where it applies, the year or date. No JAX here.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyproj
import xarray as xr

from ..core.inputs import FACIES_CLASSES
from ..core.validation import MAX_PLAUSIBLE_PRECIPITATION, MAX_PLAUSIBLE_TEMPERATURE
from ..dataset_layout import (
    ELEVATION_STD_VAR, ELEVATION_VAR, FACIES_VAR, OROGRAPHY_VAR, OUTLINE_VAR, PRECIPITATION_VAR,
    TEMPERATURE_VAR,
)
from ..plausible import reference_height_problem

#: Facies channel names in the corrector's order (Maslov et al., egusphere-2026-515), then the confidence.
FACIES_BANDS: tuple[str, ...] = FACIES_CLASSES + ("confidence",)


class DatasetWarning(UserWarning):
    """Records of a dataset that are left out (the rest is used): stakes outside the glacier
    grid read with ``outside_stakes="warn"``, seasonal observations in a year without a
    midseason date. Filter it with ``warnings.filterwarnings("ignore", category=DatasetWarning)``."""


class DatasetError(ValueError):
    """A problem with a dataset folder, naming the glacier, the file and (if any) the year.

    Attributes
    ----------
    glacier, file : the glacier's name (None for the dataset's index) and the file's path.
    year : the hydrological year (int) or the calendar date (str) concerned, or None.
    """

    def __init__(self, glacier: Optional[str], file: str | os.PathLike, problem: str,
                 year: Optional[object] = None):
        self.glacier, self.file, self.year = glacier, str(file), year
        where = f"file {self.file}" if glacier is None else f"glacier {glacier!r}, file {self.file}"
        if isinstance(year, (int, np.integer)):
            where += f", year {int(year)}"
        elif year is not None:  # a calendar date: its year is part of it
            where += f", date {year}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Grid:
    """A glacier's raster: CRS and cell centres (y usually decreasing, north up)."""

    crs: pyproj.CRS
    x: np.ndarray  # (W,) cell-centre x, CRS units
    y: np.ndarray  # (H,) cell-centre y

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.y), len(self.x))

    def rowcol(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cells containing projected points (may be off the grid)."""
        dx = self.x[1] - self.x[0] if len(self.x) > 1 else 1.0
        dy = self.y[1] - self.y[0] if len(self.y) > 1 else -1.0
        col = np.floor((xs - self.x[0]) / dx + 0.5).astype(np.int64)
        row = np.floor((ys - self.y[0]) / dy + 0.5).astype(np.int64)
        return row, col


def _open(glacier: str, path: str) -> xr.Dataset:
    if not os.path.isfile(path):
        raise DatasetError(glacier, path, "the file is missing (see docs/dataset_format.md)")
    try:
        # decode_coords="all": the grid mapping variable becomes a coordinate, not data. A
        # missing grid mapping variable is reported by _crs, with the file named: silence
        # xarray's own warning about it.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Variable\\(s\\) referenced in grid_mapping")
            return xr.open_dataset(path, decode_coords="all", engine="netcdf4")
    except Exception as exc:  # any reader failure: say which file
        raise DatasetError(glacier, path, f"cannot be read as netCDF ({exc})") from exc


def _variable(glacier: str, path: str, ds: xr.Dataset, name: str, dims: tuple[str, ...]) -> xr.DataArray:
    if name not in ds.variables:
        raise DatasetError(glacier, path, f"has no variable {name!r} (found {sorted(ds.data_vars)}); the "
                           "released layout is described in docs/dataset_format.md")
    da = ds[name]
    if set(da.dims) != set(dims):
        raise DatasetError(glacier, path, f"variable {name!r} has dims {da.dims}; expected {dims}")
    return da.transpose(*dims)


def _crs(glacier: str, path: str, ds: xr.Dataset, da: xr.DataArray) -> pyproj.CRS:
    """The CRS of the CF grid mapping named by ``da``'s ``grid_mapping``."""
    mapping = da.encoding.get("grid_mapping", da.attrs.get("grid_mapping"))
    if mapping is None or mapping not in ds.variables:
        raise DatasetError(
            glacier, path,
            f"variable {da.name!r} has no CF grid mapping: give it a 'grid_mapping' attribute "
            "naming a variable (e.g. 'spatial_ref') whose 'crs_wkt' attribute holds the CRS",
        )
    attrs = ds.variables[mapping].attrs
    text = attrs.get("crs_wkt", attrs.get("spatial_ref"))
    if not text:
        raise DatasetError(glacier, path, f"grid mapping variable {mapping!r} has no 'crs_wkt' attribute")
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        raise DatasetError(glacier, path, f"its CRS cannot be understood by pyproj ({exc})") from exc


def _grid_of(glacier: str, path: str, ds: xr.Dataset, da: xr.DataArray) -> Grid:
    for axis in ("x", "y"):
        if axis not in da.coords:
            raise DatasetError(glacier, path, f"has no {axis!r} coordinate (cell centres in CRS units)")
        step = np.diff(np.asarray(da[axis], np.float64))
        if step.size and (not np.all(step != 0) or not np.allclose(step, step[0], rtol=1e-6)):
            raise DatasetError(glacier, path, f"the {axis!r} coordinate is not regularly spaced")
    return Grid(_crs(glacier, path, ds, da), np.asarray(da["x"], np.float64), np.asarray(da["y"], np.float64))


def check_same_grid(glacier: str, path: str, grid: Grid, reference: Grid, reference_path: str) -> None:
    """Same CRS, shape and cell centres as ``reference`` (the temperature file's grid)."""
    if grid.crs != reference.crs:
        raise DatasetError(
            glacier, path,
            f"its CRS ({grid.crs.to_string()}) differs from that of {reference_path} "
            f"({reference.crs.to_string()}); all files of a glacier share one grid",
        )
    if grid.shape != reference.shape:
        raise DatasetError(
            glacier, path,
            f"its grid has shape {grid.shape} (y, x) but {reference_path} has {reference.shape}",
        )
    spacing = max(abs(reference.x[1] - reference.x[0]) if len(reference.x) > 1 else 1.0, 1e-9)
    if (not np.allclose(grid.x, reference.x, rtol=0, atol=1e-3 * spacing)
            or not np.allclose(grid.y, reference.y, rtol=0, atol=1e-3 * spacing)):
        raise DatasetError(glacier, path, f"its x/y cell centres differ from those of {reference_path}")


def _first_bad(glacier: str, path: str, bad: np.ndarray, labels: np.ndarray, problem: str) -> None:
    """Raise naming the label (date or year) of the first slice where ``bad`` holds."""
    if bad.any():
        first, n = int(np.argmax(bad)), int(bad.sum())
        unit = "year" if isinstance(labels[first], (int, np.integer)) else "day"
        label = labels[first] if unit == "day" else int(labels[first])
        raise DatasetError(glacier, path, f"{problem} ({n} {unit}{'s' if n > 1 else ''} affected)", year=label)


def _daily_times(glacier: str, path: str, da: xr.DataArray) -> np.ndarray:
    times = np.asarray(da["time"].values)
    if not np.issubdtype(times.dtype, np.datetime64):
        raise DatasetError(glacier, path, "the time coordinate is not decodable as dates (CF 'units')")
    days = times.astype("datetime64[D]")
    if len(days) < 2:
        raise DatasetError(glacier, path, "holds fewer than two days of forcing")
    step = np.diff(days).astype(np.int64)
    if np.any(step != 1):
        at = int(np.argmax(step != 1))
        raise DatasetError(glacier, path, "the daily time axis is not contiguous (a gap or repeated day "
                           f"after {days[at]})", year=str(days[at]))
    return days


def read_temperature(glacier: str, path: str) -> tuple[np.ndarray, np.ndarray, Grid]:
    """Daily temperature at the climate's orography height: (dates, (T, H, W) degC, grid).

    No ``units`` attribute is read (the released files have none): a value above
    ``MAX_PLAUSIBLE_TEMPERATURE`` is taken as kelvin and refused, naming the first such day.
    """
    with _open(glacier, path) as ds:
        da = _variable(glacier, path, ds, TEMPERATURE_VAR, ("time", "y", "x"))
        grid, dates = _grid_of(glacier, path, ds, da), _daily_times(glacier, path, da)
        values = np.asarray(da.values, np.float32)
    labels = dates.astype(str)
    _first_bad(glacier, path, ~np.isfinite(values).all(axis=(1, 2)), labels,
               "temperature has NaN or infinite values")
    _first_bad(glacier, path, (values > MAX_PLAUSIBLE_TEMPERATURE).any(axis=(1, 2)), labels,
               f"temperature exceeds {MAX_PLAUSIBLE_TEMPERATURE} degC, which looks like kelvin; "
               "expected degC (subtract 273.15)")
    return dates, values, grid


def read_precipitation(glacier: str, path: str) -> tuple[np.ndarray, np.ndarray, Grid]:
    """Daily precipitation: (dates, (T, H, W) m w.e. per day, grid).

    No ``units`` attribute is read: a value above ``MAX_PLAUSIBLE_PRECIPITATION`` m per day
    is taken as mm and refused, naming the first such day.
    """
    with _open(glacier, path) as ds:
        da = _variable(glacier, path, ds, PRECIPITATION_VAR, ("time", "y", "x"))
        grid, dates = _grid_of(glacier, path, ds, da), _daily_times(glacier, path, da)
        values = np.asarray(da.values, np.float32)
    labels = dates.astype(str)
    _first_bad(glacier, path, ~np.isfinite(values).all(axis=(1, 2)), labels,
               "precipitation has NaN or infinite values")
    _first_bad(glacier, path, (values < 0).any(axis=(1, 2)), labels,
               "precipitation is negative")
    _first_bad(glacier, path, (values > MAX_PLAUSIBLE_PRECIPITATION).any(axis=(1, 2)), labels,
               f"precipitation exceeds {MAX_PLAUSIBLE_PRECIPITATION} m per day, which looks like mm "
               "per day; expected m of water per day (divide by 1000)")
    return dates, values, grid


def read_orography(glacier: str, path: str) -> tuple[np.ndarray, Grid]:
    """The climate's reference height on the grid, (H, W) m."""
    with _open(glacier, path) as ds:
        da = _variable(glacier, path, ds, OROGRAPHY_VAR, ("y", "x"))
        grid, values = _grid_of(glacier, path, ds, da), np.asarray(da.values, np.float32)
    if not np.isfinite(values).all():
        raise DatasetError(glacier, path, f"{OROGRAPHY_VAR!r} (the climate's orography) has NaN or "
                           "infinite values")
    problem = reference_height_problem(values)
    if problem:
        raise DatasetError(glacier, path, f"{OROGRAPHY_VAR!r} (the climate's orography): {problem}")
    return values, grid


def _annual(glacier: str, path: str, ds: xr.Dataset, name: str,
            dims: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    da = _variable(glacier, path, ds, name, dims)
    if "year" not in da.coords:
        raise DatasetError(glacier, path, f"variable {name!r} has no 'year' coordinate (integer years)")
    years = np.asarray(da["year"].values)
    if not np.issubdtype(years.dtype, np.integer) or years.size == 0 or np.any(np.diff(years) <= 0):
        raise DatasetError(glacier, path, f"the 'year' coordinate must hold increasing integer years; got {years}")
    return years.astype(np.int64), np.asarray(da.values, np.float32)


def read_geometry(glacier: str, dem_path: str, outline_path: str, reference: Grid, reference_path: str):
    """Annual DEMs and outlines: (years, elevation, elevation_std, outline), each (G, H, W)."""
    with _open(glacier, dem_path) as ds:
        years, elevation = _annual(glacier, dem_path, ds, ELEVATION_VAR, ("year", "y", "x"))
        std_years, elevation_std = _annual(glacier, dem_path, ds, ELEVATION_STD_VAR, ("year", "y", "x"))
        check_same_grid(glacier, dem_path, _grid_of(glacier, dem_path, ds, ds[ELEVATION_VAR]),
                        reference, reference_path)
    with _open(glacier, outline_path) as ds:
        outline_years, outline = _annual(glacier, outline_path, ds, OUTLINE_VAR, ("year", "y", "x"))
        check_same_grid(glacier, outline_path, _grid_of(glacier, outline_path, ds, ds[OUTLINE_VAR]),
                        reference, reference_path)
    for other, path, what in ((std_years, dem_path, ELEVATION_STD_VAR), (outline_years, outline_path, OUTLINE_VAR)):
        if not np.array_equal(other, years):
            raise DatasetError(glacier, path, f"{what!r} has years {other.tolist()} but {dem_path} "
                               f"{ELEVATION_VAR!r} has {years.tolist()}; DEMs and outlines share their years")
    for values, path, what in ((elevation, dem_path, ELEVATION_VAR), (elevation_std, dem_path, ELEVATION_STD_VAR),
                               (outline, outline_path, OUTLINE_VAR)):
        _first_bad(glacier, path, ~np.isfinite(values).all(axis=(1, 2)), years,
                   f"{what!r} has NaN or infinite values (fill voids first)")
    _first_bad(glacier, dem_path, (elevation_std < 0).any(axis=(1, 2)), years,
               f"{ELEVATION_STD_VAR!r} is negative")
    _first_bad(glacier, outline_path, ((outline < 0) | (outline > 1)).any(axis=(1, 2)), years,
               "outline fractions must lie in 0..1")
    _first_bad(glacier, outline_path, outline.sum(axis=(1, 2)) <= 0, years,
               "the outline is zero everywhere")
    return years, elevation, elevation_std, outline


def read_facies(glacier: str, path: str, reference: Grid, reference_path: str) -> dict[int, np.ndarray]:
    """Facies maps by year, each (9, H, W): eight class channels then confidence.

    NaN (e.g. cloud gaps) are read as 0, i.e. no evidence for any class and zero confidence.
    """
    with _open(glacier, path) as ds:
        years, values = _annual(glacier, path, ds, FACIES_VAR, ("year", "band", "y", "x"))
        check_same_grid(glacier, path, _grid_of(glacier, path, ds, ds[FACIES_VAR]), reference, reference_path)
        bands = ds[FACIES_VAR]["band"].values if "band" in ds[FACIES_VAR].coords else None
    if values.shape[1] != len(FACIES_BANDS):
        raise DatasetError(glacier, path, f"facies has {values.shape[1]} bands; expected {len(FACIES_BANDS)} "
                           f"({', '.join(FACIES_BANDS)})")
    if bands is not None and bands.dtype.kind in ("U", "S", "O"):
        names = [str(b).strip().lower().replace("-", "_") for b in bands]
        if sorted(names) != sorted(FACIES_BANDS):
            raise DatasetError(glacier, path, f"facies bands {names} are not {list(FACIES_BANDS)}")
        values = values[:, [names.index(b) for b in FACIES_BANDS]]
    values = np.nan_to_num(values, nan=0.0)
    return {int(y): values[i] for i, y in enumerate(years)}


def lonlat_to_rowcol(grid: Grid, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid row/col of WGS 84 points (possibly off the grid: the caller checks)."""
    to_grid = pyproj.Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    xs, ys = to_grid.transform(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    return grid.rowcol(np.asarray(xs), np.asarray(ys))
