"""The four tools on the core's own inputs: a model and stacked
:class:`~oggm_glaunti.core.YearForcing` (consecutive hydrological years, per-cell forcing),
run through :func:`~oggm_glaunti.core.run_years` / the model's ``run_year``.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..core import GlaUnTIModel, GRUModel, YearForcing, run_years
from ..core.models import Model
from .attribution import Attribution, integrated_gradients
from .inverse import OffsetResult, find_offset
from .sensitivity import Sensitivities, gradient_function, year_sensitivities
from .uncertainty import SIGMA_LOGP, SIGMA_T, first_order_spread, monte_carlo_spread, weekly_blocks


def glacier_wide(field, outline):
    """Outline-weighted mean over the last two axes."""
    return jnp.sum(field * outline, axis=(-2, -1)) / jnp.sum(outline)


def annual_glacier_wide(model: Model, years: YearForcing, state=None, temp_offset=0.0, prcp_factor=1.0):
    """(N,) glacier-wide SMB of the stacked years (m w.e.) with ``temp_offset`` (degC) added to
    the temperature and the precipitation times ``prcp_factor``, each a scalar or (N,)."""
    n = years.temperature.shape[0]
    offset = jnp.broadcast_to(jnp.asarray(temp_offset, jnp.float32), (n,))[:, None, None, None]
    factor = jnp.broadcast_to(jnp.asarray(prcp_factor, jnp.float32), (n,))[:, None, None, None]
    changed = years._replace(temperature=years.temperature + offset, precipitation=years.precipitation * factor)
    out = run_years(model, changed, state)
    return glacier_wide(out.years.period_smb.sum(1), years.outline[0])


def _check_years(years: YearForcing, name: str, mask) -> np.ndarray:
    mask = np.asarray(mask, bool)
    n = years.temperature.shape[0]
    if mask.shape != (n,):
        raise ValueError(f"{name} must be a boolean mask over the {n} years; got shape {mask.shape}")
    if not mask.any():
        raise ValueError(f"{name} selects no year")
    return mask


def offset_for_target(model: Model, years: YearForcing, target_years, offset_years, target: float = 0.0,
                      state=None, **search) -> OffsetResult:
    """The offset (from the years in ``offset_years``, a mask) that brings the mean SMB of the
    years in ``target_years`` to ``target`` (m w.e. per year); see :func:`~.inverse.find_offset`."""
    target_years = jnp.asarray(_check_years(years, "target_years", target_years), jnp.float32)
    applied = jnp.asarray(_check_years(years, "offset_years", offset_years), jnp.float32)

    def mean_smb(theta):
        smb = annual_glacier_wide(model, years, state, theta[0] * applied, jnp.exp(theta[1] * applied))
        return jnp.sum(smb * target_years) / jnp.sum(target_years)

    return find_offset(mean_smb, target, **search)


def month_baseline(values: np.ndarray, months: np.ndarray, climatology: np.ndarray) -> np.ndarray:
    """The baseline of a year's forcing (n_days, ...): each day's calendar-month value of
    ``climatology`` (12, ...); days with month 0 (padding) keep their value."""
    out = np.array(values, np.float32, copy=True)
    has = months > 0
    out[has] = climatology[months[has] - 1]
    return out


def year_attribution(model: Model, year: YearForcing, state, baseline: tuple, carried: bool = True,
                     steps: int = 100, **kwargs) -> Attribution:
    """Integrated gradients of one year's glacier-wide SMB w.r.t. its daily per-cell
    temperature and precipitation, from ``baseline`` (temperature, precipitation)."""
    state = model.initial_state(year.outline.shape) if state is None else state

    def f(t, p):
        res = model.run_year(year._replace(temperature=t, precipitation=p), state, carried)
        return glacier_wide(res.period_smb.sum(0), year.outline)

    return integrated_gradients(f, (year.temperature, year.precipitation), baseline, steps, **kwargs)


def _record_days(years: YearForcing):
    """Record day number and validity of each (year, day): consecutive years share their
    boundary day."""
    day_index = np.asarray(years.plan.day_index)
    active = np.asarray(years.plan.active)
    n_read = np.array([day_index[k][active[k]].max() + 1 for k in range(len(day_index))])
    first = np.concatenate([[0], np.cumsum(n_read - 1)[:-1]])
    n_days = years.temperature.shape[1]
    numbers = first[:, None] + np.arange(n_days)[None]
    return numbers, np.arange(n_days)[None] < n_read[:, None]


def _perturbed(year: YearForcing, d_t, d_logp) -> YearForcing:
    return year._replace(temperature=year.temperature + d_t[:, None, None],
                         precipitation=year.precipitation * jnp.exp(d_logp)[:, None, None])


def _check_variant(model):
    if isinstance(model, GRUModel):
        raise ValueError("the forcing-uncertainty propagation needs a snow state (variants A, C, D); "
                         "variant B's GRU state is not supported")


def trajectory_spread(model: Model, years: YearForcing, sigma_t: float = SIGMA_T, sigma_logp: float = SIGMA_LOGP,
                      members: int = 0, seed: int = 0, chunk: int = 64):
    """First-order spread of the cumulative glacier-wide SMB over the stacked years (from a
    fresh state), and with ``members`` > 0 the cumulative SMB of a Monte Carlo ensemble
    (members, N). Returns (Spread, ensemble or None)."""
    _check_variant(model)
    numbers, valid = _record_days(years)
    blocks, n_blocks = weekly_blocks(numbers, valid, 0, int(numbers[valid].max()))
    outline = years.outline[0]
    n = years.temperature.shape[0]

    def year_fn(year, state, carried, d_t, d_logp):
        res = model.run_year(_perturbed(year, d_t, d_logp), state, carried)
        return res.period_smb.sum(0), res.final_state

    fresh = np.arange(n) == 0
    spread = first_order_spread(year_fn, years, fresh, np.ones(n, bool), blocks, n_blocks, outline,
                                model.initial_state(outline.shape), sigma_t, sigma_logp, chunk)
    ensemble = None
    if members:
        def trajectory(d_t, d_logp):
            changed = years._replace(temperature=years.temperature + d_t[..., None, None],
                                     precipitation=years.precipitation * jnp.exp(d_logp)[..., None, None])
            return glacier_wide(run_years(model, changed).years.period_smb.sum(1), outline)

        ensemble = monte_carlo_spread(trajectory, blocks, n_blocks, members, sigma_t, sigma_logp, seed)
    return spread, ensemble


def year_parameter_sensitivities(model: Model, year: YearForcing, state=None, carried: bool = True) -> Sensitivities:
    """Gradients of one year's glacier-wide SMB (see :mod:`.sensitivity`); the correction
    fields' at the corrector's own corrections of the year (C, D)."""
    if isinstance(model, GRUModel):
        raise ValueError("variant B has no TI parameters or correction fields to differentiate")
    state = model.initial_state(year.outline.shape) if state is None else state
    corrections = None
    if isinstance(model, GlaUnTIModel):
        corrections = model.corrections(year, state)[0]

    def smb(ti, temp_bias, prcp_fac, delta):
        m = eqx.tree_at(lambda x: x.ti, model, ti)
        changed = year._replace(temperature=year.temperature + temp_bias, precipitation=year.precipitation * prcp_fac)
        res = m.run_year(changed, state, carried, correction_delta=delta)
        return glacier_wide(res.period_smb.sum(0), year.outline)

    return year_sensitivities(gradient_function(smb), model.ti, corrections)
