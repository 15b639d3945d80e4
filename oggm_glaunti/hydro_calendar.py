"""The calendar: dates, hydrological and WGMS years, seasons and float years.

The one place that turns dates into years, months and seasons, so that the MB model, the
glacier run, calibration, skill, gridded output, export and training cannot disagree.
Pure NumPy (no OGGM, no JAX): every layer may use it. Settings (the hemisphere's first
month, the end of winter) are passed in, never read here; the OGGM layer reads them from
``cfg.PARAMS`` (:func:`oggm_glaunti.integration.grid.glacier_data.glacier_calendar`).

Conventions
-----------
- **Dates** are ``numpy.datetime64[D]`` in the proleptic Gregorian calendar, leap years
  counted (the daily climate has real calendars).
- **Hydrological year** ``Y`` begins on the first day of ``start_month`` of calendar year
  ``Y`` (it is labelled by the calendar year it begins in) and ends on the first day of
  the next one, a date it shares with that year: the begin and end dates are both part
  of a year's forcing, each weighted 1/2 (Maslov et al., egusphere-2026-515, Sect. 2).
  The first month depends on the hemisphere: October in the north, April in the south
  by default (``glaunti_hydro_start_month_nh`` / ``_sh``).
- **WGMS year**: the same period labelled by the calendar year its last day falls in,
  as WGMS labels balance years: our year ``Y`` is WGMS year ``Y + 1`` (``Y`` when the
  year starts on 1 January), in both hemispheres.
- **Seasons**: winter runs from the year's begin to the first day of the summer month
  (``midseason``), summer from there to the year's end; both contain the midseason date.
  The summer month is ``glaunti_winter_end_month`` (5, May) in the north and the same
  month shifted by six months (11, November) in the south (:func:`season_month`).
- **Float years** (OGGM's ``get_daily_mb``): day ``d`` of calendar year ``y`` (0-based)
  is ``y + d / days_in_year(y)``; :func:`floatyear_to_day` inverts it, tolerant to
  round-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The hemispheres, as OGGM names them (``gdir.hemisphere``).
HEMISPHERES = ("nh", "sh")
#: The seasons of a hydrological year.
SEASONS = ("annual", "winter", "summer")


def _check_month(month, name: str = "month") -> int:
    if isinstance(month, (bool, np.bool_)) or not isinstance(month, (int, np.integer)) or not 1 <= month <= 12:
        raise ValueError(f"{name} must be a month number 1..12; got {month!r}")
    return int(month)


def _scalar_or_array(values: np.ndarray):
    """A 0-d result as a scalar (a Python int for integers), else the array."""
    if values.ndim:
        return values
    return int(values) if np.issubdtype(values.dtype, np.integer) else values[()]


# --- dates -----------------------------------------------------------------------------
def calendar_year(dates):
    """Calendar year of each date (int for a scalar date, else an int64 array)."""
    return _scalar_or_array(np.asarray(dates, "datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)


def month_of(dates):
    """Calendar month 1..12 of each date (int for a scalar date, else an int64 array)."""
    return _scalar_or_array(np.asarray(months_since_epoch(dates)) % 12 + 1)


def months_since_epoch(dates):
    """A running month number of each date (January 1970 is 0): dates in one calendar
    month share it, consecutive months differ by 1."""
    return _scalar_or_array(np.asarray(dates, "datetime64[D]").astype("datetime64[M]").astype(np.int64))


def day_of_year(dates):
    """Days since 1 January of the date's year (0 on 1 January)."""
    d = np.asarray(dates, "datetime64[D]")
    return _scalar_or_array((d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64))


def month_starts(years, months):
    """First day of each (year, month), ``datetime64[D]`` (broadcast)."""
    years, months = np.broadcast_arrays(np.asarray(years, np.int64), np.asarray(months, np.int64))
    if np.any((months < 1) | (months > 12)):
        raise ValueError(f"months must be 1..12; got {np.unique(months[(months < 1) | (months > 12)])}")
    return _scalar_or_array(((years - 1970) * 12 + months - 1).astype("datetime64[M]").astype("datetime64[D]"))


def days_in_months(years, months):
    """Number of days of each (year, month)."""
    start = np.asarray(month_starts(years, months))
    return _scalar_or_array(((start.astype("datetime64[M]") + 1).astype("datetime64[D]") - start).astype(np.int64))


def days_in_year(year: int) -> int:
    """365 or 366."""
    year = int(year)
    return int((month_starts(year + 1, 1) - month_starts(year, 1)).astype(int))


def first_of_month_after(dates, month: int):
    """The first day of ``month`` strictly after each date."""
    d = np.asarray(dates, "datetime64[D]")
    month, year = _check_month(month), np.asarray(calendar_year(d))
    this_year, next_year = np.asarray(month_starts(year, month)), np.asarray(month_starts(year + 1, month))
    return _scalar_or_array(np.where(this_year > d, this_year, next_year))


def step_dates(begin, day_index) -> np.ndarray:
    """The date of each step of a day plan whose year begins on ``begin``: ``(..., n_steps)``
    datetime64[D] (``begin`` broadcasts against the leading axes of ``day_index``)."""
    return np.asarray(begin, "datetime64[D]")[..., None] + np.asarray(day_index)


# --- float years -----------------------------------------------------------------------
def day_floatyear(date) -> float:
    """The float year of a day: ``y + (day of year - 1) / days in y`` (leap years counted);
    e.g. 2001-01-01 -> 2001.0, 2000-12-31 -> 2000 + 365 / 366."""
    y = calendar_year(date)
    return y + day_of_year(date) / days_in_year(y)


