"""The glacier run's state rule, its compiled pieces, the corrector's window and the shared
result cache, on a small synthetic glacier (no OGGM directory needed)."""

from __future__ import annotations

import numpy as np
import pytest

from oggm_glaunti.core import run_year
from oggm_glaunti.hydro_calendar import HydroCalendar
from oggm_glaunti.integration.grid.glacier_data import DailyClimate, ModelGrid
from oggm_glaunti.integration.run.grid_cache import GRID_SEGMENTS, ResultCache, clear_grid_cache, fingerprint
from oggm_glaunti.integration.run.glacier_run import GlacierRun
from oggm_glaunti.integration.run.glacier_year import Adjustments, grid_forcing
from oggm_glaunti.weights import load_pretrained

SPINUP, SEGMENT = 2, 3


def synthetic_inputs(seed=0, shape=(16, 16), pad=0):
    rng = np.random.default_rng(seed)
    dates = np.arange(np.datetime64("1990-01-01"), np.datetime64("1999-12-31") + 1)
    doy = (dates - dates.astype("datetime64[Y]")).astype(int)
    temperature = -2.0 - 8.0 * np.cos(2 * np.pi * (doy - 15) / 365.25) + rng.normal(0, 3, len(dates))
    precipitation = rng.gamma(0.6, 0.006, len(dates))
    climate = DailyClimate(dates, temperature, precipitation, ref_hgt=2500.0, source="synthetic")
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    elevation = (2600 + 40 * yy + 10 * xx).astype(np.float32)
    outline = (((yy - 8) ** 2 + (xx - 8) ** 2) < 30).astype(np.float32)
    outline[4, 8] = 0.4  # a partly covered cell
    std = np.full(shape, 10, np.float32)
    window = None
    if pad:  # the same glacier in a bigger bucket: other terrain around it, outline 0 there
        rows, cols = shape[0] + 2 * pad, shape[1] + pad
        elevation = np.pad(elevation, ((pad, pad), (pad, 0)), mode="linear_ramp", end_values=1800)
        outline, std = np.pad(outline, ((pad, pad), (pad, 0))), np.pad(std, ((pad, pad), (pad, 0)), mode="edge")
        window = (pad, pad, shape[0], shape[1])
        assert elevation.shape == (rows, cols)
    grid = ModelGrid(elevation, outline, std, None, 100.0, "synthetic", window)
    return climate, grid


def grid_run(variant, cache_mb=64, **kw):
    climate, grid = synthetic_inputs(**kw)
    return GlacierRun(load_pretrained(variant), climate, grid, calendar=HydroCalendar(10, 5), lapse_rate=-0.0065,
                   spinup_years=SPINUP, segment_years=SEGMENT, cache_mb=cache_mb)


