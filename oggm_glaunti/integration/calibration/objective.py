"""The differentiable calibration objective (JAX) behind ``glaunti_calibrate``.

The simulation is the glacier's own run (:mod:`.glacier_run`): the same years under the
same state rule, each through :func:`~.glacier_year.run_glacier_year` - the very function
the MB model's years run - traced in the temperature bias and precipitation factor (and
the TI parameters). The observations are read off the run's weighted daily SMB with the
observation operators (:mod:`oggm_glaunti.observation_operators`): glacier-wide seasons
and stake records are windows inclusive at both ends, a date shared by two periods
counted once in full; the geodetic mean is the mean of the hydrological years' period
totals (consecutive years then add up to the whole span).

The compiled functions are module-level and take the glacier's data as arguments
(:class:`ObjectiveData`: arrays only; observations as per-run values and masks), so
glaciers whose grids share a shape bucket and own-grid size and whose runs are as long
share one compilation.
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

from ...core import TRAINABLE_NAMES
from ...core.parameters import TI_PRIOR_WEIGHT, ti_prior
from ...observation_operators import first_of_month_after, season_month, window_weights
from ..grid.glacier_data import hydro_year_begin
from ..run.glacier_run import GlacierRun
from ..run.glacier_year import GridArrays, run_glacier_year
from ..session.params import get_param

TEMP_BIAS_PRIOR_SD = 3.0  # degC
LOG_PRCP_FAC_PRIOR_SD = 1.0
PRIOR_WEIGHT = 1e-3  # weak: keeps the fit defined where data cannot

#: Glacier-wide data kinds, in the order of the simulated seasons.
SEASON_KINDS = ("annual", "winter", "summer")

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
    """What is fitted, how the data kinds are weighted, and the corrector's window size
    (static: part of the compiled code)."""

    parameters: tuple[str, ...]
    weights: tuple[tuple[str, float], ...]
    window_size: tuple[int, int]


class StakeData(NamedTuple):
    """Stake records: ``weight`` (N, n_steps, S) 1 where a step of a run counts towards a
    record's window, ``index`` (S,) flat grid cell, ``value`` (S,) observed balance (m w.e.)."""

    weight: Array
    index: Array
    value: Array


class ObjectiveData(NamedTuple):
    """A glacier's inputs and observations over the N runs of its years (arrays only).

    ``reference``: the runs' climate at the reference height (temperature, precipitation,
    plan, membership), each with a leading run axis; ``fresh`` (N,) the run starts from a
    fresh state; ``seasons`` (N, n_steps, Y, 3) the annual, winter and summer windows of
    the Y scored years over the runs' steps (zero on spin-up runs: a date's value is its
    own years'); ``targets`` maps each glacier-wide kind to (values, mask), each (Y,);
    ``geodetic`` is
    (value (1,), mask of its runs (N,)) or None.
    """

    reference: tuple
    fresh: Array
    grid: GridArrays
    seasons: Array
    targets: dict
    geodetic: Optional[tuple]
    stakes: Optional[StakeData]


def simulate(model, spec: ObjectiveSpec, data: ObjectiveData, theta) -> tuple[Array, Array, Array]:
    """Glacier-wide (Y, 3) annual/winter/summer window sums of the scored years, the
    runs' (N,) period totals, and stake window sums (S,), m w.e."""
    p = _split_theta(spec.parameters, theta)
    if "ti" in p:
        model = _with_ti(model, p["ti"])
    temp_bias = p.get("temp_bias", 0.0)
    prcp_fac = jnp.exp(p.get("prcp_fac", 0.0))
    outline = data.grid.static[0]
    area = outline.sum()
    stakes = data.stakes

    def body(state, xs):
        reference, fresh, seasons, stake_w = xs
        state = jnp.where(fresh, model.initial_state(outline.shape), state)
        res = run_glacier_year(model, reference, state, jnp.logical_not(fresh), temp_bias, prcp_fac,
                               data.grid, spec.window_size, daily=True)
        steps = jnp.einsum("thw,hw->t", res.daily, outline) / area
        total = jnp.einsum("phw,hw->", res.period_smb, outline) / area
        stake_sum = jnp.zeros(0)
        if stake_w is not None:
            daily = res.daily.reshape(res.daily.shape[0], -1)[:, stakes.index]
            stake_sum = jnp.einsum("ts,ts->s", daily, stake_w)
        return res.final_state, (jnp.einsum("t,tyk->yk", steps, seasons), total, stake_sum)

    state0 = model.initial_state(outline.shape)
    xs = (data.reference, data.fresh, data.seasons, None if stakes is None else stakes.weight)
    _, (glacier_wide, totals, stake_sums) = jax.lax.scan(body, state0, xs)
    return glacier_wide.sum(0), totals, stake_sums.sum(0)


def residuals(model, spec: ObjectiveSpec, data: ObjectiveData, theta) -> dict:
    """{kind: (residuals, mask)}: model minus observation, m w.e.; mask 1 where observed."""
    glacier_wide, totals, stake_sums = simulate(model, spec, data, theta)
    out = {}
    for kind, (value, mask) in data.targets.items():
        out[kind] = (glacier_wide[:, SEASON_KINDS.index(kind)] - value, mask)
    if data.geodetic is not None:
        value, mask = data.geodetic
        mean = jnp.sum(totals * mask) / jnp.sum(mask)
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
        total = total + TI_PRIOR_WEIGHT * ti_prior(_with_ti(model, p["ti"]).ti)
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
_simulate = eqx.filter_jit(simulate)


