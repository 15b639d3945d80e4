"""The differentiable calibration objective (JAX) behind ``glaunti_calibrate``.

One continuous run over hydrological years (winter/summer split on the first day of
``glaunti_winter_end_month``), built from the glacier's daily climate series inside JAX so
that temperature bias and precipitation factor are differentiable inputs.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..core import GlaUnTIModel, TRAINABLE_NAMES, run_ti
from ..core.parameters import prior_parameters
from .grid_run import GridRun, adjusted_model, grid_year
from .params import get_param

TI_PRIOR_WEIGHT = 0.1  # the paper's TI prior regulariser
TEMP_BIAS_PRIOR_SD = 3.0  # degC
LOG_PRCP_FAC_PRIOR_SD = 1.0
PRIOR_WEIGHT = 1e-3  # weak: keeps the fit defined where data cannot


#: The stored (unconstrained) values of the TI prior, computed once outside any trace.
_TI_PRIOR_STORED = np.asarray([float(getattr(prior_parameters(), n)) for n in TRAINABLE_NAMES],
                              np.float32)


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


class Objective:
    """Loss and misfits of the model against :class:`~.observations.Observations`."""

    def __init__(self, run: GridRun, obs, years, parameters, weights):
        self.run, self.obs, self.parameters, self.weights = run, obs, tuple(parameters), weights
        self.model = adjusted_model(run.model, None)
        spinup = int(get_param("glaunti_spinup_years"))
        first = max(years[0] - spinup, int(run.years[0]))
        self.hydro = [y for y in range(first, years[-1] + 1)]
        self.scored = {y: i for i, y in enumerate(self.hydro)}
        end_month = int(get_param("glaunti_winter_end_month"))
        if run.start_month != 10:
            end_month = (run.start_month + end_month - 10 - 1) % 12 + 1
        self._build_inputs(end_month)
        self._value_and_grad = jax.jit(self._make_value_and_grad())

    # --- inputs ------------------------------------------------------------------------
    def _build_inputs(self, end_month: int):
        run, grid = self.run, self.run.grid

        def winter_end(y, w):
            return int((np.datetime64(f"{y + 1:04d}-{end_month:02d}-01") - w.begin).astype(int))

        ref = run.reference_years(self.hydro, self._neutral(), split_of=winter_end)
        self.t = jnp.asarray(ref.temperature)
        self.p = jnp.asarray(ref.precipitation)
        self.plan = jax.tree_util.tree_map(jnp.asarray, ref.plan)
        self.membership = jnp.asarray(ref.membership)
        dates = ref.begin[:, None] + np.asarray(ref.plan.day_index)
        stakes = self.obs.stakes
        if stakes is not None and len(stakes):
            steps = dates  # (Y, n_steps) datetime64
            active = np.asarray(self.plan.active)
            d0 = stakes["date0"].values.astype("datetime64[D]")
            d1 = stakes["date1"].values.astype("datetime64[D]")
            inside = (steps[..., None] >= d0) & (steps[..., None] < d1) & active[..., None]
            self.stake_weight = jnp.asarray(inside.astype(np.float32))
            self.stake_index = jnp.asarray((stakes["row"] * grid.shape[1] + stakes["col"]).values)
            self.stake_value = jnp.asarray(stakes["balance"].values, jnp.float32)
        else:
            self.stake_weight = None

    @staticmethod
    def _neutral():
        from .grid_run import Adjustments

        return Adjustments()

    # --- the model ---------------------------------------------------------------------
    def simulate(self, theta):
        """Glacier-wide (Y, 2) winter/summer SMB and stake sums (S,), m w.e."""
        p = _split_theta(self.parameters, theta)
        model = self.model if "ti" not in p else _with_ti(self.model, p["ti"])
        temp_bias = p.get("temp_bias", 0.0)
        prcp_fac = jnp.exp(p.get("prcp_fac", 0.0))
        outline = jnp.asarray(self.run.static[0])
        cells = outline.shape

        def body(state, xs):
            t, pr, plan, membership, stake_w = xs
            year = grid_year(t + temp_bias, pr * prcp_fac, plan, membership, self.run.offset, self.run.static)
            temperature, precipitation = year.temperature, year.precipitation
            values = model.ti.constrained()
            if isinstance(model, GlaUnTIModel):
                corrections, _ = model.corrections(year, state)
                values = values.corrected(corrections)
            res = run_ti(values, temperature, precipitation, plan, state)
            glacier_wide = jnp.einsum("phw,hw->p", res.period_smb, outline) / outline.sum()
            stake_sum = jnp.zeros(0)
            if stake_w is not None:
                idx = self.stake_index
                points = run_ti(values.at_points(idx), temperature.reshape(len(t), -1)[:, idx],
                                precipitation.reshape(len(t), -1)[:, idx], plan, state.ravel()[idx], daily=True)
                stake_sum = jnp.einsum("ls,ls->s", points.daily, stake_w)
            return res.final_state, (glacier_wide, stake_sum)

        state0 = model.initial_state(cells)
        xs = (self.t, self.p, self.plan, self.membership, self.stake_weight)
        _, (glacier_wide, stakes) = jax.lax.scan(body, state0, xs)
        return glacier_wide, stakes.sum(0)

    def residuals(self, theta) -> dict:
        glacier_wide, stakes = self.simulate(theta)
        out = {}
        for kind, pick in (("annual", lambda g: g.sum(-1)), ("winter", lambda g: g[..., 0]),
                           ("summer", lambda g: g[..., 1])):
            series = getattr(self.obs, kind)
            years = [y for y in sorted(series) if y in self.scored]
            if years:
                idx = jnp.asarray([self.scored[y] for y in years])
                out[kind] = pick(glacier_wide[idx]) - jnp.asarray([series[y] for y in years], jnp.float32)
        if self.obs.geodetic is not None:
            y0, y1, value = self.obs.geodetic
            idx = jnp.asarray([self.scored[y] for y in range(y0, y1 + 1) if y in self.scored])
            out["geodetic"] = jnp.atleast_1d(glacier_wide[idx].sum(-1).mean() - value)
        if self.stake_weight is not None:
            out["stakes"] = stakes - self.stake_value
        return out

    def loss(self, theta):
        total = sum(self.weights[k] * jnp.mean(r**2) for k, r in self.residuals(theta).items())
        p = _split_theta(self.parameters, theta)
        if "temp_bias" in p:
            total = total + PRIOR_WEIGHT * (p["temp_bias"] / TEMP_BIAS_PRIOR_SD) ** 2
        if "prcp_fac" in p:
            total = total + PRIOR_WEIGHT * (p["prcp_fac"] / LOG_PRCP_FAC_PRIOR_SD) ** 2
        if "ti" in p:
            ref = jnp.asarray(_TI_PRIOR_STORED)
            total = total + TI_PRIOR_WEIGHT * jnp.sum(((p["ti"] - ref) / ref) ** 2)
        return total

    def _make_value_and_grad(self):
        forward_grad = jax.jacfwd(lambda th: (lambda v: (v, v))(self.loss(th)), has_aux=True)

        @jax.custom_vjp
        def loss(theta):
            return self.loss(theta)

        def fwd(theta):
            grad, value = forward_grad(theta)
            return value, grad

        loss.defvjp(fwd, lambda grad, g: (g * grad,))
        self.loss_forward_grad = loss
        return jax.value_and_grad(loss)

    # --- fitting -----------------------------------------------------------------------
    def value_and_grad(self, theta):
        """Loss and gradient at ``theta`` (forward mode: cheap for a few parameters)."""
        return self._value_and_grad(theta)

    def minimise(self, max_steps: int, tolerance: float, progress: bool = False):
        theta = jnp.asarray(initial_theta(self.model, self.parameters))
        optimiser = optax.lbfgs()
        state = optimiser.init(theta)
        step = jax.jit(lambda th, st, v, g: optimiser.update(g, st, th, value=v, grad=g,
                                                             value_fn=self.loss_forward_grad))
        history = []
        bar = tqdm(range(max_steps), desc="calibrating", disable=not progress)
        for _ in bar:
            value, grad = self._value_and_grad(theta)
            history.append(float(value))
            bar.set_postfix(loss=f"{float(value):.3g}")
            if len(history) > 1 and history[-2] - history[-1] < tolerance:
                break
            updates, state = step(theta, state, value, grad)
            theta = optax.apply_updates(theta, updates)
        return np.asarray(theta), history

    def misfit(self, theta) -> dict:
        out = {}
        for kind, r in self.residuals(jnp.asarray(theta)).items():
            r = np.asarray(r, np.float64)
            out[kind] = {"n": int(r.size), "rmse": float(np.sqrt(np.mean(r**2))), "bias": float(r.mean())}
        return out
