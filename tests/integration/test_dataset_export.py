"""Exporting an OGGM glacier directory to the released dataset layout, reading it back
with the training layer and fine-tuning on it (offline, OGGM's sample data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest
import xarray as xr

STAKE_CELLS = ((20, 30), (25, 40), (30, 50))  # (row, col) on the model grid


@pytest.fixture(scope="module")
def hef(oggm_sample_data, tmp_path_factory):
    """Hintereisferner with daily climate and the model grid (no calibration needed)."""
    from oggm_glaunti.integration import glaunti_model_grid, hintereisferner_gdir, process_daily_from_monthly

    gdir = hintereisferner_gdir(tmp_path_factory.mktemp("hef_export"), calibrate=False, invert=False,
                                init_present_time=False)
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)
    return gdir


def _stake_csv(gdir, path, with_codes: bool):
    """Three stakes a year (annual, winter, summer) at STAKE_CELLS, 1996-1998."""
    with xr.open_dataset(gdir.get_filepath("glaunti_grid")) as ds:
        x, y, srs = ds["x"].values, ds["y"].values, ds.attrs["pyproj_srs"]
    to_lonlat = pyproj.Transformer.from_crs(srs, "EPSG:4326", always_xy=True)
    rows = []
    for year in (1996, 1997, 1998):
        for (r, c), (code, begin, end) in zip(STAKE_CELLS, (
                ("annual", f"{year - 1}-10-02", f"{year}-09-29"),
                ("winter", f"{year - 1}-10-02", f"{year}-05-03"),
                ("summer", f"{year}-05-03", f"{year}-09-29"))):
            lon, lat = to_lonlat.transform(x[c] + 20.0, y[r] - 30.0)
            rows.append({"date0": begin, "date1": end, "lat": lat, "lon": lon, "balance": -0.5,
                         "balance_code": code})
    table = pd.DataFrame(rows)
    (table if with_codes else table.drop(columns="balance_code")).to_csv(path, index=False)
    return table


@pytest.fixture(scope="module")
def exported(hef, tmp_path_factory):
    from oggm_glaunti.integration.output.dataset_export import export_glaunti_dataset

    folder = tmp_path_factory.mktemp("export")
    stakes = folder / "stakes.csv"
    _stake_csv(hef, stakes, with_codes=True)
    index = export_glaunti_dataset([hef], folder / "dataset", names={hef.rgi_id: "Hintereisferner"},
                                   folds={hef.rgi_id: 0}, stakes={hef.rgi_id: stakes})
    return folder / "dataset", index


def test_export_reads_back_as_the_glacier_directory(hef, exported):
    from oggm_glaunti.integration.grid.glacier_data import read_daily_climate, read_model_grid
    from oggm_glaunti.training.dataset import read_glacier

    root, index = exported
    climate, grid = read_daily_climate(hef), read_model_grid(hef)
    assert index.to_dict("records") == [{"name": "Hintereisferner", "wgms_name": hef.name, "fold": 0,
                                         "region": "11", "max_year": 2002, "height": grid.shape[0],
                                         "width": grid.shape[1]}]
    glacier = read_glacier(root, "Hintereisferner")
    assert glacier.years == list(range(1990, 2003))
    with xr.open_dataset(grid.path) as ds:
        assert pyproj.CRS.from_wkt(glacier.crs) == pyproj.CRS.from_user_input(ds.attrs["pyproj_srs"])
        np.testing.assert_allclose(glacier.x, ds["x"].values)
    # Forcing: the climate at its reference height on every cell, downscaled per year.
    window = glacier.windows[1995]
    assert (window.begin, window.end) == (np.datetime64("1994-10-01"), np.datetime64("1995-10-01"))
    days = (climate.dates >= window.begin) & (climate.dates <= window.end)
    forcing = glacier.year_forcing(1995)
    n = int(days.sum())
    expected = climate.temperature[days][:, None, None] - 0.006 * (grid.elevation - climate.ref_hgt)
    np.testing.assert_allclose(np.asarray(forcing.temperature)[:n], expected, rtol=0, atol=2e-4)
    np.testing.assert_allclose(np.asarray(forcing.precipitation)[:n, 5, 5], climate.precipitation[days],
                               rtol=1e-6)
    np.testing.assert_array_equal(glacier.elevation, np.broadcast_to(grid.elevation, glacier.elevation.shape))
    np.testing.assert_array_equal(glacier.outline[-1], grid.outline)
    np.testing.assert_array_equal(glacier.elevation_std[0], grid.elevation_std)
    assert not glacier.facies_by_year  # the grid has no facies map
    # WGMS glacier-wide series (m w.e.) with the default dates.
    wgms = hef.get_ref_mb_data(y0=1990, y1=2002)["ANNUAL_BALANCE"] / 1000.0
    observed = {o.year: o.balance for o in glacier.glacier_wide if o.season == "annual"}
    assert observed == pytest.approx(wgms.to_dict())
    # Stakes: their cells, codes, and the midseason date only in years with seasonal values.
    assert {(s.row, s.col) for s in glacier.stakes} == set(STAKE_CELLS)
    assert [s.season for s in glacier.stakes[:3]] == ["annual", "winter", "summer"]
    assert [y for y, w in glacier.windows.items() if w.seasonal] == [1996, 1997, 1998]
    assert glacier.windows[1996].midseason == np.datetime64("1996-05-01")


def test_stake_codes_are_inferred_from_the_dates(hef, tmp_path):
    from oggm_glaunti.integration.output.dataset_export import _year_table, read_stake_csv

    written = _stake_csv(hef, tmp_path / "stakes.csv", with_codes=False)
    years = _year_table(hef, np.arange(1990, 2003), np.datetime64("1989-01-01"), np.datetime64("2002-12-31"),
                        use_wgms=False)
    table = read_stake_csv(tmp_path / "stakes.csv", years)
    assert table["balance_code"].tolist() == written["balance_code"].tolist()
    assert table["year"].tolist() == [1996] * 3 + [1997] * 3 + [1998] * 3


def test_missing_inputs_name_the_task_to_run(hef, tmp_path):
    from oggm_glaunti.integration.output.dataset_export import glaunti_export_glacier

    with pytest.raises(FileNotFoundError, match=r"climate_historical_daily_none.nc is missing.*run the task "
                                                r"process_daily_from_monthly or process_daily_gridded_climate"):
        glaunti_export_glacier(hef, dataset_dir=tmp_path / "dataset", climate_filesuffix="_none")
    with pytest.raises(FileNotFoundError, match=r"glaunti_grid_none.nc is missing.*run the task glaunti_model_grid"):
        glaunti_export_glacier(hef, dataset_dir=tmp_path / "dataset", grid_filesuffix="_none")
    assert not (tmp_path / "dataset").exists() or not any((tmp_path / "dataset").iterdir())


def test_stake_file_in_mm_is_refused_and_nothing_written(hef, tmp_path):
    from oggm_glaunti.integration.output.dataset_export import glaunti_export_glacier

    stakes = tmp_path / "stakes.csv"
    _stake_csv(hef, stakes, with_codes=True).assign(balance=-500.0).to_csv(stakes, index=False)
    with pytest.raises(ValueError, match=r"stakes.csv: stake balances must be finite, in m w.e. .*divide by 1000"):
        glaunti_export_glacier(hef, dataset_dir=tmp_path / "dataset", stakes=stakes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stakes.csv"]


def test_existing_folder_is_kept_unless_overwrite(hef, exported):
    from oggm_glaunti.integration.output.dataset_export import glaunti_export_glacier

    root, _ = exported
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        glaunti_export_glacier(hef, dataset_dir=root, name="Hintereisferner")


def test_finetune_runs_on_the_export(exported, tmp_path, capsys):
    from oggm_glaunti.cli import main

    root, _ = exported
    tuned = tmp_path / "hef_a.npz"
    assert main(["finetune", "--dataset", str(root), "--glacier", "Hintereisferner", "--output", str(tuned),
                 "--steps", "2", "--train-years", "1995", "1999", "--val-years", "2000", "2002",
                 "--quiet"]) == 0
    assert tuned.is_file() and "validation error" in capsys.readouterr().out
