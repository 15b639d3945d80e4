"""The calibration's optimiser: Levenberg-Marquardt on the whitened residuals with the held
mean as a constraint, Newton steps on the mean, and the Laplace posterior.

Each function works on ``evaluate(theta, strict=True)``, which returns (loss, gradient,
(whitened residual parts, their Jacobian, residuals)) as :meth:`.objective.Objective.evaluate`
does, with ``parts`` = (observations, priors, held mean (0 or 1 value over
:data:`~.loss.MEAN_PENALTY_SD`)).
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .loss import MEAN_PENALTY_SD
from .layout import ParameterLayout

#: The optimiser does not stop while the held mean is off by more than this (m w.e.).
MEAN_HELD = 0.0005
MAX_HALVINGS = 12  # damping increases tried per step
#: After a failed try the damping is at least this (the starting damping): from the tiny
#: damping of a run of good steps, growing it fourfold would take many tries (each a full
#: evaluation) before the step shortens at all.
MIN_DAMPING_AFTER_FAILURE = 1e-3


def constrained_step(h: np.ndarray, g: np.ndarray, a: np.ndarray | None, c: float | None) -> np.ndarray:
    """The step minimising ``g.d + d.h.d / 2`` subject to ``a.d = -c`` (the held mean's
    linearised misfit brought to zero); unconstrained when ``a`` is None."""
    if a is None:
        return -np.linalg.lstsq(h, g, rcond=None)[0]
    n = len(g)
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n], kkt[:n, n], kkt[n, :n] = h, a, a
    rhs = np.concatenate([-g, [-c]])
    return np.linalg.lstsq(kkt, rhs, rcond=None)[0][:n]


def predicted_decrease(h, g, a, c) -> float:
    """The loss decrease the undamped Gauss-Newton step predicts (the mean's
    pseudo-observation left out)."""
    step = constrained_step(h, g, a, c)
    return float(-(g @ step) - 0.5 * step @ h @ step)


def _fit_loss(parts) -> float:
    """The loss of the observations and priors (the held mean's pseudo-observation left out)."""
    return 0.5 * float(sum(np.sum(np.asarray(p, np.float64) ** 2) for p in parts[:2]))


def _trusted(step: np.ndarray, max_step: np.ndarray) -> np.ndarray:
    """``step`` shortened to move no coordinate by more than ``max_step``."""
    return step * min(1.0, 1.0 / max(float(np.max(np.abs(step) / max_step)), 1e-30))


def gauss_newton_system(parts, jac, holds_mean: bool):
    """Gauss-Newton curvature ``h`` and gradient ``g`` of the observations and priors,
    and the held mean's misfit ``c`` (m w.e.) with its gradient ``a`` (None if no mean is
    held)."""
    n = parts[0].shape[0] + parts[1].shape[0]
    r = np.concatenate([np.asarray(parts[0], np.float64), np.asarray(parts[1], np.float64)])
    j = np.asarray(jac, np.float64)[:n]
    a = c = None
    if holds_mean:
        a = np.asarray(jac, np.float64)[n] * MEAN_PENALTY_SD
        c = float(parts[2][0]) * MEAN_PENALTY_SD
    return j.T @ j, j.T @ r, a, c


def minimise(evaluate, layout: ParameterLayout, holds_mean: bool, start, max_steps: int, tolerance: float,
             progress: bool = False):
    """Levenberg-Marquardt on the whitened residuals from ``start``, with the held mean as
    a constraint of each (linearised) step: Gauss-Newton steps, damped towards scaled
    gradient steps while they fail, each shortened to move no parameter by more than its
    trust length (:meth:`~.layout.ParameterLayout.max_step`). A step is taken when it
    lowers the loss (the mean's pseudo-observation included); a step to a non-finite loss
    counts as failed.

    The held mean is nonlinear in the parameters (with ``'ti'`` strongly so: a step the
    linearisation says keeps it may move it by centimetres), so a step that improves the
    fit to the data and priors but fails on the mean gets a second-order correction: the
    smallest move, linearised at the step's end, that brings the mean back; it is taken if
    the loss is then lower. After a failed try the damping grows (to at least
    :data:`MIN_DAMPING_AFTER_FAILURE`) and the step closes half as much of the mean's
    remaining misfit (a too long correction of a nonlinear mean cannot be damped away
    otherwise). Stops when the undamped step keeping the mean would lower the loss by less
    than ``tolerance`` (the mean held), or no damping finds a decrease. Returns (theta,
    loss history)."""
    theta = np.asarray(start, np.float32)
    max_step = layout.max_step(theta)
    value, _, (parts, jac, _) = evaluate(theta)
    damping, history = 1e-3, [float(value)]
    bar = tqdm(range(max_steps), desc="calibrating", disable=not progress)
    for _ in bar:
        h, g, a, c = gauss_newton_system(parts, jac, holds_mean)
        mean_held = c is None or abs(c) < MEAN_HELD
        # converged: the mean is held and a step keeping it there gains nothing (the test
        # judge() applies); a step also closing the last fraction of a millimetre may
        # predict an increase, which says nothing about the other parameters
        if mean_held and predicted_decrease(h, g, a, None if c is None else 0.0) < tolerance:
            break
        accepted = False
        for attempt in range(MAX_HALVINGS):
            # a failed step closes less of the mean's misfit next time: damping alone
            # would still ask the whole (linearised) correction of the mean
            reach = None if c is None else c * 0.5 ** attempt
            damped = h + damping * np.diag(np.diag(h) + 1e-12)
            candidate = (theta + _trusted(constrained_step(damped, g, a, reach), max_step)).astype(np.float32)
            new_value, _, new_aux = evaluate(candidate, strict=False)
            accepted = np.isfinite(float(new_value)) and float(new_value) < float(value)
            if not accepted and c is not None and np.isfinite(float(new_value)) \
                    and _fit_loss(new_aux[0]) < _fit_loss(parts):
                candidate, new_value, new_aux = _restore_mean(evaluate, candidate, new_aux, damped, max_step)
                accepted = np.isfinite(float(new_value)) and float(new_value) < float(value)
            if accepted:
                damping = max(damping / 3.0, 1e-7)
                break
            damping = max(damping * 4.0, MIN_DAMPING_AFTER_FAILURE)
        if not accepted:
            break
        theta, value, (parts, jac, _) = candidate, new_value, new_aux
        history.append(float(value))
        bar.set_postfix(loss=f"{float(value):.4g}")
    evaluate(theta)
    return theta, history


def _restore_mean(evaluate, candidate, aux, damped: np.ndarray, max_step: np.ndarray):
    """The second-order correction of :func:`minimise`: from ``candidate`` (whose
    evaluation ``aux`` gives the mean's misfit and gradient there), the smallest step in
    the damped metric that brings the linearised mean back to zero. Returns the corrected
    candidate and its evaluation (loss, gradient, aux)."""
    _, g, a, c = gauss_newton_system(aux[0], aux[1], True)
    fix = _trusted(constrained_step(damped, np.zeros_like(g), a, c), max_step)
    corrected = (candidate + fix).astype(np.float32)
    value, _, corrected_aux = evaluate(corrected, strict=False)
    return corrected, value, corrected_aux


def match_mean(evaluate, layout: ParameterLayout, theta, tolerance: float, max_iterations: int = 8):
    """Newton steps on the held mean until it is matched within ``tolerance`` (m w.e. per
    year): on ``temp_bias`` alone when it is fitted, else the smallest step in the fitted
    parameters. Returns (theta, absolute mean misfit)."""
    theta = np.asarray(theta, np.float32)
    use = np.zeros(theta.shape, bool)
    if "temp_bias" in layout.parameters:
        use[layout.index("temp_bias")] = True
    else:
        use[:] = True
    for _ in range(max_iterations):
        _, _, (parts, jac, _) = evaluate(theta)
        misfit = float(parts[2][0]) * MEAN_PENALTY_SD
        if abs(misfit) < tolerance:
            break
        row = np.where(use, np.asarray(jac[-1], np.float64) * MEAN_PENALTY_SD, 0.0)
        norm = float(row @ row)
        if not norm > 0:
            break
        theta = (theta - misfit * row / norm).astype(np.float32)
    _, _, (parts, _, _) = evaluate(theta)
    return theta, abs(float(parts[2][0]) * MEAN_PENALTY_SD)


def laplace(evaluate, theta, holds_mean: bool) -> dict:
    """The Gauss-Newton (Laplace) posterior at ``theta``: from the Jacobian of the
    observations' and priors' whitened residuals (the held mean's pseudo-observation left
    out: the data already carry it).

    Returns
    -------
    dict with ``covariance`` (P, P) in the fitted coordinates (degC, log prcp_fac, TI
    values), ``sd`` (P,), ``data_information`` (P,) the diagonal of the data-only
    curvature, ``prior_information`` (P,), and ``newton_decrement`` (the loss decrease a
    Newton step would still give: small at an optimum).
    """
    _, _, (parts, jac, _) = evaluate(theta)
    jac = np.asarray(jac, np.float64)
    n_obs, n_prior = parts[0].shape[0], parts[1].shape[0]
    j_obs, j_prior = jac[:n_obs], jac[n_obs:n_obs + n_prior]
    data_h, prior_h = j_obs.T @ j_obs, j_prior.T @ j_prior
    covariance = np.linalg.pinv(data_h + prior_h)
    h, g, a, c = gauss_newton_system(parts, jac, holds_mean)
    decrement = predicted_decrease(h, g, a, None if c is None else 0.0)
    return {"covariance": covariance, "sd": np.sqrt(np.clip(np.diag(covariance), 0, None)),
            "data_information": np.diag(data_h), "prior_information": np.diag(prior_h),
            "newton_decrement": decrement}
