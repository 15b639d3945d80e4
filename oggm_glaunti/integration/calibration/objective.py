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
from jax import Array
from tqdm.auto import tqdm

from ...core import TRAINABLE_NAMES
from ...core.parameters import ti_prior_deviations
from ...observation_operators import window_weights
from ..run.glacier_run import GlacierRun
from ..run.glacier_year import GridArrays, scan_runs
from ..session.params import get_param

#: The reference-period mean enters the optimisation as a pseudo-observation this tight
#: (m w.e. per year); :meth:`Objective.match_mean` then closes the last millimetres.
MEAN_PENALTY_SD = 0.0005
#: The optimiser does not stop while the held mean is off by more than this (m w.e.).
MEAN_HELD = 0.0005

#: Glacier-wide data kinds, in the order of the simulated seasons.
SEASON_KINDS = ("annual", "winter", "summer")

#: The optimiser (:meth:`Objective.minimise`) runs in Python on the loss, gradient and
#: Jacobian of one compiled function, ``_evaluate``.
MAX_HALVINGS = 12  # damping increases tried per step
#: After a failed try the damping is at least this (the starting damping): from the tiny
#: damping of a run of good steps, growing it fourfold would take many tries (each a full
#: evaluation) before the step shortens at all.
MIN_DAMPING_AFTER_FAILURE = 1e-3


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


def _constrained_step(h: np.ndarray, g: np.ndarray, a: np.ndarray | None, c: float | None) -> np.ndarray:
    """The step minimising ``g.d + d.h.d / 2`` subject to ``a.d = -c`` (the held mean's
    linearised misfit brought to zero); unconstrained when ``a`` is None."""
    if a is None:
        return -np.linalg.lstsq(h, g, rcond=None)[0]
    n = len(g)
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n], kkt[:n, n], kkt[n, :n] = h, a, a
    rhs = np.concatenate([-g, [-c]])
    return np.linalg.lstsq(kkt, rhs, rcond=None)[0][:n]


def _predicted_decrease(h, g, a, c) -> float:
    """The loss decrease the undamped Gauss-Newton step predicts (the mean's
    pseudo-observation left out)."""
    step = _constrained_step(h, g, a, c)
    return float(-(g @ step) - 0.5 * step @ h @ step)


def _fit_loss(parts) -> float:
    """The loss of the observations and priors (the held mean's pseudo-observation left out)."""
    return 0.5 * float(sum(np.sum(np.asarray(p, np.float64) ** 2) for p in parts[:2]))


def _trusted(step: np.ndarray, max_step: np.ndarray) -> np.ndarray:
    """``step`` shortened to move no coordinate by more than ``max_step``."""
    return step * min(1.0, 1.0 / max(float(np.max(np.abs(step) / max_step)), 1e-30))


def _max_step(parameters, theta: np.ndarray) -> np.ndarray:
    """The most one line-search step may move each coordinate: 1 degC, 1 in log
    prcp_fac, half of each TI value."""
    out, i = [], 0
    for p in parameters:
        if p == "ti":
            n = len(TRAINABLE_NAMES)
            out += list(0.5 * np.maximum(np.abs(theta[i:i + n]), 1e-3))
            i += n
        else:
            out.append(1.0)
            i += 1
    return np.asarray(out, np.float64)


def _coordinate_index(parameters, name: str) -> int:
    """Index of parameter ``name`` in the parameter vector."""
    i = 0
    for p in parameters:
        if p == name:
            return i
        i += len(TRAINABLE_NAMES) if p == "ti" else 1
    raise KeyError(name)


def _with_ti(model, ti_values):
    for k, name in enumerate(TRAINABLE_NAMES):
        model = eqx.tree_at(lambda m, n=name: getattr(m.ti, n), model, ti_values[k])
    return model


def apply_parameters(model, parameters, theta, prcp_fac: float = 1.0) -> Fitted:
    """The fitted model and forcing adjustments from the parameter vector (``prcp_fac``:
    the factor kept when it is not fitted)."""
    p = _split_theta(parameters, np.asarray(theta, np.float64))
    if "ti" in p:
        model = _with_ti(model, jnp.asarray(p["ti"], jnp.float32))
    fitted_prcp = float(np.exp(p["prcp_fac"])) if "prcp_fac" in p else float(prcp_fac)
    return Fitted(model, float(p.get("temp_bias", 0.0)), fitted_prcp)


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
    """What is fitted, which data kind's mean is held (``match_mean``: 'annual',
    'geodetic' or None) and the corrector's window size (static: part of the compiled
    code)."""

    parameters: tuple[str, ...]
    match_mean: Optional[str]
    window_size: tuple[int, int]
    score_only: tuple[str, ...] = ()


