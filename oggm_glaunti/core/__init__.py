"""Pure-JAX GlaUnTI core: arrays in, arrays out; no OGGM, no files.

Main entry points: the variant models (:class:`TIModel`, :class:`GRUModel`,
:class:`GlaUnTIModel`), :func:`year_forcing` / :func:`stack_years` to assemble inputs, and
:func:`run_years` to run any variant over consecutive hydrological years on a grid, and
:func:`run_cell_years` to run the same years on any set of cells (flowline points) with
corrections carried in.
"""

from .corrector import Corrector
from .forcing import DEFAULT_ELEVATION_STD, YearForcing, stack_years, year_forcing
from .gru import GRUBaseline
from .inputs import FACIES_CLASSES, month_ids, monthly_climate, static_channels
from .models import VARIANTS, ClimateSeries, GlaUnTIModel, GRUModel, Model, TIModel, YearResult
from .parameters import (
    PRIOR_CONSTRAINED, STORED_NAMES, TRAINABLE_NAMES, TIParameters, TIValues, prior_parameters,
)
from .plan import MAX_DAYS_PER_YEAR, DayPlan, PlanResult, make_day_plan, padded_days, scan_plan
from .sequence import SequenceResult, run_cell_years, run_year, run_years
from .ti import forcing_terms, run_ti, run_ti_sensitivities, snow_step

__all__ = [
    "Corrector", "DEFAULT_ELEVATION_STD", "YearForcing", "stack_years", "year_forcing",
    "GRUBaseline", "FACIES_CLASSES", "month_ids", "monthly_climate", "static_channels",
    "VARIANTS", "ClimateSeries", "GlaUnTIModel", "GRUModel", "Model", "TIModel", "YearResult",
    "PRIOR_CONSTRAINED", "STORED_NAMES", "TRAINABLE_NAMES", "TIParameters", "TIValues",
    "prior_parameters", "MAX_DAYS_PER_YEAR", "padded_days", "DayPlan", "PlanResult", "make_day_plan",
    "scan_plan", "SequenceResult", "run_cell_years", "run_year", "run_years", "forcing_terms", "run_ti",
    "run_ti_sensitivities", "snow_step",
]
