"""Checks of user inputs at the boundary of the core (concrete arrays only).

Every failure is a ValueError naming the argument, what was found and what is expected.
"""

from __future__ import annotations

import numpy as np

#: Daily temperatures above this (degC) are taken as kelvin.
MAX_PLAUSIBLE_TEMPERATURE = 70.0
#: Daily precipitation above this (m w.e. per day) is taken as mm per day.
MAX_PLAUSIBLE_PRECIPITATION = 1.0


def check_finite(name: str, array: np.ndarray) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN or infinite value(s) (first at index {first}); "
            "fill gaps in the forcing before running the model"
        )


def check_temperature(array: np.ndarray, name: str = "temperature") -> None:
    """Finite, and in degC rather than kelvin."""
    check_finite(name, array)
    if array.size and float(array.max()) > MAX_PLAUSIBLE_TEMPERATURE:
        raise ValueError(
            f"{name} reaches {float(array.max()):.1f}, which looks like kelvin; expected daily "
            f"temperature in degC (at most {MAX_PLAUSIBLE_TEMPERATURE} degC): subtract 273.15"
        )


def check_precipitation(array: np.ndarray, name: str = "precipitation") -> None:
    """Finite, non-negative and in m w.e. per day rather than mm per day."""
    check_finite(name, array)
    if array.size and float(array.min()) < 0:
        raise ValueError(
            f"{name} has negative values (minimum {float(array.min()):.4g}); expected daily "
            "precipitation >= 0 in m w.e. per day"
        )
    if array.size and float(array.max()) > MAX_PLAUSIBLE_PRECIPITATION:
        raise ValueError(
            f"{name} reaches {float(array.max()):.4g} per day, which looks like mm per day; "
            f"expected m w.e. per day (at most {MAX_PLAUSIBLE_PRECIPITATION}): divide by 1000"
        )


def check_shape(name: str, array: np.ndarray, expected: tuple[int, ...], meaning: str) -> None:
    if tuple(array.shape) != tuple(expected):
        raise ValueError(f"{name} has shape {tuple(array.shape)}; expected {tuple(expected)} ({meaning})")


def check_year_inputs(temperature, precipitation, outline, elevation, elevation_std, facies) -> None:
    """All checks of one year's arrays (see :func:`~oggm_glaunti.core.forcing.year_forcing`)."""
    if temperature.ndim < 1:
        raise ValueError("temperature must have a leading day axis: shape (n_days, H, W)")
    check_shape("precipitation", precipitation, temperature.shape, "same days and cells as temperature")
    check_temperature(temperature)
    check_precipitation(precipitation)
    cells = temperature.shape[1:]
    for name, array in (("outline", outline), ("elevation", elevation), ("elevation_std", elevation_std)):
        check_shape(name, array, cells, "the cell shape of temperature")
        check_finite(name, array)
    if outline.min() < 0 or outline.max() > 1:
        raise ValueError(f"outline must be a glacier fraction in 0..1; found {outline.min():.3g}..{outline.max():.3g}")
    if outline.sum() <= 0:
        raise ValueError("outline is zero everywhere: the glacier has no cell to average over")
    check_shape("facies", facies, (9,) + cells, "8 facies classes + confidence, then the cell shape")
