"""The published training loss (Maslov et al., egusphere-2026-515), pure and differentiable.

Per glacier, over its scored years::

    loss = sum_s (point_s + lambda1 * glacier_wide_s) + regularisers

- ``point_s = sum w (model - obs)^2 / sum w`` over the season's stakes, the model being the
  cell's SMB over the glacier's season window and ``w`` the stakes' date weights;
- ``glacier_wide_s`` = mean over years of (outline-weighted mean SMB - observed)^2;
- the TI prior ``0.1 * sum_k ((theta_k - theta0_k) / theta0_k)^2`` over the stored trainable
  TI values (variant A and per-glacier fine-tuning: wherever the TI parameters train);
- the corrector regulariser (C, D), per scored year then averaged:
  ``5 sum_k mean_o(d_k^2) + 20 sum_k mean_o((d_k - mean_o d_k)^2) + 5 mean_o((d2 - d3)^2)``.

All data-dependent normalisations are folded into the per-observation weights of
:class:`~oggm_glaunti.training.targets.YearTargets`, so a chunk of years contributes a
plain sum and chunks add up to the glacier's loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array

from ..core.forcing import YearForcing
from ..core.models import Model, YearResult
from ..core.parameters import TI_PRIOR_WEIGHT, ti_prior
from ..core.sequence import run_years
from .targets import TAU_DAYS, YearTargets


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (defaults: the published values).

    Attributes
    ----------
    glacier_wide : lambda1 of the glacier-wide term.
    ti_prior : weight of the TI prior (used where the TI parameters are trained).
    corrector_magnitude, corrector_spread, corrector_ddf : the corrector regulariser's
        weights on mean d_k^2, on the spatial variance of d_k and on (d2 - d3)^2.
    tau : width (days) of the stake date weights (used when building the targets).
    """

    glacier_wide: float = 0.1
    ti_prior: float = TI_PRIOR_WEIGHT
    corrector_magnitude: float = 5.0
    corrector_spread: float = 20.0
    corrector_ddf: float = 5.0
    tau: float = TAU_DAYS


class Terms(eqx.Module):
    """The loss split into its parts (each a scalar), for logging.

    ``data`` = point + lambda1 * glacier-wide is the validation error.
    """

    point: Array
    glacier_wide: Array
    regulariser: Array

    def data(self, weights: LossWeights) -> Array:
        return self.point + weights.glacier_wide * self.glacier_wide

    def __add__(self, other: "Terms") -> "Terms":
        return Terms(self.point + other.point, self.glacier_wide + other.glacier_wide,
                     self.regulariser + other.regulariser)


def season_smb(period_smb: Array) -> Array:
    """``(..., 3, *cells)`` annual, winter, summer SMB from ``(..., 2, *cells)`` period sums."""
    winter = period_smb[..., 0, :, :]
    summer = period_smb[..., 1, :, :]
    return jnp.stack([winter + summer, winter, summer], axis=-3)


def outline_mean(field: Array, outline: Array) -> Array:
    """Outline-weighted mean over the last two (cell) axes."""
    return jnp.sum(field * outline, axis=(-2, -1)) / jnp.sum(outline, axis=(-2, -1))


def corrector_penalty(corrections: Array, outline: Array, weights: LossWeights = LossWeights()) -> Array:
    """The corrector regulariser of one year, corrections (5, H, W), outline (H, W)."""
    mean = outline_mean(corrections, outline)  # (5,)
    magnitude = jnp.sum(outline_mean(corrections**2, outline))
    spread = jnp.sum(outline_mean((corrections - mean[:, None, None]) ** 2, outline))
    ddf = outline_mean((corrections[1] - corrections[2]) ** 2, outline)
    return (weights.corrector_magnitude * magnitude + weights.corrector_spread * spread
            + weights.corrector_ddf * ddf)


def year_terms(result: YearResult, outline: Array, targets: YearTargets,
               weights: LossWeights = LossWeights()) -> Terms:
    """Loss terms of one year, or of a stack of years (leading axis) summed over it."""
    seasons = season_smb(result.period_smb)  # (..., 3, H, W)
    gw_model = outline_mean(seasons, outline[..., None, :, :])  # (..., 3)
    glacier_wide = jnp.sum(targets.gw_weight * (gw_model - targets.gw_obs) ** 2)
    n_cells = seasons.shape[-2] * seasons.shape[-1]
    flat = seasons.reshape(seasons.shape[:-3] + (-1,))  # (..., 3*H*W), season-major
    point_model = jnp.take_along_axis(flat, targets.stake_season * n_cells + targets.stake_cell, axis=-1)
    point = jnp.sum(targets.stake_weight * (point_model - targets.stake_obs) ** 2)
    if result.corrections is None:
        regulariser = jnp.zeros((), jnp.float32)
    else:
        per_year = jnp.vectorize(lambda d, o: corrector_penalty(d, o, weights),
                                 signature="(5,h,w),(h,w)->()")(result.corrections, outline)
        regulariser = jnp.sum(targets.reg_weight * per_year)
    return Terms(point, glacier_wide, regulariser)


def chunk_loss(model: Model, state: Optional[Array], forcing: YearForcing, targets: YearTargets,
               weights: LossWeights = LossWeights(), remat: bool = True) -> tuple[Array, Terms, Array]:
    """Run a stack of consecutive years from ``state`` and score them.

    Parameters
    ----------
    model : the full model (trainable and frozen parts combined).
    state : the state at the start of the first year, or None for a fresh start.
    forcing : stacked years (see :func:`~oggm_glaunti.core.forcing.stack_years`).
    targets : the matching stacked :class:`YearTargets`.
    weights : loss weights.
    remat : recompute each year in the backward pass instead of storing its internals.

    Returns
    -------
    (loss without the TI prior, its terms, the state after the last year).
    """
    out = run_years(model, forcing, state, remat_years=remat)
    terms = year_terms(out.years, forcing.outline, targets, weights)
    return terms.data(weights) + terms.regulariser, terms, out.final_state


def glacier_loss(trainable: Model, frozen: Model, forcing: YearForcing, targets: YearTargets,
                 weights: LossWeights = LossWeights(), prior: bool = False) -> tuple[Array, Terms]:
    """The whole loss of one glacier over its stacked run years (fresh start).

    Differentiate with ``eqx.filter_value_and_grad(glacier_loss, has_aux=True)`` with
    respect to ``trainable`` (``eqx.partition`` of the model); ``prior`` adds the TI prior
    (train the TI parameters). For long sequences on large grids use
    :func:`~oggm_glaunti.training.gradients.sequence_value_and_grad`, which gives the same
    value and gradient without holding every year's forcing.
    """
    model = eqx.combine(trainable, frozen)
    loss, terms, _ = chunk_loss(model, None, forcing, targets, weights, remat=True)
    if prior:
        loss = loss + weights.ti_prior * ti_prior(model.ti)
    return loss, terms


def prior_term(trainable: Model, frozen: Model, weights: LossWeights = LossWeights()) -> Array:
    """The weighted TI prior of the combined model (for adding outside the chunks)."""
    return weights.ti_prior * ti_prior(eqx.combine(trainable, frozen).ti)


def zero_terms() -> Terms:
    z = jnp.zeros((), jnp.float32)
    return Terms(z, z, z)


def tree_add(a, b):
    """Leafwise sum of two pytrees of the same structure (None leaves stay None)."""
    return jax.tree_util.tree_map(lambda x, y: x + y, a, b)