class StakeData(NamedTuple):
    """Stake records: ``weight`` (N, n_steps, S) 1 where a step of a run counts towards a
    record's window, ``index`` (S,) flat grid cell, ``value`` (S,) observed balance (m w.e.)."""

    weight: Array
    index: Array
    value: Array


class ProfileData(NamedTuple):
    """Elevation-band profiles: ``bands`` (B, H, W) each band's cells, weights summing to 1;
    ``values`` and ``mask`` (Y, B) the observed band balances (m w.e.) of the scored years."""

    bands: Array
    values: Array
    mask: Array


class ObjectiveData(NamedTuple):
    """A glacier's inputs and observations over the N runs of its years (arrays only).

    ``reference``: the runs' climate at the reference height (temperature, precipitation,
    plan, membership), each with a leading run axis; ``fresh`` (N,) the run starts from a
    fresh state; ``seasons`` (N, n_steps, Y, 3) the annual, winter and summer windows of
    the Y scored years over the runs' steps (zero on spin-up runs: a date's value is its
    own years'); ``targets`` maps each glacier-wide kind to (values, mask), each (Y,);
    ``geodetic`` is
    (value (1,), mask of its runs (N,)) or None; ``log_prcp_fac`` the fixed log
    precipitation factor used when it is not fitted; ``sigmas`` maps each kind to its
    observation uncertainty (m w.e.); ``prior`` holds the prior standard deviations
    (temp_bias degC, log prcp_fac, TI relative).
    """

    reference: tuple
    fresh: Array
    grid: GridArrays
    seasons: Array
    targets: dict
    geodetic: Optional[tuple]
    stakes: Optional[StakeData]
    profiles: Optional[ProfileData]
    sigmas: dict
    prior: tuple
    log_prcp_fac: Array


def simulate(model, spec: ObjectiveSpec, data: ObjectiveData, theta) -> tuple[Array, Array, Array, Array]:
    """Glacier-wide (Y, 3) annual/winter/summer window sums of the scored years, the
    runs' (N,) period totals, stake window sums (S,) and band profiles (Y, B), m w.e."""
    p = _split_theta(spec.parameters, theta)
    if "ti" in p:
        model = _with_ti(model, p["ti"])
    temp_bias = p.get("temp_bias", 0.0)
    prcp_fac = jnp.exp(p.get("prcp_fac", data.log_prcp_fac))
    outline = data.grid.static[0]
    area = outline.sum()
    stakes = data.stakes
    bands = None if data.profiles is None else data.profiles.bands

    def output(res, xs):
        seasons, stake_w = xs
        steps = jnp.einsum("thw,hw->t", res.daily, outline) / area
        total = jnp.einsum("phw,hw->", res.period_smb, outline) / area
        stake_sum = jnp.zeros(0)
        if stake_w is not None:
            daily = res.daily.reshape(res.daily.shape[0], -1)[:, stakes.index]
            stake_sum = jnp.einsum("ts,ts->s", daily, stake_w)
        profile = jnp.zeros((seasons.shape[1], 0))
        if bands is not None:
            profile = jnp.einsum("tb,ty->yb", jnp.einsum("thw,bhw->tb", res.daily, bands), seasons[..., 0])
        return jnp.einsum("t,tyk->yk", steps, seasons), total, stake_sum, profile

    extra = (data.seasons, None if stakes is None else stakes.weight)
    glacier_wide, totals, stake_sums, profiles = scan_runs(
        model, data.reference, data.fresh, temp_bias, prcp_fac, data.grid, spec.window_size, extra, output,
        daily=True)
    return glacier_wide.sum(0), totals, stake_sums.sum(0), profiles.sum(0)


def residuals(model, spec: ObjectiveSpec, data: ObjectiveData, theta) -> dict:
    """{kind: (residuals, mask)}: model minus observation, m w.e.; mask 1 where observed."""
    glacier_wide, totals, stake_sums, profiles = simulate(model, spec, data, theta)
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


