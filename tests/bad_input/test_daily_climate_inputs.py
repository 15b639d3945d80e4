"""Bad daily gridded climate (process_daily_gridded_climate): units that lie, broken grids
and time axes. The glacier's existing daily file must stay as it was."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from oggm_glaunti.integration.climate.climate_daily import process_daily_gridded_climate

from .conftest import refused

LATS = np.array([47.0, 46.9, 46.8, 46.7])   # descending, as ERA5-Land
LONS = np.array([10.6, 10.7, 10.8, 10.9])
TIME = pd.date_range("2001-01-01", "2002-12-31", freq="D")


def _fields():
    """Daily mean temperature (degC) and precipitation (mm/day), plausible for the Alps."""
    days = np.arange(TIME.size)
    temp = -5 + 10 * np.sin(2 * np.pi * (days - 100) / 365.25)
    prcp = 3 + 3 * np.cos(days / 5.)
    shape = (1, LATS.size, LONS.size)
    return temp[:, None, None] * np.ones(shape), prcp[:, None, None] * np.ones(shape)


def _dataset(var, values, units, lons=LONS, time=TIME):
    da = xr.DataArray(values, dims=("time", "latitude", "longitude"),
                      coords={"time": time, "latitude": LATS, "longitude": lons}, name=var)
    if units is not None:
        da.attrs["units"] = units
    return da.to_dataset()


def _orography(lons=LONS, value=3000., units="m"):
    return xr.DataArray(np.full((LATS.size, lons.size), value), dims=("latitude", "longitude"),
                        coords={"latitude": LATS, "longitude": lons}, name="z",
                        attrs={"units": units})


def write(path, temp=None, prcp=None, temp_units="degC", prcp_units="mm/day", lons=LONS,
          time=TIME, orography=True):
    """A daily file at ``path``: the plausible fields unless others are given; ``orography``
    True (3000 m), False (none) or (value, units)."""
    t, p = _fields()
    t = t if temp is None else temp
    p = p if prcp is None else prcp
    ds = xr.merge([_dataset("t2m", t[:time.size], temp_units, lons, time),
                   _dataset("tp", p[:time.size], prcp_units, lons, time)])
    if orography:
        ds["z"] = _orography(lons, *(orography if isinstance(orography, tuple) else ()))
    ds.to_netcdf(path)
    return path


@pytest.fixture
def gdir(light_gdir):
    return light_gdir


def _run(gdir, files, **kw):
    process_daily_gridded_climate(gdir, filepath=files, **kw)


def _make(tmp_path, name, **kw):
    return write(tmp_path / name, **kw)


t_degc, p_mm = _fields()

#: name: (file settings, task arguments, exception, key words)
CASES = {
    "degC_labelled_K": (dict(temp_units="K"), {}, ValueError,
                        ["-27", "outside the plausible", "temp_units"]),
    "K_labelled_degC": (dict(temp=t_degc + 273.15, temp_units="degC"), {}, ValueError,
                        ["outside the plausible", "kelvin", "temp_units"]),
    "K_argument_on_degC_data": ({}, dict(temp_units="K"), ValueError,
                                ["outside the plausible", "'k'"]),
    "m_per_day_labelled_mm": (dict(prcp=p_mm / 1000, prcp_units="mm"), {}, ValueError,
                              ["implausibly dry", "1000 times too little", "prcp_units"]),
    "mm_per_day_labelled_m": (dict(prcp_units="m"), {}, ValueError,
                              ["exceeds the plausible", "1000 times too much", "prcp_units"]),
    "rate_read_as_daily_total": (dict(prcp_units="kg m-2 s-1"), {}, ValueError,
                                 ["exceeds the plausible"]),
    "no_temperature_units": (dict(temp_units=None), {}, ValueError, ["no `units`", "temp_units="]),
    "no_precipitation_units": (dict(prcp_units=None), {}, ValueError, ["no `units`", "prcp_units="]),
    "unknown_units": (dict(prcp_units="furlongs"), {}, ValueError, ["'furlongs'", "not understood"]),
    "variable_missing": ({}, dict(temp_var="tas"), ValueError, ["'tas'", "none of the files"]),
    "nan_at_glacier": (dict(temp=np.where(np.arange(TIME.size)[:, None, None] == 3, np.nan, t_degc)),
                       {}, ValueError, ["missing (nan)", "glacier"]),
    "glacier_outside_grid": (dict(lons=LONS + 5), {}, ValueError, ["outside the grid"]),
    "repeated_longitudes": (dict(lons=np.array([10.6, 10.7, 10.7, 10.9])), {}, ValueError,
                            ["repeats", "longitude", "10.7"]),
    "no_orography": (dict(orography=False), {}, ValueError, ["no orography", "orography="]),
    # ERA5's geopotential labelled m: a reference height of 29,420 m (9.8 times too high)
    "geopotential_labelled_m": (dict(orography=(3000. * 9.80665, "m")), {}, ValueError,
                                ["daily.nc", "orography 'z'", "units 'm'", "29420", "geopotential",
                                 "divided by g", "orography_units='m2 s-2'"]),
    "orography_far_below_sea_level": (dict(orography=(-5000., "m")), {}, ValueError,
                                      ["orography 'z'", "-5000", "outside the plausible -500..9000 m"]),
    "years_outside_the_file": ({}, dict(y0=1990, y1=2001), ValueError,
                               ["y0=1990", "2001-2002"]),
    "last_year_before_first": ({}, dict(y0=2002, y1=2001), ValueError, ["not a valid period"]),
    "unknown_method": ({}, dict(method="cubic"), ValueError, ["'nearest' or 'bilinear'"]),
    "temperature_too_short_a_file": ({}, "split_days", ValueError, ["same days"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_daily_file(gdir, tmp_path, case):
    settings, kw, error, words = CASES[case]
    path = _make(tmp_path, "daily.nc", **settings)
    files = path
    if kw == "split_days":  # precipitation a month shorter than temperature
        files = [_make(tmp_path, "t.nc"), tmp_path / "p.nc"]
        t, p = _fields()
        _dataset("tp", p[:-31], "mm/day", time=TIME[:-31]).to_netcdf(files[1])
        xr.open_dataset(files[0]).drop_vars("tp").load().to_netcdf(tmp_path / "t_only.nc")
        files = [tmp_path / "t_only.nc", files[1]]
        kw = {}
    with refused(error, *words, folders=[gdir.dir, tmp_path]):
        _run(gdir, files, **kw)


def test_gaps_in_days(gdir, tmp_path):
    keep = np.ones(TIME.size, bool)
    keep[40:45] = False
    t, p = _fields()
    ds = xr.merge([_dataset("t2m", t[keep], "degC", time=TIME[keep]),
                   _dataset("tp", p[keep], "mm/day", time=TIME[keep])])
    ds["z"] = _orography()
    ds.to_netcdf(tmp_path / "gaps.nc")
    with refused(ValueError, "gaps", folders=[gdir.dir, tmp_path]):
        _run(gdir, tmp_path / "gaps.nc")


@pytest.mark.parametrize("calendar, words", [
    ("noleap", ["'noleap' calendar", "convert_calendar('standard', missing=np.nan)", "29 february"]),
    ("360_day", ["'360_day' calendar", "convert_calendar('standard', align_on='year'"]),
])
def test_non_standard_calendar(gdir, tmp_path, calendar, words):
    """2003-2004 on a no-leap calendar lacks 29 February 2004: said as such, not as a gap."""
    time = xr.date_range("2003-01-01", periods=TIME.size, freq="D", calendar=calendar, use_cftime=True)
    path = _make(tmp_path, "daily.nc", time=time)
    with refused(ValueError, "t2m", "only the standard (gregorian) calendar", *words,
                 folders=[gdir.dir, tmp_path]):
        _run(gdir, path)


def test_overlapping_files(gdir, tmp_path):
    a = _make(tmp_path, "a.nc")
    b = _make(tmp_path, "b.nc")
    with refused(ValueError, "duplicate days", folders=[gdir.dir, tmp_path]):
        _run(gdir, [a, b])


def test_no_filepath(gdir):
    with refused(ValueError, "filepath=", folders=[gdir.dir]):
        process_daily_gridded_climate(gdir)


def test_file_not_found(gdir, tmp_path):
    with refused(FileNotFoundError, "not found", "nothere.nc", folders=[gdir.dir]):
        _run(gdir, tmp_path / "nothere.nc")


def test_orography_file_with_several_variables(gdir, tmp_path):
    path = _make(tmp_path, "daily.nc", orography=False)
    xr.Dataset({"a": _orography(), "b": _orography()}).to_netcdf(tmp_path / "orog.nc")
    with refused(ValueError, "cannot tell the orography", "orography_var=", folders=[gdir.dir]):
        _run(gdir, path, orography=tmp_path / "orog.nc")


def test_unsorted_longitudes_give_the_sorted_result(gdir, tmp_path):
    """Longitudes out of order (e.g. rolled from 0..360) are sorted, not refused."""
    order = np.array([2, 0, 3, 1])
    sorted_file = _make(tmp_path, "sorted.nc")
    t, p = _fields()
    shuffled = _make(tmp_path, "shuffled.nc", temp=t[:, :, order] + np.arange(4)[order] * 0.1,
                     prcp=p[:, :, order], lons=LONS[order])
    write(sorted_file, temp=t + np.arange(4) * 0.1)
    out = {}
    for name, path in (("sorted", sorted_file), ("shuffled", shuffled)):
        _run(gdir, path, filesuffix=f"_{name}")
        with xr.open_dataset(gdir.get_filepath("climate_historical_daily", filesuffix=f"_{name}")) as ds:
            out[name] = ds.load()
    np.testing.assert_array_equal(out["shuffled"].temp.values, out["sorted"].temp.values)
    assert out["shuffled"].attrs["ref_pix_lon"] == out["sorted"].attrs["ref_pix_lon"] == 10.8
    for name in out:
        import os
        os.remove(gdir.get_filepath("climate_historical_daily", filesuffix=f"_{name}"))
