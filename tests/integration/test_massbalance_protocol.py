"""GlaUnTIMassBalance honours OGGM's MassBalanceModel protocol (variant A: fast)."""

from __future__ import annotations

import numpy as np
import pytest

from oggm_glaunti.integration.units import SEC_IN_MONTH, SEC_IN_YEAR


@pytest.fixture(scope="module")
def mb_a(hef_daily):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    return GlaUnTIMassBalance(hef_daily, variant="A")


def heights(gdir):
    return gdir.read_pickle("model_flowlines")[-1].surface_h


def test_outputs_are_float64_si(mb_a, hef_daily):
    h = heights(hef_daily)
    annual = mb_a.get_annual_mb(h, year=1990.0)
    assert isinstance(annual, np.ndarray) and annual.dtype == np.float64 and annual.shape == h.shape
    assert -3e-7 < annual.min() < annual.max() < 1e-7  # m ice per second
    assert mb_a.ys == 1803 and mb_a.ye == 2002 and mb_a.years[0] == 1803
    assert mb_a.is_year_valid(2002) and not mb_a.is_year_valid(2003)


def test_monthly_sums_to_annual(mb_a, hef_daily):
    from oggm import utils

    h = heights(hef_daily)
    months = [mb_a.get_monthly_mb(h, year=utils.date_to_floatyear(1990, m)) * SEC_IN_MONTH for m in range(1, 13)]
    np.testing.assert_allclose(np.sum(months, axis=0), mb_a.get_annual_mb(h, year=1990) * SEC_IN_YEAR, rtol=1e-10)


@pytest.mark.parametrize("year", [1990, 1992])  # 1992: a leap year
def test_daily_sums_to_annual_and_months(mb_a, hef_daily, year):
    """OGGM's newer get_daily_mb: the days of a year add up to its months and to the year."""
    from oggm import utils

    from oggm_glaunti.hydro_calendar import day_floatyear, days_in_year
    from oggm_glaunti.integration.units import SEC_IN_DAY

    h = heights(hef_daily)
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    assert len(days) == days_in_year(year)
    daily = np.array([mb_a.get_daily_mb(h, year=day_floatyear(d)) for d in days]) * SEC_IN_DAY
    assert np.all(np.isfinite(daily)) and daily.shape == (len(days), len(h))
    annual = mb_a.get_annual_mb(h, year=year) * SEC_IN_YEAR
    np.testing.assert_allclose(daily.sum(0), annual, rtol=1e-6, atol=1e-9)
    month_of_day = days.astype("datetime64[M]").astype(int) % 12 + 1
    july = mb_a.get_monthly_mb(h, year=utils.date_to_floatyear(year, 7)) * SEC_IN_MONTH
    np.testing.assert_allclose(daily[month_of_day == 7].sum(0), july, rtol=1e-6, atol=1e-9)
    # a summer day melts at the tongue, a winter day accumulates or melts little up high
    assert daily[month_of_day == 7].sum(0)[-1] < 0
    # the float year of a day, with round-off, maps back to that day
    assert mb_a.get_daily_mb(h, year=day_floatyear(days[200]) + 1e-9)[0] == pytest.approx(
        daily[200][0] / SEC_IN_DAY)


def test_daily_bias_and_climate(hef_daily):
    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.hydro_calendar import day_floatyear
    from oggm_glaunti.integration.units import SEC_IN_DAY

    mb = GlaUnTIMassBalance(hef_daily, variant="A")
    h = heights(hef_daily)
    t = day_floatyear("1990-08-01")
    ref, temp, tmelt, prcp, prcpsol = mb.get_daily_mb(h, year=t, add_climate=True)
    assert np.all(np.diff(temp) * np.diff(h) <= 0) and np.all(tmelt >= 0) and np.all(prcpsol <= prcp + 1e-9)
    mb.bias = 365.0
    np.testing.assert_allclose((ref - mb.get_daily_mb(h, year=t)) * SEC_IN_DAY * mb.rho, 1.0)


def test_reset_state_changes_no_result(mb_a, hef_daily):
    h = heights(hef_daily)
    before = mb_a.get_annual_mb(h, year=1985)
    mb_a.reset_state()
    np.testing.assert_array_equal(mb_a.get_annual_mb(h, year=1985), before)


def test_daily_point_series_sums_to_annual(mb_a, hef_daily):
    h = heights(hef_daily)
    series = mb_a.daily_point_series(h, 1990)
    assert series.smb.shape == (len(series.month), len(h)) and set(series.month) == set(range(1, 13))
    kg_m2 = series.smb.sum(0) * 1000.0  # m w.e. -> kg m-2
    np.testing.assert_allclose(kg_m2 / SEC_IN_YEAR / mb_a.rho, mb_a.get_annual_mb(h, year=1990), rtol=1e-12)


