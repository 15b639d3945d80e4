"""The one place converting between OGGM's units and the core's.

Core: m w.e. (SMB, SWE), m w.e. per day (precipitation), degC. OGGM: kg m-2 (= mm w.e.),
kg m-2 per day in our daily climate files, and m of ice per second for MB rates.
"""

from __future__ import annotations

import math

import numpy as np

KG_M2_PER_M_WE = 1000.0
#: OGGM's conventions (oggm.cfg): a 365-day year and a 1/12-year month.
SEC_IN_DAY = 86400.0
SEC_IN_YEAR = 365 * SEC_IN_DAY
SEC_IN_MONTH = 2628000.0


def daily_prcp_to_core(prcp_kg_m2_day: np.ndarray) -> np.ndarray:
    """kg m-2 day-1 (daily climate files) -> m w.e. per day (core)."""
    return np.asarray(prcp_kg_m2_day) / KG_M2_PER_M_WE


def m_we_to_kg_m2(value):
    """m w.e. -> kg m-2 (= mm w.e.)."""
    return np.asarray(value, dtype=np.float64) * KG_M2_PER_M_WE


def kg_m2_to_ice_rate(kg_m2, seconds: float, rho: float) -> np.ndarray:
    """A mass change (kg m-2) over ``seconds`` -> m of ice per second (OGGM's MB unit)."""
    return np.asarray(kg_m2, dtype=np.float64) / seconds / rho


def melt_f_to_ddf_snow_log(melt_f: float) -> float:
    """OGGM's ``melt_f`` (mm w.e. degC-1 day-1) -> the stored ``ddf_snow_log`` (log of m w.e.
    degC-1 day-1)."""
    if not melt_f > 0:
        raise ValueError(f"melt_f must be positive (mm w.e. degC-1 day-1); got {melt_f}")
    return math.log(float(melt_f) / KG_M2_PER_M_WE)


def ddf_snow_log_to_melt_f(ddf_snow_log) -> float:
    """The stored ``ddf_snow_log`` -> OGGM's ``melt_f`` (mm w.e. degC-1 day-1)."""
    return math.exp(float(ddf_snow_log)) * KG_M2_PER_M_WE
