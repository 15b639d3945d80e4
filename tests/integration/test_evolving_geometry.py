"""``GlaUnTIMassBalance(geometry='evolving')``: the corrector sees the flowline glacier of each
year (Hintereisferner, variant D). The starting glacier gives the static SMB bit for bit; a
glacier thinned and shortened by hand moves the grid's outline and surface, and the
corrector's inputs with them; a glacier that vanishes runs to the end without NaN."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import xarray as xr

from oggm_glaunti.integration.run.evolving_run import GeometryTimeline, adopted_year
from oggm_glaunti.integration.run.geometry import GridGeometry


@pytest.fixture(scope="module")
def fls0(hef_daily):
    return hef_daily.read_pickle("model_flowlines")


@pytest.fixture(scope="module")
def grid_map(hef_daily, fls0):
    from oggm_glaunti.integration.grid.glacier_data import read_model_grid
    from oggm_glaunti.integration.run.geometry import FlowlineGridMap

    return FlowlineGridMap(read_model_grid(hef_daily), fls0, hef_daily.rgi_id)


@pytest.fixture(scope="module")
def models(hef_daily):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    return GlaUnTIMassBalance(hef_daily, variant="D"), GlaUnTIMassBalance(hef_daily, variant="D", geometry="evolving")


def thinned_and_shortened(fls0, factor=0.7, cut=10):
    """The glacier with every point's ice ``factor`` as thick, and its ``cut`` lowest ice
    points bare."""
    fls = copy.deepcopy(fls0)
    fl = fls[-1]
    thick = fl.thick * factor
    thick[np.flatnonzero(fl.thick > 0)[-cut:]] = 0.0
    fl.thick = thick
    return fls


def test_the_starting_flowlines_give_the_model_grid(grid_map, fls0):
    geometry = grid_map.geometry(fls0)
    assert geometry.key == grid_map.reference.key and not geometry.empty
    np.testing.assert_array_equal(geometry.outline, grid_map.reference.outline)
    np.testing.assert_array_equal(geometry.elevation, grid_map.reference.elevation)
    # every glacier cell is in a band, and each band holds its points' area to within a cell
    assert np.all((grid_map.cell_band >= 0) == (grid_map.reference.outline > 0))
    assert np.abs(grid_map.band_areas(geometry.outline) - grid_map.band_flowline_areas(fls0)).max() < grid_map.dx2


def test_the_starting_glacier_gives_the_static_smb_bit_for_bit(models, hef_daily, fls0):
    from oggm.core.flowline import FlowlineModel

    static, evolving = models
    heights = fls0[-1].surface_h
    for year in range(1990, 1994):
        np.testing.assert_array_equal(evolving.get_annual_mb(heights, year, fls=fls0),
                                      static.get_annual_mb(heights, year, fls=fls0))
    for month in (1, 7, 11):
        when = 1993 + (month - 1) / 12
        np.testing.assert_array_equal(evolving.get_monthly_mb(heights, when, fls=fls0),
                                      static.get_monthly_mb(heights, when))

    class FrozenGlacier(FlowlineModel):
        """Asks its MB model for every year, as OGGM's models do, and never changes the glacier."""

        asked: dict = {}

        def step(self, dt):
            self.asked[int(self.yr)] = self.get_mb(self.fls[-1].surface_h, self.yr, fl_id=0, fls=self.fls)
            self.t += dt
            return dt

    model = FrozenGlacier(copy.deepcopy(fls0), mb_model=evolving, y0=1994)
    model.run_until(1998)
    assert sorted(model.asked) == [1994, 1995, 1996, 1997]
    for year, mb in model.asked.items():
        np.testing.assert_array_equal(mb, static.get_annual_mb(heights, year))

    # the inversion's flowlines (apparent_mb_from_any_mb passes them) see the present-day grid
    inversion = hef_daily.read_pickle("inversion_flowlines")
    np.testing.assert_array_equal(evolving.get_annual_mb(heights, 1980, fls=inversion),
                                  static.get_annual_mb(heights, 1980))


