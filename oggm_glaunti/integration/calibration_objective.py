"""The differentiable calibration objective (JAX) behind ``glaunti_calibrate``.

One continuous run over hydrological years (winter/summer split on the first day of
``glaunti_winter_end_month``), built from the glacier's daily climate series inside JAX so
that temperature bias and precipitation factor are differentiable inputs.

The compiled functions are module-level and take the glacier's data as arguments
(:class:`ObjectiveData`: arrays only; observations as per-year values and masks), so
glaciers whose grids share a shape bucket and whose runs span as many years share one
compilation - in a regional workflow, most of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array
from tqdm.auto import tqdm

from ..core import DayPlan, GlaUnTIModel, TRAINABLE_NAMES, run_ti
from ..core.parameters import prior_parameters
from .grid_run import Adjustments, GridRun, adjusted_model, grid_year
from .params import get_param

TI_PRIOR_WEIGHT = 0.1  # the paper's TI prior regulariser
TEMP_BIAS_PRIOR_SD = 3.0  # degC
LOG_PRCP_FAC_PRIOR_SD = 1.0
PRIOR_WEIGHT = 1e-3  # weak: keeps the fit defined where data cannot


#: The stored (unconstrained) values of the TI prior, computed once outside any trace.
_TI_PRIOR_STORED = np.asarray([float(getattr(prior_parameters(), n)) for n in TRAINABLE_NAMES],
                              np.float32)

#: Glacier-wide data kinds and how each picks its value from the (winter, summer) pair.
_SEASONAL_KINDS = {"annual": lambda g: g.sum(-1), "winter": lambda g: g[..., 0],
                   "summer": lambda g: g[..., 1]}

#: L-BFGS gives the search direction; the step length comes from a backtracking line search
#: run in Python (:meth:`Objective.minimise`), so the model is compiled once, in
#: :func:`_evaluate`, instead of a second time inside optax's line search.
_LBFGS = optax.lbfgs(linesearch=None)
ARMIJO_C1 = 1e-4  # sufficient decrease of the backtracking line search
MAX_HALVINGS = 12


class Fitted(NamedTuple):
    model: object
    temp_bias: float
    prcp_fac: float


def _split_theta(parameters, theta):
    i, out = 0, {}
    for name in parameters:
        n = len(TRAINABLE_NAMES) if name == "ti" else 1
        out[name] = theta[i:i + n] if name == "ti" else theta[i]
        i += n
    return out


def _with_ti(model, ti_values):
    for k, name in enumerate(TRAINABLE_NAMES):
        model = eqx.tree_at(lambda m, n=name: getattr(m.ti, n), model, ti_values[k])
    return model


def apply_parameters(model, parameters, theta) -> Fitted:
    """The fitted model and forcing adjustments from the parameter vector."""
    p = _split_theta(parameters, np.asarray(theta, np.float64))
    if "ti" in p:
        model = _with_ti(model, jnp.asarray(p["ti"], jnp.float32))
    return Fitted(model, float(p.get("temp_bias", 0.0)), float(np.exp(p.get("prcp_fac", 0.0))))


def initial_theta(model, parameters) -> np.ndarray:
    parts = []
    for name in parameters:
        if name == "ti":
            parts += [float(getattr(model.ti, n)) for n in TRAINABLE_NAMES]
        else:
            parts.append(0.0)
    return np.asarray(parts, np.float32)


@dataclass(frozen=True)
class ObjectiveSpec:
    """What is fitted and how the data kinds are weighted (static: part of the compiled code)."""

    parameters: tuple[str, ...]
    weights: tuple[tuple[str, float], ...]


class StakeData(NamedTuple):
    """Stake records: ``weight`` (Y, n_steps, S) 1 where a step lies in a record's window,
    ``index`` (S,) flat grid cell, ``value`` (S,) observed balance (m w.e.)."""

    weight: Array
    index: Array
    value: Array


class ObjectiveData(NamedTuple):
    """A glacier's inputs and observations over the run's Y hydrological years (arrays only).

    ``targets`` maps each glacier-wide kind (annual, winter, summer) to (values, mask), each
    (Y,); ``geodetic`` is (value (1,), mask of its years (Y,)) or None.
    """

    temperature: Array
    precipitation: Array
    plan: DayPlan
    membership: Array
    offset: Array
    static: tuple
    targets: dict
    geodetic: Optional[tuple]
    stakes: Optional[StakeData]


def simulate(model, spec: ObjectiveSpec, data: ObjectiveData, theta) -> tuple[Array, Array]:
    """Glacier-wide (Y, 2) winter/summer SMB and stake sums (S,), m w.e."""
    p = _split_theta(spec.parameters, theta)
    if "ti" in p:
        model = _with_ti(model, p["ti"])
    temp_bias = p.get("temp_bias", 0.0)
    prcp_fac = jnp.exp(p.get("prcp_fac", 0.0))
    outline = data.static[0]
    stakes = data.stakes

    def body(state, xs):
        t, pr, plan, membership, stake_w = xs
        year = grid_year(t + temp_bias, pr * prcp_fac, plan, membership, data.offset, data.static)
        temperature, precipitation = year.temperature, year.precipitation
        values = model.ti.constrained()
        if isinstance(model, GlaUnTIModel):
            corrections, _ = model.corrections(year, state)
            values = values.corrected(corrections)
        res = run_ti(values, temperature, precipitation, plan, state)
        glacier_wide = jnp.einsum("phw,hw->p", res.period_smb, outline) / outline.sum()
        stake_sum = jnp.zeros(0)
        if stake_w is not None:
            idx = stakes.index
            points = run_ti(values.at_points(idx), temperature.reshape(len(t), -1)[:, idx],
                            precipitation.reshape(len(t), -1)[:, idx], plan, state.ravel()[idx], daily=True)
            stake_sum = jnp.einsum("ls,ls->s", points.daily, stake_w)
        return res.final_state, (glacier_wide, stake_sum)

    state0 = model.initial_state(outline.shape)
    xs = (data.temperature, data.precipitation, data.plan, data.membership,
          None if stakes is None else stakes.weight)
    _, (glacier_wide, stake_sums) = jax.lax.scan(body, state0, xs)
    return glacier_wide, stake_sums.sum(0)


def residuals(model, spec: ObjectiveSpec, data: ObjectiveData, theta) -> dict:
    """{kind: (residuals, mask)}: model minus observation, m w.e.; mask 1 where observed."""
    glacier_wide, stake_sums = simulate(model, spec, data, theta)
    out = {}
    for kind, (value, mask) in data.targets.items():
        out[kind] = (_SEASONAL_KINDS[kind](glacier_wide) - value, mask)
    if data.geodetic is not None:
        value, mask = data.geodetic
        mean = jnp.sum(glacier_wide.sum(-1) * mask) / jnp.sum(mask)
        out["geodetic"] = (mean - value, jnp.ones_like(value))
    if data.stakes is not None:
        out["stakes"] = (stake_sums - data.stakes.value, jnp.ones_like(data.stakes.value))
    return out


def loss_and_residuals(model, spec: ObjectiveSpec, data: ObjectiveData, theta):
    """The loss - weighted mean squared misfits of the data kinds plus the priors - and the
    :func:`residuals` it was computed from."""
    weights = dict(spec.weights)
    misfits = residuals(model, spec, data, theta)
    total = sum(weights[k] * jnp.sum(mask * r**2) / jnp.sum(mask) for k, (r, mask) in misfits.items())
    p = _split_theta(spec.parameters, theta)
    if "temp_bias" in p:
        total = total + PRIOR_WEIGHT * (p["temp_bias"] / TEMP_BIAS_PRIOR_SD) ** 2
    if "prcp_fac" in p:
        total = total + PRIOR_WEIGHT * (p["prcp_fac"] / LOG_PRCP_FAC_PRIOR_SD) ** 2
    if "ti" in p:
        ref = jnp.asarray(_TI_PRIOR_STORED)
        total = total + TI_PRIOR_WEIGHT * jnp.sum(((p["ti"] - ref) / ref) ** 2)
    return total, misfits


@eqx.filter_jit
def _evaluate(model, spec, data, theta):
    """Loss, its gradient (forward mode: cheap for a few parameters, no stored
    trajectories) and the residuals."""
    def with_aux(th):
        value, misfits = loss_and_residuals(model, spec, data, th)
        return value, (value, misfits)

    grad, (value, misfits) = jax.jacfwd(with_aux, has_aux=True)(theta)
    return value, grad, misfits


@jax.jit
def _lbfgs_direction(grad, state, theta):
    return _LBFGS.update(grad, state, theta)


_residuals = eqx.filter_jit(residuals)


def _year_mask(years, hydro: list[int]) -> np.ndarray:
    return np.isin(hydro, list(years)).astype(np.float32)


def observation_targets(obs, hydro: list[int]) -> tuple[dict, tuple | None]:
    """The ``targets`` and ``geodetic`` of :class:`ObjectiveData` for the run's hydrological
    years; kinds with no observed year in the run are left out."""
    targets = {}
    for kind in _SEASONAL_KINDS:
        series = getattr(obs, kind)
        mask = _year_mask(series, hydro)
        if mask.any():
            targets[kind] = (np.asarray([series.get(y, 0.0) for y in hydro], np.float32), mask)
    geodetic = None
    if obs.geodetic is not None:
        y0, y1, value = obs.geodetic
        mask = _year_mask(range(y0, y1 + 1), hydro)
        if mask.any():
            geodetic = (np.asarray([value], np.float32), mask)
    return targets, geodetic


class Objective:
    """Loss and misfits of the model against :class:`~.observations.Observations`.

    The run starts ``glaunti_spinup_years`` before the first observed year (or at the
    record's first year) and ends at the last observed year.
    """

    def __init__(self, run: GridRun, obs, years, parameters, weights):
        self.run, self.obs = run, obs
        self.model = adjusted_model(run.model, None)
        self.spec = ObjectiveSpec(tuple(parameters), tuple(sorted(weights.items())))
        spinup = int(get_param("glaunti_spinup_years"))
        first = max(years[0] - spinup, int(run.years[0]))
        self.hydro = list(range(first, years[-1] + 1))
        end_month = int(get_param("glaunti_winter_end_month"))
        if run.start_month != 10:
            end_month = (run.start_month + end_month - 10 - 1) % 12 + 1
        self.data = self._build_data(end_month)
        self._last_residuals = (None, None)  # (theta, residuals) of the latest evaluation

    def _build_data(self, end_month: int) -> ObjectiveData:
        run, grid = self.run, self.run.grid

        def winter_end(y, w):
            return int((np.datetime64(f"{y + 1:04d}-{end_month:02d}-01") - w.begin).astype(int))

        ref = run.reference_years(self.hydro, Adjustments(), split_of=winter_end)
        stakes = self.obs.stakes
        stake_data = None
        if stakes is not None and len(stakes):
            steps = ref.begin[:, None] + np.asarray(ref.plan.day_index)  # (Y, n_steps) datetime64
            d0 = stakes["date0"].values.astype("datetime64[D]")
            d1 = stakes["date1"].values.astype("datetime64[D]")
            inside = (steps[..., None] >= d0) & (steps[..., None] < d1) & np.asarray(ref.plan.active)[..., None]
            stake_data = StakeData(inside.astype(np.float32),
                                   (stakes["row"] * grid.shape[1] + stakes["col"]).values,
                                   stakes["balance"].values.astype(np.float32))
        data = ObjectiveData(ref.temperature, ref.precipitation, ref.plan, ref.membership, run.offset,
                             run.static, *observation_targets(self.obs, self.hydro), stake_data)
        return jax.tree_util.tree_map(jnp.asarray, data)

    def value_and_grad(self, theta):
        """Loss and gradient at ``theta`` (forward mode: cheap for a few parameters)."""
        theta = jnp.asarray(theta)
        value, grad, misfits = _evaluate(self.model, self.spec, self.data, theta)
        self._last_residuals = (np.asarray(theta), misfits)
        return value, grad

    def minimise(self, max_steps: int, tolerance: float, progress: bool = False):
        """L-BFGS from the variant's own values, with a backtracking (Armijo) line search;
        stops when the loss improves by less than ``tolerance`` or no step along the
        direction decreases it. Returns (theta, loss history)."""
        theta = jnp.asarray(initial_theta(self.model, self.spec.parameters))
        state = _LBFGS.init(theta)
        value, grad = self.value_and_grad(theta)
        history = []
        bar = tqdm(range(max_steps), desc="calibrating", disable=not progress)
        for _ in bar:
            history.append(float(value))
            bar.set_postfix(loss=f"{float(value):.3g}")
            if len(history) > 1 and history[-2] - history[-1] < tolerance:
                break
            direction, state = _lbfgs_direction(grad, state, theta)
            slope = float(jnp.vdot(grad, direction))
            if not slope < 0:  # the curvature memory went bad: restart from the gradient
                state, direction, slope = _LBFGS.init(theta), -grad, -float(jnp.vdot(grad, grad))
            accepted = self._line_search(theta, float(value), direction, slope)
            if accepted is None:
                break
            theta, value, grad = accepted
        return np.asarray(theta), history

    def _line_search(self, theta, value: float, direction, slope: float):
        """(theta, value, grad) of the first step 1, 1/2, 1/4, ... along ``direction`` that
        decreases the loss sufficiently; None if none does."""
        step = 1.0
        for _ in range(MAX_HALVINGS):
            candidate = theta + step * direction
            new_value, new_grad = self.value_and_grad(candidate)
            if float(new_value) <= value + ARMIJO_C1 * step * slope:
                return candidate, new_value, new_grad
            step *= 0.5
        return None

    def misfit(self, theta) -> dict:
        """{kind: {'n', 'rmse', 'bias'}} of the observed values at ``theta`` (m w.e.)."""
        last_theta, misfits = self._last_residuals
        if last_theta is None or not np.array_equal(last_theta, np.asarray(theta)):
            misfits = _residuals(self.model, self.spec, self.data, jnp.asarray(theta))
        out = {}
        for kind, (r, mask) in misfits.items():
            r = np.asarray(r, np.float64)[np.asarray(mask) > 0]
            out[kind] = {"n": int(r.size), "rmse": float(np.sqrt(np.mean(r**2))), "bias": float(r.mean())}
        return out
