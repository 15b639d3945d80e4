"""Stochastic disaggregation of monthly climate into daily values.

Pure NumPy (no OGGM): the algorithm behind
:func:`oggm_glaunti.integration.climate.climate_daily.process_daily_from_monthly` and
:func:`~oggm_glaunti.integration.climate.climate_daily.process_daily_from_gcm`.

Method
------
The whole monthly series is disaggregated in one pass, so the daily weather
of a month does not depend on which years are later kept.

Temperature. A stationary AR(1) process with unit variance and lag-1
autocorrelation ``ar1`` runs through all days (``e_t = ar1 e_{t-1} +
sqrt(1 - ar1^2) z_t``, ``z_t`` standard normal). Within each month its sample
mean is removed and the anomalies are scaled to the month's standard
deviation ``temp_std`` (population std, ``ddof=0``); the month's mean is
added back. Each month's mean temperature and within-month standard
deviation are therefore reproduced exactly (to float64 round-off).

Precipitation. Wet days follow a two-state Markov chain (probability of a
wet day ``p_wet_after_dry`` after a dry day, ``p_wet_after_wet`` after a wet
day; the first day is drawn from the chain's stationary wet fraction
``p01 / (1 - p11 + p01)``). Wet-day amounts are gamma-distributed (shape
``gamma_shape``) and rescaled so that they sum to the month's total exactly
(to round-off). A month with zero precipitation stays dry; a month with
precipitation but no wet day drawn gets one wet day (a pre-drawn random day).
The chain runs independently of the monthly totals.

Random numbers are drawn in a fixed order and amount from the given
``numpy.random.Generator`` (normals, uniforms, gammas, one integer per
month), so results are reproducible for a given generator state.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ...hydro_calendar import days_in_months, month_starts


def daily_dates(years: np.ndarray, months: np.ndarray) -> np.ndarray:
    """All days (``datetime64[D]``) of the given consecutive months."""
    start = month_starts(years, months)
    ndays = days_in_months(years, months)
    offset = np.arange(ndays.sum()) - np.repeat(np.cumsum(ndays) - ndays,
                                                ndays)
    return np.repeat(start, ndays) + offset


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float('nan')


def settings_problems(ar1, p_wet_after_dry, p_wet_after_wet, gamma_shape,
                      temp_std_default=0., seed=0, labels: dict | None = None) -> list[str]:
    """What is wrong with the disaggregation settings (an empty list when nothing).

    ``labels`` maps a setting's name to how the user gave it (e.g. the ``cfg.PARAMS``
    key), for the messages. The wet-day chain must be able to enter and leave wet spells:
    ``p_wet_after_dry`` in (0, 1] and ``p_wet_after_wet`` in [0, 1).
    """
    labels = labels or {}
    name = lambda key: labels.get(key, key)  # noqa: E731
    problems = []
    if not 0 <= _number(ar1) < 1:
        problems.append(f'{name("ar1")} = {ar1!r}: the lag-1 autocorrelation of daily '
                        'temperature must be in [0, 1)')
    if not 0 < _number(p_wet_after_dry) <= 1:
        problems.append(f'{name("p_wet_after_dry")} = {p_wet_after_dry!r}: the probability of a '
                        'wet day after a dry day must be in (0, 1] (with 0 the chain never leaves '
                        'a dry spell: no day would be wet)')
    if not 0 <= _number(p_wet_after_wet) < 1:
        problems.append(f'{name("p_wet_after_wet")} = {p_wet_after_wet!r}: the probability of a '
                        'wet day after a wet day must be in [0, 1) (with 1 every day after the '
                        'first wet one would be wet)')
    if not 0 < _number(gamma_shape) < np.inf:
        problems.append(f'{name("gamma_shape")} = {gamma_shape!r}: the gamma shape of wet-day '
                        'amounts must be > 0')
    if not 0 <= _number(temp_std_default) < np.inf:
        problems.append(f'{name("temp_std_default")} = {temp_std_default!r}: the within-month '
                        'standard deviation of daily temperature must be >= 0 (degC)')
    if not (_number(seed) >= 0 and _number(seed).is_integer()):
        problems.append(f'{name("seed")} = {seed!r}: the seed must be a whole number >= 0')
    return problems


def check_settings(ar1, p_wet_after_dry, p_wet_after_wet, gamma_shape, temp_std_default=0.,
                   seed=0, labels: dict | None = None) -> None:
    """Raise a ValueError listing every problem of :func:`settings_problems`."""
    problems = settings_problems(ar1, p_wet_after_dry, p_wet_after_wet, gamma_shape,
                                 temp_std_default, seed, labels)
    if problems:
        raise ValueError('Disaggregation settings out of range: ' + '; '.join(problems) + '.')


def _wet_days(u: np.ndarray, p01: float, p11: float) -> np.ndarray:
    """Two-state Markov chain driven by the uniforms ``u``."""
    wet = np.empty(u.size, dtype=bool)
    if u.size == 0:
        return wet
    state = u[0] < p01 / (1.0 - p11 + p01)
    wet[0] = state
    for i in range(1, u.size):
        state = u[i] < (p11 if state else p01)
        wet[i] = state
    return wet


def disaggregate_monthly(temp: np.ndarray, prcp: np.ndarray,
                         ndays: np.ndarray, temp_std: np.ndarray | float,
                         rng: np.random.Generator, *,
                         ar1: float = 0.7,
                         p_wet_after_dry: float = 0.25,
                         p_wet_after_wet: float = 0.65,
                         gamma_shape: float = 0.75
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Disaggregate consecutive monthly values into daily values.

    Parameters
    ----------
    temp : array (n_months,)
        monthly mean temperature (any unit, typically degC).
    prcp : array (n_months,)
        monthly precipitation total (any unit, e.g. kg m-2), >= 0.
    ndays : array of int (n_months,)
        days in each month.
    temp_std : float or array (n_months,)
        within-month standard deviation of daily temperature, >= 0.
    rng : numpy.random.Generator
        the random generator (e.g. ``Generator(PCG64(seed))``).
    ar1 : float
        lag-1 autocorrelation of daily temperature anomalies, in [0, 1).
    p_wet_after_dry, p_wet_after_wet : float
        wet-day transition probabilities of the Markov chain, in (0, 1] and [0, 1).
    gamma_shape : float
        shape of the gamma distribution of wet-day amounts, > 0.

    Returns
    -------
    (temp_daily, prcp_daily) : arrays (sum(ndays),), float64
        daily temperature and precipitation (the precipitation unit is the
        monthly unit per day, e.g. kg m-2 day-1).
    """
    temp = np.asarray(temp, dtype=np.float64)
    prcp = np.asarray(prcp, dtype=np.float64)
    ndays = np.asarray(ndays, dtype=np.int64)
    std = np.broadcast_to(np.asarray(temp_std, dtype=np.float64), temp.shape)
    if not temp.shape == prcp.shape == ndays.shape or temp.ndim != 1:
        raise ValueError('temp, prcp and ndays must be 1-D arrays of equal '
                         f'length, got {temp.shape}, {prcp.shape}, '
                         f'{ndays.shape}.')
    for name, arr in (('temp', temp), ('prcp', prcp), ('temp_std', std)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f'{name} contains NaN or infinite values.')
    if np.any(prcp < 0) or np.any(std < 0):
        raise ValueError('prcp and temp_std must be >= 0.')
    if np.any(ndays < 2):
        raise ValueError('every month needs at least 2 days.')
    check_settings(ar1, p_wet_after_dry, p_wet_after_wet, gamma_shape)

    n = int(ndays.sum())
    month = np.repeat(np.arange(temp.size), ndays)
    # fixed draw order: normals, uniforms, gammas, one integer per month
    z = rng.standard_normal(n)
    u = rng.random(n)
    g = rng.gamma(gamma_shape, 1.0, n)
    fallback_day = rng.integers(0, ndays) if temp.size else ndays

    # temperature: stationary AR(1), standardised per month
    x = np.sqrt(1.0 - ar1 ** 2) * z
    if n:
        x[0] = z[0]
    e = lfilter([1.0], [1.0, -ar1], x)
    anom = e - (np.bincount(month, e, temp.size) / ndays)[month]
    sd = np.sqrt(np.bincount(month, anom ** 2, temp.size) / ndays)
    scale = np.divide(std, sd, out=np.zeros_like(std), where=sd > 0)
    temp_daily = temp[month] + scale[month] * anom

    # precipitation: Markov-chain wet days, gamma amounts, rescaled
    weight = np.where(_wet_days(u, p_wet_after_dry, p_wet_after_wet), g, 0.)
    total = np.bincount(month, weight, temp.size)
    need = (total == 0) & (prcp > 0)
    if np.any(need):
        first = np.cumsum(ndays) - ndays
        weight[(first + fallback_day)[need]] = 1.0
        total = np.bincount(month, weight, temp.size)
    factor = np.divide(prcp, total, out=np.zeros_like(prcp), where=total > 0)
    prcp_daily = weight * factor[month]
    return temp_daily, prcp_daily