def test_a_thinned_and_shortened_glacier_moves_outline_and_surface(grid_map, fls0):
    fls = thinned_and_shortened(fls0)
    geometry = grid_map.geometry(fls)
    reference = grid_map.reference
    dx2 = grid_map.dx2
    # the grid's area follows the flowlines', band by band to within one cell
    band_area = grid_map.band_areas(geometry.outline)
    expected = grid_map.band_flowline_areas(fls)
    assert np.abs(band_area - expected).max() < dx2
    assert abs(geometry.area_m2 - expected.sum()) < dx2
    assert geometry.area_m2 < 0.95 * reference.area_m2
    # every cell of a band moves with its band's surface; cells off the glacier stay
    band = grid_map.cell_band
    on = band >= 0
    rise = grid_map.band_surface_change(fls)
    np.testing.assert_allclose(geometry.elevation[on] - reference.elevation[on], rise[band[on]], atol=1e-3)
    np.testing.assert_array_equal(geometry.elevation[~on], reference.elevation[~on])
    assert rise.max() < 0 and rise.min() < -50  # thinner everywhere, most on the tongue
    # the shortened tongue: bands without ice leave their cells off the glacier, on their bed
    bare = expected == 0
    assert bare.sum() >= 3 and np.all(geometry.outline[np.isin(band, np.flatnonzero(bare))] == 0)
    lowest = reference.elevation[reference.outline > 0].min()
    assert geometry.elevation[geometry.outline > 0].min() > lowest + 50
    # off the glacier the facies would be 0 (the grid has no facies map here: None stays None)
    assert geometry.facies is None and not geometry.empty and geometry.unplaced_area_m2 == 0


def test_the_corrector_sees_the_thinned_glacier(models, hef_daily, fls0):
    from oggm_glaunti.integration.run.glacier_year import run_glacier_year

    static, evolving = models
    fls = thinned_and_shortened(fls0)
    heights = fls[-1].surface_h
    mb = evolving.get_annual_mb(heights, 1996, fls=fls)  # a new run: hydrological years 1995 and 1996 see it
    assert np.all(np.isfinite(mb)) and np.abs(mb - static.get_annual_mb(heights, 1996)).max() > 1e-9

    geometry_of, run = evolving._evolving.geometry_of, evolving.glacier_run
    geometry = geometry_of(1996)
    assert geometry.key == evolving._evolving.grid_map.geometry(fls).key
    arrays = evolving._evolving.evolving.arrays(geometry)
    outline, elevation, elevation_std, _ = arrays.static
    np.testing.assert_array_equal(outline, geometry.outline)
    np.testing.assert_array_equal(elevation, geometry.elevation)
    np.testing.assert_array_equal(elevation_std, run.arrays.static[2])
    np.testing.assert_allclose(arrays.offset, run.lapse_rate * (geometry.elevation - run.climate.ref_hgt), atol=1e-5)
    warmer = arrays.offset - run.arrays.offset  # the lowered surface is warmer
    assert warmer.min() > -1e-5 and warmer[run.grid.outline > 0].mean() > 0.1

    # the year ran on these inputs: the core's own year from the same state gives its corrections
    adj = evolving.adjustments
    out = evolving._evolving.evolving.year(1996, adj, geometry_of)
    again = run_glacier_year(run.model_for(adj), run.reference_years([1996]).at(0), out.start_state, True,
                             np.float32(adj.temp_bias), np.float32(adj.prcp_fac), arrays, run.window_size)
    np.testing.assert_allclose(out.corrections, np.asarray(again.corrections), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.period_smb, np.asarray(again.period_smb), rtol=1e-4, atol=1e-5)
    changed = np.abs(out.corrections - static.glacier_run.year(1996, adj).corrections).max(0)
    assert changed[geometry.outline > 0].max() > 1e-3


def test_an_advance_spreads_next_to_the_glacier_in_its_window(grid_map, fls0):
    fls = copy.deepcopy(fls0)
    fl = fls[-1]
    front = np.flatnonzero(fl.thick > 0)[-1]
    thick = fl.thick * 1.2
    thick[front + 1:front + 6] = 30.0  # ice beyond the terminus
    fl.thick = thick
    geometry = grid_map.geometry(fls)
    reference = grid_map.reference
    new = (geometry.outline > 0) & (reference.outline == 0)
    assert new.sum() > 0 and geometry.unplaced_area_m2 == 0
    assert abs(geometry.area_m2 - grid_map.band_flowline_areas(fls).sum()
               - (fl.bin_area_m2[front + 1:front + 6]).sum()) < 0.02 * geometry.area_m2
    assert np.all(grid_map._in_window[new])
    # on the terrain, the ice's thickness above it
    assert np.all(geometry.elevation[new] > reference.elevation[new])
    assert np.all(geometry.outline[reference.outline > 0] >= reference.outline[reference.outline > 0])


