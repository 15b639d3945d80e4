"""The calibration loss: the runs' readouts against the observations, traceable.

The loss is half the chi-square of the observations (each residual over its own
uncertainty), plus Gaussian priors on the fitted parameters, plus - when a kind's mean is
held - a tight pseudo-observation of that mean (:data:`MEAN_PENALTY_SD`). Its Jacobian
comes from the runs' forward-mode derivatives (:mod:`.forward_runs`) by the chain rule
(:func:`assemble`).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array

from ...core.parameters import ti_prior_deviations
from .forward_runs import YearReadout
from .layout import ParameterLayout, with_ti
from .objective_data import SEASON_KINDS, ObjectiveData, ObjectiveSpec

#: The reference-period mean enters the optimisation as a pseudo-observation this tight
#: (m w.e. per year); the optimiser's mean matching then closes the last millimetres.
MEAN_PENALTY_SD = 0.0005


def simulate(outputs: YearReadout, data: ObjectiveData) -> tuple[Array, Array, Array, Array]:
    """Glacier-wide (Y, 3) annual/winter/summer window sums of the scored years, the
    runs' (N,) period totals, stake window sums (S,) and band profiles (Y, B), m w.e.,
    from the runs' readouts (N, ...)."""
    n_years = data.seasons.shape[2]
    glacier_wide = jnp.zeros((n_years, len(SEASON_KINDS)))
    if outputs.daily is not None:
        glacier_wide = jnp.einsum("nt,ntyk->yk", outputs.daily, data.seasons)
    stake_sums = jnp.zeros(0)
    if outputs.stakes is not None:
        stake_sums = jnp.einsum("nts,nts->s", outputs.stakes, data.stakes.weight)
    profiles = jnp.zeros((n_years, 0))
    if outputs.bands is not None:
        profiles = jnp.einsum("ntb,nty->yb", outputs.bands, data.seasons[..., 0])
    return glacier_wide, outputs.total, stake_sums, profiles


def residuals(outputs: YearReadout, data: ObjectiveData) -> dict:
    """{kind: (residuals, mask)}: model minus observation, m w.e.; mask 1 where observed."""
    glacier_wide, totals, stake_sums, profiles = simulate(outputs, data)
    out = {}
    for kind, (value, mask) in data.targets.items():
        out[kind] = (glacier_wide[:, SEASON_KINDS.index(kind)] - value, mask)
    if data.geodetic is not None:
        value, mask = data.geodetic
        mean = jnp.sum(totals * mask) / jnp.sum(mask)
        out["geodetic"] = (mean - value, jnp.ones_like(value))
    if data.stakes is not None:
        out["stakes"] = (stake_sums - data.stakes.value, jnp.ones_like(data.stakes.value))
    if data.profiles is not None:
        out["profile"] = ((profiles - data.profiles.values).ravel(), data.profiles.mask.ravel())
    return out


def mean_residual(misfits: dict, kind: str) -> Array:
    """Model minus observed mean of ``kind`` over its observed values (m w.e. per year)."""
    r, mask = misfits[kind]
    return jnp.sum(r * mask) / jnp.sum(mask)


def whitened_residuals(model, layout: ParameterLayout, spec: ObjectiveSpec, data: ObjectiveData, theta,
                       outputs: YearReadout):
    """The residual vector whose half squared norm is the loss: the observations' residuals
    over their uncertainties (masked ones zero), the priors' and, last, the held mean's
    (over :data:`MEAN_PENALTY_SD`); and the :func:`residuals` behind it.

    Returns
    -------
    (data part (n_obs,), prior part (n_prior,), mean part (0 or 1,)), residuals
    """
    misfits = residuals(outputs, data)
    observed = jnp.concatenate([jnp.atleast_1d(r * mask / data.sigmas[k]) for k, (r, mask) in sorted(misfits.items())
                                if k not in spec.score_only])
    temp_sd, log_prcp_sd, ti_relative_sd = data.prior
    p = layout.split(theta)
    prior = []
    if "temp_bias" in p:
        prior.append(jnp.atleast_1d(p["temp_bias"] / temp_sd))
    if "prcp_fac" in p:
        prior.append(jnp.atleast_1d(p["prcp_fac"] / log_prcp_sd))
    if "ti" in p:
        prior.append(jnp.stack(ti_prior_deviations(with_ti(model, p["ti"]).ti)) / ti_relative_sd)
    prior = jnp.concatenate(prior) if prior else jnp.zeros(0)
    mean = jnp.zeros(0)
    if spec.match_mean is not None:
        mean = (mean_residual(misfits, spec.match_mean) / MEAN_PENALTY_SD)[None]
    return (observed, prior, mean), misfits


@eqx.filter_jit
def assemble(model, layout: ParameterLayout, spec: ObjectiveSpec, data: ObjectiveData, theta,
             outputs: YearReadout, derivatives: YearReadout):
    """Loss (half the squared norm of :func:`whitened_residuals`), its gradient, and
    (the residual parts, their Jacobian (n_res, P), the residuals), the Jacobian by the
    chain rule from the runs' derivatives along each coordinate of ``theta``
    (``derivatives``, P, N, ...: Gauss-Newton's curvature)."""
    def vector(th, out):
        parts, misfits = whitened_residuals(model, layout, spec, data, th, out)
        return jnp.concatenate(parts), (parts, misfits)

    def along(d_theta, d_outputs):
        return jax.jvp(vector, (theta, outputs), (d_theta, d_outputs), has_aux=True)

    basis = jnp.eye(theta.shape[0], dtype=theta.dtype)
    r, r_dot, (parts, misfits) = jax.vmap(along, out_axes=(None, 0, None))(basis, derivatives)
    jac = r_dot.T
    return 0.5 * jnp.sum(r**2), jac.T @ r, (parts, jac, misfits)


simulate_compiled = eqx.filter_jit(simulate)
