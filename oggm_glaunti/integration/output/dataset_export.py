"""Export prepared glacier directories as a GlaUnTI training dataset (the released layout).

:func:`glaunti_export_glacier` (entity task) writes one glacier's folder of the layout the
paper's dataset uses (``docs/dataset_format.md``, :mod:`oggm_glaunti.dataset_layout`) from

- the daily climate (``climate_historical_daily.nc``, tasks ``process_daily_from_monthly``
  or ``process_daily_gridded_climate``): ``temperature.nc`` and ``precipitation.nc`` on the
  model grid at the climate's reference height, and ``orography.nc`` holding that height;
- the model grid (``glaunti_grid.nc``, task ``glaunti_model_grid``): ``dem.nc`` (``z``,
  ``zstddev``) and ``outlines.nc`` with one ``year`` layer per exported year (the glacier
  directory has one geometry: every year gets it), and ``facies.nc`` when the grid has a
  facies map (that one map for every year, as the OGGM integration uses it);
- WGMS glacier-wide balances (``gdir.get_ref_mb_data()``, mm w.e. -> m w.e.) in
  ``total_smb.csv``, one row per exported year (dates only where nothing was measured);
- a user's stake CSV (:func:`read_stake_csv`) in ``point_smb.csv``.

Season dates: year ``Y`` (the WGMS label, the year its end date falls in) runs from 1
October ``Y-1`` to 1 October ``Y`` and is split on 1 May in the northern hemisphere, from
1 April ``Y-1`` to 1 April ``Y`` split on 1 November in the southern one (the glacier's
calendar, :func:`~oggm_glaunti.integration.grid.glacier_data.glacier_calendar`);
a year without any winter or summer value (balance or stake) gets no midseason date and
runs as one period, as in the released dataset.
Where OGGM's WGMS table has WGMS's own survey dates (FoG columns ``BEGIN_PERIOD``,
``END_WINTER``, ``END_PERIOD``, ``YYYYMMDD``; :func:`~oggm_glaunti.integration.calibration.observations.wgms_window`)
those are used instead, whatever the year's length (floating survey dates can make it
longer than 366 days, as in the released dataset); OGGM's shipped tables have none, so
the defaults apply. :func:`export_glaunti_dataset` runs the task over many
glacier directories and writes ``index.csv``.

This module writes files in the dataset's layout and knows nothing of training (of the
dataset side it imports only :mod:`oggm_glaunti.dataset_layout`); the training layer reads what it writes.
"""
from __future__ import annotations

import logging
import os
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import pyproj
import rioxarray  # noqa: F401  (the .rio accessor: the CRS as the released files carry it)
import xarray as xr
from oggm import utils

from ... import dataset_layout as layout
from ...atomic import atomic_folder, atomic_path
from ..calibration.observations import read_stake_file, wgms_window
from ..grid.glacier_data import glacier_calendar, read_daily_climate, read_model_grid

log = logging.getLogger(__name__)

def _year_table(gdir, years: np.ndarray, first: np.datetime64, last: np.datetime64,
                use_wgms: bool) -> pd.DataFrame:
    """``total_smb.csv``: every year's dates, WGMS balances (m w.e.) where measured."""
    calendar = glacier_calendar(gdir.hemisphere)
    wgms = pd.DataFrame()
    if use_wgms:
        try:
            wgms = gdir.get_ref_mb_data(y0=int(years[0]), y1=int(years[-1]))
        except RuntimeError as exc:  # not one of OGGM's WGMS reference glaciers
            if "reference glacier" not in str(exc):
                raise
            log.info("(%s) no WGMS balances: %s", gdir.rgi_id, exc)
    rows, previous_end = [], None
    for year in years:
        default = calendar.window(calendar.hydro_year_of(int(year)))
        record = wgms.loc[year] if year in wgms.index else None
        begin, mid, end = wgms_window(record, default)
        if not (first <= begin and end <= last):
            log.warning("(%s) the survey dates of WGMS year %d (%s..%s) reach outside the daily climate "
                        "(%s..%s): the calendar's dates are exported", gdir.rgi_id, year, begin, end, first, last)
            begin, mid, end = default
        if previous_end is not None and begin < previous_end:  # years must not overlap
            begin = previous_end
        previous_end = end
        balance = {s: (float(record[c]) / 1000.0 if record is not None and c in record
                       and np.isfinite(float(record[c])) else np.nan)
                   for s, c in (("annual", "ANNUAL_BALANCE"), ("winter", "WINTER_BALANCE"),
                                ("summer", "SUMMER_BALANCE"))}
        rows.append({"year": int(year), "begin_date": str(begin), "midseason_date": str(mid),
                     "end_date": str(end), **{f"{s}_balance": v for s, v in balance.items()}})
    return pd.DataFrame(rows, columns=list(layout.TOTAL_COLUMNS))