def sequential_reference(run, year, adj):
    """The state rule written out year by year with the core's own run_year."""
    model = run.model_for(adj)
    anchor = (year // SEGMENT) * SEGMENT
    members = [y for y in range(anchor, anchor + SEGMENT) if y in run.years]
    spinup = [y for y in range(members[0] - SPINUP, members[0]) if y in run.years]
    spinup = [members[0]] * (SPINUP - len(spinup)) + spinup
    state, corrections = None, None
    for i, y in enumerate(spinup + members):
        forcing = grid_forcing(run.reference_years([y]).at(0), adj.temp_bias, adj.prcp_fac, run.arrays)
        if y == run.partial_year:
            res = run_year(model, forcing, state=state, corrections=corrections)
        else:
            res = run_year(model, forcing, state=state)
        if y == year and i >= len(spinup):
            return state, res
        state, corrections = res.final_state, res.corrections


@pytest.mark.parametrize("variant", ["A", "D"])
def test_compiled_years_follow_the_state_rule(variant):
    clear_grid_cache()
    run = grid_run(variant)
    adj = Adjustments(temp_bias=0.5, prcp_fac=1.2)
    assert run.years[0] == 1990 and run.partial_year == 1999
    # 1990: spin-up repeats the first year; 1996: a full segment; 1999: the partial year
    # closing the record. Asked out of order: a year never depends on the years asked before.
    for year in (1996, 1990, 1999, 1993, 1998):
        state, expected = sequential_reference(run, year, adj)
        out = run.year(year, adj)
        np.testing.assert_allclose(out.period_smb, np.asarray(expected.period_smb), rtol=2e-5, atol=2e-6)
        if variant == "D":
            np.testing.assert_allclose(out.corrections, np.asarray(expected.corrections), rtol=2e-5, atol=2e-6)
        if year != 1990:  # the spin-up's start: a fresh state, None in the reference
            np.testing.assert_allclose(out.start_state, np.asarray(state), rtol=2e-5, atol=2e-6)


def test_results_are_shared_between_runs_and_keyed_by_their_inputs():
    clear_grid_cache()
    first = grid_run("A")
    adj = Adjustments()
    smb = first.calendar_smb(1995, adj)
    assert len(GRID_SEGMENTS) == 2  # 1995 needs hydrological years 1994 and 1995
    again = grid_run("A")  # a new instance on the same inputs reuses them
    assert again.calendar_smb(1995, adj) is not smb  # the sum is new ...
    assert len(GRID_SEGMENTS) == 2  # ... but no segment was recomputed
    np.testing.assert_array_equal(again.calendar_smb(1995, adj), smb)
    warmer = again.calendar_smb(1995, Adjustments(temp_bias=1.0))
    other_climate = grid_run("A", seed=1).calendar_smb(1995, adj)
    assert len(GRID_SEGMENTS) == 6
    assert warmer.sum() < smb.sum() and not np.allclose(other_climate, smb)
    last = again.calendar_smb(1999, adj)  # the partial final year
    uncached = grid_run("A", cache_mb=0)
    clear_grid_cache()
    np.testing.assert_array_equal(uncached.calendar_smb(1995, adj), smb)
    np.testing.assert_array_equal(uncached.calendar_smb(1999, adj), last)
    assert len(GRID_SEGMENTS) == 0


@pytest.mark.parametrize("variant", ["A", "D"])
def test_daily_output_is_the_years_own_run(variant):
    """Daily values of a year asked first and of a year run before (from its cached state
    and corrections) sum to the year's period SMB, whichever way they were obtained."""
    clear_grid_cache()
    run = grid_run(variant)
    adj = Adjustments(temp_bias=-0.3)
    fresh_out, fresh_daily = run.daily(1994, adj)  # not run before
    np.testing.assert_allclose(fresh_daily.sum(0), fresh_out.period_smb.sum(0), rtol=1e-5, atol=1e-6)
    before = run.year(1995, adj)
    out, daily = run.daily(1995, adj)  # cached: only its TI run again
    assert out is before
    np.testing.assert_allclose(daily.sum(0), out.period_smb.sum(0), rtol=1e-5, atol=1e-6)


def test_smb_does_not_depend_on_the_bucket():
    """The same glacier on its own 16x16 grid and inside a 32x24 bucket with other terrain
    around it: the corrector sees only the glacier's own grid, so its SMB is the same."""
    clear_grid_cache()
    own, bucketed = grid_run("D"), grid_run("D", pad=8)
    adj = Adjustments()
    for year in (1993, 1996):
        np.testing.assert_allclose(bucketed.calendar_smb(year, adj)[8:24, 8:24], own.calendar_smb(year, adj),
                                   rtol=1e-5, atol=2e-6)
        corrections = bucketed.year(year, adj).corrections
        np.testing.assert_allclose(corrections[:, 8:24, 8:24], own.year(year, adj).corrections, atol=1e-5)
        assert np.all(corrections[:, :8] == 0) and np.all(corrections[:, :, :8] == 0)
    assert own.glacier_mean(own.calendar_smb(1996, adj)) == pytest.approx(
        bucketed.glacier_mean(bucketed.calendar_smb(1996, adj)), abs=2e-6)


def test_result_cache_is_bounded_by_size():
    cache = ResultCache()
    block = np.zeros(100, np.float64)  # 800 bytes
    for key in range(5):
        cache.get_or_compute(key, lambda: {"a": block.copy()}, max_bytes=2000)
    assert len(cache) == 2 and cache.nbytes == 1600  # the oldest went first
    calls = []
    cache.get_or_compute(4, lambda: calls.append(1), max_bytes=2000)
    assert not calls
    assert cache.get_or_compute("big", lambda: np.zeros(1000), max_bytes=2000).size == 1000
    assert "big" not in cache._items  # larger than the bound: returned, not kept


def test_fingerprint_sees_content_dtype_and_shape():
    a = np.arange(6, dtype=np.float32)
    assert fingerprint(a, 1.0) == fingerprint(a.copy(), 1.0)
    assert fingerprint(a, 1.0) != fingerprint(a, 2.0)
    assert fingerprint(a) != fingerprint(a.astype(np.float64))
    assert fingerprint(a) != fingerprint(a.reshape(2, 3))
    b = a.copy()
    b[3] += 1e-3
    assert fingerprint(a) != fingerprint(b)


def test_elevation_mapping_matches_band_means_and_np_interp():
    from oggm_glaunti.integration.run.flowline_run import map_by_elevation

    climate, grid = synthetic_inputs()
    rng = np.random.default_rng(3)
    field = rng.normal(size=(5,) + grid.shape)
    heights = np.linspace(2500, 3400, 40)
    mapped = map_by_elevation(field, grid.elevation, grid.outline, heights, 50.0)
    on = grid.outline > 0
    z, w = grid.elevation[on].astype(float), grid.outline[on].astype(float)
    band = np.floor((z - z.min()) / 50.0).astype(int)
    for k in range(5):
        values = field[k][on]
        centres, means = [], []
        for b in np.unique(band):
            sel = band == b
            centres.append(np.average(z[sel], weights=w[sel]))
            means.append(np.average(values[sel], weights=w[sel]))
        np.testing.assert_allclose(mapped[k], np.interp(heights, centres, means), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("variant", ["A", "B", "D"])
def test_flowline_points_run_the_grid_year(variant):
    """Points at grid cells, given those cells' own corrections and state (one band per
    cell, so carrying them is exact), reproduce the grid's daily SMB there: the points run
    the model's own year."""
    from oggm_glaunti.integration.run.flowline_run import ElevationBands, point_calendar_year

    clear_grid_cache()
    run = grid_run(variant)
    adj = Adjustments(temp_bias=0.5, prcp_fac=1.2)
    rows, cols = np.array([5, 7, 9, 11]), np.array([8, 6, 10, 7])
    heights = run.grid.elevation[rows, cols].astype(np.float64)
    assert np.all(np.diff(heights) > 0) and np.all(run.grid.outline[rows, cols] > 0)
    bands = ElevationBands(np.ravel_multi_index((rows, cols), run.grid.shape), np.eye(len(rows)), heights)
    year = 1996  # hydrological years 1995 (from 1 January) and 1996 (to 31 December)
    points = point_calendar_year(run, heights, year, adj, {}, bands)

    plans = run.reference_years([year - 1, year]).plan
    expected = []
    for k, (hy, period) in enumerate(((year - 1, 1), (year, 0))):
        daily = run.daily(hy, adj)[1][:, rows, cols]
        expected.append(daily[np.asarray(plans.active[k]) & (np.asarray(plans.period[k]) == period)])
    expected = np.concatenate(expected)
    assert points.smb.shape == expected.shape and np.abs(expected).max() > 1e-3
    # float32 round-off: the points' temperature offsets are computed in float64
    np.testing.assert_allclose(points.smb, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(points.smb.sum(0), run.calendar_smb(year, adj)[rows, cols], rtol=1e-5, atol=1e-6)
