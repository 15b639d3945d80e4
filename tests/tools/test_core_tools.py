"""The differentiable tools on core inputs (small synthetic glaciers, a few years)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from oggm_glaunti.core import STORED_NAMES
from oggm_glaunti.synthetic import synthetic_years
from oggm_glaunti.tools import AttributionIncomplete, OffsetNotConverged
from oggm_glaunti.tools import core_inputs as ci
from oggm_glaunti.tools.attribution import month_climatology, monthly_sums
from oggm_glaunti.tools.uncertainty import weekly_blocks
from oggm_glaunti.weights import load_pretrained


@pytest.fixture(scope="module")
def model_a():
    return load_pretrained("A")


@pytest.fixture(scope="module")
def years():
    return synthetic_years((10, 10), n_years=3, seed=1)[0]


# --- inverse offset -----------------------------------------------------------------------
@pytest.mark.parametrize("method", ["newton", "adam"])
def test_offset_reaches_target_within_0_01(model_a, years, method):
    target_years, offset_years = [False, True, True], [False, True, True]
    target = -0.5
    res = ci.offset_for_target(model_a, years, target_years, offset_years, target, method=method)
    # checked independently of the search: the trajectory with the offset found
    smb = ci.annual_glacier_wide(model_a, years, None, res.temp_offset * np.array(offset_years, np.float32))
    mean = float(np.mean(np.asarray(smb)[1:]))
    assert abs(mean - target) <= 0.01
    assert abs(res.misfit) <= 0.01 and res.history[-1]["mean_smb"] == pytest.approx(res.mean_smb)
    before = float(np.mean(np.asarray(ci.annual_glacier_wide(model_a, years))[1:]))
    assert np.sign(res.temp_offset) == np.sign(before - target)  # warmer when the glacier is too positive


def test_offset_with_precipitation_factor(model_a, years):
    res = ci.offset_for_target(model_a, years, [True] * 3, [True] * 3, 0.0, method="adam", fit_prcp_fac=True)
    assert abs(res.misfit) <= 0.01 and res.prcp_fac != 1.0


def test_offset_budget_spent_raises(model_a, years):
    with pytest.raises(OffsetNotConverged, match="within 1 iterations.*Raise max_iterations"):
        ci.offset_for_target(model_a, years, [True] * 3, [True] * 3, -3.0, max_iterations=1)


def test_offset_unreachable_target_raises(model_a, years):
    # +50 m w.e./yr: no cooling reaches it (the SMB saturates at the accumulation)
    with pytest.raises(OffsetNotConverged):
        ci.offset_for_target(model_a, years, [True] * 3, [True] * 3, 50.0, max_iterations=8)


def test_offset_bad_arguments(model_a, years):
    with pytest.raises(ValueError, match="target_years selects no year"):
        ci.offset_for_target(model_a, years, [False] * 3, [True] * 3)
    with pytest.raises(ValueError, match="method must be one of"):
        ci.offset_for_target(model_a, years, [True] * 3, [True] * 3, method="bfgs")
    with pytest.raises(ValueError, match="fit_prcp_fac needs method='adam'"):
        ci.offset_for_target(model_a, years, [True] * 3, [True] * 3, fit_prcp_fac=True)


# --- attribution --------------------------------------------------------------------------
def _month_baseline(years):
    year = jax.tree_util.tree_map(lambda a: a[1], years)
    months = np.zeros(year.temperature.shape[0], int)
    dates = np.datetime64("2002-10-01") + np.arange(366)
    months[:366] = dates.astype("datetime64[M]").astype(int) % 12 + 1
    valid = months > 0
    base = [ci.month_baseline(np.asarray(a), months, month_climatology(np.asarray(a), months, valid))
            for a in (year.temperature, year.precipitation)]
    return year, months, tuple(base)


def test_attribution_completeness(model_a, years):
    year, months, baseline = _month_baseline(years)
    res = ci.year_attribution(model_a, year, None, baseline, steps=50)
    change = res.value - res.baseline_value
    total = res.temperature.sum() + res.precipitation.sum()
    assert res.completeness_error <= 0.02
    assert abs(total - change) <= 0.02 * max(abs(change), 0.01)
    # monthly sums add up to the whole; padding days carry nothing
    assert monthly_sums(res.temperature, months).sum() == pytest.approx(res.temperature.sum(), rel=1e-5, abs=1e-7)
    assert np.all(res.temperature[months == 0] == 0)


def test_attribution_incomplete_says_more_steps(model_a, years):
    year, _, baseline = _month_baseline(years)
    with pytest.raises(AttributionIncomplete, match=r"exceeds the bound 0%.*use more steps \(e.g. steps=4\)"):
        ci.year_attribution(model_a, year, None, baseline, steps=1, bound=1e-9)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        ci.year_attribution(model_a, year, None, baseline, steps=0)


# --- uncertainty --------------------------------------------------------------------------
def test_first_order_equals_product_through_whole_trajectory(model_a, years):
    spread, _ = ci.trajectory_spread(model_a, years, sigma_t=1.0, sigma_logp=0.5)
    numbers, valid = ci._record_days(years)
    blocks, n_blocks = weekly_blocks(numbers, valid, 0, int(numbers[valid].max()))
    take = lambda z: jnp.where(blocks >= 0, z[np.maximum(blocks, 0)], 0.0)  # noqa: E731

    def trajectory(z):
        changed = years._replace(temperature=years.temperature + 1.0 * take(z[:n_blocks])[..., None, None],
                                 precipitation=years.precipitation * jnp.exp(0.5 * take(z[n_blocks:]))[..., None, None])
        return ci.glacier_wide(ci.run_years(model_a, changed).years.period_smb.sum(1), years.outline[0])

    jac = np.asarray(jax.jacfwd(trajectory)(jnp.zeros(2 * n_blocks)))
    np.testing.assert_allclose(spread.jacobian, jac, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(spread.std, np.sqrt((np.cumsum(jac, 0) ** 2).sum(1)), rtol=1e-3)


def test_first_order_matches_monte_carlo_within_10_percent(model_a, years):
    # the published sigma_T; a sigma_logP small enough for exp(sigma z) to be near-linear
    # (with the published 0.964 the ensemble spreads ~1.8x wider: see the module docstring)
    spread, ensemble = ci.trajectory_spread(model_a, years, sigma_t=1.5889, sigma_logp=0.1, members=400, seed=3)
    mc = ensemble.std(0, ddof=1)
    assert ensemble.shape == (400, 3)
    np.testing.assert_array_less(np.abs(spread.std / mc - 1), 0.10)


def test_variant_d_state_derivative_is_cell_local():
    """The first-order propagation carries earlier blocks by elementwise products: valid
    because a year's derivative w.r.t. its entering SWE is cell-local (the corrector sees
    the state only through its stop-gradient channels)."""
    model = load_pretrained("D")
    years, _ = synthetic_years((10, 10), n_years=1, seed=2)
    year = jax.tree_util.tree_map(lambda a: a[0], years)
    state = model.initial_state((10, 10)) + 0.3
    one = jnp.zeros((10, 10)).at[4, 6].set(1.0)
    _, (d_smb, d_state) = jax.jvp(lambda s: (lambda r: (r.period_smb.sum(0), r.final_state))(
        model.run_year(year, s, True)), (state,), (one,))
    for field in (np.asarray(d_smb), np.asarray(d_state)):
        assert np.all(np.delete(field.ravel(), 4 * 10 + 6) == 0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(sigma_t=0.0), "sigma_t .* must be a finite number > 0; got 0.0"),
    (dict(sigma_logp=-0.1), "sigma_logp must be a finite number > 0; got -0.1"),
    (dict(members=1), "members must be an integer >= 2"),
])
def test_uncertainty_bad_arguments(model_a, years, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ci.trajectory_spread(model_a, years, **{"members": 0, **kwargs})


def test_uncertainty_rejects_gru():
    with pytest.raises(ValueError, match="variant B's GRU state is not supported"):
        ci.trajectory_spread(load_pretrained("B"), synthetic_years((8, 8), n_years=1)[0])


# --- sensitivities ------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["A", "D"])
def test_sensitivities_match_finite_differences(variant):
    model = load_pretrained(variant)
    years, _ = synthetic_years((10, 10), n_years=1, seed=4)
    year = jax.tree_util.tree_map(lambda a: a[0], years)
    sens = ci.year_parameter_sensitivities(model, year)
    smb = lambda dt: float(ci.annual_glacier_wide(model, years, None, dt)[0])  # noqa: E731
    assert sens.value == pytest.approx(smb(0.0), abs=1e-5)
    if variant == "A":  # C/D: the corrector's first three inputs carry no gradient (as published)
        assert sens.temp_bias == pytest.approx((smb(0.05) - smb(-0.05)) / 0.1, rel=0.05)
    assert sens.temp_bias < 0 and sens.prcp_fac > 0 and sens.ti["ddf_snow_log"] < 0
    assert set(sens.ti) >= {"prec_scale_log", "snow_depletion_centre_log", "t_softplus_sharpness_log"}
    assert (sens.corrections is None) == (variant == "A")
    if variant == "D":
        assert sens.corrections.shape == (5, 10, 10)
        outside = np.asarray(year.outline) == 0
        assert np.all(sens.corrections[:, outside] == 0)  # off-glacier cells do not count


def _sensitivities_as_before(model, year):
    """The sensitivities as the tool computed them before it ran the core's year with a
    ``correction_delta`` (commit 74871a2): its own copy of the year - the corrector's fields,
    the change added, then the corrected TI run - differentiated here."""
    state = model.initial_state(year.outline.shape)

    def smb(ti, temp_bias, prcp_fac, delta):
        m = eqx.tree_at(lambda x: x.ti, model, ti)
        changed = year._replace(temperature=year.temperature + temp_bias, precipitation=year.precipitation * prcp_fac)
        fields = m.corrections(changed, state)[0] + delta
        return ci.glacier_wide(m.run_corrected(changed, state, fields).period_smb.sum(0), year.outline)

    value, (ti, temp_bias, prcp_fac, corrections) = jax.jit(jax.value_and_grad(smb, argnums=(0, 1, 2, 3)))(
        model.ti, jnp.float32(0.0), jnp.float32(1.0), jnp.zeros((5,) + year.outline.shape, jnp.float32))
    return {"value": value, "temp_bias": temp_bias, "prcp_fac": prcp_fac, "corrections": corrections,
            **{f"ti/{k}": getattr(ti, k) for k in STORED_NAMES}}


@pytest.mark.parametrize("variant", ["C", "D"])
def test_sensitivities_unchanged_by_correction_delta(variant):
    """The tool runs the core's year with ``correction_delta``: the same numbers as its old
    copy of the year, computed beside it in this run (the same operations: on one machine
    they agree to the bit; the bound allows a few float32 ulps should XLA fuse them
    differently). d1, d2 and d4 add to the stored ``prec_scale_log``, ``ddf_snow_log`` and
    ``snow_to_rain_centre`` in each cell, so their maps sum to those parameters' gradients."""
    model = load_pretrained(variant)
    years, _ = synthetic_years((8, 8), n_years=1, seed=4)
    year = jax.tree_util.tree_map(lambda a: a[0], years)
    sens = ci.year_parameter_sensitivities(model, year)
    got = {"value": sens.value, "temp_bias": sens.temp_bias, "prcp_fac": sens.prcp_fac,
           "corrections": sens.corrections, **{f"ti/{k}": v for k, v in sens.ti.items()}}
    before = _sensitivities_as_before(model, year)
    assert set(got) == set(before)
    scale = max(float(np.abs(np.asarray(v)).max()) for v in before.values())
    for name, want in before.items():
        np.testing.assert_allclose(got[name], np.asarray(want), rtol=1e-6, atol=1e-6 * scale, err_msg=name)
    sums = sens.corrections.astype(np.float64).sum((1, 2))
    np.testing.assert_allclose(sums[[0, 1, 3]], [sens.ti["prec_scale_log"], sens.ti["ddf_snow_log"],
                                                 sens.ti["snow_to_rain_centre"]], rtol=1e-5)