class Objective:
    """Loss and misfits of the model against :class:`~.observations.Observations`.

    The simulation runs the glacier's years as its :class:`~.glacier_run.GlacierRun` does
    (:meth:`~.glacier_run.GlacierRun.runs_for`: each observed year's segment, from its
    spin-up to its last observed year).

    Parameters
    ----------
    run : the glacier's run (e.g. ``GlaUnTIMassBalance.glacier_run``).
    obs : the observations.
    years : the hydrological years they score.
    parameters : what is fitted ('temp_bias', 'prcp_fac', 'ti').
    weights : weight of each data kind.
    hemisphere : 'nh' or 'sh' (the season months).
    """

    def __init__(self, run: GlacierRun, obs, years, parameters, weights, hemisphere: str = "nh"):
        self.run, self.obs = run, obs
        self.model = run.model
        self.spec = ObjectiveSpec(tuple(parameters), tuple(sorted(weights.items())), run.window_size)
        self.winter_end_month = season_month(get_param("glaunti_winter_end_month"), hemisphere)
        self.years = [int(y) for y in years]
        # a window's dates lie in its years' runs; its first and last date are shared
        # with the years before and after
        first, last = hydro_year_begin(min(self.years), run.start_month), hydro_year_begin(
            max(self.years) + 1, run.start_month)
        if obs.stakes is not None and len(obs.stakes):
            first = min(first, obs.stakes["date0"].values.astype("datetime64[D]").min())
            last = max(last, obs.stakes["date1"].values.astype("datetime64[D]").max())
        needed = {int(y) for y in run.years if y != run.partial_year
                  and hydro_year_begin(y, run.start_month) <= last
                  and hydro_year_begin(y + 1, run.start_month) >= first}
        self.runs = run.runs_for(sorted(needed))
        self.data = self._build_data()
        self._last_residuals = (None, None)  # (theta, residuals) of the latest evaluation

    def _build_data(self) -> ObjectiveData:
        run = self.run
        years = [y for y, _, _ in self.runs]
        own = np.array([o for _, _, o in self.runs], np.float32)
        ref = run.reference_years(years)
        dates, active = ref.step_dates(), np.asarray(ref.plan.active)
        begin = np.array([hydro_year_begin(y, run.start_month) for y in self.years])
        end = np.array([hydro_year_begin(y + 1, run.start_month) for y in self.years])
        mid = np.array([first_of_month_after(b, self.winter_end_month) for b in begin])
        bounds = np.stack([(begin, end), (begin, mid), (mid, end)], -1)  # (2, Y, 3)
        seasons = window_weights(dates, active, bounds[0].ravel(), bounds[1].ravel())
        seasons = (seasons * own[:, None, None]).reshape(dates.shape + bounds.shape[1:])
        targets = {}
        for kind in SEASON_KINDS:
            series = getattr(self.obs, kind)
            mask = np.isin(self.years, list(series)).astype(np.float32)
            if mask.any():
                targets[kind] = (np.asarray([series.get(y, 0.0) for y in self.years], np.float32), mask)
        geodetic = None
        if self.obs.geodetic is not None:
            y0, y1, value = self.obs.geodetic
            mask = own * np.isin(years, list(range(y0, y1 + 1)))
            if mask.any():
                geodetic = (np.asarray([value], np.float32), mask)
        stakes = self.obs.stakes
        stake_data = None
        if stakes is not None and len(stakes):
            weight = window_weights(dates, active, stakes["date0"].values, stakes["date1"].values)
            stake_data = StakeData(weight * own[:, None, None],
                                   (stakes["row"] * run.grid.shape[1] + stakes["col"]).values,
                                   stakes["balance"].values.astype(np.float32))
        reference = (ref.temperature, ref.precipitation, ref.plan, ref.membership)
        data = ObjectiveData(reference, np.array([f for _, f, _ in self.runs]), run.arrays, seasons,
                             targets, geodetic, stake_data)
        return jax.tree_util.tree_map(jnp.asarray, data)

    def simulated(self, theta) -> dict[int, dict[str, float]]:
        """{hydrological year: {'annual', 'winter', 'summer' (observation windows), 'total'
        (the year's period total)}} of the observed years' own runs at ``theta``, m w.e."""
        glacier_wide, totals, _ = _simulate(self.model, self.spec, self.data, jnp.asarray(theta))
        totals = {year: float(totals[i]) for i, (year, _, own) in enumerate(self.runs) if own}
        return {year: {**dict(zip(SEASON_KINDS, np.asarray(glacier_wide[k], np.float64))), "total": totals[year]}
                for k, year in enumerate(self.years)}

    def stake_sums(self, theta) -> np.ndarray:
        """The modelled values (m w.e.) of the stake records at ``theta``."""
        return np.asarray(_simulate(self.model, self.spec, self.data, jnp.asarray(theta))[2], np.float64)

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
