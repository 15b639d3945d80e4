"""The smooth daily temperature-index model (Maslov et al., egusphere-2026-515).

Everything that does not depend on the snow state (solid precipitation, smooth positive
temperature) is computed for all days at once, vectorised; only the snow-cover and SWE
update run sequentially in :func:`~oggm_glaunti.core.plan.scan_plan`. Parameters may be
scalars or per-cell fields, so the corrected model (C, D) uses this same code.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from .parameters import TIValues
from .plan import DayPlan, PlanResult, scan_plan

#: Smallest SWE (m w.e.) entering the logarithm of the snow-cover fraction; keeps the
#: fraction and its gradients finite when the SWE underflows to exactly zero.
_SWE_FLOOR = 1e-30

#: Perturbations of the corrector's sensitivity channels (Maslov et al., egusphere-2026-515).
SENSITIVITY_WARMING = 0.5
SENSITIVITY_WETTING = 1.05


def softplus(x: Array) -> Array:
    """log(1 + e^x), stable for any x.

    ``max(x, 0) + log(1 + e^-|x|)`` is 1.7x faster on CPU than ``jax.nn.softplus``
    (logaddexp with NaN guards and log1p); its absolute error stays below 1e-6, only
    visible where the result itself is below 1e-6 (no melt, no snow), and its derivative
    is exact.
    """
    return jnp.maximum(x, 0.0) + jnp.log(1.0 + jnp.exp(-jnp.abs(x)))


class DailyTerms(NamedTuple):
    """State-independent daily terms, each (n_steps, ...) in m w.e. per day."""

    accumulation: Array
    potential_melt: Array


def solid_fraction(values: TIValues, temperature: Array) -> Array:
    """Solid share of the precipitation, a sigmoid of the temperature around T_c."""
    return jax.nn.sigmoid(values.snow_to_rain_steepness * (values.snow_to_rain_centre - temperature))


def melt_temperature(values: TIValues, temperature: Array) -> Array:
    """The smooth positive temperature melt scales with (degC), shifted by delta_5."""
    beta = values.t_softplus_sharpness
    return softplus(beta * (temperature + values.melt_temperature_shift)) / beta


def forcing_terms(values: TIValues, temperature: Array, precipitation: Array) -> DailyTerms:
    """Solid precipitation times c_p, and potential melt DDF_s * smooth positive temperature."""
    solid = precipitation * solid_fraction(values, temperature)
    return DailyTerms(values.prec_scale * solid, values.ddf_snow * melt_temperature(values, temperature))


def snow_cover_fraction(swe: Array, values: TIValues) -> Array:
    """Hill curve S^n / (S^n + S_c^n), written as a sigmoid of logs for stability."""
    log_ratio = jnp.log(jnp.maximum(swe, _SWE_FLOOR)) - jnp.log(values.snow_depletion_centre)
    return jax.nn.sigmoid(values.snow_depletion_steepness * log_ratio)


def snow_step(values: TIValues, swe: Array, terms: DailyTerms, weight: Array) -> tuple[Array, Array]:
    """Advance the SWE by one weighted day; return (new SWE, weighted daily SMB)."""
    fsc = snow_cover_fraction(swe, values)
    snow_melt = fsc * terms.potential_melt
    gamma = values.swe_softplus_sharpness
    new_swe = softplus(gamma * (swe + weight * (terms.accumulation - snow_melt))) / gamma
    ice_melt = values.ddf_relative_ice * (1.0 - fsc) * terms.potential_melt
    smb = weight * (terms.accumulation - snow_melt - ice_melt)
    return new_swe, smb


def _day(array: Array, index: Array) -> Array:
    """One day's plane of a (n_days, ...) array, without materialising a gathered copy."""
    return jax.lax.dynamic_index_in_dim(array, index, axis=0, keepdims=False)


def run_ti(
    values: TIValues,
    temperature: Array,
    precipitation: Array,
    plan: DayPlan,
    swe: Array,
    daily: bool = False,
) -> PlanResult:
    """Run the TI model over one year's plan.

    Parameters
    ----------
    values : constrained parameters, scalars or fields broadcastable to the cell shape.
    temperature, precipitation : (n_days, ...) daily forcing in degC and m w.e. per day.
    plan : the year's :class:`DayPlan`.
    swe : initial SWE (m w.e.), cell shape.
    daily : also return the daily SMB series.

    Notes
    -----
    Each step reads its day's forcing plane and computes all terms in one fused pass;
    precomputing the terms for all days first was slower (memory-bound) on CPU.
    """

    def step(state, day, weight, _start):
        terms = forcing_terms(values, _day(temperature, day), _day(precipitation, day))
        return snow_step(values, state, terms, weight)

    return scan_plan(step, swe, jnp.asarray(plan.day_index), plan, daily)


def run_ti_sensitivities(
    values: TIValues, temperature: Array, precipitation: Array, plan: DayPlan, swe: Array
) -> tuple[Array, Array, Array]:
    """Uncorrected year SMB and its responses to +0.5 degC and +5 % precipitation.

    The three runs share one pass over the days (the corrector's channels 1-3); the wetter
    run reuses the reference run's terms, since accumulation is linear in precipitation.

    Returns
    -------
    smb0, smb(T + 0.5) - smb0, smb(1.05 P) - smb0 : each the cell-shaped SMB summed over
    all periods of the year.
    """

    def step(swes, day, weight, _start):
        t, p = _day(temperature, day), _day(precipitation, day)
        reference = forcing_terms(values, t, p)
        warmer = forcing_terms(values, t + SENSITIVITY_WARMING, p)
        wetter = DailyTerms(SENSITIVITY_WETTING * reference.accumulation, reference.potential_melt)
        stepped = [snow_step(values, swe_k, terms, weight)
                   for swe_k, terms in zip(swes, (reference, warmer, wetter))]
        return tuple(s for s, _ in stepped), tuple(smb for _, smb in stepped)

    # Three separate states rather than one stacked (3, ...) array: no concatenation per
    # day, which XLA on CPU cannot fuse away (1.6x faster).
    sums = scan_plan(step, (swe, swe, swe), jnp.asarray(plan.day_index), plan).period_smb
    smb0, warm, wet = (period_sums.sum(0) for period_sums in sums)
    return smb0, warm - smb0, wet - smb0
