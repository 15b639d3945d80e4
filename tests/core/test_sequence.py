"""The sequence runner: state carried across periods and years, padding, small grids."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from oggm_glaunti.core import MAX_DAYS_PER_YEAR, run_year, run_years, stack_years, year_forcing
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
