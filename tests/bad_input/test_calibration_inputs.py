"""Bad calibration data and settings given to glaunti_calibrate: refused before any
optimisation, and no calibration file written."""
from __future__ import annotations

import pandas as pd
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
                           ["ref_years=(1850, 1860) selects none", "wgms years"]),
    "ref_years_text": (lambda g, t: dict(variant="A", ref_years=("1991", "2002")), TypeError,
                       ["ref_years='1991'", "give the year as a number"]),
    "ref_years_one_year": (lambda g, t: dict(variant="A", ref_years=(1991,)), ValueError,
                           ["ref_years=(1991,)", "(first, last)"]),
    "ref_years_reversed": (lambda g, t: dict(variant="A", ref_years=(2002, 1991)), ValueError,
                           ["ref_years=(2002, 1991)", "first <= last"]),
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


def _wgms(gdir, change):
    """The glacier's WGMS table with ``change`` applied to a copy."""
    df = gdir.get_ref_mb_data().copy()
    return change(df)


#: name: (change of the WGMS table, key words)
WGMS_CASES = {
    "duplicated_year": (lambda df: pd.concat([df, df.loc[[1995]].assign(ANNUAL_BALANCE=-2500.0)]),
                        ["year(s) [1995] appear more than once", "get_ref_mb_data", "one row per year"]),
    "value_20_m_we": (lambda df: df.assign(ANNUAL_BALANCE=df["ANNUAL_BALANCE"].where(df.index != 1996, -20000.0)),
                      ["annual_balance of 1996 is -20000 mm w.e.", "units"]),
    "in_m_we": (lambda df: df.assign(**{c: df[c] / 1000.0 for c in ("ANNUAL_BALANCE", "WINTER_BALANCE",
                                                                    "SUMMER_BALANCE") if c in df}),
                ["looks like m w.e.", "multiply by 1000"]),
    "text_value": (lambda df: df.assign(ANNUAL_BALANCE=df["ANNUAL_BALANCE"].astype(object).where(
        df.index != 1997, "-1200 mm")), ["annual_balance of 1997 is '-1200 mm'", "not a number"]),
}


@pytest.mark.parametrize("case", list(WGMS_CASES))
def test_bad_wgms_series(light_gdir, monkeypatch, case):
    """A WGMS series fitted wrongly without a word before (a duplicated year replaced the
    first, m w.e. or absurd values were fitted with a chi-square warning) is refused."""
    change, words = WGMS_CASES[case]
    table = _wgms(light_gdir, change)
    monkeypatch.setattr(light_gdir, "get_ref_mb_data", lambda *a, **k: table)
    with refused(ValueError, "rgi50-11.00897", "wgms series", *words, folders=[light_gdir.dir]):
        glaunti_calibrate(light_gdir, variant="A")


def test_scalar_mb_calibration_of_variant_b_is_refused_at_once(light_gdir, monkeypatch):
    """OGGM's task on variant B ran for many seconds into OGGM's own message: refused before
    any model is loaded."""
    from oggm_glaunti.integration import glaunti_mb_calibration_from_scalar_mb
    from oggm_glaunti.integration.run import massbalance

    monkeypatch.setattr(massbalance, "load_variant", lambda *a, **k: pytest.fail("a model was loaded"))
    with refused(ValueError, "variant b", "no physical parameters", "a, c or d", folders=[light_gdir.dir]):
        glaunti_mb_calibration_from_scalar_mb(light_gdir, variant="B", ref_mb=-500.0, ref_mb_years=(1995, 2000))


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
    previous = cfg.PARAMS.get("glaunti_temp_bias_range", [-5.0, 5.0])
    cfg.PARAMS["glaunti_temp_bias_range"] = [-1e-4, 1e-4]
    try:
        with refused(RuntimeError, "implausible calibration", "glaunti_temp_bias_range",
                     folders=[gdir_copy.dir]):
            glaunti_calibrate(gdir_copy, variant="A")
    finally:
        cfg.PARAMS["glaunti_temp_bias_range"] = previous


