"""Any OGGM mass-balance model's balance over a WGMS year, from its monthly balances.

OGGM 1.6.3's models work on calendar years; WGMS's glaciological balances are over the
hydrological year, October of the year before to September (northern hemisphere). Scoring
a calendar-year balance against a WGMS one moves three months of winter accumulation into
the wrong year, which costs any model correlation. These functions sum the model's
``get_monthly_mb`` over the months of WGMS year ``Y`` instead; a month is its rate times
OGGM's month (``cfg.SEC_IN_MONTH``, the length ``get_monthly_mb`` divides by), so the twelve
months of a calendar year add up to the model's own annual balance.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from oggm import cfg
from oggm.utils import date_to_floatyear

from ...observation_operators import hydro_year_of

#: Months of the WGMS year and of its seasons (northern hemisphere), from October of the
#: year before.
WGMS_YEAR_MONTHS = (10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9)
WINTER_MONTHS = (10, 11, 12, 1, 2, 3, 4)
SUMMER_MONTHS = (5, 6, 7, 8, 9)


def _floatyear(wgms_year: int, month: int) -> float:
    return date_to_floatyear(hydro_year_of(wgms_year) if month >= WGMS_YEAR_MONTHS[0] else wgms_year, month)


def _month_to_kg_m2() -> float:
    return cfg.SEC_IN_MONTH * cfg.PARAMS["ice_density"]


def months_mb(mb_model, heights, wgms_year: int, months: Iterable[int] = WGMS_YEAR_MONTHS) -> np.ndarray:
    """Balance (mm w.e.) at ``heights`` (m) summed over ``months`` of WGMS year ``wgms_year``."""
    total = sum(np.asarray(mb_model.get_monthly_mb(heights, year=_floatyear(wgms_year, m)), np.float64)
                for m in months)
    return total * _month_to_kg_m2()


def flowline_weights(fls) -> np.ndarray:
    """The weights of OGGM's specific MB: each point's width, none where it has no ice."""
    out = []
    for fl in fls:
        thick = getattr(fl, "thick", None)  # inversion flowlines have none: all points count
        out.append(fl.widths if thick is None else np.where(fl.thick > 0, fl.widths, 0.0))
    return np.concatenate(out)


def months_specific_mb(mb_model, fls, wgms_year: int, months: Iterable[int] = WGMS_YEAR_MONTHS) -> float:
    """Glacier-wide balance (mm w.e.) on the flowlines over ``months`` of WGMS year
    ``wgms_year``, weighted as OGGM's ``get_specific_mb``."""
    weights = flowline_weights(fls)
    total = 0.0
    for month in months:
        floatyear = _floatyear(wgms_year, month)
        rates = np.concatenate([mb_model.get_monthly_mb(fl.surface_h, fls=fls, fl_id=i, year=floatyear)
                                for i, fl in enumerate(fls)])
        total += float(np.sum(rates * weights) / np.sum(weights))
    return total * _month_to_kg_m2()