def test_a_vanishing_glacier_runs_to_the_end_without_nan(hef_daily, fls0):
    from oggm.core.flowline import FluxBasedModel

    from oggm_glaunti.integration import GlaUnTIMassBalance, glaunti_geometry_history

    mb = GlaUnTIMassBalance(hef_daily, variant="D", geometry="evolving")
    mb.temp_bias = 9.0  # a warming experiment, set as OGGM's run tasks set it (beyond a calibration's range)
    asked = []
    annual = mb.get_annual_mb

    def recorded(heights, year=None, **kwargs):
        out = annual(heights, year=year, **kwargs)
        asked.append((year, np.all(np.isfinite(out)), sum(fl.volume_m3 for fl in kwargs["fls"])))
        return out

    mb.get_annual_mb = recorded
    suffix = "_glaunti_vanish"
    model = FluxBasedModel(copy.deepcopy(fls0), mb_model=mb, y0=1980)
    model.run_until_and_store(2002, geom_path=hef_daily.get_filepath("model_geometry", filesuffix=suffix))
    assert model.volume_m3 == 0 and model.yr == 2002
    assert all(finite for _, finite, _ in asked)
    empty_years = [year for year, _, volume in asked if volume == 0]
    assert len(empty_years) >= 3 and asked[-1][0] >= 2001
    assert mb._evolving.timeline.of(2001).empty

    path = glaunti_geometry_history(hef_daily, input_filesuffix=suffix)
    with xr.open_dataset(path) as ds:
        assert list(ds.hydro_year.values[[0, -1]]) == [1979, 2001]
        assert ds.outline_fraction.attrs["standard_name"] == "land_ice_area_fraction"
        assert ds.surface_elevation.attrs["units"] == "m" and ds.attrs["Conventions"].startswith("CF")
        assert int(ds.empty[-1]) == 1 and int(ds.empty[0]) == 0
        assert np.all(np.isfinite(ds.surface_elevation)) and np.all(ds.outline_fraction.sum(("y", "x")) > 0)
        # what the MB model saw, to the round-off of OGGM's stored sections
        seen = mb._evolving.timeline.of(1985)
        np.testing.assert_allclose(ds.outline_fraction.sel(hydro_year=1985), seen.outline, atol=1e-4)
        np.testing.assert_allclose(ds.surface_elevation.sel(hydro_year=1985), seen.elevation, atol=0.05)


def _geometry(key):
    return GridGeometry(np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32), None, 0.0, 0.0, key=key)


def test_each_year_sees_the_glacier_of_its_first_calendar_year():
    timeline = GeometryTimeline(update_years=1)
    for year, key in ((2004.0, "a"), (2005.0, "b")):
        timeline.record(year, lambda: _geometry(key))
    assert [timeline.of(y).key for y in (2003, 2004, 2005)] == ["a", "a", "b"]
    assert timeline.of(2002) is None  # before the run: the present-day glacier
    timeline.record(2005 + 6 / 12, lambda: _geometry("month"))  # within the year: not adopted
    assert timeline.of(2005).key == "b"
    timeline.record(2005.0, lambda: _geometry("again"))  # the year's start asked again
    assert timeline.of(2005).key == "again"
    timeline.record(2007.0, lambda: _geometry("jump"))  # a year skipped: a new run
    assert [timeline.of(y).key for y in (2006, 2007)] == ["jump", "jump"] and timeline.of(2005) is None

    every_three = GeometryTimeline(update_years=3)
    for year in range(2004, 2011):
        every_three.record(float(year), lambda y=year: _geometry(str(y)))
    for year in range(2003, 2011):
        assert every_three.of(year).key == str(adopted_year(year, 2004, 3))
    assert [every_three.of(y).key for y in (2006, 2007, 2010)] == ["2004", "2007", "2010"]


def test_bad_geometry_settings(hef_daily, fls0, models):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    with pytest.raises(ValueError, match="'static'.*'evolving'"):
        GlaUnTIMassBalance(hef_daily, variant="A", geometry="dynamic")
    _, evolving = models
    shorter = copy.deepcopy(fls0)
    from oggm.core.flowline import RectangularBedFlowline

    fl = shorter[-1]
    shorter[-1] = RectangularBedFlowline(line=None, dx=fl.dx, map_dx=fl.map_dx, surface_h=fl.surface_h[:-5],
                                         bed_h=fl.bed_h[:-5], widths=fl.widths[:-5])
    with pytest.raises(ValueError, match="model_flowlines"):
        evolving.get_annual_mb(fls0[-1].surface_h[:-5], 1990, fls=shorter)