def _annual_only_years(table: pd.DataFrame, stakes: Optional[pd.DataFrame]) -> pd.DataFrame:
    """Empty ``midseason_date`` where no winter or summer value (balance or stake) exists:
    such years run as one period, as in the released dataset."""
    seasonal = table["winter_balance"].notna() | table["summer_balance"].notna()
    if stakes is not None:
        seasonal |= table["year"].isin(stakes.loc[stakes["balance_code"].isin(["winter", "summer"]), "year"])
    return table.assign(midseason_date=table["midseason_date"].where(seasonal, ""))


def read_stake_csv(path: str | os.PathLike, years: pd.DataFrame) -> pd.DataFrame:
    """A user's stake readings as ``point_smb.csv`` rows.

    The CSV has the columns of :func:`~oggm_glaunti.integration.glaunti_calibrate`'s stakes:
    ``date0``, ``date1`` (ISO dates), ``lat``, ``lon`` (WGS 84), ``balance`` (m w.e.), and
    optionally ``balance_code`` (annual, winter, summer or index). Without it, a reading
    spanning at least 300 days is annual, a shorter one ending before the year's
    midseason date + 30 days is winter, else summer. A reading belongs to the year whose
    window holds its middle day.

    Raises
    ------
    FileNotFoundError, ValueError
        as :func:`~oggm_glaunti.integration.calibration.observations.read_stake_file` (the
        checks of :func:`~oggm_glaunti.integration.glaunti_calibrate`'s stakes: columns,
        dates, balances in m w.e.), and naming the file and the record for a reading that
        lies outside every exported year or an unknown ``balance_code``.
    """
    path = os.fspath(path)
    table = read_stake_file(path)
    begin, end = (table[c].to_numpy().astype("datetime64[D]") for c in ("date0", "date1"))
    middle = begin + (end - begin) // 2
    starts = years["begin_date"].to_numpy().astype("datetime64[D]")
    stops = years["end_date"].to_numpy().astype("datetime64[D]")
    which = np.searchsorted(starts, middle, side="right") - 1
    outside = (which < 0) | (middle > stops[np.clip(which, 0, None)])
    if outside.any():
        i = int(np.argmax(outside))
        raise ValueError(f"{path}: record {i + 1} ({begin[i]}..{end[i]}) lies outside the exported years "
                         f"{int(years['year'].iloc[0])}..{int(years['year'].iloc[-1])}")
    if "balance_code" in table.columns:
        code = table["balance_code"].astype(str).str.strip().str.lower()
        unknown = ~code.isin(layout.BALANCE_CODES)
        if unknown.any():
            raise ValueError(f"{path}: balance_code {code[unknown].iloc[0]!r} is not one of "
                             f"{layout.BALANCE_CODES}")
    else:
        mids = years["midseason_date"].to_numpy().astype("datetime64[D]")[which]
        winter = end <= mids + np.timedelta64(30, "D")
        code = pd.Series(np.where((end - begin).astype(int) >= 300, "annual",
                                  np.where(winter, "winter", "summer")))
    return pd.DataFrame({
        "year": years["year"].to_numpy()[which], "begin_date": begin.astype(str), "end_date": end.astype(str),
        "latitude": table["lat"].astype(float), "longitude": table["lon"].astype(float),
        "balance": table["balance"].astype(float), "balance_code": code.to_numpy(),
    }, columns=list(layout.POINT_COLUMNS))


def _check_stakes_on_grid(path: str, stakes: pd.DataFrame, x: np.ndarray, y: np.ndarray, srs: str) -> None:
    xs, ys = pyproj.Transformer.from_crs("EPSG:4326", srs, always_xy=True).transform(
        stakes["longitude"].to_numpy(), stakes["latitude"].to_numpy())
    half = abs(float(x[1] - x[0])) / 2
    off = ((xs < x.min() - half) | (xs > x.max() + half) | (ys < y.min() - half) | (ys > y.max() + half))
    if off.any():
        i = int(np.argmax(off))
        raise ValueError(f"{path}: {int(off.sum())} stake record(s) lie outside the model grid, the first "
                         f"at lat {stakes['latitude'].iloc[i]}, lon {stakes['longitude'].iloc[i]} "
                         f"(year {stakes['year'].iloc[i]})")


def _on_grid(variables: dict, dims: tuple[str, ...], coords: dict, srs: str) -> xr.Dataset:
    """float32 variables with the CRS as rioxarray writes it (CF grid mapping ``spatial_ref``)."""
    ds = xr.Dataset({k: xr.DataArray(np.asarray(v, np.float32), dims=dims, coords=coords)
                     for k, v in variables.items()})
    return ds.rio.write_crs(pyproj.CRS.from_user_input(srs).to_wkt())