# --- a new calibration never reads the previous one (issue 22, item 5) -------------------------
#: A cheap calibration: temp_bias alone on a geodetic mean of three hydrological years.
GEODETIC_ONLY = dict(variant="A", use_wgms=False, geodetic=(1996, 1999, -800.0))


def _published_melt_f() -> float:
    from oggm_glaunti.integration.run.massbalance import load_variant
    from oggm_glaunti.integration.units import ddf_snow_log_to_melt_f

    return ddf_snow_log_to_melt_f(load_variant("A").ti.ddf_snow_log)


def test_recalibration_does_not_carry_the_previous_melt_f(gdir_copy):
    """An earlier calibration's melt_f (e.g. OGGM's task calibrating melt_f) is not written
    into the new file: the new temp_bias was fitted on the published melt_f, and the MB
    model must run what was fitted."""
    from oggm_glaunti.integration import GlaUnTIMassBalance

    gdir_copy.write_json({"mb_model_class": "GlaUnTIMassBalance", "variant": "A", "temp_bias": 1.0,
                          "prcp_fac": 1.0, "melt_f": 9.0}, "mb_calib", filesuffix="_glaunti_A")
    calib = glaunti_calibrate(gdir_copy, **GEODETIC_ONLY)
    assert calib["melt_f"] == pytest.approx(_published_melt_f(), rel=1e-6)
    mb = GlaUnTIMassBalance(gdir_copy, variant="A")
    assert mb.melt_f == pytest.approx(_published_melt_f(), rel=1e-6)
    assert mb.temp_bias == calib["temp_bias"]


def _broken_previous_calibrations():
    named = {"mb_model_class": "GlaUnTIMassBalance", "variant": "A", "temp_bias": 0.5, "prcp_fac": 1.0,
             "melt_f": 5.0, "weights_file": "glaunti_weights_A_0123456789ab.npz",
             "weights_sha256": "0" * 64}
    return {
        "weights_missing": (named, None),
        "weights_not_the_calibrations": (named, b"not the weights the calibration was written with"),
        "values_implausible": ({**named, "melt_f": float("nan"), "prcp_fac": -1.0}, None),
        "not_json": ("{ this is not JSON", None),
    }


@pytest.mark.parametrize("case", list(_broken_previous_calibrations()))
def test_recalibration_replaces_a_broken_calibration(gdir_copy, case):
    """glaunti_calibrate, which the MB model's message recommends, replaces a broken
    calibration instead of failing on it; the MB model then runs the new one."""
    import json
    import os

    from oggm_glaunti.integration import GlaUnTIMassBalance

    content, weights = _broken_previous_calibrations()[case]
    path = gdir_copy.get_filepath("mb_calib", filesuffix="_glaunti_A")
    with open(path, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    if weights is not None:
        with open(os.path.join(gdir_copy.dir, content["weights_file"]), "wb") as f:
            f.write(weights)
    calib = glaunti_calibrate(gdir_copy, **GEODETIC_ONLY)
    assert "weights_file" not in calib and calib["calibrated_parameters"] == ["temp_bias"]
    assert calib["melt_f"] == pytest.approx(_published_melt_f(), rel=1e-6)
    mb = GlaUnTIMassBalance(gdir_copy, variant="A")
    assert (mb.temp_bias, mb.weights_file) == (calib["temp_bias"], None)


def test_ti_fine_tuning_converges_on_twelve_wgms_years(gdir_copy):
    """Variant A's fine-tuning with profiles on WGMS 1991-2002 (issue 22's audit: it ran
    out of its 40 steps). The optimiser's own stop test is met well before max_steps (not
    only judge()'s looser one), and the fit is written."""
    calib = glaunti_calibrate(gdir_copy, variant="A", parameters=["ti"], ref_years=(1991, 2002))
    assert calib["status"] == "converged" and calib["steps"] <= 30  # history: the start and each step
    assert calib["matched_mean"]["misfit_m_we"] < 0.001
    assert calib["misfit_m_we"]["profile"]["n"] > 100 and calib["weights_file"]
    history = calib["loss_history"]
    assert all(b < a for a, b in zip(history, history[1:]))  # every step taken lowered the loss
