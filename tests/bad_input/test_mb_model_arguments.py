"""Bad arguments of GlaUnTIMassBalance, refused when it is built (and of its calls)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from oggm_glaunti.integration.run.massbalance import GlaUnTIMassBalance

from .conftest import refused

NAN, INF = float("nan"), float("inf")

#: name: (constructor arguments, key words)
CASES = {
    "prcp_fac_negative": (dict(prcp_fac=-1.), ["prcp_fac=-1", "argument", "positive"]),
    "prcp_fac_zero": (dict(prcp_fac=0.), ["prcp_fac=0"]),
    "prcp_fac_nan": (dict(prcp_fac=NAN), ["prcp_fac is nan", "finite"]),
    "prcp_fac_inf": (dict(prcp_fac=INF), ["prcp_fac is inf"]),
    "prcp_fac_text": (dict(prcp_fac="two"), ["prcp_fac='two'", "not a number"]),
    "prcp_fac_huge": (dict(prcp_fac=1e4), ["prcp_fac=10000"]),
    "temp_bias_nan": (dict(temp_bias=NAN), ["temp_bias is nan"]),
    "temp_bias_80": (dict(temp_bias=80.), ["temp_bias=80", "-5..5", "glaunti_temp_bias_range"]),
    "temp_bias_minus_inf": (dict(temp_bias=-INF), ["temp_bias is -inf"]),
    "melt_f_nan": (dict(melt_f=NAN), ["melt_f is nan"]),
    "melt_f_zero": (dict(melt_f=0.), ["melt_f=0", "degree-day"]),
    "melt_f_negative": (dict(melt_f=-3.), ["melt_f=-3"]),
    "melt_f_in_m_per_day": (dict(melt_f=0.005), ["melt_f=0.005", "mm w.e."]),
    "bias_nan": (dict(bias=NAN), ["bias is nan"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_argument(light_gdir, case):
    kwargs, words = CASES[case]
    with refused(ValueError, *words, folders=[light_gdir.dir]):
        GlaUnTIMassBalance(light_gdir, variant="A", **kwargs)


@pytest.mark.parametrize("field, value, words", [
    ("temp_bias", NAN, ["temp_bias is nan", "mb_calib_glaunti_a.json"]),
    ("prcp_fac", -2.0, ["prcp_fac=-2", "mb_calib_glaunti_a.json"]),
    ("melt_f", 1e6, ["melt_f=1e+06", "mb_calib_glaunti_a.json"]),
], ids=["calibrated_temp_bias_nan", "calibrated_prcp_fac_negative", "calibrated_melt_f_huge"])
def test_bad_calibration_file(gdir_copy, field, value, words):
    calib = {"mb_model_class": "GlaUnTIMassBalance", "temp_bias": 0.5, "prcp_fac": 1.2,
             "melt_f": 5.0, field: value}
    gdir_copy.write_json(calib, "mb_calib", filesuffix="_glaunti_A")
    with refused(ValueError, *words, folders=[gdir_copy.dir]):
        GlaUnTIMassBalance(gdir_copy, variant="A")


def test_unknown_variant(light_gdir):
    with refused(ValueError, "unknown variant 'e'", folders=[light_gdir.dir]):
        GlaUnTIMassBalance(light_gdir, variant="E")


def test_years_outside_the_climate(light_gdir):
    with refused(ValueError, "no calendar year", "ys=2050", folders=[light_gdir.dir]):
        GlaUnTIMassBalance(light_gdir, variant="A", ys=2050)


def test_missing_daily_file(light_gdir):
    with refused(FileNotFoundError, "climate_historical_daily_none.nc", "process_daily_from_monthly",
                 folders=[light_gdir.dir]):
        GlaUnTIMassBalance(light_gdir, variant="A", input_filesuffix="_none")


def test_missing_model_grid(light_gdir):
    with refused(FileNotFoundError, "glaunti_grid_none.nc", "glaunti_model_grid",
                 folders=[light_gdir.dir]):
        GlaUnTIMassBalance(light_gdir, variant="A", grid_filesuffix="_none")


@pytest.fixture(scope="module")
def mb_a(light_gdir):
    return GlaUnTIMassBalance(light_gdir, variant="A")


@pytest.mark.parametrize("heights, year, words", [
    ([2500., 3000.], 1850, ["year 1850", "outside the years"]),
    ([2500., np.nan], 1995, ["nan or infinite", "heights"]),
    ([], 1995, ["heights is empty"]),
    ([2500.], None, ["year is required"]),
], ids=["year_outside", "heights_nan", "heights_empty", "no_year"])
def test_bad_call(mb_a, light_gdir, heights, year, words):
    with refused(ValueError, *words, folders=[light_gdir.dir]):
        mb_a.get_annual_mb(np.asarray(heights), year=year)


@pytest.mark.parametrize("call", ["get_annual_mb", "get_monthly_mb", "get_daily_mb", "grid_smb", "is_year_valid"])
def test_year_as_text(mb_a, light_gdir, call):
    """A year given as text is refused naming the argument, not with NumPy's ufunc error."""
    with refused(TypeError, "year='2000'", "is a str", "year=2000", folders=[light_gdir.dir]):
        method = getattr(mb_a, call)
        method("2000") if call in ("grid_smb", "is_year_valid") else method([2500.0], year="2000")


