"""The sequence runner: state carried across periods and years, padding, small grids."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import pytest

from oggm_glaunti.core import MAX_DAYS_PER_YEAR, run_cell_years, run_year, run_years, stack_years, year_forcing
from oggm_glaunti.core.inputs import month_ids, padding_for
from oggm_glaunti.weights import load_pretrained


def synthetic_year(rng, n_days, cells, begin):
    doy = np.arange(n_days)[:, None, None]
    elevation = np.linspace(2600, 3500, np.prod(cells)).reshape(cells).astype(np.float32)
    t = (-4 - 9 * np.cos(2 * np.pi * doy / 365.0) - 0.0065 * (elevation - 3000)
         + 3 * rng.standard_normal((n_days, 1, 1))).astype(np.float32)
    p = (0.006 * rng.gamma(0.6, 1.0, (n_days, 1, 1)) * np.ones(cells)).astype(np.float32)
    outline = np.zeros(cells, np.float32)
    outline[1:-1, 1:-1] = 1.0
    return t, p, dict(outline=outline, elevation=elevation, begin=begin)


@pytest.fixture(scope="module")
def three_years():
    """Two common years and a seasonal leap year, as separate forcings (Oct-Oct windows)."""
    rng = np.random.default_rng(42)
    cells = (10, 12)
    spec = [(366, "2001-10-01", None), (366, "2002-10-01", None), (367, "2003-10-01", 212)]
    return [(synthetic_year(rng, n, cells, begin), split) for n, begin, split in spec]


@pytest.mark.parametrize("variant", ["A", "B", "D"])
def test_stacked_years_equal_chained_years(three_years, variant):
    model = load_pretrained(variant)
    chained, state = [], None
    for (t, p, kw), split in three_years:
        res = run_year(model, year_forcing(t, p, split=split, **kw), state=state)
        chained.append(np.asarray(res.period_smb))
        state = res.final_state
    stacked = stack_years([
        year_forcing(t, p, split=split, n_days=MAX_DAYS_PER_YEAR, **kw) for (t, p, kw), split in three_years
    ])
    seq = run_years(model, stacked)
    np.testing.assert_allclose(seq.years.period_smb, np.stack(chained), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(seq.final_state, state, rtol=1e-4, atol=1e-5)
    # Restarting from a stored start state reproduces that year exactly.
    third = jax.tree_util.tree_map(lambda a: a[2:], stacked)
    again = run_years(model, third, state=seq.start_states[2])
    np.testing.assert_allclose(again.years.period_smb[0], seq.years.period_smb[2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("variant", ["A", "B", "D"])
def test_cells_run_the_grid_year(three_years, variant):
    """A year on a few cells (the points form), given the grid's corrections and state at
    those cells, is the grid's year there: one implementation of a model year."""
    model = load_pretrained(variant)
    stacked = stack_years([
        year_forcing(t, p, split=split, n_days=MAX_DAYS_PER_YEAR, **kw) for (t, p, kw), split in three_years
    ])
    grid = run_years(model, stacked, daily=True)
    rows, cols = np.array([1, 4, 8, 2]), np.array([1, 5, 10, 7])
    # years 2 and 3, from the state the grid entered year 2 with (carried from year 1)
    later = slice(1, None)
    corrections = None if grid.years.corrections is None else grid.years.corrections[later][:, :, rows, cols]
    cells = run_cell_years(model, stacked.temperature[later][:, :, rows, cols],
                           stacked.precipitation[later][:, :, rows, cols],
                           jax.tree_util.tree_map(lambda a: a[later], stacked.plan),
                           grid.start_states[1][rows, cols], corrections)
    # float32 round-off: the GRU's matrix products sum in another order on other shapes
    np.testing.assert_allclose(cells.years.daily, grid.years.daily[later][:, :, rows, cols], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(cells.final_state, grid.final_state[rows, cols], rtol=1e-5, atol=1e-6)
    climate = cells.years.climate
    t = stacked.temperature[later][:, :, rows, cols]
    day_index = np.asarray(stacked.plan.day_index[later])
    np.testing.assert_array_equal(climate.temperature, np.take_along_axis(t, day_index[:, :, None], axis=1))
    assert np.all(climate.melt_temperature >= 0) and np.all(climate.solid_precipitation >= 0)
    assert np.all(climate.solid_precipitation <= climate.precipitation + 1e-12)


def test_cells_refuse_wrong_corrections(three_years):
    (t, p, kw), _ = three_years[0]
    year = year_forcing(t, p, **kw)
    with pytest.raises(ValueError, match="needs the corrector's fields"):
        load_pretrained("D").run_cells(year.temperature, year.precipitation, year.plan, np.zeros(t.shape[1:]))
    with pytest.raises(ValueError, match="variant A has no corrector"):
        load_pretrained("A").run_cells(year.temperature, year.precipitation, year.plan, np.zeros(t.shape[1:]),
                                       corrections=np.zeros((5,) + t.shape[1:]))


def test_correction_delta_none_is_the_year_as_before(three_years):
    """``correction_delta=None`` runs the year exactly as before it existed (the corrector's
    fields, then the corrected TI run: bit for bit); a delta is added to those fields."""
    (t, p, kw), _ = three_years[0]
    year = year_forcing(t, p, **kw)
    model = load_pretrained("C")
    state = model.initial_state(t.shape[1:])

    @eqx.filter_jit
    def before(model, year, state):  # the year's body before correction_delta existed
        corrections, sens = model.corrections(year, state)
        return model.run_corrected(year, state, corrections, True)._replace(sensitivities=sens)

    @eqx.filter_jit
    def now(model, year, state, delta):
        return model.run_year(year, state, daily=True, correction_delta=delta)

    expected = before(model, year, state)
    for delta in (None, np.zeros((5,) + t.shape[1:], np.float32)):
        got = now(model, year, state, delta)
        for name in ("period_smb", "daily", "final_state", "corrections", "sensitivities"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)

    delta = np.zeros((5,) + t.shape[1:], np.float32)
    delta[3] = 1.0  # d4: the snow/rain threshold 1 degC higher everywhere
    changed = now(model, year, state, delta)
    np.testing.assert_array_equal(changed.corrections, expected.corrections + delta)
    direct = run_year(model, year, state, daily=True, corrections=expected.corrections + delta)
    np.testing.assert_array_equal(changed.period_smb, direct.period_smb)
    assert float(changed.period_smb.sum()) > float(expected.period_smb.sum())  # more snow


@pytest.mark.parametrize("variant", ["A", "B"])
def test_correction_delta_refused_without_corrector(three_years, variant):
    (t, p, kw), _ = three_years[0]
    model = load_pretrained(variant)
    with pytest.raises(ValueError, match=f"correction_delta given, but variant {variant} has no corrector"):
        model.run_year(year_forcing(t, p, **kw), model.initial_state(t.shape[1:]),
                       correction_delta=np.zeros((5,) + t.shape[1:], np.float32))


@pytest.mark.parametrize("variant", ["A", "B"])
def test_seasonal_year_equals_winter_then_summer_runs(three_years, variant):
    """Winter and summer share the split day; the summer continues from winter's state."""
    (t, p, kw), _ = three_years[0]
    model, split = load_pretrained(variant), 200
    both = run_year(model, year_forcing(t, p, split=split, **kw))
    winter = run_year(model, year_forcing(t[: split + 1], p[: split + 1], **kw))
    kw_summer = dict(kw, begin=np.datetime64(kw["begin"]) + split)
    summer = run_year(model, year_forcing(t[split:], p[split:], **kw_summer), state=winter.final_state)
    np.testing.assert_allclose(both.period_smb[0], winter.period_smb[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(both.period_smb[1], summer.period_smb[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(both.final_state, summer.final_state, rtol=1e-5, atol=1e-6)


def test_daily_series_sums_to_periods(three_years):
    (t, p, kw), split = three_years[2]
    res = run_year(load_pretrained("C"), year_forcing(t, p, split=split, **kw), daily=True)
    np.testing.assert_allclose(res.daily.sum(0), res.period_smb.sum(0), rtol=1e-5, atol=1e-5)
    assert res.corrections.shape == (5, 10, 12)


def test_month_ids_of_a_shared_boundary_year():
    ids, n = month_ids("2001-10-01", 366)
    assert n == 13 and ids[0] == 0 and ids[-1] == 12 and (ids == 12).sum() == 1


@pytest.mark.parametrize("cells", [(5, 6), (1, 9), (3, 3)])
def test_small_grids_are_padded(cells, three_years):
    assert padding_for((8, 20)) == ((0, 0), (0, 0))
    rng = np.random.default_rng(1)
    t, p, kw = synthetic_year(rng, 366, cells, "2001-10-01")
    kw["outline"] = np.ones(cells, np.float32)
    res = run_year(load_pretrained("D"), year_forcing(t, p, **kw))
    assert res.corrections.shape == (5,) + cells
    assert np.all(np.isfinite(res.corrections)) and np.all(np.isfinite(res.period_smb))
    assert np.abs(res.corrections).max() < 2.0
