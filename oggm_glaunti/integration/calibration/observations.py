"""Calibration data, gathered into one table: WGMS glacier-wide balances, a geodetic mean,
stake records. No JAX here.

Conventions: WGMS balances of year Y are glaciological hydrological years (1 Oct Y-1 to
30 Sep Y in the northern hemisphere), i.e. our hydrological year labelled Y - 1. Winter ends
and summer begins on the first day of ``winter_end_month`` (May in the north). Values are
converted to m w.e.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Largest plausible glacier-wide geodetic balance, mm w.e. per year.
MAX_ABS_GEODETIC_MM = 10000.
#: Largest plausible stake balance, m w.e. (larger values are mm read as m).
MAX_ABS_STAKE_M_WE = 30.


@dataclass
class Observations:
    """Everything a calibration fits, in m w.e., keyed by hydrological year label.

    annual, winter, summer : {hydro_year: glacier-wide balance}.
    geodetic : (first hydro year, last hydro year, mean annual balance) or None.
    stakes : DataFrame with columns date0, date1, row, col, balance (m w.e.).
    """

    annual: dict = field(default_factory=dict)
    winter: dict = field(default_factory=dict)
    summer: dict = field(default_factory=dict)
    geodetic: tuple | None = None
    stakes: pd.DataFrame | None = None
    sources: list = field(default_factory=list)

    def years(self) -> set[int]:
        years = set(self.annual) | set(self.winter) | set(self.summer)
        if self.geodetic is not None:
            years |= set(range(self.geodetic[0], self.geodetic[1] + 1))
        if self.stakes is not None and len(self.stakes):
            years |= set(self.stakes["hydro_year"].astype(int))
        return years

    def count(self) -> int:
        n = len(self.annual) + len(self.winter) + len(self.summer) + (self.geodetic is not None)
        return n + (0 if self.stakes is None else len(self.stakes))


def from_wgms(gdir, obs: Observations, ref_years: tuple[int, int] | None) -> bool:
    """Add the glacier's WGMS balances (``gdir.get_ref_mb_data()``), mm w.e. -> m w.e.

    Returns False (adding nothing) when the glacier is not one of OGGM's WGMS reference
    glaciers.
    """
    try:
        df = gdir.get_ref_mb_data()
    except RuntimeError as exc:
        if "reference glacier" not in str(exc):
            raise
        return False
    if ref_years is not None:
        df = df.loc[ref_years[0]:ref_years[1]]
    for column, target in (("ANNUAL_BALANCE", obs.annual), ("WINTER_BALANCE", obs.winter),
                           ("SUMMER_BALANCE", obs.summer)):
        if column in df:
            for year, value in df[column].dropna().items():
                target[int(year) - 1] = float(value) / 1000.0
    obs.sources.append(f"WGMS ({len(df)} years)")
    return True


def from_geodetic(gdir, obs: Observations, geodetic) -> None:
    """Add a geodetic mean: ``(y0, y1, mm w.e. per year)`` over 1 Jan y0 .. 1 Jan y1, or
    'oggm' for OGGM's table (Hugonnet et al. 2021, needs a network or OGGM's cache)."""
    if isinstance(geodetic, str):
        if geodetic != "oggm":
            raise ValueError(f"geodetic must be (y0, y1, mm w.e./yr) or 'oggm'; got {geodetic!r}")
        from oggm import utils

        df = utils.get_geodetic_mb_dataframe().loc[gdir.rgi_id]
        df = df.loc[df["period"] == "2000-01-01_2020-01-01"]
        geodetic = (2000, 2020, float(df["dmdtda"].iloc[0]) * 1000.0)
    try:
        y0, y1, value = (float(v) for v in geodetic)
    except (TypeError, ValueError):
        raise ValueError(f"geodetic must be (y0, y1, mm w.e./yr) or 'oggm'; got {geodetic!r}") from None
    if not y1 > y0:
        raise ValueError(f"geodetic period must have y1 > y0; got {y0:g}, {y1:g}")
    if not abs(value) <= MAX_ABS_GEODETIC_MM:
        raise ValueError(f"geodetic mass balance {value:g} mm w.e./yr is not a finite value within "
                         f"+-{MAX_ABS_GEODETIC_MM:g}: give it in mm w.e. per year (m w.e. x 1000)")
    y0, y1 = int(y0), int(y1)
    obs.geodetic = (int(y0) - 1, int(y1) - 2, float(value) / 1000.0)
    obs.sources.append(f"geodetic {y0}-{y1}")


def from_stakes(gdir, obs: Observations, path, grid, start_month: int) -> None:
    """Add stake records from a CSV with columns date0, date1, lat, lon, balance (m w.e.)."""
    import pyproj

    if not os.path.exists(path):
        raise FileNotFoundError(f"stake file not found: {path}")
    df = pd.read_csv(path)
    missing = {"date0", "date1", "lat", "lon", "balance"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected date0, date1, lat, lon, balance")
    balance = df["balance"].to_numpy(float)
    if not np.all(np.abs(balance) <= MAX_ABS_STAKE_M_WE):
        raise ValueError(f"{path}: stake balances must be finite, in m w.e. (within "
                         f"+-{MAX_ABS_STAKE_M_WE:g}); found {balance[~(np.abs(balance) <= MAX_ABS_STAKE_M_WE)][:3]} "
                         "(NaN, or mm w.e.? divide by 1000)")
    df["date0"] = pd.to_datetime(df["date0"]).values.astype("datetime64[D]")
    df["date1"] = pd.to_datetime(df["date1"]).values.astype("datetime64[D]")
    if (df["date1"] <= df["date0"]).any():
        raise ValueError(f"{path}: some records end before they begin (date1 <= date0)")
    import xarray as xr

    with xr.open_dataset(grid.path) as ds:
        x, y, srs = ds["x"].values, ds["y"].values, ds.attrs["pyproj_srs"]
    tx = pyproj.Transformer.from_crs("EPSG:4326", srs, always_xy=True)
    px, py = tx.transform(df["lon"].values, df["lat"].values)
    dx = float(x[1] - x[0])
    col = np.floor((px - (x[0] - dx / 2)) / dx).astype(int)
    row = np.floor(((y[0] + abs(dx) / 2) - py) / abs(dx)).astype(int)
    outside = (col < 0) | (col >= len(x)) | (row < 0) | (row >= len(y))
    if outside.any():
        raise ValueError(f"{path}: {int(outside.sum())} stake(s) lie outside the model grid of {gdir.rgi_id}")
    df["row"], df["col"] = row, col
    begin_year = pd.DatetimeIndex(df["date0"]).year.values
    begin_month = pd.DatetimeIndex(df["date0"]).month.values
    df["hydro_year"] = np.where(begin_month >= start_month, begin_year, begin_year - 1)
    obs.stakes = df[["date0", "date1", "row", "col", "balance", "hydro_year"]].reset_index(drop=True)
    obs.sources.append(f"stakes ({len(df)} records, {os.path.basename(path)})")
