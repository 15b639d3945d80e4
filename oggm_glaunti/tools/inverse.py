"""Inverse offset: the temperature offset dT (optionally with a precipitation factor) that
makes a glacier's mean SMB over a target period equal a target (0: balance).

The published example (Maslov et al., egusphere-2026-515, appendix A) minimises ``1e-4 dT^2 + (mean - target)^2`` with
Adam (learning rate 5e-2, 200 iterations); it is ``method='adam'`` here. The default,
``method='newton'``, solves ``mean(dT) = target`` with Newton steps on the forward-mode
derivative: the mean SMB decreases monotonically with warming, so a few steps reach the
target where Adam needs many (each step runs the whole trajectory). Both stop as soon as
``|mean - target| <= tolerance`` and raise :class:`~.errors.OffsetNotConverged` when the
budget is spent first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .checks import check_count, check_positive
from .errors import OffsetNotConverged

#: Weight of the offset's quadratic penalty in the published loss.
OFFSET_PENALTY = 1e-4
#: Largest Newton step (degC): keeps the search inside the climate the model knows.
MAX_NEWTON_STEP = 3.0
METHODS = ("newton", "adam")


@dataclass
class OffsetResult:
    """The offset found.

    temp_offset : degC added to the daily temperature.
    prcp_fac : factor on the daily precipitation (1 unless fitted).
    mean_smb : the target period's mean glacier-wide SMB at the result, m w.e. per year.
    misfit : ``mean_smb - target``.
    history : one dict per iteration (temp_offset, prcp_fac, mean_smb, loss).
    """

    temp_offset: float
    prcp_fac: float
    mean_smb: float
    misfit: float
    method: str
    history: list = field(default_factory=list)


def find_offset(mean_smb: Callable, target: float = 0.0, *, fit_prcp_fac: bool = False,
                method: str = "newton", tolerance: float = 0.01, max_iterations: int | None = None,
                learning_rate: float = 5e-2) -> OffsetResult:
    """Search the offset.

    Parameters
    ----------
    mean_smb : function of ``theta = (temp_offset, log prcp_fac)`` (a JAX array (2,))
        returning the target period's mean glacier-wide SMB (m w.e. per year); traceable.
    target : the mean SMB wanted, m w.e. per year.
    fit_prcp_fac : also fit the precipitation factor (Adam only: one target cannot fix two
        unknowns, the penalty on log prcp_fac decides how the change is shared).
    method : 'newton' (default) or 'adam' (the published settings).
    tolerance : convergence when ``|mean - target| <= tolerance`` (m w.e. per year).
    max_iterations : budget (default 20 for Newton, 200 for Adam as published).
    learning_rate : Adam's.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if fit_prcp_fac and method != "adam":
        raise ValueError("fit_prcp_fac needs method='adam' (Newton solves for the offset alone)")
    tolerance = check_positive("tolerance", tolerance)
    budget = check_count("max_iterations", max_iterations if max_iterations is not None
                         else (20 if method == "newton" else 200))
    target = float(target)
    if method == "newton":
        return _newton(mean_smb, target, tolerance, budget)
    return _adam(mean_smb, target, tolerance, budget, check_positive("learning_rate", learning_rate),
                 fit_prcp_fac)


def _record(history, theta, value, loss):
    history.append({"temp_offset": float(theta[0]), "prcp_fac": float(np.exp(theta[1])),
                    "mean_smb": float(value), "loss": float(loss)})


def _result(theta, value, target, method, history):
    return OffsetResult(float(theta[0]), float(np.exp(theta[1])), float(value), float(value) - target,
                        method, history)


def _not_converged(method, budget, history, target, tolerance):
    last = history[-1]
    raise OffsetNotConverged(
        f"the {method} offset search did not bring the mean SMB to {target:+.3f} m w.e./yr within "
        f"{budget} iterations (tolerance {tolerance} m w.e./yr): last offset {last['temp_offset']:+.3f} degC "
        f"gives {last['mean_smb']:+.4f} m w.e./yr. Raise max_iterations"
        + (" or use method='newton'" if method == "adam" else "")
        + ", loosen the tolerance, or check that the target is reachable by warming or cooling")


def _newton(mean_smb, target, tolerance, budget):
    value_and_slope = jax.jit(lambda t: jax.jvp(lambda x: mean_smb(jnp.stack([x, 0.0])), (t,), (jnp.ones_like(t),)))
    offset, history = jnp.float32(0.0), []
    for _ in range(budget):
        value, slope = (float(v) for v in value_and_slope(offset))
        theta = np.array([float(offset), 0.0])
        _record(history, theta, value, (value - target) ** 2)
        if abs(value - target) <= tolerance:
            return _result(theta, value, target, "newton", history)
        if not np.isfinite(slope) or abs(slope) < 1e-6:
            raise OffsetNotConverged(
                f"the mean SMB does not respond to the temperature offset at {float(offset):+.3f} degC "
                f"(derivative {slope:.2e} m w.e./yr/degC): no offset reaches {target:+.3f} m w.e./yr from here; "
                "check the target period and the glacier's climate")
        step = float(np.clip(-(value - target) / slope, -MAX_NEWTON_STEP, MAX_NEWTON_STEP))
        offset = jnp.float32(float(offset) + step)
    _not_converged("newton", budget, history, target, tolerance)


def _adam(mean_smb, target, tolerance, budget, learning_rate, fit_prcp_fac):
    mask = jnp.array([1.0, 1.0 if fit_prcp_fac else 0.0])

    def loss(theta):
        value = mean_smb(theta * mask)
        return OFFSET_PENALTY * jnp.sum((theta * mask) ** 2) + (value - target) ** 2, value

    step = jax.jit(jax.value_and_grad(loss, has_aux=True))
    optimiser = optax.adam(learning_rate)
    theta = jnp.zeros(2, jnp.float32)
    state, history = optimiser.init(theta), []
    for _ in range(budget):
        (value_loss, value), grad = step(theta)
        _record(history, np.asarray(theta * mask), value, value_loss)
        if abs(float(value) - target) <= tolerance:
            return _result(np.asarray(theta * mask), float(value), target, "adam", history)
        updates, state = optimiser.update(grad * mask, state, theta)
        theta = optax.apply_updates(theta, updates)
    _not_converged("adam", budget, history, target, tolerance)
