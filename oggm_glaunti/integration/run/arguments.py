"""Checks of the mass-balance model's calibration arguments, at construction.

A NaN, a negative precipitation factor or a temperature bias of tens of degrees would run
and give a wrong (or NaN) mass balance much later; :func:`check_mb_arguments` refuses them
when :class:`~.massbalance.GlaUnTIMassBalance` is built, naming the argument and where its
value came from.
"""
from __future__ import annotations

import math
import os
from types import FrameType

#: Largest accepted absolute temp_bias (degC): OGGM calibrates within -15..15 degC.
MAX_ABS_TEMP_BIAS = 30.
#: Accepted precipitation factors (on top of the variant's own): OGGM uses 0.1..10.
PRCP_FAC_RANGE = (0.01, 100.)
#: Accepted melt_f, mm w.e. degC-1 day-1: OGGM calibrates within 1.5..17.
MELT_F_RANGE = (0.01, 100.)


def _number(name: str, value, source: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{name}={value!r} ({source}) is not a number') from None
    if not math.isfinite(number):
        raise ValueError(f'{name} is {number} ({source}): it must be a finite number')
    return number


def _in_range(name: str, value: float, lo: float, hi: float, source: str, meaning: str) -> None:
    if not lo <= value <= hi:
        raise ValueError(f'{name}={value:g} ({source}) is outside {lo:g}..{hi:g} ({meaning})')


def check_mb_arguments(gdir, variant: str, calib: dict, *, temp_bias, prcp_fac, melt_f,
                       bias) -> None:
    """Raise a ValueError naming the first implausible argument of the MB model.

    Each of ``temp_bias``, ``prcp_fac`` and ``melt_f`` is checked as the model will use it:
    the argument if given, else the calibration's value (``calib``), else the default.

    Parameters
    ----------
    gdir : the glacier directory (names the calibration file in messages).
    variant : the model's variant.
    calib : the calibration read for the glacier (empty if none).
    temp_bias : degC added to the daily temperature.
    prcp_fac : factor on the daily precipitation, > 0.
    melt_f : snow degree-day factor (mm w.e. degC-1 day-1), or None (the variant's own).
    bias : mm w.e. yr-1 subtracted from the SMB.
    """
    given = {'temp_bias': temp_bias, 'prcp_fac': prcp_fac, 'melt_f': melt_f}
    calib_name = _calibration_name(gdir, variant)
    values, sources = {}, {}
    for name, value in given.items():
        if value is not None:
            values[name], sources[name] = value, 'argument'
        elif calib.get(name) is not None:
            values[name], sources[name] = calib[name], calib_name
    lo, hi = -MAX_ABS_TEMP_BIAS, MAX_ABS_TEMP_BIAS
    checks = (('temp_bias', (lo, hi), 'degC added to the daily temperature'),
              ('prcp_fac', PRCP_FAC_RANGE, 'a positive factor on the precipitation'),
              ('melt_f', MELT_F_RANGE, 'snow degree-day factor in mm w.e. degC-1 day-1'))
    for name, (lo, hi), meaning in checks:
        if name in values:
            number = _number(name, values[name], sources[name])
            _in_range(name, number, lo, hi, sources[name], meaning)
    _number('bias', bias, 'argument')


def _calibration_name(gdir, variant: str) -> str:
    from .massbalance import calibration_filesuffix

    suffix = calibration_filesuffix(variant)
    if not gdir.has_file('mb_calib', filesuffix=suffix):
        suffix = ''
    return os.path.basename(gdir.get_filepath('mb_calib', filesuffix=suffix))


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
