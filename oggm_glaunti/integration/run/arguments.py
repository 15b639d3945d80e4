"""The mass-balance model's parameters: where each comes from, and the range it must lie in.

One precedence rule (:func:`choose`), for every parameter of
:class:`~.massbalance.GlaUnTIMassBalance` (the weights, ``temp_bias``, ``prcp_fac``,
``melt_f``): the argument if given, else the glacier's calibration
(:func:`~oggm_glaunti.integration.calibration.calibration_file.read_calibration`), else the
default. One plausible range per parameter (:data:`RANGES`, in ``cfg.PARAMS``), the same
wherever the value comes from: an argument, a calibration file, a value a calibration fitted
(``glaunti_calibrate``, OGGM's task through
:func:`~oggm_glaunti.integration.calibration.oggm_tasks.glaunti_mb_calibration_from_scalar_mb`).
A NaN, a negative precipitation factor or a temperature bias of tens of degrees would run
and give a wrong (or NaN) mass balance much later: they are refused at once, naming the
parameter and where its value came from.
"""
from __future__ import annotations

import math
from types import FrameType
from typing import Any, NamedTuple

#: name: (cfg.PARAMS key of its plausible range, what it is). The defaults (in
#: :mod:`~oggm_glaunti.integration.session.params`) are those of a calibration: a temperature bias and
#: precipitation factor beyond which a fit says more about the climate data or the
#: observations than about the glacier, and a melt_f around OGGM's own bounds.
RANGES = {
    'temp_bias': ('glaunti_temp_bias_range', 'degC added to the daily temperature'),
    'prcp_fac': ('glaunti_prcp_fac_range', 'a positive factor on the precipitation, on top of the variant\'s own'),
    'melt_f': ('glaunti_melt_f_range', 'snow degree-day factor in mm w.e. degC-1 day-1'),
}


class Chosen(NamedTuple):
    """A parameter's value and where it came from ('argument', the calibration file's
    name, or 'default')."""

    value: Any
    source: str


def plausible_range(name: str) -> tuple[float, float]:
    """The plausible range of parameter ``name`` (``cfg.PARAMS[RANGES[name][0]]``)."""
    from ..session.params import get_param

    low, high = (float(v) for v in get_param(RANGES[name][0]))
    return low, high


def range_problem(name: str, value: float) -> str | None:
    """Why ``value`` is not a plausible ``name`` (None if it is)."""
    low, high = plausible_range(name)
    if low <= value <= high:
        return None
    return (f'{name}={value:g} is outside {low:g}..{high:g} ({RANGES[name][1]}; '
            f'cfg.PARAMS[{RANGES[name][0]!r}], widen it knowingly)')


def number(name: str, value, source: str) -> float:
    """``value`` as a finite float, else a ValueError naming ``name`` and ``source``."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f'{name}={value!r} ({source}) is not a number')
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{name}={value!r} ({source}) is not a number') from None
    if not math.isfinite(result):
        raise ValueError(f'{name} is {result} ({source}): it must be a finite number')
    return result


def check_parameter(name: str, value, source: str) -> float:
    """``value`` of parameter ``name`` as a float, if finite and plausible; else a
    ValueError naming it, ``source`` and the range."""
    result = number(name, value, source)
    problem = range_problem(name, result)
    if problem is not None:
        raise ValueError(problem.replace(f'{name}={result:g}', f'{name}={result:g} ({source})', 1))
    return result


def choose(name: str, argument, calibration, default) -> Chosen:
    """The precedence rule: the argument if given, else the calibration's value (a
    :class:`~oggm_glaunti.integration.calibration.calibration_file.CalibrationFile` or
    None), else ``default``. A given or calibrated value of a parameter with a plausible
    range (:data:`RANGES`) is checked against it (the defaults are the variant's own)."""
    calibrated = None if argument is not None or calibration is None else calibration.get(name)
    if argument is not None:
        chosen = Chosen(argument, 'argument')
    elif calibrated is not None:
        chosen = Chosen(calibrated, calibration.name)
    else:
        chosen = Chosen(default, 'default')
    if name in RANGES and chosen.source != 'default':
        return Chosen(check_parameter(name, chosen.value, chosen.source), chosen.source)
    return chosen


def year_number(value, name: str = 'year') -> float:
    """A year argument as a float: a real number (int, float, NumPy scalar or 0-d array),
    not text.

    Raises
    ------
    TypeError
        naming the argument, for text, a bool or anything that is not a real number
        (NumPy would raise its own ``TypeError`` about ufuncs much later).
    """
    import numbers

    import numpy as np

    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in 'iuf':
        value = value.item()  # a 0-d array, as NumPy code may pass
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        hint = f' (e.g. {name}={value.strip()})' if isinstance(value, str) and value.strip().lstrip('-').isdigit() else ''
        raise TypeError(f'{name}={value!r} is a {type(value).__name__}: give the year as a number{hint}')
    return float(value)


#: OGGM 1.6.3's calibration tasks that build the model class they are given, and what to
#: call instead to have the result found again.
OGGM_CALIBRATION_TASKS = {
    'mb_calibration_from_scalar_mb': 'oggm_glaunti.integration.glaunti_mb_calibration_from_scalar_mb(gdir, '
                                     'variant=..., <the same arguments>): OGGM\'s task, with the result '
                                     'written where GlaUnTIMassBalance reads it',
    'mb_calibration_to_rmsd': 'oggm_glaunti.integration.glaunti_calibrate(gdir, variant=..., ref_years=...), '
                              'which fits the annual series by weighted least squares',
}


def refuse_unlabelled_oggm_calibration(gdir, caller: FrameType | None) -> None:
    """Refuse to be calibrated by an OGGM task that would write an unusable ``mb_calib.json``.

    OGGM's calibration tasks build the class they are given (``caller`` is the frame that
    builds the model) and write the fitted values to ``mb_calib.json`` without naming the
    class. That file cannot be told apart from the glacier's ``MonthlyTIModel`` calibration
    (every preprocessed directory has one), so ``GlaUnTIMassBalance`` cannot take it as its
    own and OGGM's run tasks would silently use the uncalibrated model. Raised before any
    work, so nothing is written; ``write_to_gdir=False`` (values only) is allowed.
    """
    from oggm.exceptions import InvalidWorkflowError

    if caller is None or caller.f_globals.get('__name__') != 'oggm.core.massbalance':
        return
    task = caller.f_code.co_name
    if task in OGGM_CALIBRATION_TASKS and caller.f_locals.get('write_to_gdir'):
        raise InvalidWorkflowError(
            f'{gdir.rgi_id}: OGGM\'s {task}(..., mb_model_class=GlaUnTIMassBalance) would write '
            'mb_calib.json without naming the model class, so GlaUnTIMassBalance could not tell it '
            'from the MonthlyTIModel calibration and OGGM\'s run tasks would silently run it '
            f'uncalibrated. Use {OGGM_CALIBRATION_TASKS[task]}; or pass write_to_gdir=False to '
            'get the values only.')
