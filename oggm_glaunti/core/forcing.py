"""One hydrological year of inputs, and stacks of years, as JAX pytrees.

Build years with :func:`year_forcing` (NumPy in, validated) and sequences with
:func:`stack_years`; the models never see dates, only the day plan and each day's month.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import jax
import numpy as np
from jax import Array

from .inputs import N_FACIES_CHANNELS, FACIES_PLACEHOLDER, month_ids
from .plan import DayPlan, make_day_plan
from .validation import check_year_inputs

#: Default elevation uncertainty (m) where none is known; see the docs' limitations page.
DEFAULT_ELEVATION_STD = 10.0


class YearForcing(NamedTuple):
    """Everything one hydrological year needs; with a leading year axis, a sequence.

    Attributes
    ----------
    temperature, precipitation : (n_days, H, W) degC and m w.e. per day, per cell.
    plan : the year's :class:`~oggm_glaunti.core.plan.DayPlan`.
    month_membership : (n_days, n_months) one-hot calendar month of each day (zero rows
        for padding days).
    outline : (H, W) glacier fraction of each cell (0..1).
    elevation, elevation_std : (H, W) m.
    facies : (9, H, W) class probabilities and confidence, or -1 where none exists.
    climate_monthly : optional (2, n_months) override of the corrector's 1D input (used to
        replay published test cases); None derives it from the forcing.
    """

    temperature: Array
    precipitation: Array
    plan: DayPlan
    month_membership: Array
    outline: Array
    elevation: Array
    elevation_std: Array
    facies: Array
    climate_monthly: Optional[Array] = None


def year_forcing(
    temperature: np.ndarray,
    precipitation: np.ndarray,
    begin: str | np.datetime64,
    split: Optional[int] = None,
    outline: Optional[np.ndarray] = None,
    elevation: Optional[np.ndarray] = None,
    elevation_std: Optional[np.ndarray] = None,
    facies: Optional[np.ndarray] = None,
    n_days: Optional[int] = None,
    climate_monthly: Optional[np.ndarray] = None,
    open_end: bool = False,
) -> YearForcing:
    """Validate and assemble one year.

    Parameters
    ----------
    temperature, precipitation : (days, H, W) daily forcing from the begin date to the end
        date inclusive, degC and m w.e. per day (0-d or 1-d cell shapes are fine).
    begin : the first date (sets the calendar months of the corrector's 1D input).
    split : index of the midseason day for winter + summer periods; None for annual.
    outline : glacier fraction per cell; default all ones.
    elevation : m; needed by variants C and D (default zeros).
    elevation_std : m; default :data:`DEFAULT_ELEVATION_STD`.
    facies : (9, H, W) or None (placeholder -1).
    n_days : pad the forcing to this many days (inactive), to share compiled code between
        years; default no padding.
    climate_monthly : optional override of the 1D input, (2, n_months).
    open_end : the year is cut short by the end of the record: its last day is shared
        with nothing and weighs 1 (see :func:`~oggm_glaunti.core.plan.make_day_plan`).
    """
    temperature = np.asarray(temperature, np.float32)
    precipitation = np.asarray(precipitation, np.float32)
    cells = temperature.shape[1:]
    outline = np.ones(cells, np.float32) if outline is None else np.asarray(outline, np.float32)
    elevation = np.zeros(cells, np.float32) if elevation is None else np.asarray(elevation, np.float32)
    elevation_std = (np.full(cells, DEFAULT_ELEVATION_STD, np.float32) if elevation_std is None
                     else np.asarray(elevation_std, np.float32))
    if facies is None:
        facies = np.full((N_FACIES_CHANNELS,) + cells, FACIES_PLACEHOLDER, np.float32)
    facies = np.asarray(facies, np.float32)
    check_year_inputs(temperature, precipitation, outline, elevation, elevation_std, facies)

    days = temperature.shape[0]
    if n_days is None:  # no padding: the shortest plan
        n_days, n_steps = days, None
    else:  # padded: one step more than days, so annual and seasonal years stack together
        n_days, n_steps = int(n_days), int(n_days) + 1
    if n_days < days:
        raise ValueError(f"n_days={n_days} is shorter than the forcing ({days} days)")
    plan = make_day_plan(days, split, n_steps=n_steps, open_end=open_end)
    ids, n_months = month_ids(begin, days)
    membership = np.zeros((n_days, n_months), np.float32)
    membership[np.arange(days), ids] = 1.0
    if n_days > days:
        pad = ((0, n_days - days),) + ((0, 0),) * len(cells)
        temperature = np.pad(temperature, pad, mode="edge")
        precipitation = np.pad(precipitation, pad, mode="edge")
    if climate_monthly is not None:
        climate_monthly = np.asarray(climate_monthly, np.float32)
        if climate_monthly.shape != (2, n_months):
            raise ValueError(
                f"climate_monthly has shape {climate_monthly.shape}; expected (2, {n_months}) "
                f"for a year starting {begin} with {days} days"
            )
    return YearForcing(temperature, precipitation, plan, membership, outline, elevation,
                       elevation_std, facies, climate_monthly)


def stack_years(years: Sequence[YearForcing]) -> YearForcing:
    """Stack years (same cell shape, day count and month count) along a new leading axis.

    Build the years with a common ``n_days`` (e.g. 367) so that leap and common years, and
    annual and seasonal years, stack together.
    """
    if not years:
        raise ValueError("stack_years needs at least one year")
    first = jax.tree_util.tree_structure(years[0])
    for i, year in enumerate(years[1:], start=1):
        if jax.tree_util.tree_structure(year) != first:
            raise ValueError(f"year {i} differs in structure from year 0 (climate_monthly given for some only?)")
        for name in ("temperature", "plan", "month_membership"):
            a = jax.tree_util.tree_leaves(getattr(years[0], name))[0]
            b = jax.tree_util.tree_leaves(getattr(year, name))[0]
            if np.shape(a) != np.shape(b):
                raise ValueError(
                    f"year {i} has {name} of shape {np.shape(b)} but year 0 has {np.shape(a)}; "
                    "build all years with the same n_days, cell shape and number of months"
                )
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *years)