def _write(ds: xr.Dataset, path: str, chunk_days: Optional[int] = None) -> None:
    """Compressed (the climate fields repeat one value per day over the grid)."""
    encoding = {}
    for name, da in ds.data_vars.items():
        # explicit encodings replace a variable's own: keep rioxarray's grid_mapping
        encoding[name] = {**da.encoding, "zlib": True, "complevel": 4}
        if chunk_days and "time" in da.dims:
            encoding[name]["chunksizes"] = (min(chunk_days, da.sizes["time"]),) + da.shape[1:]
    ds.to_netcdf(path, format="NETCDF4", encoding=encoding)


@utils.entity_task(log, writes=[])
def glaunti_export_glacier(gdir, dataset_dir: str | os.PathLike, *, name: Optional[str] = None,
                           fold: int = 2, region: str = "", first_year: Optional[int] = None,
                           last_year: Optional[int] = None, use_wgms: bool = True,
                           stakes: Optional[str | os.PathLike] = None, climate_filesuffix: str = "",
                           grid_filesuffix: str = "", overwrite: bool = False) -> dict:
    """Write the glacier's folder of a GlaUnTI training dataset (released layout).

    Nothing is written into the glacier directory; the folder ``dataset_dir/<name>`` is
    built under a temporary name and renamed when complete.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        with a daily climate (``process_daily_from_monthly`` or
        ``process_daily_gridded_climate``) and the model grid (``glaunti_model_grid``).
    dataset_dir : path-like
        the dataset folder (created if needed).
    name : str, optional
        the glacier's folder and ``index.csv`` name (default: the RGI id).
    fold : int
        its fold in ``index.csv`` (published split: 0 test, 1 validation, 2-5 training).
    region : str
        the ``region`` column (default: the RGI region code).
    first_year, last_year : int, optional
        WGMS year labels of the first and last exported year (default: 1990, the published
        spin-up start, or the first full year of the climate if later; the last full year).
    use_wgms : bool
        add OGGM's WGMS balances (``gdir.get_ref_mb_data()``) where the glacier has them.
    stakes : path-like, optional
        a stake CSV (see :func:`read_stake_csv`).
    climate_filesuffix, grid_filesuffix : str
        file suffixes of the daily climate and of the model grid.
    overwrite : bool
        replace an existing folder of that name (else it raises :class:`FileExistsError`
        before anything is written).

    Returns
    -------
    dict
        the glacier's ``index.csv`` row.
    """
    climate = read_daily_climate(gdir, filesuffix=climate_filesuffix)
    grid = read_model_grid(gdir, filesuffix=grid_filesuffix)
    with xr.open_dataset(grid.path) as ds:
        x, y, srs = ds["x"].values, ds["y"].values, ds.attrs["pyproj_srs"]
    name = name or gdir.rgi_id
    folder = os.path.join(os.fspath(dataset_dir), name)

    calendar = glacier_calendar(gdir.hemisphere)
    first, last = climate.dates[0], climate.dates[-1]
    full = [calendar.wgms_year_of(y) for y in calendar.full_years(first, last)]
    y0 = max(layout.FIRST_YEAR if first_year is None else int(first_year), full[0] if full else 0)
    y1 = min(full[-1] if full else -1, int(last_year) if last_year is not None else 10_000)
    if not full or y1 < y0:
        raise ValueError(f"{gdir.rgi_id}: the daily climate ({first}..{last}) holds no full hydrological "
                         f"year in {first_year}..{last_year}")
    years = np.arange(y0, y1 + 1)
    table = _year_table(gdir, years, first, last, use_wgms)
    day0 = np.datetime64(table["begin_date"].iloc[0])
    day1 = np.datetime64(table["end_date"].iloc[-1])
    keep = (climate.dates >= day0) & (climate.dates <= day1)
    dates = climate.dates[keep]
    shape = grid.shape
    point_table = None
    if stakes is not None:
        point_table = read_stake_csv(stakes, table)
        _check_stakes_on_grid(os.fspath(stakes), point_table, x, y, srs)
    table = _annual_only_years(table, point_table)

    coords = {"y": y, "x": x}
    daily = {"time": dates.astype("datetime64[ns]"), **coords}
    annual = {"year": years, **coords}
    field = lambda series: np.broadcast_to(series[keep].astype(np.float32)[:, None, None],  # noqa: E731
                                           (len(dates),) + shape)
    repeat = lambda a: np.broadcast_to(a[None], (len(years),) + a.shape)  # noqa: E731
    with atomic_folder(folder, overwrite=overwrite) as tmp:  # refuses an existing folder unless overwrite
        path = lambda f: os.path.join(tmp, f)  # noqa: E731
        _write(_on_grid({layout.TEMPERATURE_VAR: field(climate.temperature)}, ("time", "y", "x"), daily, srs),
               path(layout.TEMPERATURE_FILE), chunk_days=366)
        _write(_on_grid({layout.PRECIPITATION_VAR: field(climate.precipitation)}, ("time", "y", "x"), daily,
                        srs), path(layout.PRECIPITATION_FILE), chunk_days=366)
        _write(_on_grid({layout.OROGRAPHY_VAR: np.full(shape, climate.ref_hgt)}, ("y", "x"), coords, srs),
               path(layout.OROGRAPHY_FILE))
        _write(_on_grid({layout.ELEVATION_VAR: repeat(grid.elevation),
                         layout.ELEVATION_STD_VAR: repeat(grid.elevation_std)}, ("year", "y", "x"), annual, srs),
               path(layout.DEM_FILE))
        _write(_on_grid({layout.OUTLINE_VAR: repeat(grid.outline)}, ("year", "y", "x"), annual, srs),
               path(layout.OUTLINE_FILE))
        if grid.facies is not None:
            _write(_on_grid({layout.FACIES_VAR: repeat(grid.facies)}, ("year", "band", "y", "x"),
                            {**annual, "band": list(layout.FACIES_BAND_LABELS)}, srs), path(layout.FACIES_FILE))
        table.to_csv(path(layout.TOTAL_SMB_FILE), index=False, float_format="%.4f")
        if point_table is not None:
            point_table.to_csv(path(layout.POINT_SMB_FILE), index=False, float_format="%.6f")
    n_obs = int(table[["annual_balance", "winter_balance", "summer_balance"]].notna().to_numpy().sum())
    log.info("(%s) exported %d years (%d glacier-wide balances, %d stake readings) to %s", gdir.rgi_id,
             len(years), n_obs, 0 if point_table is None else len(point_table), folder)
    return {"name": name, "wgms_name": getattr(gdir, "name", "") or "", "fold": int(fold),
            "region": region or gdir.rgi_region, "max_year": int(years[-1]),
            "height": int(shape[0]), "width": int(shape[1])}


