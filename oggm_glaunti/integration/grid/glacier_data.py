"""A glacier directory's inputs for GlaUnTI, as plain arrays.

Reads the daily climate file (``climate_historical_daily{suffix}.nc`` or
``gcm_data_daily{suffix}.nc``) and the model grid (``glaunti_grid{suffix}.nc``), and cuts
the daily record into hydrological years (:func:`glacier_calendar`). No JAX here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Optional

import numpy as np
import xarray as xr

from ...hydro_calendar import HydroCalendar, hemisphere_calendar
from ...plausible import check_reference_height
from ..session.params import get_param, register_file_keys
from ..units import daily_prcp_to_core

#: Which task writes each daily climate file (named in error messages).
_DAILY_PRODUCERS = {
    "climate_historical_daily": "process_daily_from_monthly or process_daily_gridded_climate",
    "gcm_data_daily": "process_daily_from_gcm",
}


@dataclass(frozen=True)
class DailyClimate:
    """Daily climate at the reference height: dates, degC, m w.e. per day."""

    dates: np.ndarray  # datetime64[D]
    temperature: np.ndarray
    precipitation: np.ndarray
    ref_hgt: float
    source: str

    def index_of(self, date: np.datetime64) -> int:
        return int((np.datetime64(date, "D") - self.dates[0]).astype(int))


@dataclass(frozen=True)
class ModelGrid:
    """The model's own grid: elevation (m), outline fraction, uncertainty (m), facies."""

    elevation: np.ndarray
    outline: np.ndarray
    elevation_std: np.ndarray
    facies: Optional[np.ndarray]  # (9, H, W) or None
    dx: float
    path: str
    window: Optional[tuple[int, int, int, int]] = None  # the glacier's own grid (see model_grid)

    @property
    def shape(self) -> tuple[int, int]:
        return self.elevation.shape


def _path(gdir, key: str, filesuffix: str, producer: str) -> str:
    register_file_keys()
    path = gdir.get_filepath(key, filesuffix=filesuffix)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{gdir.rgi_id}: {os.path.basename(path)} is missing in {gdir.dir}; run the task "
            f"{producer} first (oggm_glaunti.integration)"
        )
    return path


def read_daily_climate(gdir, filename: str = "climate_historical_daily", filesuffix: str = "") -> DailyClimate:
    """Read a daily climate file written by this package's climate tasks."""
    producer = _DAILY_PRODUCERS.get(filename, "a GlaUnTI daily climate task")
    path = _path(gdir, filename, filesuffix, producer)
    with xr.open_dataset(path, decode_times=False) as ds:
        dates = _daily_dates(ds)
        temp = ds["temp"].values.astype(np.float64)
        prcp = daily_prcp_to_core(ds["prcp"].values.astype(np.float64))
        ref_hgt = check_reference_height(
            ds.attrs.get("ref_hgt"), f"{path}: global attribute ref_hgt",
            f" Write the file again with {producer}.")
        source = str(ds.attrs.get("climate_source", os.path.basename(path)))
    if len(dates) > 1 and np.any(np.diff(dates).astype(int) != 1):
        raise ValueError(f"{path}: the time axis is not a gap-free daily series")
    return DailyClimate(dates, temp, prcp, ref_hgt, source)


def _daily_dates(ds: xr.Dataset) -> np.ndarray:
    """The dates (datetime64[D]) of a daily file's undecoded time axis. The writer's
    encoding (whole days since a 1 January, proleptic Gregorian calendar; see
    :mod:`~oggm_glaunti.integration.climate.daily_file`) is decoded here: xarray decodes it
    through cftime, 50 times slower (0.6 s for 1870-2100), once dates lie more than 292
    years after the reference date (their nanoseconds overflow int64). Other encodings go
    through xarray."""
    time = ds["time"]
    match = re.fullmatch(r"days since (\d{4}-\d{2}-\d{2})", str(time.attrs.get("units", "")).strip())
    if match and time.attrs.get("calendar") == "proleptic_gregorian" and np.issubdtype(time.dtype, np.integer):
        return np.datetime64(match.group(1), "D") + time.values.astype(np.int64).astype("timedelta64[D]")
    return xr.decode_cf(ds[["time"]])["time"].values.astype("datetime64[D]")


def read_model_grid(gdir, filesuffix: str = "") -> ModelGrid:
    """Read ``glaunti_grid{filesuffix}.nc``."""
    path = _path(gdir, "glaunti_grid", filesuffix, "glaunti_model_grid")
    with xr.open_dataset(path) as ds:
        facies = None
        if int(ds.attrs.get("has_facies", 0)):
            facies = np.concatenate([ds["facies"].values, ds["facies_confidence"].values[None]])
        return ModelGrid(
            elevation=ds["elevation"].values.astype(np.float32),
            outline=ds["outline_fraction"].values.astype(np.float32),
            elevation_std=ds["elevation_std"].values.astype(np.float32),
            facies=None if facies is None else facies.astype(np.float32),
            dx=float(ds.attrs["dx"]),
            path=path,
            window=_glacier_window(ds, path),
        )


def _glacier_window(ds, path: str) -> tuple[int, int, int, int]:
    if "glacier_window" not in ds.attrs:
        raise ValueError(f"{path} has no 'glacier_window' attribute (written by an older version of "
                         "oggm_glaunti): run glaunti_model_grid again")
    row0, col0, n_rows, n_cols = (int(v) for v in np.atleast_1d(ds.attrs["glacier_window"]))
    ny, nx = ds["elevation"].shape
    if not (0 <= row0 and 0 <= col0 and row0 + n_rows <= ny and col0 + n_cols <= nx and min(n_rows, n_cols) >= 1):
        raise ValueError(f"{path}: glacier_window {(row0, col0, n_rows, n_cols)} does not fit the {ny}x{nx} "
                         "grid; run glaunti_model_grid again")
    return row0, col0, n_rows, n_cols


def glacier_calendar(hemisphere: str, winter_end_month: Optional[int] = None) -> HydroCalendar:
    """The hydrological calendar of a glacier in ``hemisphere`` (``gdir.hemisphere``):
    the first month of its hydrological year from ``cfg.PARAMS['glaunti_hydro_start_month_nh']``
    or ``['glaunti_hydro_start_month_sh']``, the end of winter from ``winter_end_month``
    (a northern-hemisphere month, shifted by six in the south; default
    ``cfg.PARAMS['glaunti_winter_end_month']``). See :mod:`oggm_glaunti.hydro_calendar`."""
    return hemisphere_calendar(hemisphere, get_param("glaunti_hydro_start_month_nh"),
                               get_param("glaunti_hydro_start_month_sh"),
                               get_param("glaunti_winter_end_month", winter_end_month))