@pytest.mark.parametrize("argument", ["ys", "ye"])
def test_year_bounds_as_text(light_gdir, argument):
    with refused(TypeError, f"{argument}='1995'", "give the year as a number", folders=[light_gdir.dir]):
        GlaUnTIMassBalance(light_gdir, variant="A", **{argument: "1995"})


@pytest.mark.parametrize("kwargs, words", [
    (dict(melt_f=5.0), ["melt_f=5.0 (argument)", "variant b", "no degree-day factor"]),
    (dict(melt_f=float("nan")), ["melt_f is nan"]),
], ids=["melt_f_given", "melt_f_nan"])
def test_variant_b_takes_no_melt_f(light_gdir, kwargs, words):
    """B, the GRU baseline, has no TI melt factor: a melt_f given to it is refused, never ignored."""
    with refused(ValueError, *words, folders=[light_gdir.dir]):
        GlaUnTIMassBalance(light_gdir, variant="B", **kwargs)


def test_variant_b_refuses_melt_f_set_later(light_gdir):
    """OGGM's tasks set the MB model's attributes: melt_f set on B is refused as well."""
    mb = GlaUnTIMassBalance(light_gdir, variant="B", temp_bias=0.5)
    assert np.isnan(mb.melt_f) and mb.temp_bias == 0.5
    with refused(ValueError, "melt_f=4.0", "variant b", folders=[light_gdir.dir]):
        mb.melt_f = 4.0


def test_variant_b_refuses_a_calibration_with_melt_f(gdir_copy):
    gdir_copy.write_json({"mb_model_class": "GlaUnTIMassBalance", "variant": "B", "temp_bias": 0.5,
                          "melt_f": 5.0}, "mb_calib", filesuffix="_glaunti_B")
    with refused(ValueError, "melt_f=5.0 (mb_calib_glaunti_b.json)", "variant b", folders=[gdir_copy.dir]):
        GlaUnTIMassBalance(gdir_copy, variant="B")


@pytest.mark.parametrize("content, words", [
    ("{ not JSON", ["mb_calib_glaunti_a.json is not readable json", "glaunti_calibrate"]),
    ("[1, 2]", ["mb_calib_glaunti_a.json holds a list", "glaunti_calibrate"]),
], ids=["not_json", "not_an_object"])
def test_unreadable_calibration_file(gdir_copy, content, words):
    with open(gdir_copy.get_filepath("mb_calib", filesuffix="_glaunti_A"), "w") as f:
        f.write(content)
    with refused(ValueError, *words, folders=[gdir_copy.dir]):
        GlaUnTIMassBalance(gdir_copy, variant="A")


def test_oggm_file_of_another_variant_is_not_read(gdir_copy):
    """OGGM's mb_calib.json labelled for the class is read only for the variant it names."""
    gdir_copy.write_json({"mb_model_class": "GlaUnTIMassBalance", "variant": "C", "temp_bias": 0.5}, "mb_calib")
    assert GlaUnTIMassBalance(gdir_copy, variant="A").temp_bias == 0.0


def test_calibration_values_are_used_when_valid(gdir_copy):
    """The checks read the calibration file the model then uses (not refused when valid)."""
    gdir_copy.write_json({"mb_model_class": "GlaUnTIMassBalance", "temp_bias": 0.5,
                          "prcp_fac": 1.2, "melt_f": 5.0}, "mb_calib", filesuffix="_glaunti_A")
    mb = GlaUnTIMassBalance(gdir_copy, variant="A")
    assert (mb.temp_bias, mb.prcp_fac, mb.melt_f) == (0.5, 1.2, 5.0)
    assert json.loads(Path(gdir_copy.get_filepath("mb_calib", filesuffix="_glaunti_A")).read_text())
