"""Reading and checking the observation tables of one glacier (``total_smb.csv``,
``point_smb.csv``) of a GlaUnTI dataset folder, in the released layout
(``docs/dataset_format.md``, :mod:`oggm_glaunti.dataset_layout`).

Failures are :class:`~oggm_glaunti.training.dataset_grids.DatasetError` naming the glacier,
the file and the (hydrological) year of the offending row. No JAX here.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..dataset_layout import BALANCE_CODES, POINT_COLUMNS, TOTAL_COLUMNS
from .dataset_grids import DatasetError
from .records import SEASONS, GlacierWideObs, SeasonWindow

#: Balances beyond this (m w.e.) are taken as mm w.e. (WGMS publishes mm w.e.).
MAX_PLAUSIBLE_BALANCE = 30.0


def _read_csv(glacier: str, path: str, columns: tuple[str, ...]) -> pd.DataFrame:
    if not os.path.isfile(path):
        raise DatasetError(glacier, path, "the file is missing (see docs/dataset_format.md)")
    try:
        # Everything as text first: empty cells stay "" and every conversion below can say
        # which row failed.
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception as exc:
        raise DatasetError(glacier, path, f"cannot be read as CSV ({exc})") from exc
    table.columns = [c.strip() for c in table.columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DatasetError(glacier, path, f"lacks column(s) {missing}; expected {list(columns)}")
    table = table.apply(lambda col: col.str.strip())
    years = pd.to_numeric(table["year"], errors="coerce")
    if years.isna().any() or (years != years.round()).any():
        bad = table["year"][years.isna() | (years != years.round())].iloc[0]
        raise DatasetError(glacier, path, f"column 'year' holds {bad!r}, not an integer year")
    table["year"] = years.astype(np.int64)
    return table


def _dates(glacier: str, path: str, table: pd.DataFrame, column: str, required: bool) -> pd.Series:
    """Column of ``datetime64[D]`` (NaT where empty and not required)."""
    text = table[column]
    dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = dates.isna() & ((text != "") | required)
    if bad.any():
        row = table[bad].iloc[0]
        what = "is empty" if row[column] == "" else f"holds {row[column]!r}, not a YYYY-MM-DD date"
        raise DatasetError(glacier, path, f"column {column!r} {what}", year=int(row["year"]))
    return dates


def _balances(glacier: str, path: str, table: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() & (table[column] != "") & (table[column].str.lower() != "nan")
    bad |= values.abs() > MAX_PLAUSIBLE_BALANCE
    if bad.any():
        row = table[bad].iloc[0]
        raise DatasetError(
            glacier, path, f"column {column!r} holds {row[column]!r}: expected a balance in m w.e. "
            f"(|b| <= {MAX_PLAUSIBLE_BALANCE}; WGMS mm w.e. must be divided by 1000) or an empty cell",
            year=int(row["year"]))
    return values


def _day(value: pd.Timestamp) -> np.datetime64:
    return np.datetime64(value.date(), "D")


def read_total_smb(glacier: str, path: str, first: np.datetime64, last: np.datetime64
                   ) -> tuple[dict[int, SeasonWindow], tuple[GlacierWideObs, ...]]:
    """Season windows and glacier-wide balances from ``total_smb.csv``.

    ``first``/``last`` are the forcing's first and last dates: every window must lie inside.
    A row may hold dates only (no balance): it then just fixes that year's window.
    """
    table = _read_csv(glacier, path, TOTAL_COLUMNS)
    if table["year"].duplicated().any():
        raise DatasetError(glacier, path, "the year appears in more than one row",
                           year=int(table["year"][table["year"].duplicated()].iloc[0]))
    table = table.sort_values("year", kind="stable").reset_index(drop=True)
    begin, end = (_dates(glacier, path, table, c, True) for c in ("begin_date", "end_date"))
    mid = _dates(glacier, path, table, "midseason_date", False)
    balance = {s: _balances(glacier, path, table, f"{s}_balance") for s in SEASONS}

    windows: dict[int, SeasonWindow] = {}
    observations: list[GlacierWideObs] = []
    previous: SeasonWindow | None = None
    for i, year in enumerate(table["year"]):
        year = int(year)
        b, e = _day(begin[i]), _day(end[i])
        m = None if pd.isna(mid[i]) else _day(mid[i])
        seasonal_obs = [s for s in ("winter", "summer") if not pd.isna(balance[s][i])]
        if seasonal_obs and m is None:
            raise DatasetError(glacier, path, f"a {' and '.join(seasonal_obs)} balance is given but "
                               "midseason_date is empty: seasonal balances need the midseason date",
                               year=year)
        if e - b < 1:
            raise DatasetError(glacier, path, f"end_date {e} is not after begin_date {b}", year=year)
        if m is not None and not (b < m < e):
            raise DatasetError(glacier, path, f"midseason_date {m} must lie strictly between "
                               f"begin_date {b} and end_date {e}", year=year)
        if b < first or e > last:
            raise DatasetError(glacier, path, f"the year's dates {b}..{e} lie outside the forcing "
                               f"({first}..{last})", year=year)
        if previous is not None and b < previous.end:
            raise DatasetError(glacier, path, f"begin_date {b} lies before the end_date {previous.end} of "
                               f"year {previous.year}: hydrological years must not overlap", year=year)
        previous = windows[year] = SeasonWindow(year, b, e, m)
        observations += [GlacierWideObs(year, s, float(balance[s][i]))
                         for s in SEASONS if not pd.isna(balance[s][i])]
    return windows, tuple(observations)


def read_point_smb(glacier: str, path: str, first: np.datetime64, last: np.datetime64) -> pd.DataFrame:
    """Stake records from ``point_smb.csv`` as a checked table.

    Returns columns year (int), season (one of SEASONS), begin, end (datetime64[D]),
    latitude, longitude, balance (float) and is_index (bool), in file order. A
    ``balance_code`` of ``index`` gives season "annual" with ``is_index`` true: such readings
    are left out of the loss and, by default, of the point scores.
    """
    table = _read_csv(glacier, path, POINT_COLUMNS)
    code = table["balance_code"].str.lower()
    bad = ~code.isin(BALANCE_CODES)
    if bad.any():
        row = table[bad].iloc[0]
        raise DatasetError(glacier, path, f"column 'balance_code' holds {row['balance_code']!r}; expected "
                           f"one of {BALANCE_CODES}", year=int(row["year"]))
    is_index = (code == "index").to_numpy()
    season = code.where(~is_index, "annual")
    begin, end = (_dates(glacier, path, table, c, True) for c in ("begin_date", "end_date"))
    begin = begin.to_numpy().astype("datetime64[D]")
    end = end.to_numpy().astype("datetime64[D]")
    numbers = {}
    for column in ("latitude", "longitude", "balance"):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)
        limit = {"latitude": 90.0, "longitude": 360.0, "balance": MAX_PLAUSIBLE_BALANCE}[column]
        bad = ~np.isfinite(values) | (np.abs(values) > limit)
        if bad.any():
            i = int(np.argmax(bad))
            unit = " (balance in m w.e.; WGMS mm w.e. must be divided by 1000)" if column == "balance" else ""
            raise DatasetError(glacier, path, f"column {column!r} holds {table[column].iloc[i]!r}: "
                               f"expected a finite value within +-{limit:g}{unit}",
                               year=int(table["year"].iloc[i]))
        numbers[column] = values
    for bad, problem in (
        (end <= begin, "end_date is not after begin_date"),
        ((begin < first) | (end > last), f"the record's dates lie outside the forcing ({first}..{last})"),
    ):
        if bad.any():
            i = int(np.argmax(bad))
            raise DatasetError(glacier, path, f"{problem} (record {begin[i]}..{end[i]})",
                               year=int(table["year"].iloc[i]))
    return pd.DataFrame({
        "year": table["year"].to_numpy(), "season": season.to_numpy(), "begin": begin, "end": end,
        **numbers, "is_index": is_index,
    })
