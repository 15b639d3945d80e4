"""Bad monthly climate and GCM files given to the disaggregation tasks
(process_daily_from_monthly, process_daily_from_gcm): nothing may be written."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from oggm_glaunti.integration.climate.climate_daily import process_daily_from_gcm, process_daily_from_monthly

from .conftest import refused


def _write_monthly(gdir, suffix, *, key="climate_historical", temp=None, prcp=None, drop=None,
                   years=("1995", "2002"), ref_hgt=None):
    """A monthly file ``key{suffix}`` made from the glacier's own, with values changed."""
    with xr.open_dataset(gdir.get_filepath("climate_historical")) as ds:
        ds = ds.sel(time=slice(*years)).load()
    keep = np.ones(ds.time.size, bool)
    if drop is not None:
        keep[drop] = False
    t = ds.temp.values if temp is None else temp(ds.temp.values)
    p = ds.prcp.values if prcp is None else prcp(ds.prcp.values)
    height = ds.ref_hgt if ref_hgt is None else ref_hgt(ds.ref_hgt)
    gdir.write_monthly_climate_file(ds.time.values[keep], p[keep], t[keep], height,
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
    # a chain that can never leave a dry spell, or a wet one (was a ZeroDivisionError)
    "wet_chain_absorbing": ({}, dict(p_wet_after_dry=0., p_wet_after_wet=1.), ValueError,
                            ["p_wet_after_dry (argument) = 0.0", "(0, 1]", "never leaves a dry spell",
                             "p_wet_after_wet (argument) = 1.0", "[0, 1)"]),
    "seed_negative": ({}, dict(seed=-1), ValueError, ["seed (argument) = -1", "whole number >= 0"]),
    # the climate's reference height: geopotential (m2 s-2) taken for m, or nonsense
    "ref_hgt_geopotential": (dict(ref_hgt=lambda h: h * 9.80665), {}, ValueError,
                             ["climate_historical_bad.nc", "global attribute ref_hgt", "30989",
                              "geopotential", "divided by g", "process_climate_data"]),
    "ref_hgt_far_below_sea_level": (dict(ref_hgt=lambda h: -5000.), {}, ValueError,
                                    ["ref_hgt", "-5000", "outside the plausible -500..9000 m"]),
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


@pytest.mark.parametrize("params, words", [
    (dict(glaunti_daily_p_wet_after_dry=0., glaunti_daily_p_wet_after_wet=1.),
     ["cfg.params['glaunti_daily_p_wet_after_dry'] = 0.0",
      "cfg.params['glaunti_daily_p_wet_after_wet'] = 1.0"]),
    (dict(glaunti_daily_temp_ar1=-0.2), ["cfg.params['glaunti_daily_temp_ar1'] = -0.2", "[0, 1)"]),
    (dict(glaunti_daily_prcp_gamma_shape=float("nan")),
     ["cfg.params['glaunti_daily_prcp_gamma_shape'] = nan", "> 0"]),
    (dict(glaunti_daily_temp_std_default=-3.), ["glaunti_daily_temp_std_default", ">= 0 (degc)"]),
], ids=["wet_chain_absorbing", "ar1_negative", "gamma_shape_nan", "temp_std_negative"])
def test_bad_disaggregation_settings_name_the_cfg_key(light_gdir, monkeypatch, params, words):
    from oggm import cfg

    for key, value in params.items():
        monkeypatch.setitem(cfg.PARAMS, key, value)
    with refused(ValueError, "disaggregation settings out of range", *words, folders=[light_gdir.dir]):
        process_daily_from_monthly(light_gdir, output_filesuffix="_bad")


def test_gcm_file_with_geopotential_ref_hgt(gdir_copy):
    _write_monthly(gdir_copy, "_CCSM4_rcp26", key="gcm_data", ref_hgt=lambda h: h * 9.80665)
    with refused(ValueError, "gcm_data_ccsm4_rcp26.nc", "ref_hgt", "geopotential", "process_cmip_data",
                 folders=[gdir_copy.dir]):
        process_daily_from_gcm(gdir_copy, input_filesuffix="_CCSM4_rcp26")


def test_missing_monthly_file(light_gdir):
    with refused(FileNotFoundError, "does not exist", "process_climate_data",
                 folders=[light_gdir.dir]):
        process_daily_from_monthly(light_gdir, input_filesuffix="_none")


def test_missing_gcm_file(light_gdir):
    with refused(FileNotFoundError, "does not exist", "process_cmip_data", folders=[light_gdir.dir]):
        process_daily_from_gcm(light_gdir, input_filesuffix="_none")
