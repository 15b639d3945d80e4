"""A small synthetic glacier with daily forcing, for examples and benchmarks.

An idealised valley glacier: elevation falls linearly down-glacier, an elliptic outline,
seasonal temperature with day-to-day noise and a lapse rate, gamma-distributed wet-day
precipitation. Deterministic for a given seed. Not a dataset for training (see the
training layer for that).
"""

from __future__ import annotations

import numpy as np

from .core import MAX_DAYS_PER_YEAR, YearForcing, stack_years, year_forcing
from .hydro_calendar import HydroCalendar

#: Hydrological years of the synthetic sequences: 1 October to 1 October.
NORTHERN = HydroCalendar(start_month=10, summer_month=5)

LAPSE_RATE = -0.0060  # degC per m, as the published downscaling


def glacier_geometry(shape: tuple[int, int], top: float = 3600.0, bottom: float = 2500.0):
    """(elevation m, outline fraction) of an idealised glacier on a ``shape`` grid."""
    rows, cols = np.meshgrid(np.linspace(-1, 1, shape[0]), np.linspace(-1, 1, shape[1]), indexing="ij")
    elevation = bottom + (top - bottom) * (1 - (rows + 1) / 2) + 60 * cols**2
    outline = ((rows / 0.9) ** 2 + (cols / 0.7) ** 2 <= 1).astype(np.float32)
    return elevation.astype(np.float32), outline


def synthetic_forcing(shape: tuple[int, int], n_days: int, rng: np.random.Generator, first_doy: int = 0):
    """Daily (temperature degC, precipitation m w.e./day), each ``(n_days, *shape)``.

    ``first_doy`` is the day of the hydrological year of the first day (0 = 1 October).
    """
    elevation, _ = glacier_geometry(shape)
    doy = first_doy + np.arange(n_days)[:, None, None]
    noise = 3.0 * rng.standard_normal((n_days, 1, 1))
    t_ref = -5.0 - 8.0 * np.cos(2 * np.pi * (doy - 100) / 365.25) + noise  # at 3000 m, peak ~10 Jul
    temperature = (t_ref + LAPSE_RATE * (elevation - 3000.0)).astype(np.float32)
    wet = rng.random((n_days, 1, 1)) < 0.45
    amounts = wet * rng.gamma(0.8, 0.011, (n_days, 1, 1))
    precipitation = np.broadcast_to(amounts, (n_days,) + tuple(shape)).astype(np.float32)
    return temperature, precipitation


def synthetic_years(
    shape: tuple[int, int] = (24, 30),
    first_year: int = 2001,
    n_years: int = 3,
    seed: int = 0,
    seasonal: bool = False,
) -> tuple[YearForcing, list[str]]:
    """Stacked hydrological years (1 Oct to 1 Oct) of a synthetic glacier.

    Returns the stacked :class:`~oggm_glaunti.core.YearForcing` (padded to a common length)
    and the labels of the years (e.g. ``'2001/02'``).
    """
    rng = np.random.default_rng(seed)
    elevation, outline = glacier_geometry(shape)
    years, labels = [], []
    for y in range(first_year, first_year + n_years):
        begin, n_days = NORTHERN.begin(y), NORTHERN.n_days(y)
        temperature, precipitation = synthetic_forcing(shape, n_days, rng)
        split = 212 if seasonal else None  # about 1 May
        years.append(year_forcing(temperature, precipitation, begin, split=split, outline=outline,
                                  elevation=elevation, n_days=MAX_DAYS_PER_YEAR))
        labels.append(f"{y}/{(y + 1) % 100:02d}")
    return stack_years(years), labels