def whitened_residuals(model, spec: ObjectiveSpec, data: ObjectiveData, theta):
    """The residual vector whose half squared norm is the loss: the observations' residuals
    over their uncertainties (masked ones zero), the priors' and, last, the held mean's
    (over :data:`MEAN_PENALTY_SD`); and the :func:`residuals` behind it.

    Returns
    -------
    (data part (n_obs,), prior part (n_prior,), mean part (0 or 1,)), residuals
    """
    misfits = residuals(model, spec, data, theta)
    observed = jnp.concatenate([jnp.atleast_1d(r * mask / data.sigmas[k]) for k, (r, mask) in sorted(misfits.items())
                                if k not in spec.score_only])
    temp_sd, log_prcp_sd, ti_relative_sd = data.prior
    p = _split_theta(spec.parameters, theta)
    prior = []
    if "temp_bias" in p:
        prior.append(jnp.atleast_1d(p["temp_bias"] / temp_sd))
    if "prcp_fac" in p:
        prior.append(jnp.atleast_1d(p["prcp_fac"] / log_prcp_sd))
    if "ti" in p:
        prior.append(jnp.stack(ti_prior_deviations(_with_ti(model, p["ti"]).ti)) / ti_relative_sd)
    prior = jnp.concatenate(prior) if prior else jnp.zeros(0)
    mean = jnp.zeros(0)
    if spec.match_mean is not None:
        mean = (mean_residual(misfits, spec.match_mean) / MEAN_PENALTY_SD)[None]
    return (observed, prior, mean), misfits


@eqx.filter_jit
def _evaluate(model, spec, data, theta):
    """Loss (half the squared norm of :func:`whitened_residuals`), its gradient, the
    Jacobian of the whitened residuals (forward mode: cheap for a few parameters, no
    stored trajectories; Gauss-Newton's curvature) and the residuals."""
    def vector(th):
        parts, misfits = whitened_residuals(model, spec, data, th)
        return jnp.concatenate(parts), (parts, misfits)

    jac, (parts, misfits) = jax.jacfwd(vector, has_aux=True)(theta)
    r = jnp.concatenate(parts)
    return 0.5 * jnp.sum(r**2), jac.T @ r, (parts, jac, misfits)


_residuals = eqx.filter_jit(residuals)
_simulate = eqx.filter_jit(simulate)


