"""Any OGGM mass-balance model's balance over a WGMS year, from its monthly balances.

OGGM 1.6.3's models work on calendar years; WGMS's glaciological balances are over the
hydrological year of the glacier's hemisphere: October of the year before to September
in the north, April to March in the south (the glacier's calendar,
:func:`~oggm_glaunti.integration.grid.glacier_data.glacier_calendar`). Scoring a
calendar-year balance against a WGMS one moves a season's accumulation into the wrong
year, which costs any model correlation. These functions sum the model's
``get_monthly_mb`` over the months of WGMS year ``Y`` (or of its winter or summer) instead;
a month is its rate times OGGM's month (``cfg.SEC_IN_MONTH``, the length
``get_monthly_mb`` divides by), so the twelve months of a calendar year add up to the
model's own annual balance. Whole months only: a WGMS year on floating survey dates is
taken as its calendar months.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from oggm import cfg
from oggm.utils import date_to_floatyear

from ..grid.glacier_data import glacier_calendar


def wgms_months(mb_model, wgms_year: int, season: str = "annual") -> list[tuple[int, int]]:
    """(calendar year, month) of the months of ``season`` ('annual', 'winter' or
    'summer') of WGMS year ``wgms_year`` in the hemisphere of ``mb_model``."""
    calendar = glacier_calendar(mb_model.hemisphere)
    return calendar.months(calendar.hydro_year_of(wgms_year), season)


def _month_to_kg_m2() -> float:
    return cfg.SEC_IN_MONTH * cfg.PARAMS["ice_density"]


def months_mb(mb_model, heights, months: Iterable[tuple[int, int]]) -> np.ndarray:
    """Balance (mm w.e.) at ``heights`` (m) summed over ``months``, (calendar year, month)
    pairs (e.g. :func:`wgms_months`)."""
    total = sum(np.asarray(mb_model.get_monthly_mb(heights, year=date_to_floatyear(y, m)), np.float64)
                for y, m in months)
    return total * _month_to_kg_m2()


def flowline_weights(fls) -> np.ndarray:
    """The weights of OGGM's specific MB: each point's width, none where it has no ice."""
    out = []
    for fl in fls:
        thick = getattr(fl, "thick", None)  # inversion flowlines have none: all points count
        out.append(fl.widths if thick is None else np.where(fl.thick > 0, fl.widths, 0.0))
    return np.concatenate(out)


def months_specific_mb(mb_model, fls, months: Iterable[tuple[int, int]]) -> float:
    """Glacier-wide balance (mm w.e.) on the flowlines over ``months``, (calendar year,
    month) pairs (e.g. :func:`wgms_months`), weighted as OGGM's ``get_specific_mb``."""
    weights = flowline_weights(fls)
    total = 0.0
    for y, m in months:
        floatyear = date_to_floatyear(y, m)
        rates = np.concatenate([mb_model.get_monthly_mb(fl.surface_h, fls=fls, fl_id=i, year=floatyear)
                                for i, fl in enumerate(fls)])
        total += float(np.sum(rates * weights) / np.sum(weights))
    return total * _month_to_kg_m2()