def write_dataset_index(dataset_dir: str | os.PathLike, rows: Sequence[dict]) -> str:
    """Write (or update) ``index.csv``: rows of the same name are replaced, others kept."""
    path = os.path.join(os.fspath(dataset_dir), layout.INDEX_FILE)
    new = pd.DataFrame(list(rows), columns=list(layout.INDEX_COLUMNS))
    if os.path.isfile(path):
        old = pd.read_csv(path, dtype={"name": str})
        new = pd.concat([old[~old["name"].isin(new["name"])], new], ignore_index=True)
    with atomic_path(path) as tmp:
        new.to_csv(tmp, index=False)
    return path


def export_glaunti_dataset(gdirs: Sequence, dataset_dir: str | os.PathLike, *,
                           folds: Optional[dict] = None, names: Optional[dict] = None,
                           stakes: Optional[dict] = None, **kwargs) -> pd.DataFrame:
    """Export glacier directories with :func:`glaunti_export_glacier` and write ``index.csv``.

    Parameters
    ----------
    gdirs : glacier directories.
    dataset_dir : the dataset folder.
    folds, names, stakes : optional ``{rgi_id: value}``: a glacier's fold (default 2), folder
        name (default its RGI id) and stake CSV.
    **kwargs : passed to the task (``first_year``, ``last_year``, ``use_wgms``, ``overwrite``,
        file suffixes).

    Returns
    -------
    pandas.DataFrame
        the rows added to ``index.csv``. Glaciers whose export failed (with
        ``cfg.PARAMS['continue_on_error']``) are left out, with a warning in OGGM's log.
    """
    from oggm import workflow

    folds, names, stakes = folds or {}, names or {}, stakes or {}
    rows = []
    for gdir in gdirs:  # per glacier: each has its own name, fold and stake file
        row = workflow.execute_entity_task(
            glaunti_export_glacier, [gdir], dataset_dir=dataset_dir, name=names.get(gdir.rgi_id),
            fold=folds.get(gdir.rgi_id, 2), stakes=stakes.get(gdir.rgi_id), **kwargs)[0]
        if row is None:
            log.warning("(%s) not exported (see the task's error above)", gdir.rgi_id)
        else:
            rows.append(row)
    if rows:
        write_dataset_index(dataset_dir, rows)
    return pd.DataFrame(rows, columns=list(layout.INDEX_COLUMNS))
