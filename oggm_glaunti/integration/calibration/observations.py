"""Calibration data, gathered into one table: WGMS glacier-wide balances, a geodetic mean,
stake records. No JAX here.

Conventions: WGMS balances of year Y are glaciological hydrological years (1 Oct Y-1 to
1 Oct Y in the northern hemisphere, 1 Apr Y-1 to 1 Apr Y in the southern), i.e. our
hydrological year labelled Y - 1; winter ends and summer begins on the first day of
``winter_end_month`` (May in the north, November in the south): the glacier's
:class:`~oggm_glaunti.hydro_calendar.HydroCalendar`. Where the WGMS table has the survey's
own dates (Fluctuations-of-Glaciers columns ``BEGIN_PERIOD``, ``END_WINTER``,
``END_PERIOD``) the year and its seasons are those dates instead (floating-date years may
be longer than 366 days), as the published dataset records them. Values are converted to
m w.e.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...hydro_calendar import HydroCalendar
from ...observation_operators import band_edges, band_weights, profile_on_bands
from ..grid.glacier_data import glacier_calendar

log = logging.getLogger(__name__)

#: Largest plausible glacier-wide balance (a WGMS annual or seasonal value, a geodetic
#: mean per year), mm w.e.: beyond it, the units are wrong (e.g. kg m-2 summed twice).
MAX_ABS_GLACIER_WIDE_MM = 10000.
#: A WGMS series whose every value lies within this (mm w.e.) was given in m w.e.: no
#: glacier balances within +-2 cm w.e. year after year (and seasons never do).
MIN_PLAUSIBLE_SERIES_MM = 20.
#: Largest plausible stake balance, m w.e. (larger values are mm read as m).
MAX_ABS_STAKE_M_WE = 30.
#: WGMS Fluctuations-of-Glaciers date columns (``YYYYMMDD``; ``99`` marks an unknown part).
WGMS_DATE_COLUMNS = {"begin": "BEGIN_PERIOD", "midseason": "END_WINTER", "end": "END_PERIOD"}


def _wgms_date(value) -> np.datetime64 | None:
    """A WGMS ``YYYYMMDD`` date, or None when missing or partly unknown (``99``)."""
    try:
        text = f"{int(float(value)):08d}"
        return np.datetime64(f"{text[:4]}-{text[4:6]}-{text[6:]}")
    except (TypeError, ValueError, OverflowError):
        return None


def wgms_window(record, default: tuple) -> tuple:
    """(begin, midseason, end) of a WGMS table row (``None``: no row): its own survey dates
    (:data:`WGMS_DATE_COLUMNS`) where it gives a begin before its end, its midseason where
    that lies strictly between them; the rest from ``default``, the calendar's (begin,
    midseason, end) of the year (all of it when the row's dates leave no room for the
    calendar's midseason)."""
    if record is None:
        return tuple(default)
    dates = {k: _wgms_date(record.get(c)) for k, c in WGMS_DATE_COLUMNS.items()}
    begin, mid, end = default
    if dates["begin"] is not None and dates["end"] is not None and dates["end"] > dates["begin"]:
        begin, end = dates["begin"], dates["end"]
    if dates["midseason"] is not None and begin < dates["midseason"] < end:
        mid = dates["midseason"]
    return (begin, mid, end) if begin < mid < end else tuple(default)


@dataclass
class Observations:
    """Everything a calibration fits, in m w.e., keyed by hydrological year label.

    annual, winter, summer : {hydro_year: glacier-wide balance}.
    windows : {hydro_year: (begin, midseason, end)} of WGMS years on survey dates (:func:`wgms_window`).
    geodetic : (first hydro year, last hydro year, mean annual balance) or None.
    stakes : DataFrame with columns date0, date1, row, col, balance (m w.e.).
    geodetic_sigma : uncertainty of the geodetic mean (m w.e. per year), if known.
    profiles : elevation-band profiles on the model grid's bands, or None.
    """

    annual: dict = field(default_factory=dict)
    winter: dict = field(default_factory=dict)
    summer: dict = field(default_factory=dict)
    geodetic: tuple | None = None
    stakes: pd.DataFrame | None = None
    sources: list = field(default_factory=list)
    geodetic_sigma: float | None = None
    profiles: "Profiles | None" = None
    windows: dict = field(default_factory=dict)

    def kinds(self) -> list[str]:
        """The data kinds present."""
        out = [k for k in ("annual", "winter", "summer") if getattr(self, k)]
        if self.geodetic is not None:
            out.append("geodetic")
        if self.stakes is not None and len(self.stakes):
            out.append("stakes")
        if self.profiles is not None and self.profiles.values:
            out.append("profile")
        return out

    def seasonal_years(self) -> set[int]:
        """Hydrological years with a winter or summer balance or a stake record: what can
        separate the precipitation factor from the temperature bias."""
        years = set(self.winter) | set(self.summer)
        if self.stakes is not None and len(self.stakes):
            years |= set(self.stakes["hydro_year"].astype(int))
        return years

    def years(self) -> set[int]:
        years = set(self.annual) | set(self.winter) | set(self.summer)
        if self.geodetic is not None:
            years |= set(range(self.geodetic[0], self.geodetic[1] + 1))
        if self.stakes is not None and len(self.stakes):
            years |= set(self.stakes["hydro_year"].astype(int))
        if self.profiles is not None:
            years |= set(self.profiles.values)
        return years

    def count(self) -> int:
        n = len(self.annual) + len(self.winter) + len(self.summer) + (self.geodetic is not None)
        n += 0 if self.profiles is None else sum(int(np.isfinite(v).sum()) for v in self.profiles.values.values())
        return n + (0 if self.stakes is None else len(self.stakes))

    def keep_wgms_years(self, wgms_years, calendar: HydroCalendar) -> None:
        """Keep the WGMS balances and profiles of these WGMS years only."""
        keep = {calendar.hydro_year_of(y) for y in wgms_years}
        for kind in ("annual", "winter", "summer"):
            series = getattr(self, kind)
            for y in [y for y in series if y not in keep]:
                del series[y]
        if self.profiles is not None:
            self.profiles.values = {y: v for y, v in self.profiles.values.items() if y in keep}

    def keep_covered(self, covered: set[int], first_day, last_day, rgi_id: str = "") -> list[str]:
        """Drop what the simulated years do not fully cover, and say so.

        ``covered``: the hydrological years the daily climate runs in full; ``first_day``,
        ``last_day``: their first and last dates. Glacier-wide values and profiles of other
        years (or whose surveyed window reaches outside these years: it may end on the
        date closing them, as the calendar's windows do) and stake records outside the
        days are dropped (logged, and returned as notes); a geodetic mean is a mean over
        its whole period and is refused.
        """
        notes = []
        first_day, last_day = np.datetime64(first_day, "D"), np.datetime64(last_day, "D")
        closing = last_day + np.timedelta64(1, "D")
        covered = {y for y in covered if y not in self.windows
                   or (first_day <= self.windows[y][0] and self.windows[y][2] <= closing)}
        for kind in ("annual", "winter", "summer"):
            series = getattr(self, kind)
            outside = sorted(y for y in series if y not in covered)
            for y in outside:
                del series[y]
            if outside:
                notes.append(f"{len(outside)} WGMS {kind} value(s) outside the daily climate dropped "
                             f"(hydrological years {outside[0]}-{outside[-1]})")
        if self.profiles is not None:
            outside = sorted(y for y in self.profiles.values if y not in covered)
            for y in outside:
                del self.profiles.values[y]
            if outside:
                notes.append(f"{len(outside)} WGMS profile(s) outside the daily climate dropped")
        if self.geodetic is not None:
            y0, y1, _ = self.geodetic
            missing = [y for y in range(y0, y1 + 1) if y not in covered]
            if missing:
                raise ValueError(
                    f"{rgi_id}: the geodetic period (hydrological years {y0}-{y1}) is not covered by the "
                    f"daily climate (missing {missing[0]}-{missing[-1]}): its mean would be fitted on part "
                    "of the period. Extend the daily climate or give a geodetic mean over covered years")
        if self.stakes is not None and len(self.stakes):
            d0 = self.stakes["date0"].values.astype("datetime64[D]")
            d1 = self.stakes["date1"].values.astype("datetime64[D]")
            inside = (d0 >= np.datetime64(first_day, "D")) & (d1 <= np.datetime64(last_day, "D"))
            if not inside.all():
                notes.append(f"{int((~inside).sum())} stake record(s) not inside the daily climate "
                             f"({first_day}..{last_day}) dropped")
                self.stakes = self.stakes.loc[inside].reset_index(drop=True)
        for note in notes:
            log.warning("%s: %s", rgi_id, note)
        return notes


#: The WGMS columns a calibration fits, and the series they fill.
WGMS_COLUMNS = {"ANNUAL_BALANCE": "annual", "WINTER_BALANCE": "winter", "SUMMER_BALANCE": "summer"}


def check_wgms_series(df: pd.DataFrame, what: str) -> None:
    """Refuse a WGMS table (years as index, balances in mm w.e.) that would be fitted
    wrongly without a word: a year given twice (the second row would replace the first), a
    value beyond +-:data:`MAX_ABS_GLACIER_WIDE_MM`, or a series in m w.e. (every value
    within +-:data:`MIN_PLAUSIBLE_SERIES_MM`). ``what`` names the table in the message."""
    repeated = sorted(set(df.index[df.index.duplicated()].tolist()))
    if repeated:
        raise ValueError(f"{what}: year(s) {repeated} appear more than once (the later row would silently replace "
                         "the earlier): keep one row per year")
    values = []
    for column in WGMS_COLUMNS:
        if column not in df:
            continue
        numbers = pd.to_numeric(df[column], errors="coerce")
        text = numbers.isna() & df[column].notna()
        if text.any():
            year = numbers.index[text][0]
            raise ValueError(f"{what}: {column} of {year} is {df[column][text].iloc[0]!r}, not a number in mm w.e.")
        series = numbers.dropna()
        too_large = series[~(series.abs() <= MAX_ABS_GLACIER_WIDE_MM)]
        if len(too_large):
            raise ValueError(f"{what}: {column} of {too_large.index[0]} is {too_large.iloc[0]:g} mm w.e., beyond "
                             f"+-{MAX_ABS_GLACIER_WIDE_MM:g} mm w.e. (not a finite glacier-wide balance): check its "
                             "units (WGMS balances are in mm w.e.)")
        values += series.tolist()
    if len(values) >= 2 and np.any(values) and np.all(np.abs(values) < MIN_PLAUSIBLE_SERIES_MM):
        raise ValueError(f"{what}: every balance lies within +-{MIN_PLAUSIBLE_SERIES_MM:g} mm w.e. (e.g. "
                         f"{values[0]:g}): the series looks like m w.e.; WGMS balances are in mm w.e. (multiply by "
                         "1000)")


def from_wgms(gdir, obs: Observations, ref_years: tuple[int, int] | None) -> bool:
    """Add the glacier's WGMS balances (``gdir.get_ref_mb_data()``), mm w.e. -> m w.e.,
    checked (:func:`check_wgms_series`), of the WGMS years ``ref_years`` (first, last) if
    given, and their windows (:func:`wgms_window`, else the glacier's calendar).

    Returns False (adding nothing) when the glacier is not one of OGGM's WGMS reference
    glaciers. Raises ``ValueError`` naming ``ref_years`` when they select none of the
    glacier's WGMS years.
    """
    first_last = None if ref_years is None else wgms_year_range(ref_years)
    try:
        df = gdir.get_ref_mb_data()
    except RuntimeError as exc:
        if "reference glacier" not in str(exc):
            raise
        return False
    check_wgms_series(df, f"{gdir.rgi_id}: the WGMS series (gdir.get_ref_mb_data())")
    if first_last is not None:
        selected = df.loc[(df.index >= first_last[0]) & (df.index <= first_last[1])]
        if selected.empty:
            have = (f"{int(df.index.min())}-{int(df.index.max())}" if len(df) else "none")
            raise ValueError(f"{gdir.rgi_id}: ref_years={tuple(ref_years)} selects none of the glacier's WGMS years "
                             f"({have}, within the climate's baseline years): choose ref_years among them")
        df = selected
    calendar = glacier_calendar(gdir.hemisphere)
    for column, kind in WGMS_COLUMNS.items():
        if column in df:
            target = getattr(obs, kind)
            for year, value in df[column].dropna().items():
                target[calendar.hydro_year_of(year)] = float(value) / 1000.0
    for year, record in df.iterrows():
        hydro_year = calendar.hydro_year_of(year)
        window = wgms_window(record, calendar.window(hydro_year))
        if window != calendar.window(hydro_year):
            obs.windows[hydro_year] = window
    obs.sources.append(f"WGMS ({len(df)} years)")
    return True


def wgms_year_range(ref_years) -> tuple[int, int]:
    """``ref_years`` as (first, last) whole WGMS years, else a clear error naming it."""
    from ..run.arguments import year_number

    try:
        first, last = ref_years
    except (TypeError, ValueError):
        raise ValueError(f"ref_years={ref_years!r} must be (first, last) WGMS years") from None
    first, last = (year_number(y, "ref_years") for y in (first, last))
    if not (first.is_integer() and last.is_integer() and first <= last):
        raise ValueError(f"ref_years={tuple(ref_years)} must be (first, last) whole WGMS years, first <= last")
    return int(first), int(last)


def from_geodetic(gdir, obs: Observations, geodetic) -> None:
    """Add a geodetic mean: ``(y0, y1, mm w.e. per year)`` over 1 Jan y0 .. 1 Jan y1, or
    'oggm' for OGGM's table (Hugonnet et al. 2021, needs a network or OGGM's cache)."""
    if isinstance(geodetic, str):
        if geodetic != "oggm":
            raise ValueError(f"geodetic must be (y0, y1, mm w.e./yr) or 'oggm'; got {geodetic!r}")
        from oggm import utils

        df = utils.get_geodetic_mb_dataframe().loc[gdir.rgi_id]
        df = df.loc[df["period"] == "2000-01-01_2020-01-01"]
        geodetic = (2000, 2020, float(df["dmdtda"].iloc[0]) * 1000.0, float(df["err_dmdtda"].iloc[0]) * 1000.0)
    try:
        y0, y1, value, *sigma = (float(v) for v in geodetic)
        if len(sigma) > 1:
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"geodetic must be (y0, y1, mm w.e./yr[, uncertainty mm w.e./yr]) or 'oggm'; "
                         f"got {geodetic!r}") from None
    if sigma and not 0 < sigma[0] <= MAX_ABS_GLACIER_WIDE_MM:
        raise ValueError(f"geodetic uncertainty {sigma[0]:g} mm w.e./yr must be positive and finite")
    if not y1 > y0:
        raise ValueError(f"geodetic period must have y1 > y0; got {y0:g}, {y1:g}")
    if not abs(value) <= MAX_ABS_GLACIER_WIDE_MM:
        raise ValueError(f"geodetic mass balance {value:g} mm w.e./yr is not a finite value within "
                         f"+-{MAX_ABS_GLACIER_WIDE_MM:g}: give it in mm w.e. per year (m w.e. x 1000)")
    y0, y1 = int(y0), int(y1)
    obs.geodetic = (int(y0) - 1, int(y1) - 2, float(value) / 1000.0)
    obs.geodetic_sigma = sigma[0] / 1000.0 if sigma else None
    obs.sources.append(f"geodetic {y0}-{y1}")


