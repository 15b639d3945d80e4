"""A southern-hemisphere glacier through every task that uses seasons: calibration, skill,
gridded output and export. Its hydrological year runs 1 April .. 1 April, winter 1 April
.. 1 November (WGMS year Y: 1 April Y-1 .. 1 April Y).

OGGM's sample data has no southern glacier with mass-balance data, so Hintereisferner is
mirrored: its outline's centre latitude negated (OGGM's ``gdir.hemisphere`` is 'sh' where
CenLat < 0; the geometry is unchanged), its monthly climate moved six months later (so
its winters fall in the southern winter) and its WGMS years one year later (WGMS year Y
of the north, October Y-1 .. September Y, is April Y .. March Y+1 after the shift).

Every expected value is counted here by hand, with the dates written out, never through
:mod:`oggm_glaunti.hydro_calendar`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

TRUE_TEMP_BIAS, TRUE_PRCP_FAC = 0.7, 1.25
#: WGMS years whose winter, summer and annual balances are the model's own under the true
#: adjustments (SH hydrological years 1980-1984 begin 1 April 1980-1984).
SEASONAL_WGMS_YEARS = range(1981, 1986)


def glacier_mean(run, field) -> float:
    outline = run.grid.outline.astype(np.float64)
    return float((np.asarray(field, np.float64) * outline).sum() / outline.sum())


def by_hand(run, adj, first: str, last: str) -> float:
    """Glacier-wide SMB (m w.e.) over the dates ``first..last``, both in full: the weighted
    daily steps of the run's years, each year beginning on 1 April of its label, summed
    where their date lies inside."""
    first, last = np.datetime64(first), np.datetime64(last)
    total = 0.0
    for year in range(int(str(first)[:4]) - 1, int(str(last)[:4]) + 1):
        if year not in run.years or year == run.partial_year:
            continue
        _, steps = run.daily(year, adj)
        plan = run.reference_years([year]).plan
        dates = np.datetime64(f"{year}-04-01") + np.asarray(plan.day_index[0])
        inside = np.asarray(plan.active[0]) & (dates >= first) & (dates <= last)
        total += glacier_mean(run, np.asarray(steps, np.float64)[inside].sum(0))
    return total


def wgms_by_hand(run, adj, wgms_year: int) -> dict:
    """Annual, winter and summer of WGMS year Y: 1 Apr Y-1 .. 1 Nov Y-1 .. 1 Apr Y."""
    y = wgms_year
    return {"annual": by_hand(run, adj, f"{y - 1}-04-01", f"{y}-04-01"),
            "winter": by_hand(run, adj, f"{y - 1}-04-01", f"{y - 1}-11-01"),
            "summer": by_hand(run, adj, f"{y - 1}-11-01", f"{y}-04-01")}


@pytest.fixture(scope="module")
def south(oggm_sample_data, tmp_path_factory):
    """Hintereisferner mirrored into the southern hemisphere (module docstring), with the
    daily climate and the model grid; WGMS years 1981-1985 replaced by the model's own
    seasonal balances under TRUE_TEMP_BIAS and TRUE_PRCP_FAC."""
    from oggm import cfg, utils

    from oggm_glaunti.integration import (GlaUnTIMassBalance, glaunti_model_grid, hintereisferner_gdir,
                                          process_daily_from_monthly)

    north = hintereisferner_gdir(tmp_path_factory.mktemp("hef_south"), invert=False, init_present_time=False)
    path = north.get_filepath("climate_historical")
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    later = (ds.time.values.astype("datetime64[M]") + 6).astype("datetime64[ns]")
    ds.assign_coords(time=later).sel(time=slice("1803-01-01", "2002-12-31")).to_netcdf(path)
    outline = north.read_shapefile("outlines")
    outline["CenLat"] = (-outline["CenLat"].astype(float)).astype(str)
    north.write_shapefile(outline, "outlines")
    gdir = utils.GlacierDirectory(north.rgi_id, base_dir=cfg.PATHS["working_dir"])
    assert north.hemisphere == "nh" and gdir.hemisphere == "sh"
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)

    wgms = north.get_ref_mb_data().astype({"WINTER_BALANCE": float, "SUMMER_BALANCE": float})
    wgms.index = wgms.index + 1
    run = GlaUnTIMassBalance(gdir, variant="A", temp_bias=TRUE_TEMP_BIAS, prcp_fac=TRUE_PRCP_FAC)
    for year in SEASONAL_WGMS_YEARS:
        truth = wgms_by_hand(run.glacier_run, run.adjustments, year)
        for season, column in (("annual", "ANNUAL_BALANCE"), ("winter", "WINTER_BALANCE"),
                               ("summer", "SUMMER_BALANCE")):
            wgms.loc[year, column] = truth[season] * 1000.0
    gdir.set_ref_mb_data(wgms)
    return gdir


def test_a_southern_glacier_runs_april_to_april(south):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    run = GlaUnTIMassBalance(south, variant="A").glacier_run
    assert run.window(1995).begin == np.datetime64("1995-04-01")
    assert run.window(1995).n_days == 367  # 1 Apr 1995 .. 1 Apr 1996, a leap day inside
    # the monthly climate ends in December 2002: April-December 2002 is the partial year
    assert run.partial_year == 2002 and run.full_years[-1] == 2001


def test_calibration_fits_the_southern_seasons(south):
    """The calibration's seasons are the hand-counted ones, and it recovers the adjustments
    the seasonal balances were made with (the northern months would not)."""
    import jax.numpy as jnp

    from oggm_glaunti.integration import GlaUnTIMassBalance, glaunti_calibrate
    from oggm_glaunti.integration.calibration.objective import Objective
    from oggm_glaunti.integration.calibration.task import calibration_data

    ref_years = (SEASONAL_WGMS_YEARS[0], SEASONAL_WGMS_YEARS[-1])
    mb = GlaUnTIMassBalance(south, variant="A", temp_bias=0.0, prcp_fac=1.0)
    obs, years = calibration_data(south, mb.glacier_run, ref_years=ref_years)
    assert years == [y - 1 for y in SEASONAL_WGMS_YEARS] and len(obs.winter) == len(obs.summer) == 5
    simulated = Objective(mb.glacier_run, obs, years, ("temp_bias",)).simulated(jnp.zeros(1))
    for wgms_year in (1981, 1984):
        expected = wgms_by_hand(mb.glacier_run, mb.adjustments, wgms_year)
        for season in ("annual", "winter", "summer"):
            assert simulated[wgms_year - 1][season] == pytest.approx(expected[season], abs=1e-4)
    assert simulated[1980]["winter"] > 0 > simulated[1980]["summer"]  # accumulation in the southern winter

    calib = glaunti_calibrate(south, variant="A", ref_years=ref_years)
    assert calib["calibrated_parameters"] == ["temp_bias", "prcp_fac"] and calib["status"] == "converged"
    assert calib["temp_bias"] == pytest.approx(TRUE_TEMP_BIAS, abs=0.02)
    assert calib["prcp_fac"] == pytest.approx(TRUE_PRCP_FAC, rel=0.02)
    for season in ("winter", "summer"):
        assert calib["misfit_m_we"][season]["n"] == 5 and calib["misfit_m_we"][season]["rmse"] < 0.01


def monthly_ti_by_hand(gdir, melt_f: float, wgms_year: int, months) -> float:
    """MonthlyTIModel's glacier-wide balance (m w.e.) over ``months`` ((year offset from
    the WGMS year, month) pairs), each month its rate times OGGM's month, the points
    weighted by their width (OGGM's specific MB on inversion flowlines)."""
    from oggm import cfg
    from oggm.core.massbalance import MonthlyTIModel
    from oggm.utils import date_to_floatyear

    calib = gdir.read_json("mb_calib")
    mb = MonthlyTIModel(gdir, melt_f=melt_f, prcp_fac=calib["prcp_fac"], temp_bias=calib["temp_bias"],
                        check_calib_params=False)
    fls = gdir.read_pickle("inversion_flowlines")
    widths = np.concatenate([fl.widths for fl in fls])
    total = 0.0
    for offset, month in months:
        year = date_to_floatyear(wgms_year + offset, month)
        rates = np.concatenate([mb.get_monthly_mb(fl.surface_h, fls=fls, fl_id=i, year=year)
                                for i, fl in enumerate(fls)])
        total += float(np.sum(rates * widths) / np.sum(widths))
    return total * cfg.SEC_IN_MONTH * cfg.PARAMS["ice_density"] / 1000.0


APRIL_TO_MARCH = [(-1, m) for m in range(4, 13)] + [(0, m) for m in range(1, 4)]
OCTOBER_TO_SEPTEMBER = [(-1, m) for m in range(10, 13)] + [(0, m) for m in range(1, 10)]


def test_skill_scores_both_models_on_the_southern_year(south):
    """glaunti_skill's held-out scores, recomputed by hand: GlaUnTI (uncalibrated) over
    1 April .. 1 April and its seasons split on 1 November, MonthlyTIModel over the months
    April .. March (audit finding: it was scored on October .. September)."""
    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.integration.calibration.skill import glaunti_skill

    result = glaunti_skill(south, variant="A", splits=("blocked",), ref_years=(1981, 1992),
                           with_profiles=False, figure=False)
    split = result["splits"]["blocked"]
    wgms = south.get_ref_mb_data()

    def scores(predicted, season="annual"):
        observed = wgms[f"{season.upper()}_BALANCE"] / 1000.0
        error = np.array([predicted[y] - observed[y] for y in sorted(predicted)])
        return {"n": len(error), "rmse": float(np.sqrt(np.mean(error ** 2))), "bias": float(error.mean())}

    mb = GlaUnTIMassBalance(south, variant="A", temp_bias=0.0, prcp_fac=1.0)
    years = range(1981, 1993)
    glaunti = {y: wgms_by_hand(mb.glacier_run, mb.adjustments, y) for y in years}
    for season, with_data in (("annual", years), ("winter", SEASONAL_WGMS_YEARS), ("summer", SEASONAL_WGMS_YEARS)):
        expected = scores({y: glaunti[y][season] for y in with_data}, season)
        reported = split["held_out_scores"]["uncalibrated"][season]
        assert reported["n"] == expected.pop("n")
        for key, value in expected.items():
            assert reported[key] == pytest.approx(value, abs=1e-4)

    monthly, wrong_months = {}, {}
    for fold in split["folds"]:
        for y in range(fold["held_out"][0], fold["held_out"][1] + 1):
            monthly[y] = monthly_ti_by_hand(south, fold["monthly_ti_melt_f"], y, APRIL_TO_MARCH)
            wrong_months[y] = monthly_ti_by_hand(south, fold["monthly_ti_melt_f"], y, OCTOBER_TO_SEPTEMBER)
    assert sorted(monthly) == list(years)
    reported = split["held_out_scores"]["MonthlyTIModel"]["annual"]
    for key, value in scores(monthly).items():
        assert reported[key] == pytest.approx(value, rel=1e-6, abs=1e-9)
    # the northern months would have predicted other values
    assert max(abs(monthly[y] - wrong_months[y]) for y in years) > 0.1
    assert reported["rmse"] != pytest.approx(scores(wrong_months)["rmse"], rel=0.01)


def test_gridded_output_splits_on_1_november(south):
    from oggm_glaunti.integration.output.gridded_output import glacier_wide_series, glaunti_gridded_smb

    glaunti_gridded_smb(south, ys=1995, ye=1996, variant="A", daily=True, filesuffix="_south")
    with xr.open_dataset(south.get_filepath("glaunti_gridded_smb", filesuffix="_south")) as ds:
        ds = ds.load()
    assert ds.attrs["hemisphere"] == "sh" and ds.attrs["hydro_year_start_month"] == 4
    assert ds.attrs["winter_end_month"] == 11
    t = ds.time.values.astype("datetime64[D]")
    assert t[0] == np.datetime64("1995-04-01") and t[-1] == np.datetime64("1997-04-01")
    d = ds.smb_daily.astype(np.float64)
    # the file's first date holds only 1995's half day
    winter = d.sel(time=slice("1995-04-01", "1995-10-31")).sum("time") + 0.5 * d.sel(time="1995-11-01")
    np.testing.assert_allclose(ds.smb_winter.sel(hydro_year=1995).values, winter.values, rtol=0, atol=1e-5)
    last = d.sel(time=slice("1996-11-02", "1997-03-31")).sum("time") + 0.5 * d.sel(time="1996-11-01")
    np.testing.assert_allclose(ds.smb_summer.sel(hydro_year=1996).values,
                               last.values + d.sel(time="1997-04-01").values, rtol=0, atol=1e-5)
    wide = glacier_wide_series(ds)
    assert wide.smb_winter.mean() > 0 > wide.smb_summer.max()


def test_export_writes_the_southern_seasons(south, tmp_path):
    from oggm_glaunti.integration.output.dataset_export import export_glaunti_dataset
    from oggm_glaunti.training.dataset import read_glacier

    export_glaunti_dataset([south], tmp_path, names={south.rgi_id: "south"}, first_year=1981, last_year=1983)
    table = pd.read_csv(tmp_path / "south" / "total_smb.csv", dtype={"midseason_date": str}).set_index("year")
    wgms = south.get_ref_mb_data()
    for y in (1981, 1982, 1983):
        assert table.loc[y, "begin_date"] == f"{y - 1}-04-01" and table.loc[y, "end_date"] == f"{y}-04-01"
        assert table.loc[y, "midseason_date"] == f"{y - 1}-11-01"
        for column in ("annual", "winter", "summer"):
            assert table.loc[y, f"{column}_balance"] == pytest.approx(
                wgms.loc[y, f"{column.upper()}_BALANCE"] / 1000.0, abs=1e-4)
    glacier = read_glacier(tmp_path, "south")
    assert glacier.windows[1982].midseason == np.datetime64("1981-11-01")