def floatyear_to_day(year: float) -> np.datetime64:
    """The day whose float year interval ``[y + (d-1)/n, y + d/n)`` holds ``year`` (the
    inverse of :func:`day_floatyear`, tolerant to round-off of ~1e-4 day)."""
    y = int(np.floor(float(year) + 1e-9))
    n = days_in_year(y)
    doy = min(max(int(np.floor((float(year) - y) * n + 1e-4)), 0), n - 1)
    return month_starts(y, 1) + np.timedelta64(doy, "D")


# --- hemispheres -----------------------------------------------------------------------
def check_hemisphere(hemisphere: str) -> str:
    if hemisphere not in HEMISPHERES:
        raise ValueError(f"hemisphere must be 'nh' or 'sh'; got {hemisphere!r}")
    return hemisphere


def season_month(month: int, hemisphere: str) -> int:
    """The hemisphere's equivalent of northern-hemisphere calendar month ``month``
    (unchanged in the north, shifted by 6 months in the south)."""
    month = _check_month(month)
    return month if check_hemisphere(hemisphere) == "nh" else (month + 5) % 12 + 1


@dataclass(frozen=True)
class HydroCalendar:
    """A hemisphere's hydrological years and seasons (module docstring).

    Attributes
    ----------
    start_month : first month of the hydrological year.
    summer_month : month whose first day ends winter and begins summer (this hemisphere's).
    """

    start_month: int
    summer_month: int

    def __post_init__(self):
        _check_month(self.start_month, "start_month")
        _check_month(self.summer_month, "summer_month")
        if self.summer_month == self.start_month:
            raise ValueError(f"the summer month ({self.summer_month}) is the first month of the hydrological "
                             "year: winter and summer must split the year (choose another winter_end_month)")

    # years
    def begin(self, year):
        """First day of hydrological year(s) ``year``."""
        return month_starts(year, self.start_month)

    def end(self, year):
        """Last day of hydrological year(s) ``year``: the first day of the next (shared)."""
        return month_starts(np.asarray(year) + 1, self.start_month)

    def midseason(self, year):
        """The date ending winter and beginning summer of hydrological year(s) ``year``."""
        return first_of_month_after(self.begin(year), self.summer_month)

    def window(self, year) -> tuple:
        """(begin, midseason, end) of hydrological year ``year``."""
        return self.begin(year), self.midseason(year), self.end(year)

    def season_window(self, year, season: str) -> tuple:
        """(first, last) date of ``season`` ('annual', 'winter', 'summer') of ``year``."""
        begin, mid, end = self.window(year)
        return {"annual": (begin, end), "winter": (begin, mid), "summer": (mid, end)}[_check_season(season)]

    def n_days(self, year: int) -> int:
        """Number of dates of hydrological year ``year``, both ends included."""
        return int((self.end(year) - self.begin(year)).astype(int)) + 1

    def year_of(self, dates):
        """Hydrological year label of each date (a boundary date belongs to the year it
        begins)."""
        return _scalar_or_array(np.asarray(calendar_year(dates)) - (np.asarray(month_of(dates)) < self.start_month))

    def full_years(self, first, last) -> np.ndarray:
        """Hydrological years whose every date, both ends included, lies in ``first..last``."""
        first, last = np.datetime64(first, "D"), np.datetime64(last, "D")
        years = np.arange(self.year_of(first), self.year_of(last) + 1)
        return years[(np.asarray(self.begin(years)) >= first) & (np.asarray(self.end(years)) <= last)].astype(int)

    def overlapping(self, year: int) -> list[int]:
        """The hydrological years holding days of calendar year ``year``, in order."""
        return [int(year)] if self.start_month == 1 else [int(year) - 1, int(year)]

    # WGMS labels
    def wgms_year_of(self, hydro_year):
        """WGMS's label of hydrological year ``hydro_year`` (the year of its last day)."""
        return _scalar_or_array(np.asarray(hydro_year, np.int64) + (self.start_month != 1))

    def hydro_year_of(self, wgms_year):
        """Our label of WGMS year ``wgms_year``."""
        return _scalar_or_array(np.asarray(wgms_year, np.int64) - (self.start_month != 1))

    # months
    def months(self, year: int, season: str = "annual") -> list[tuple[int, int]]:
        """(calendar year, month) of each month of ``season`` of hydrological year
        ``year``, in order (the month the season ends in excluded: its first day is the
        season's shared end date)."""
        first, last = self.season_window(year, season)
        n = int(months_since_epoch(last) - months_since_epoch(first))
        starts = np.asarray(first).astype("datetime64[M]") + np.arange(n)
        return [(calendar_year(s), month_of(s)) for s in starts.astype("datetime64[D]")]


def _check_season(season: str) -> str:
    if season not in SEASONS:
        raise ValueError(f"season must be one of {SEASONS}; got {season!r}")
    return season


def hemisphere_calendar(hemisphere: str, start_month_nh: int, start_month_sh: int,
                        winter_end_month: int) -> HydroCalendar:
    """The :class:`HydroCalendar` of ``hemisphere`` from the package's settings: the first
    month of the year in each hemisphere and the northern-hemisphere month whose first day
    ends winter (shifted by six months in the south)."""
    start = _check_month(start_month_nh if check_hemisphere(hemisphere) == "nh" else start_month_sh,
                         f"the first month of the hydrological year ({hemisphere})")
    summer = season_month(_check_month(winter_end_month, "winter_end_month"), hemisphere)
    if summer == start:
        raise ValueError(f"winter_end_month={winter_end_month} gives summer month {summer} in the '{hemisphere}' "
                         f"hemisphere, the first month of its hydrological year: winter and summer must split "
                         "the year; choose another winter_end_month")
    return HydroCalendar(start, summer)
