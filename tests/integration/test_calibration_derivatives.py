"""The calibration's runs in compiled pieces with forward-mode derivatives, on the list of
cells it needs (:mod:`oggm_glaunti.integration.calibration.forward_runs`), against the same
runs on the whole model grid traced at once and differentiated with ``jax.jacfwd``
(``scan_runs``, the traced route of the differentiable tools), on the small synthetic
glacier of test_glacier_run inside a bigger bucket: the readouts and their derivatives
agree, with the state's derivatives carried across years and fresh starts, for A fitting
its TI parameters and D fitting both forcing adjustments."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from oggm_glaunti.integration.calibration.forward_runs import read_year, run_forward
from oggm_glaunti.integration.calibration.objective import Objective
from oggm_glaunti.integration.calibration.objective_data import Readout
from oggm_glaunti.integration.calibration.observations import Observations
from oggm_glaunti.integration.run.glacier_year import scan_runs
from oggm_glaunti.integration.run.grid_cache import clear_grid_cache

from .test_glacier_run import grid_run

YEARS = [1993, 1994, 1996, 1997]  # two segments of the test's state rule, each with its spin-up


@pytest.mark.parametrize("variant, parameters, shift", [
    ("A", ("temp_bias", "ti"), {"temp_bias": 0.4}),
    ("D", ("temp_bias", "prcp_fac"), {"temp_bias": 0.4, "prcp_fac": 0.1}),
])
def test_pieces_and_their_derivatives_match_the_runs_traced_at_once(variant, parameters, shift):
    clear_grid_cache()
    run = grid_run(variant, pad=8)  # a 32 x 24 bucket around the glacier's 16 x 16 grid
    objective = Objective(run, Observations(annual={y: -0.5 for y in YEARS}), YEARS, parameters)
    layout, data, model = objective.layout, objective.data, objective.model
    assert data.fresh.sum() >= 2 and len(data.fresh) > len(YEARS)  # fresh starts and carried states
    on_glacier = int((run.grid.outline > 0).sum())
    assert len(objective.cells.index) == (16 * 16 if variant == "D" else on_glacier) < 32 * 24
    theta = layout.initial(model)
    for name, value in shift.items():
        theta[layout.index(name)] += value

    outputs, derivatives = run_forward(model, layout, theta, data, objective.cells, derivatives=True)
    on_grid = Readout(jnp.asarray(run.grid.outline), True, None, None)

    def traced_at_once(th):
        adjusted, bias, fac = layout.adjusted(model, th, data.log_prcp_fac)
        ref = data.reference
        reference = (ref.temperature, ref.precipitation, ref.plan, ref.membership)
        return scan_runs(adjusted, reference, jnp.asarray(data.fresh), bias, fac, run.arrays, run.window_size,
                         None, lambda res, _: read_year(res, on_grid), daily=True)

    expected = traced_at_once(jnp.asarray(theta))
    expected_derivatives = jax.jacfwd(traced_at_once)(jnp.asarray(theta))  # (N, ..., P)
    for got, want, got_d, want_d in zip(outputs, expected, derivatives, expected_derivatives):
        if want is None:
            assert got is None
            continue
        # float32 round-off of two differently compiled programs summing over different
        # cells, relative to the largest value of each readout: measured at most 2.5e-7
        # (values and derivatives, A and D) on one CPU; the bounds leave 80 times that for
        # other XLA configurations
        scale = float(np.abs(want).max())
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * scale)
        want_d = np.moveaxis(np.asarray(want_d), -1, 0)
        np.testing.assert_allclose(got_d, want_d, rtol=0, atol=2e-4 * float(np.abs(want_d).max()))
    assert np.all(np.abs(np.asarray(derivatives.total)) > 0)  # every coordinate moves the runs
