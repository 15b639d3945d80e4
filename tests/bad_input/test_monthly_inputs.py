"""Bad monthly climate and GCM files given to the disaggregation tasks
(process_daily_from_monthly, process_daily_from_gcm): nothing may be written."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from oggm_glaunti.integration.climate.climate_daily import process_daily_from_gcm, process_daily_from_monthly

from .conftest import refused


def _write_monthly(gdir, suffix, *, key="climate_historical", temp=None, prcp=None, drop=None,
                   years=("1995", "2002")):
    """A monthly file ``key{suffix}`` made from the glacier's own, with values changed."""
    with xr.open_dataset(gdir.get_filepath("climate_historical")) as ds:
        ds = ds.sel(time=slice(*years)).load()
    keep = np.ones(ds.time.size, bool)
    if drop is not None:
        keep[drop] = False
    t = ds.temp.values if temp is None else temp(ds.temp.values)
    p = ds.prcp.values if prcp is None else prcp(ds.prcp.values)
    gdir.write_monthly_climate_file(ds.time.values[keep], p[keep], t[keep], ds.ref_hgt,
                                    ds.ref_pix_lon, ds.ref_pix_lat, filesuffix=suffix,
                                    file_name=key, source="test")


def _nan_in_march(values):
    values = values.copy()
    values[2] = np.nan
    return values


#: name: (monthly file changes, task arguments, exception, key words)
CASES = {
    "temperature_in_kelvin": (dict(temp=lambda t: t + 273.15), {}, ValueError,
                              ["outside the plausible", "degc"]),
    "precipitation_in_m": (dict(prcp=lambda p: p / 1000), {}, ValueError,
                           ["implausibly dry", "kg m-2 per month"]),
    "precipitation_in_mm_per_day_as_m": (dict(prcp=lambda p: p * 1000), {}, ValueError,
                                         ["exceeds the plausible"]),
    "temperature_missing_a_month": (dict(temp=_nan_in_march), {}, ValueError,
                                    ["nan or infinite", "monthly temp", "1995-03"]),
    "precipitation_missing_a_month": (dict(prcp=_nan_in_march), {}, ValueError,
                                      ["nan or infinite", "monthly prcp"]),
    "a_month_missing": (dict(drop=[5]), {}, ValueError, ["consecutive months"]),
    "years_outside": ({}, dict(y0=1980, y1=1999), ValueError, ["y0=1980", "1995-2002"]),
    "negative_temp_std_default": ({}, dict(temp_std_default=-1.), ValueError, ["temp_std_default"]),
    "ar1_of_one": ({}, dict(ar1=1.0), ValueError, ["ar1", "[0, 1)"]),
    "wet_probability_above_one": ({}, dict(p_wet_after_wet=1.5), ValueError,
                                  ["p_wet_after_wet", "probability"]),
    "gamma_shape_zero": ({}, dict(gamma_shape=0.), ValueError, ["gamma_shape", "> 0"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_monthly_file(gdir_copy, case):
    changes, kw, error, words = CASES[case]
    _write_monthly(gdir_copy, "_bad", **changes)
    with refused(error, *words, folders=[gdir_copy.dir]):
        process_daily_from_monthly(gdir_copy, input_filesuffix="_bad", **kw)


def test_bad_gcm_file(gdir_copy):
    _write_monthly(gdir_copy, "_CCSM4_rcp26", key="gcm_data", temp=lambda t: t + 273.15)
    with refused(ValueError, "outside the plausible", "gcm_data_ccsm4_rcp26.nc",
                 folders=[gdir_copy.dir]):
        process_daily_from_gcm(gdir_copy, input_filesuffix="_CCSM4_rcp26")


def test_missing_monthly_file(light_gdir):
    with refused(FileNotFoundError, "does not exist", "process_climate_data",
                 folders=[light_gdir.dir]):
        process_daily_from_monthly(light_gdir, input_filesuffix="_none")


def test_missing_gcm_file(light_gdir):
    with refused(FileNotFoundError, "does not exist", "process_cmip_data", folders=[light_gdir.dir]):
        process_daily_from_gcm(light_gdir, input_filesuffix="_none")
