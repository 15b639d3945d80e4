"""The calibration objective behind ``glaunti_calibrate``: a glacier's observations
against its own run, with derivatives.

The simulation is the glacier's own run (:mod:`.glacier_run`): the same years under the
same state rule, each through the model's year in the compiled pieces the MB model runs,
traced in the temperature bias and precipitation factor (and the TI parameters), with
forward-mode derivatives (:mod:`.forward_runs`). The observations are read off the run's
weighted daily SMB with the observation operators (:mod:`.objective_data`); the loss and
its Jacobian are assembled from the runs' readouts (:mod:`.loss`), and
:mod:`.optimiser` fits them. The parameter vector's layout is :mod:`.layout`'s.

The compiled pieces take the glacier's data as arguments, so glaciers whose grids share a
shape bucket share the TI runs' compilation, and only the corrector is compiled per
glacier window; the loss is compiled per shape of the observations.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...core import GlaUnTIModel
from ..run.glacier_run import GlacierRun
from . import optimiser
from .forward_runs import run_forward
from .layout import Fitted, ParameterLayout, apply_parameters, initial_theta  # noqa: F401  (the module's API)
from .loss import MEAN_PENALTY_SD, assemble, simulate_compiled  # noqa: F401
from .objective_data import (DATA_KINDS, SEASON_KINDS, ObjectiveSpec, calibration_cells,  # noqa: F401
                             default_sigmas, objective_data, objective_runs, observation_windows, stake_cells)


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
                 match_mean: str | None = None, model=None, score_only: tuple[str, ...] = (),
                 log_prcp_fac: float = 0.0):
        self.run, self.obs = run, obs
        self.model = run.model if model is None else model
        self.sigmas = default_sigmas(obs, sigmas)
        self.log_prcp_fac = float(log_prcp_fac)
        if match_mean is not None and match_mean not in obs.kinds():
            raise ValueError(f"match_mean={match_mean!r}: no such data ({obs.kinds()})")
        self.spec = ObjectiveSpec(tuple(parameters), match_mean, tuple(k for k in score_only if k in obs.kinds()))
        self.layout = ParameterLayout(self.spec.parameters)
        self.years = [int(y) for y in years]
        #: (begin, midseason, end) of each scored year: the WGMS record's, else the calendar's
        self.windows = observation_windows(run, obs, self.years)
        self.runs = objective_runs(run, obs, self.windows)
        self.cells = calibration_cells(run, isinstance(self.model, GlaUnTIModel), stake_cells(run, obs))
        self.data = self._data(daily=False)
        self._simulation_data = None  # with the glacier-wide daily series, built when first asked
        self._cells = jax.tree_util.tree_map(jnp.asarray, self.cells._replace(index=None))
        self._last = (None, None)  # (theta, evaluation) of the latest evaluation

    def _data(self, daily: bool):
        return objective_data(self.run, self.obs, self.windows, self.runs, self.cells, self.sigmas,
                              self.log_prcp_fac, daily)

    def _forward(self, theta, data, derivatives: bool):
        return run_forward(self.model, self.layout, theta, data, self._cells, derivatives)

    def _simulate(self, theta):
        if self._simulation_data is None:
            self._simulation_data = self.data if self.data.readout.daily else self._data(daily=True)
        data = self._simulation_data
        outputs, _ = self._forward(theta, data, derivatives=False)
        return simulate_compiled(outputs, data._replace(reference=None, fresh=None, readout=None))

    def simulated(self, theta) -> dict[int, dict[str, float]]:
        """{hydrological year: {'annual', 'winter', 'summer' (observation windows), 'total'
        (the year's period total)}} of the observed years' own runs at ``theta``, m w.e."""
        glacier_wide, totals, _, _ = self._simulate(theta)
        totals = {year: float(totals[i]) for i, (year, _, own) in enumerate(self.runs) if own}
        return {year: {**dict(zip(SEASON_KINDS, np.asarray(glacier_wide[k], np.float64))), "total": totals[year]}
                for k, year in enumerate(self.years)}

    def stake_sums(self, theta) -> np.ndarray:
        """The modelled values (m w.e.) of the stake records at ``theta``."""
        return np.asarray(self._simulate(theta)[2], np.float64)

    def profiles(self, theta) -> np.ndarray:
        """The modelled band balances (Y, B) of the scored years at ``theta`` (m w.e.;
        bands of the observations' profile band edges)."""
        return np.asarray(self._simulate(theta)[3], np.float64)

    def evaluate(self, theta, strict: bool = True):
        """(loss, gradient, (whitened residual parts, their Jacobian, residuals)) at
        ``theta``; a loss that is not finite raises ``FloatingPointError`` (``strict``) or
        is returned as is."""
        theta = jnp.asarray(theta, jnp.float32)
        if self._last[0] is None or not np.array_equal(self._last[0], np.asarray(theta)):
            outputs, derivatives = self._forward(theta, self.data, derivatives=True)
            value, grad, aux = assemble(self.model, self.layout, self.spec,
                                        self.data._replace(reference=None, fresh=None, readout=None), theta,
                                        outputs, derivatives)
            if strict and not np.isfinite(float(value)):
                raise FloatingPointError(
                    "the calibration loss is not finite at parameters "
                    f"{dict(zip(self.layout.coordinate_names, np.asarray(theta).round(3).tolist()))}: check the "
                    "observations (NaN values?) and the daily climate of the calibration years")
            self._last = (np.asarray(theta), (value, grad, aux))
        return self._last[1]

    def value_and_grad(self, theta):
        """Loss and gradient at ``theta`` (forward mode: cheap for a few parameters)."""
        value, grad, _ = self.evaluate(theta)
        return value, grad

    def minimise(self, max_steps: int, tolerance: float, progress: bool = False, start=None):
        """:func:`.optimiser.minimise` from ``start`` (default: the variant's own values).
        Returns (theta, loss history)."""
        start = self.layout.initial(self.model) if start is None else start
        return optimiser.minimise(self.evaluate, self.layout, self.spec.match_mean is not None, start, max_steps,
                                  tolerance, progress)

    def match_mean(self, theta, tolerance: float, max_iterations: int = 8):
        """:func:`.optimiser.match_mean`: returns (theta, absolute mean misfit)."""
        return optimiser.match_mean(self.evaluate, self.layout, theta, tolerance, max_iterations)

    def laplace(self, theta) -> dict:
        """:func:`.optimiser.laplace`: the Gauss-Newton posterior at ``theta``."""
        return optimiser.laplace(self.evaluate, theta, self.spec.match_mean is not None)

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