def test_add_climate(mb_a, hef_daily):
    h = heights(hef_daily)
    mb, temp, tmelt, prcp, prcpsol = mb_a.get_annual_mb(h, year=1990, add_climate=True)
    assert np.all(prcpsol <= prcp + 1e-9) and np.all(tmelt >= 0)
    assert np.all(np.diff(temp) * np.diff(h) <= 0)  # colder up high
    assert np.all(prcp > 100)  # kg m-2 per year


def test_parameters_are_settable(hef_daily):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    mb = GlaUnTIMassBalance(hef_daily, variant="A")
    h = heights(hef_daily)
    ref = mb.get_annual_mb(h, year=1990)
    mb.temp_bias += 1.0
    warmer = mb.get_annual_mb(h, year=1990)
    mb.temp_bias -= 1.0
    mb.prcp_fac *= 1.2
    wetter = mb.get_annual_mb(h, year=1990)
    mb.prcp_fac /= 1.2
    mb.bias = 500.0
    biased = mb.get_annual_mb(h, year=1990)
    assert np.all(warmer < ref) and np.all(wetter >= ref)
    np.testing.assert_allclose((ref - biased) * SEC_IN_YEAR * mb.rho, 500.0)


def test_random_access_is_deterministic(hef_daily):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    h = heights(hef_daily)
    forward = GlaUnTIMassBalance(hef_daily, variant="A")
    backward = GlaUnTIMassBalance(hef_daily, variant="A")
    a = [forward.get_annual_mb(h, year=y) for y in (1980, 1981, 1995)]
    b = [backward.get_annual_mb(h, year=y) for y in (1995, 1981, 1980)][::-1]
    np.testing.assert_array_equal(a, b)


def test_oggm_calibration_task_calibrates_temp_bias(hef_daily):
    """OGGM builds the class itself, without a variant: cfg.PARAMS picks it."""
    from oggm import cfg, tasks

    from oggm_glaunti.integration import GlaUnTIMassBalance

    ref = hef_daily.get_ref_mb_data().loc[1980:1999, "ANNUAL_BALANCE"].mean()
    previous, cfg.PARAMS["glaunti_variant"] = cfg.PARAMS["glaunti_variant"], "A"
    try:
        # the values only: writing them to mb_calib.json is refused (see test_calibration_defects)
        calib = tasks.mb_calibration_from_scalar_mb(
            hef_daily, ref_mb=ref, ref_mb_years=(1980, 2000), calibrate_param1="temp_bias",
            mb_model_class=GlaUnTIMassBalance, melt_f=4.964, prcp_fac=1.0, write_to_gdir=False,
        )
    finally:
        cfg.PARAMS["glaunti_variant"] = previous
    mb = GlaUnTIMassBalance(hef_daily, variant="A", temp_bias=calib["temp_bias"], prcp_fac=1.0, melt_f=4.964)
    fls = hef_daily.read_pickle("model_flowlines")
    assert mb.get_specific_mb(fls=fls, year=np.arange(1980, 2000)).mean() == pytest.approx(ref, abs=1.0)


def test_bad_input(hef_daily, tmp_path):
    from oggm_glaunti.integration import GlaUnTIMassBalance, glaunti_calibrate

    mb = GlaUnTIMassBalance(hef_daily, variant="A")
    with pytest.raises(ValueError, match=r"year 2010 is outside the years GlaUnTI can compute .*1803-2002"):
        mb.get_annual_mb(heights(hef_daily), year=2010)
    for bad_year in (np.nan, np.inf):
        with pytest.raises(ValueError, match=r"pass a finite \(float\) year within 1803-2002"):
            mb.get_daily_mb(heights(hef_daily), year=bad_year)
    with pytest.raises(ValueError, match=r"heights has 1 NaN"):
        mb.get_annual_mb(np.array([3000.0, np.nan]), year=1990)
    with pytest.raises(ValueError, match=r"does not overlap the daily climate"):
        glaunti_calibrate(hef_daily, variant="A", use_wgms=False, geodetic=(2010, 2020, -1000.0))
    with pytest.raises(FileNotFoundError, match=r"gcm_data_daily_NONE.nc is missing.*process_daily_from_gcm"):
        GlaUnTIMassBalance(hef_daily, filename="gcm_data", input_filesuffix="_NONE")
    with pytest.raises(FileNotFoundError, match=r"glaunti_grid_nogrid.nc is missing.*glaunti_model_grid"):
        GlaUnTIMassBalance(hef_daily, grid_filesuffix="_nogrid")
