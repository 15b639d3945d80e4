"""The calendar module against dates written out by hand and Python's own calendar."""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime

import numpy as np
import pytest

from oggm_glaunti.hydro_calendar import (
    HydroCalendar, calendar_year, day_floatyear, day_of_year, days_in_months, days_in_year,
    first_of_month_after, floatyear_to_day, hemisphere_calendar, month_of, season_month,
)

D = np.datetime64
NORTH = hemisphere_calendar("nh", 10, 4, 5)
SOUTH = hemisphere_calendar("sh", 10, 4, 5)


def test_hemispheres_years_and_seasons():
    assert (NORTH.start_month, NORTH.summer_month, SOUTH.start_month, SOUTH.summer_month) == (10, 5, 4, 11)
    assert NORTH.window(1999) == (D("1999-10-01"), D("2000-05-01"), D("2000-10-01"))
    assert SOUTH.window(2000) == (D("2000-04-01"), D("2000-11-01"), D("2001-04-01"))
    assert SOUTH.season_window(2000, "summer") == (D("2000-11-01"), D("2001-04-01"))
    assert NORTH.n_days(1999) == 367 and NORTH.n_days(2000) == 366 and SOUTH.n_days(2001) == 366
    # a boundary date belongs to the year it begins
    dates = np.array(["2000-09-30", "2000-10-01", "2000-03-31", "2000-04-01"], "datetime64[D]")
    assert NORTH.year_of(dates).tolist() == [1999, 2000, 1999, 1999]
    assert SOUTH.year_of(dates).tolist() == [2000, 2000, 1999, 2000]
    assert NORTH.full_years("1990-01-01", "1995-12-31").tolist() == [1990, 1991, 1992, 1993, 1994]
    assert SOUTH.full_years("1990-04-01", "1995-04-01").tolist() == [1990, 1991, 1992, 1993, 1994]
    assert SOUTH.full_years("1990-04-02", "1995-03-31").tolist() == [1991, 1992, 1993]
    assert NORTH.overlapping(2000) == [1999, 2000] and HydroCalendar(1, 7).overlapping(2000) == [2000]


def test_wgms_labels_and_months():
    # WGMS labels a year by the calendar year of its last day
    assert NORTH.wgms_year_of(2000) == 2001 and SOUTH.wgms_year_of(2000) == 2001
    assert NORTH.hydro_year_of(np.int64(2002)) == 2001 and isinstance(NORTH.hydro_year_of(2002), int)
    assert HydroCalendar(1, 7).wgms_year_of(2000) == 2000
    assert SOUTH.months(SOUTH.hydro_year_of(2001)) == [(2000, m) for m in range(4, 13)] + [(2001, m) for m in (1, 2, 3)]
    assert NORTH.months(2000, "winter") == [(2000, 10), (2000, 11), (2000, 12)] + [(2001, m) for m in (1, 2, 3, 4)]
    assert NORTH.months(2000, "summer") == [(2001, m) for m in (5, 6, 7, 8, 9)]
    assert SOUTH.months(2000, "winter") == [(2000, m) for m in range(4, 11)]


def test_dates_against_pythons_calendar():
    days = np.arange(D("1899-12-25"), D("2001-01-08"))
    python = [datetime.date(1970, 1, 1) + datetime.timedelta(days=int(d)) for d in days.astype(int)]
    assert calendar_year(days).tolist() == [p.year for p in python]
    assert month_of(days).tolist() == [p.month for p in python]
    assert day_of_year(days).tolist() == [p.timetuple().tm_yday - 1 for p in python]
    for year in (1900, 1999, 2000, 2004):
        assert days_in_year(year) == (366 if stdlib_calendar.isleap(year) else 365)
        assert days_in_months(np.full(12, year), np.arange(1, 13)).tolist() == [
            stdlib_calendar.monthrange(year, m)[1] for m in range(1, 13)]
    # float years: the day of year over the days of the year, and back
    for d, p in zip(days[::7], python[::7]):
        n = 366 if stdlib_calendar.isleap(p.year) else 365
        assert day_floatyear(d) == pytest.approx(p.year + (p.timetuple().tm_yday - 1) / n, abs=1e-12)
        assert floatyear_to_day(day_floatyear(d)) == d
        assert floatyear_to_day(day_floatyear(d) + 1e-9) == d and floatyear_to_day(day_floatyear(d) - 1e-9) == d
    assert day_floatyear("2000-12-31") == pytest.approx(2000 + 365 / 366)
    assert first_of_month_after(D("2000-05-01"), 5) == D("2001-05-01")
    assert first_of_month_after(D("2000-04-30"), 5) == D("2000-05-01")
    assert first_of_month_after(D("1999-10-01"), 1) == D("2000-01-01")


def test_season_months_and_bad_settings():
    assert [season_month(m, "sh") for m in (5, 11, 6, 12)] == [11, 5, 12, 6]
    assert season_month(5, "nh") == 5
    with pytest.raises(ValueError, match="hemisphere"):
        hemisphere_calendar("south", 10, 4, 5)
    with pytest.raises(ValueError, match="winter_end_month=10 .* first month"):
        hemisphere_calendar("nh", 10, 4, 10)
    with pytest.raises(ValueError, match="winter_end_month=4 .* first month"):
        hemisphere_calendar("sh", 10, 10, 4)  # summer month 10 = the southern first month
    with pytest.raises(ValueError, match="winter_end_month must be a month number 1..12; got 13"):
        hemisphere_calendar("nh", 10, 4, 13)
    with pytest.raises(ValueError, match="start_month"):
        HydroCalendar(0, 5)
