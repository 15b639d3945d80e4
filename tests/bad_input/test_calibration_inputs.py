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
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_calibration_input(light_gdir, tmp_path, case):
    arguments, error, words = CASES[case]
    kwargs = arguments(light_gdir, tmp_path)
    with refused(error, *words, folders=[light_gdir.dir, tmp_path]):
        glaunti_calibrate(light_gdir, **kwargs)
