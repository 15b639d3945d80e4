"""Plausible ranges of heights, shared by the checks of the OGGM layer and the dataset reader.

NumPy only (no JAX, no OGGM): the climate tasks import it. See ``docs/input_checks.md``.
"""
from __future__ import annotations

import numpy as np

#: Plausible surface elevations (m): the Dead Sea shore to above Everest.
PLAUSIBLE_ELEVATION = (-500., 9000.)
#: Standard gravity (m s-2): geopotential (m2 s-2) / GRAVITY = height (m).
GRAVITY = 9.80665


def reference_height_problem(values) -> str | None:
    """What is wrong with climate reference heights ``values`` (m), with the likely cause;
    None when every value is finite and within :data:`PLAUSIBLE_ELEVATION`.

    A geopotential (m2 s-2) taken for a height is 9.8 times too high: when dividing by
    :data:`GRAVITY` gives a plausible height, the message says so.
    """
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if not np.isfinite(values).all():
        return 'the reference height is NaN or infinite; a height in m is needed'
    lo, hi = PLAUSIBLE_ELEVATION
    bad = values[(values < lo) | (values > hi)]
    if not bad.size:
        return None
    value = float(bad[np.argmax(np.abs(bad))])
    if value > hi and lo <= value / GRAVITY <= hi:
        cause = (f'it looks like a geopotential in m2 s-2 read as a height in m: divided by '
                 f'g = {GRAVITY} m s-2 it would be {value / GRAVITY:.0f} m')
    else:
        cause = 'check its units (m expected), its sign and any nodata value'
    return (f'the reference height {value:.0f} m is outside the plausible {lo:g}..{hi:g} m of '
            f"the Earth's surface ({cause})")


def check_reference_height(value: float, where: str, fix: str = '') -> float:
    """``value`` as a float, or a ValueError naming ``where`` (the file and variable), the
    value, its likely cause (:func:`reference_height_problem`) and ``fix``.

    A wrong reference height shifts every temperature by the lapse rate times the error
    (0.6 degC per 100 m): an orography given as geopotential but labelled m gives
    30,989 m for Hintereisferner's 3,160 m, and a balance of -440 m w.e. per year.
    """
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{where}: the reference height {value!r} is not a number (m).{fix}') from None
    problem = reference_height_problem(value)
    if problem:
        raise ValueError(f'{where}: {problem}.{fix}')
    return value