def test_oggm_run_tasks_follow_the_mode_where_they_pass_the_flowlines(hef_daily):
    """``run_with_hydro`` and ``run_random_climate`` pass the flowlines: the evolving glacier
    changes their results; ``run_constant_climate`` asks at fixed heights without them
    (``ConstantMassBalance``): bit-identical."""
    from oggm import cfg, tasks

    from oggm_glaunti.integration import GlaUnTIMassBalance

    def run(task, mode, **kwargs):
        cfg.PARAMS["glaunti_geometry"] = mode
        try:
            task(hef_daily, mb_model_class=GlaUnTIMassBalance, output_filesuffix=f"_modes_{mode}", **kwargs)
        finally:
            cfg.PARAMS["glaunti_geometry"] = "static"
        with xr.open_dataset(hef_daily.get_filepath("model_diagnostics", filesuffix=f"_modes_{mode}")) as ds:
            return ds.load()

    hydro = {mode: run(tasks.run_with_hydro, mode, run_task=tasks.run_from_climate_data, ys=1995, ye=2001)
             for mode in ("static", "evolving")}
    for ds in hydro.values():  # OGGM leaves the fluxes of the last date empty
        assert np.all(np.isfinite(ds.volume_m3)) and np.all(np.isfinite(ds.melt_on_glacier[:-1]))
    assert float(hydro["evolving"].volume_m3[-1]) != float(hydro["static"].volume_m3[-1])
    assert float(hydro["evolving"].melt_on_glacier[-2]) != float(hydro["static"].melt_on_glacier[-2])

    random = {mode: run(tasks.run_random_climate, mode, nyears=6, y0=1985, halfsize=5, seed=1)
              for mode in ("static", "evolving")}
    assert np.all(np.isfinite(random["evolving"].volume_m3))
    assert float(random["evolving"].volume_m3[-1]) != float(random["static"].volume_m3[-1])

    constant = {mode: run(tasks.run_constant_climate, mode, nyears=4, y0=1985, halfsize=2)
                for mode in ("static", "evolving")}
    np.testing.assert_array_equal(constant["evolving"].volume_m3, constant["static"].volume_m3)


def test_several_flowlines_are_pooled_by_elevation(hef_daily, fls0):
    """Two flowlines, each half of the glacier's width: one hypsometry, the same grid."""
    from oggm.core.flowline import RectangularBedFlowline

    from oggm_glaunti.integration.grid.glacier_data import read_model_grid
    from oggm_glaunti.integration.run.geometry import FlowlineGridMap

    fl = fls0[-1]

    def half(thick):
        return RectangularBedFlowline(line=None, dx=fl.dx, map_dx=fl.map_dx, surface_h=fl.bed_h + thick,
                                      bed_h=fl.bed_h, widths=fl.widths_m / fl.map_dx / 2)

    grid_map = FlowlineGridMap(read_model_grid(hef_daily), [half(fl.thick), half(fl.thick)], hef_daily.rgi_id)
    whole = FlowlineGridMap(read_model_grid(hef_daily), fls0, hef_daily.rgi_id)
    np.testing.assert_array_equal(grid_map.cell_band >= 0, whole.cell_band >= 0)
    thinner = fl.thick * 0.8
    thinner[np.flatnonzero(fl.thick > 0)[-6:]] = 0
    fls = [half(thinner), half(fl.thick)]  # one branch shortened and thinned, the other as it was
    geometry = grid_map.geometry(fls)
    assert np.abs(grid_map.band_areas(geometry.outline) - grid_map.band_flowline_areas(fls)).max() < grid_map.dx2
    assert 0.8 * whole.reference.area_m2 < geometry.area_m2 < whole.reference.area_m2


def test_the_dynamic_spinup_runs_on_its_own_larger_glacier(hef_daily):
    """``run_dynamic_spinup``'s historical model sees each try's glacier: in 1979 Hintereisferner
    is larger than its outline, and the corrector sees the advance next to it."""
    from oggm import tasks
    from oggm.core.massbalance import MultipleFlowlineMassBalance

    from oggm_glaunti.integration import GlaUnTIMassBalance

    historical = MultipleFlowlineMassBalance(hef_daily, mb_model_class=GlaUnTIMassBalance,
                                             use_inversion_flowlines=True, variant="D", geometry="evolving")
    tasks.run_dynamic_spinup(hef_daily, spinup_start_yr=1979, target_yr=2000, ye=2002,
                             mb_model_historical=historical, minimise_for="area", output_filesuffix="_spin_evolving")
    with xr.open_dataset(hef_daily.get_filepath("model_diagnostics", filesuffix="_spin_evolving")) as ds:
        assert np.all(np.isfinite(ds.volume_m3)) and float(ds.area_m2[0]) > 8.1e6  # 1979: larger than 8.04 km2
    evolving = historical.flowline_mb_models[0]._evolving
    start, reference = evolving.geometry_of(1979), evolving.grid_map.reference
    assert start.area_m2 > reference.area_m2 and start.unplaced_area_m2 == 0
    assert np.any((start.outline > 0) & (reference.outline == 0))
