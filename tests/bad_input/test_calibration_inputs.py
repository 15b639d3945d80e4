"""Bad calibration data and settings given to glaunti_calibrate: refused before any
optimisation, and no calibration file written."""
from __future__ import annotations

import pytest

from oggm_glaunti.integration.calibration.task import glaunti_calibrate

from .conftest import refused

STAKE_COLUMNS = "date0,date1,lat,lon,balance\n"


def _stakes(tmp_path, rows: str, header: str = STAKE_COLUMNS):
    path = tmp_path / "stakes.csv"
    path.write_text(header + rows)
    return path


def _inside(gdir) -> str:
    return f"{gdir.cenlat:.5f},{gdir.cenlon:.5f}"


#: name: (glaunti_calibrate arguments (a function of gdir and tmp_path), exception, key words)
CASES = {
    "variant_b": (lambda g, t: dict(variant="B"), ValueError, ["variant b", "no physical parameters"]),
    "unknown_parameter": (lambda g, t: dict(variant="A", parameters=["melt"]), ValueError,
                          ["parameters must be", "'melt'"]),
    "no_parameter": (lambda g, t: dict(variant="A", parameters=[]), ValueError, ["parameters must be"]),
    "ti_with_variant_c": (lambda g, t: dict(variant="C", parameters=["ti"]), ValueError,
                          ["fine-tunes variant a"]),
    "no_data": (lambda g, t: dict(variant="A", use_wgms=False), ValueError,
                ["no calibration data", "geodetic="]),
    "wgms_years_outside": (lambda g, t: dict(variant="A", ref_years=(1850, 1860)), ValueError,
                           ["no calibration data"]),
    "geodetic_outside_climate": (lambda g, t: dict(variant="A", use_wgms=False,
                                                   geodetic=(1900, 1910, -500.)),
                                 ValueError, ["does not overlap"]),
    "geodetic_reversed": (lambda g, t: dict(variant="A", use_wgms=False, geodetic=(2000, 1995, -500.)),
                          ValueError, ["y1 > y0"]),
    "geodetic_text": (lambda g, t: dict(variant="A", use_wgms=False, geodetic="hugonnet"),
                      ValueError, ["geodetic must be", "'hugonnet'"]),
    "geodetic_two_numbers": (lambda g, t: dict(variant="A", use_wgms=False, geodetic=(1995, 2000)),
                             ValueError, ["geodetic must be"]),
    "geodetic_nan": (lambda g, t: dict(variant="A", use_wgms=False,
                                       geodetic=(1995, 2000, float("nan"))),
                     ValueError, ["geodetic mass balance nan", "mm w.e."]),
    "geodetic_in_kg_per_year_total": (lambda g, t: dict(variant="A", use_wgms=False,
                                                        geodetic=(1995, 2000, -5e6)),
                                      ValueError, ["-5e+06", "mm w.e. per year"]),
    "stakes_file_missing": (lambda g, t: dict(variant="A", use_wgms=False,
                                              stakes_csv=t / "none.csv"),
                            FileNotFoundError, ["stake file not found"]),
    "stakes_column_missing": (lambda g, t: dict(variant="A", use_wgms=False, stakes_csv=_stakes(
        t, "1995-10-01,1996-09-30,46.8,10.7\n", header="date0,date1,lat,lon\n")),
        ValueError, ["missing column", "balance"]),
    "stakes_reversed_dates": (lambda g, t: dict(variant="A", use_wgms=False, stakes_csv=_stakes(
        t, f"1996-09-30,1995-10-01,{_inside(g)},-1.2\n")), ValueError, ["end before they begin"]),
    "stakes_outside_grid": (lambda g, t: dict(variant="A", use_wgms=False, stakes_csv=_stakes(
        t, "1995-10-01,1996-09-30,47.5,11.5,-1.2\n")), ValueError, ["outside the model grid"]),
    "stakes_in_mm": (lambda g, t: dict(variant="A", use_wgms=False, stakes_csv=_stakes(
        t, f"1995-10-01,1996-09-30,{_inside(g)},-1200\n")), ValueError, ["m w.e.", "divide by 1000"]),
    "stakes_nan_balance": (lambda g, t: dict(variant="A", use_wgms=False, stakes_csv=_stakes(
        t, f"1995-10-01,1996-09-30,{_inside(g)},\n")), ValueError, ["must be finite"]),
    "geodetic_partly_outside_climate": (lambda g, t: dict(variant="A", use_wgms=False,
                                                          geodetic=(1995, 2010, -500.)),
                                        ValueError, ["not covered by the daily climate", "2002-2008"]),
    "geodetic_bad_uncertainty": (lambda g, t: dict(variant="A", use_wgms=False,
                                                   geodetic=(1995, 2000, -500., -10.)),
                                 ValueError, ["geodetic uncertainty", "positive"]),
    "prcp_fac_with_too_few_seasonal_years": (lambda g, t: dict(variant="A", parameters=["temp_bias", "prcp_fac"]),
                                             ValueError, ["too few data to fit prcp_fac", "0 hydrological year",
                                                          "glaunti_calib_min_seasonal_years"]),
    "ti_with_one_value": (lambda g, t: dict(variant="A", parameters=["ti"], use_wgms=False, use_profiles=False,
                                            geodetic=(1995, 2000, -500.)),
                          ValueError, ["too few data for the requested parameters", "1 observation"]),
    "sigma_unknown_kind": (lambda g, t: dict(variant="A", sigmas={"annuals": 0.2}), ValueError,
                           ["unknown data kind", "annuals"]),
    "sigma_negative": (lambda g, t: dict(variant="A", sigmas={"annual": -0.2}), ValueError,
                       ["sigmas['annual']", "positive uncertainty"]),
    "prcp_fac_zero": (lambda g, t: dict(variant="A", prcp_fac=0.0), ValueError, ["prcp_fac must be a positive"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_calibration_input(light_gdir, tmp_path, case):
    arguments, error, words = CASES[case]
    kwargs = arguments(light_gdir, tmp_path)
    with refused(error, *words, folders=[light_gdir.dir, tmp_path]):
        glaunti_calibrate(light_gdir, **kwargs)


def test_profile_outside_the_grid_is_refused(light_gdir, monkeypatch):
    import pandas as pd

    from oggm_glaunti.integration.calibration.observations import Observations, from_wgms_profiles
    from oggm_glaunti.integration.grid.glacier_data import read_model_grid

    profile = pd.DataFrame({5025.0: [-1000.0], 5075.0: [-500.0]}, index=[1995])
    monkeypatch.setattr(light_gdir, "get_ref_mb_profile", lambda *a, **k: profile)
    with refused(ValueError, "outside the model grid's glacier elevations", "5025-5075", folders=[light_gdir.dir]):
        from_wgms_profiles(light_gdir, Observations(), read_model_grid(light_gdir))


def test_no_convergence_and_implausible_fits_write_nothing(gdir_copy):
    """A fit that stops early, or lands outside the plausible ranges, is refused."""
    from oggm import cfg

    with refused(RuntimeError, "did not converge", "max_steps", "nothing was written", folders=[gdir_copy.dir]):
        glaunti_calibrate(gdir_copy, variant="A", parameters=["ti"], max_steps=1)
    previous = cfg.PARAMS.get("glaunti_calib_max_abs_temp_bias", 5.0)
    cfg.PARAMS["glaunti_calib_max_abs_temp_bias"] = 1e-4
    try:
        with refused(RuntimeError, "implausible calibration", "glaunti_calib_max_abs_temp_bias",
                     folders=[gdir_copy.dir]):
            glaunti_calibrate(gdir_copy, variant="A")
    finally:
        cfg.PARAMS["glaunti_calib_max_abs_temp_bias"] = previous