class Objective:
    """Loss and misfits of the model against :class:`~.observations.Observations`.

    The loss is half the chi-square of the observations (each residual over its own
    uncertainty: a kind with many values weighs more than one with a few), plus Gaussian
    priors on the fitted parameters, plus - when ``match_mean`` names a kind - a tight
    pseudo-observation of that kind's mean (the reference-period mean).

    The simulation runs the glacier's years as its :class:`~.glacier_run.GlacierRun` does
    (:meth:`~.glacier_run.GlacierRun.runs_for`: each observed year's segment, from its
    spin-up to its last observed year).

    Parameters
    ----------
    run : the glacier's run (e.g. ``GlaUnTIMassBalance.glacier_run``).
    obs : the observations.
    years : the hydrological years they score.
    parameters : what is fitted ('temp_bias', 'prcp_fac', 'ti').
    sigmas : uncertainty of one value of each kind (m w.e.); missing kinds take the
        ``glaunti_calib_sigma_<kind>`` defaults (a geodetic mean its own, if it has one).
    match_mean : 'annual', 'geodetic' or None, the kind whose mean is held.
    model : the model to fit (default the run's).
    score_only : kinds whose misfit is computed but not fitted.
    log_prcp_fac : log of the precipitation factor used when it is not fitted.
    """

    def __init__(self, run: GlacierRun, obs, years, parameters, sigmas: dict | None = None,
                 match_mean: str | None = None, model=None,
                 score_only: tuple[str, ...] = (), log_prcp_fac: float = 0.0):
        self.run, self.obs = run, obs
        self.model = run.model if model is None else model
        self.sigmas = default_sigmas(obs, sigmas)
        self.log_prcp_fac = float(log_prcp_fac)
        if match_mean is not None and match_mean not in obs.kinds():
            raise ValueError(f"match_mean={match_mean!r}: no such data ({obs.kinds()})")
        self.spec = ObjectiveSpec(tuple(parameters), match_mean, run.window_size,
                                  tuple(k for k in score_only if k in obs.kinds()))
        self.years = [int(y) for y in years]
        #: (begin, midseason, end) of each scored year: the WGMS record's, else the calendar's
        self.windows = {y: obs.windows.get(y, run.calendar.window(y)) for y in self.years}
        # a window's dates lie in the runs of the years holding them; its first and last
        # date are shared with the years before and after
        first = min(w[0] for w in self.windows.values())
        last = max(w[2] for w in self.windows.values())
        if obs.stakes is not None and len(obs.stakes):
            first = min(first, obs.stakes["date0"].values.astype("datetime64[D]").min())
            last = max(last, obs.stakes["date1"].values.astype("datetime64[D]").max())
        needed = {int(y) for y in run.full_years if run.calendar.begin(y) <= last and run.calendar.end(y) >= first}
        self.runs = run.runs_for(sorted(needed))
        self.data = self._build_data()
        self._last = (None, None)  # (theta, evaluation) of the latest evaluation

    def _build_data(self) -> ObjectiveData:
        run = self.run
        years = [y for y, _, _ in self.runs]
        own = np.array([o for _, _, o in self.runs], np.float32)
        ref = run.reference_years(years)
        dates, active = ref.step_dates(), np.asarray(ref.plan.active)
        begin, mid, end = (np.array([self.windows[y][k] for y in self.years], "datetime64[D]") for k in range(3))
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
        profile_data = None
        if self.obs.profiles is not None:
            profile_data = self._profile_data()
        reference = (ref.temperature, ref.precipitation, ref.plan, ref.membership)
        sigmas = {k: np.float32(v) for k, v in self.sigmas.items()}
        prior = tuple(np.float32(get_param(k)) for k in (
            "glaunti_calib_temp_bias_sd", "glaunti_calib_log_prcp_fac_sd", "glaunti_calib_ti_relative_sd"))
        data = ObjectiveData(reference, np.array([f for _, f, _ in self.runs]), run.arrays, seasons,
                             targets, geodetic, stake_data, profile_data, sigmas, prior,
                             np.float32(self.log_prcp_fac))
        return jax.tree_util.tree_map(jnp.asarray, data)

    def _profile_data(self) -> ProfileData:
        from ...observation_operators import band_weights

        prof = self.obs.profiles
        bands = band_weights(self.run.grid.elevation, self.run.grid.outline, prof.band_edges)
        values = np.zeros((len(self.years), len(prof.band_edges) - 1), np.float32)
        mask = np.zeros_like(values)
        for k, year in enumerate(self.years):
            if year in prof.values:
                row = prof.values[year]
                values[k] = np.nan_to_num(row)
                mask[k] = np.isfinite(row)
        return ProfileData(bands.astype(np.float32), values, mask)

    def simulated(self, theta) -> dict[int, dict[str, float]]:
        """{hydrological year: {'annual', 'winter', 'summer' (observation windows), 'total'
        (the year's period total)}} of the observed years' own runs at ``theta``, m w.e."""
        glacier_wide, totals, _, _ = _simulate(self.model, self.spec, self.data, jnp.asarray(theta))
        totals = {year: float(totals[i]) for i, (year, _, own) in enumerate(self.runs) if own}
        return {year: {**dict(zip(SEASON_KINDS, np.asarray(glacier_wide[k], np.float64))), "total": totals[year]}
                for k, year in enumerate(self.years)}

    def stake_sums(self, theta) -> np.ndarray:
        """The modelled values (m w.e.) of the stake records at ``theta``."""
        return np.asarray(_simulate(self.model, self.spec, self.data, jnp.asarray(theta))[2], np.float64)

    def profiles(self, theta) -> np.ndarray:
        """The modelled band balances (Y, B) of the scored years at ``theta`` (m w.e.;
        bands of the observations' profile band edges)."""
        return np.asarray(_simulate(self.model, self.spec, self.data, jnp.asarray(theta))[3], np.float64)

    def evaluate(self, theta, strict: bool = True):
        """(loss, gradient, (whitened residual parts, their Jacobian, residuals)) at
        ``theta``; a loss that is not finite raises ``FloatingPointError`` (``strict``) or
        is returned as is."""
        theta = jnp.asarray(theta, jnp.float32)
        if self._last[0] is None or not np.array_equal(self._last[0], np.asarray(theta)):
            value, grad, aux = _evaluate(self.model, self.spec, self.data, theta)
            if strict and not np.isfinite(float(value)):
                raise FloatingPointError(
                    "the calibration loss is not finite at parameters "
                    f"{dict(zip(self.spec.parameters, np.asarray(theta).round(3).tolist()))}: check the "
                    "observations (NaN values?) and the daily climate of the calibration years")
            self._last = (np.asarray(theta), (value, grad, aux))
        return self._last[1]

    def value_and_grad(self, theta):
        """Loss and gradient at ``theta`` (forward mode: cheap for a few parameters)."""
        value, grad, _ = self.evaluate(theta)
        return value, grad

    def _system(self, parts, jac):
        """Gauss-Newton curvature ``h`` and gradient ``g`` of the observations and priors,
        and the held mean's misfit ``c`` (m w.e.) with its gradient ``a`` (None if no
        mean is held)."""
        n = parts[0].shape[0] + parts[1].shape[0]
        r = np.concatenate([np.asarray(parts[0], np.float64), np.asarray(parts[1], np.float64)])
        j = np.asarray(jac, np.float64)[:n]
        a = c = None
        if self.spec.match_mean is not None:
            a = np.asarray(jac, np.float64)[n] * MEAN_PENALTY_SD
            c = float(parts[2][0]) * MEAN_PENALTY_SD
        return j.T @ j, j.T @ r, a, c

    def minimise(self, max_steps: int, tolerance: float, progress: bool = False, start=None):
        """Levenberg-Marquardt on the whitened residuals from ``start`` (default: the
        variant's own values), with the held mean as a constraint of each (linearised)
        step: Gauss-Newton steps, damped towards scaled gradient steps while they fail,
        each shortened to move no parameter by more than its trust length
        (``_max_step``). A step is taken when it lowers the loss (the mean's
        pseudo-observation included); a step to a non-finite loss counts as failed.

        The held mean is nonlinear in the parameters (with ``'ti'`` strongly so: a step
        the linearisation says keeps it may move it by centimetres), so a step that
        improves the fit to the data and priors but fails on the mean gets a second-order
        correction: the smallest move, linearised at the step's end, that brings the mean
        back; it is taken if the loss is then lower. After a failed try the damping grows
        (to at least :data:`MIN_DAMPING_AFTER_FAILURE`) and the step closes half as much of
        the mean's remaining misfit (a too long correction of a nonlinear mean cannot be
        damped away otherwise). Stops when the undamped step keeping the mean would lower
        the loss by less than ``tolerance`` (the mean held), or no damping finds a decrease.
        Returns (theta, loss history)."""
        theta = np.asarray(initial_theta(self.model, self.spec.parameters) if start is None else start, np.float32)
        max_step = _max_step(self.spec.parameters, theta)
        value, _, (parts, jac, _) = self.evaluate(theta)
        damping, history = 1e-3, [float(value)]
        bar = tqdm(range(max_steps), desc="calibrating", disable=not progress)
        for _ in bar:
            h, g, a, c = self._system(parts, jac)
            mean_held = c is None or abs(c) < MEAN_HELD
            # converged: the mean is held and a step keeping it there gains nothing (the
            # test judge() applies); a step also closing the last fraction of a millimetre
            # may predict an increase, which says nothing about the other parameters
            if mean_held and _predicted_decrease(h, g, a, None if c is None else 0.0) < tolerance:
                break
            accepted = False
            for attempt in range(MAX_HALVINGS):
                # a failed step closes less of the mean's misfit next time: damping alone
                # would still ask the whole (linearised) correction of the mean
                reach = None if c is None else c * 0.5 ** attempt
                damped = h + damping * np.diag(np.diag(h) + 1e-12)
                candidate = (theta + _trusted(_constrained_step(damped, g, a, reach), max_step)).astype(np.float32)
                new_value, _, new_aux = self.evaluate(candidate, strict=False)
                accepted = np.isfinite(float(new_value)) and float(new_value) < float(value)
                if not accepted and c is not None and np.isfinite(float(new_value)) \
                        and _fit_loss(new_aux[0]) < _fit_loss(parts):
                    candidate, new_value, new_aux = self._restore_mean(candidate, new_aux, damped, max_step)
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
        self.evaluate(theta)
        return theta, history

    def _restore_mean(self, candidate, aux, damped: np.ndarray, max_step: np.ndarray):
        """The second-order correction of :meth:`minimise`: from ``candidate`` (whose
        evaluation ``aux`` gives the mean's misfit and gradient there), the smallest step
        in the damped metric that brings the linearised mean back to zero. Returns the
        corrected candidate and its evaluation (loss, gradient, aux)."""
        _, g, a, c = self._system(aux[0], aux[1])
        fix = _trusted(_constrained_step(damped, np.zeros_like(g), a, c), max_step)
        corrected = (candidate + fix).astype(np.float32)
        value, _, corrected_aux = self.evaluate(corrected, strict=False)
        return corrected, value, corrected_aux

    def match_mean(self, theta, tolerance: float, max_iterations: int = 8):
        """Newton steps on the held mean until it is matched within ``tolerance`` (m w.e.
        per year): on ``temp_bias`` alone when it is fitted, else the smallest step in the
        fitted parameters. Returns (theta, absolute mean misfit)."""
        theta = np.asarray(theta, np.float32)
        use = np.zeros(theta.shape, bool)
        if "temp_bias" in self.spec.parameters:
            use[_coordinate_index(self.spec.parameters, "temp_bias")] = True
        else:
            use[:] = True
        for _ in range(max_iterations):
            _, _, (parts, jac, _) = self.evaluate(theta)
            misfit = float(parts[2][0]) * MEAN_PENALTY_SD
            if abs(misfit) < tolerance:
                break
            row = np.where(use, np.asarray(jac[-1], np.float64) * MEAN_PENALTY_SD, 0.0)
            norm = float(row @ row)
            if not norm > 0:
                break
            theta = (theta - misfit * row / norm).astype(np.float32)
        _, _, (parts, _, _) = self.evaluate(theta)
        return theta, abs(float(parts[2][0]) * MEAN_PENALTY_SD)

    def laplace(self, theta) -> dict:
        """The Gauss-Newton (Laplace) posterior at ``theta``: from the Jacobian of the
        observations' and priors' whitened residuals (the held mean's pseudo-observation
        left out: the annual values already carry it).

        Returns
        -------
        dict with ``covariance`` (P, P) in the fitted coordinates (degC, log prcp_fac, TI
        values), ``sd`` (P,), ``data_information`` (P,) the diagonal of the data-only
        curvature, ``prior_information`` (P,), and ``newton_decrement`` (the loss decrease
        a Newton step would still give: small at an optimum).
        """
        _, grad, (parts, jac, _) = self.evaluate(theta)
        jac = np.asarray(jac, np.float64)
        n_obs, n_prior = parts[0].shape[0], parts[1].shape[0]
        j_obs, j_prior = jac[:n_obs], jac[n_obs:n_obs + n_prior]
        data_h, prior_h = j_obs.T @ j_obs, j_prior.T @ j_prior
        hessian = data_h + prior_h
        covariance = np.linalg.pinv(hessian)
        h, g, a, c = self._system(parts, jac)
        decrement = _predicted_decrease(h, g, a, None if c is None else 0.0)
        return {"covariance": covariance, "sd": np.sqrt(np.clip(np.diag(covariance), 0, None)),
                "data_information": np.diag(data_h), "prior_information": np.diag(prior_h),
                "newton_decrement": decrement}

    def misfit(self, theta) -> dict:
        """{kind: {'n', 'rmse', 'bias', 'sigma', 'chi2'}} of the observed values at ``theta``
        (m w.e.; ``chi2`` the sum of squared residuals over sigma)."""
        _, _, (_, _, misfits) = self.evaluate(theta)
        out = {}
        for kind, (r, mask) in misfits.items():
            r = np.asarray(r, np.float64)[np.asarray(mask) > 0]
            sigma = float(self.sigmas[kind])
            out[kind] = {"n": int(r.size), "rmse": float(np.sqrt(np.mean(r**2))), "bias": float(r.mean()),
                         "sigma": sigma, "chi2": float(np.sum((r / sigma) ** 2))}
        return out


def default_sigmas(obs, sigmas: dict | None = None) -> dict:
    """The uncertainty (m w.e.) of one value of each data kind present in ``obs``: the
    user's (``sigmas``), else the geodetic mean's own, else ``glaunti_calib_sigma_<kind>``."""
    sigmas = dict(sigmas or {})
    unknown = set(sigmas) - set(DATA_KINDS)
    if unknown:
        raise ValueError(f"sigmas: unknown data kind(s) {sorted(unknown)}; known: {list(DATA_KINDS)}")
    out = {}
    for kind in obs.kinds():
        value = sigmas.get(kind)
        if value is None and kind == "geodetic" and obs.geodetic_sigma is not None:
            value = obs.geodetic_sigma
        value = float(get_param(f"glaunti_calib_sigma_{kind}", value))
        if not value > 0 or not np.isfinite(value):
            raise ValueError(f"sigmas[{kind!r}] must be a positive uncertainty in m w.e.; got {value}")
        out[kind] = value
    return out


#: Every data kind a calibration can fit.
DATA_KINDS = ("annual", "winter", "summer", "geodetic", "stakes", "profile")