def read_stake_file(path: str | os.PathLike) -> pd.DataFrame:
    """A stake CSV, checked: columns date0, date1 (ISO dates), lat, lon (WGS 84), balance
    (m w.e.), other columns kept as they are.

    Returns
    -------
    pandas.DataFrame
        the file's table with ``date0`` and ``date1`` as ``datetime64[D]``.

    Raises
    ------
    FileNotFoundError
        no such file.
    ValueError
        naming the file (and the record) for a missing column, a balance that is not finite
        or not plausibly in m w.e. (mm read as m), an unreadable date or a record that ends
        before it begins.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"stake file not found: {path}")
    df = pd.read_csv(path)
    missing = {"date0", "date1", "lat", "lon", "balance"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected date0, date1, lat, lon, "
                         "balance (m w.e.)")
    balance = df["balance"].to_numpy(float)
    if not np.all(np.abs(balance) <= MAX_ABS_STAKE_M_WE):
        raise ValueError(f"{path}: stake balances must be finite, in m w.e. (within "
                         f"+-{MAX_ABS_STAKE_M_WE:g}); found {balance[~(np.abs(balance) <= MAX_ABS_STAKE_M_WE)][:3]} "
                         "(NaN, or mm w.e.? divide by 1000)")
    begin = pd.to_datetime(df["date0"], errors="coerce").to_numpy().astype("datetime64[D]")
    end = pd.to_datetime(df["date1"], errors="coerce").to_numpy().astype("datetime64[D]")
    unreadable = np.isnat(begin) | np.isnat(end)
    if unreadable.any():
        i = int(np.argmax(unreadable))
        raise ValueError(f"{path}: record {i + 1} ({df['date0'].iloc[i]}..{df['date1'].iloc[i]}) has an "
                         "unreadable date; give ISO dates (YYYY-MM-DD)")
    reversed_ = end <= begin
    if reversed_.any():
        i = int(np.argmax(reversed_))
        raise ValueError(f"{path}: {int(reversed_.sum())} record(s) end before they begin (date1 <= date0), "
                         f"the first record {i + 1} ({begin[i]}..{end[i]})")
    df["date0"], df["date1"] = begin, end
    return df


def from_stakes(gdir, obs: Observations, path, grid) -> None:
    """Add stake records from a CSV with columns date0, date1, lat, lon, balance (m w.e.)
    (checked by :func:`read_stake_file`); a record belongs to the glacier's hydrological
    year its first date lies in."""
    import pyproj
    import xarray as xr

    df = read_stake_file(path)
    with xr.open_dataset(grid.path) as ds:
        x, y, srs = ds["x"].values, ds["y"].values, ds.attrs["pyproj_srs"]
    tx = pyproj.Transformer.from_crs("EPSG:4326", srs, always_xy=True)
    px, py = tx.transform(df["lon"].values, df["lat"].values)
    dx = float(x[1] - x[0])
    col = np.floor((px - (x[0] - dx / 2)) / dx).astype(int)
    row = np.floor(((y[0] + abs(dx) / 2) - py) / abs(dx)).astype(int)
    outside = (col < 0) | (col >= len(x)) | (row < 0) | (row >= len(y))
    if outside.any():
        raise ValueError(f"{path}: {int(outside.sum())} stake(s) lie outside the model grid of {gdir.rgi_id}")
    df["row"], df["col"] = row, col
    df["hydro_year"] = glacier_calendar(gdir.hemisphere).year_of(df["date0"].values.astype("datetime64[D]"))
    obs.stakes = df[["date0", "date1", "row", "col", "balance", "hydro_year"]].reset_index(drop=True)
    obs.sources.append(f"stakes ({len(df)} records, {os.path.basename(path)})")


@dataclass
class Profiles:
    """Observed elevation-band profiles on the model grid's bands: ``band_edges`` (B + 1,)
    m a.s.l.; ``values`` {hydro_year: (B,) m w.e., NaN where not observed}."""

    band_edges: np.ndarray
    values: dict = field(default_factory=dict)


def from_wgms_profiles(gdir, obs: Observations, grid, ref_years: tuple[int, int] | None = None,
                       dz: float = 100.0) -> None:
    """Add the glacier's WGMS mass-balance profiles (``gdir.get_ref_mb_profile()``) as
    ``dz`` band means on the model grid's bands (see
    :mod:`oggm_glaunti.observation_operators`). WGMS altitudes outside the grid's glacier
    bands are dropped with a warning; none inside is an error.
    """
    try:
        df = gdir.get_ref_mb_profile()
    except (RuntimeError, FileNotFoundError, KeyError) as exc:
        raise ValueError(f"{gdir.rgi_id}: no WGMS mass-balance profile ({exc}); use_profiles needs one of "
                         "OGGM's WGMS reference glaciers with profiles") from None
    if ref_years is not None:
        first, last = wgms_year_range(ref_years)
        df = df.loc[(df.index >= first) & (df.index <= last)]
    df = df.dropna(how="all")
    if df.empty:
        raise ValueError(f"{gdir.rgi_id}: no WGMS mass-balance profile in ref_years={ref_years}")
    edges = band_edges(grid.elevation, grid.outline, dz)
    altitudes = df.columns.to_numpy(float)
    outside = (altitudes < edges[0]) | (altitudes >= edges[-1])
    if outside.all():
        raise ValueError(f"{gdir.rgi_id}: the WGMS profile's altitudes ({altitudes.min():.0f}-{altitudes.max():.0f} m) "
                         f"lie outside the model grid's glacier elevations ({edges[0]:.0f}-{edges[-1]:.0f} m): "
                         "check the DEM and outline of the glacier directory")
    if outside.any():
        log.warning("%s: %d WGMS profile altitude(s) outside the model grid's glacier elevations "
                    "(%.0f-%.0f m) not used: %s", gdir.rgi_id, int(outside.sum()), edges[0], edges[-1],
                    altitudes[outside].tolist())
    has_cells = band_weights(grid.elevation, grid.outline, edges).sum((1, 2)) > 0
    bands = profile_on_bands(altitudes, df.to_numpy(float) / 1000.0, edges)
    bands[:, ~has_cells] = np.nan
    calendar = glacier_calendar(gdir.hemisphere)
    profiles = Profiles(edges, {calendar.hydro_year_of(y): row for y, row in zip(df.index, bands)
                                if np.isfinite(row).any()})
    obs.profiles = profiles
    obs.sources.append(f"WGMS profiles ({len(profiles.values)} years, {dz:g} m bands)")
