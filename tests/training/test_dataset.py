"""The dataset reader and the synthetic dataset: write -> read round trip against the truth,
feeding the core, and bad inputs giving errors that name glacier, file and year."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import xarray as xr

from oggm_glaunti.core import MAX_DAYS_PER_YEAR, TIModel, TIParameters, run_year, run_years, stack_years
from oggm_glaunti.training import synthetic_dataset
from oggm_glaunti.training.dataset import (
    LAPSE_RATE, DatasetError, DatasetWarning, check_folds, read_dataset, read_glacier, read_index, split_by_fold,
)
from oggm_glaunti.training.records import SEASONS, GlacierData
from oggm_glaunti.training.synthetic_dataset import write_synthetic_dataset
from oggm_glaunti.weights import load_pretrained

NAME = "Synthetic 02"  # the glacier the corruption tests break (it has no facies.nc)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """The default synthetic dataset, noise-free, written once."""
    return write_synthetic_dataset(tmp_path_factory.mktemp("synthetic") / "dataset")


@pytest.fixture(scope="module")
def truth(dataset) -> dict:
    return json.loads((dataset / "truth.json").read_text())


@pytest.fixture(scope="module")
def glaciers(dataset) -> list[GlacierData]:
    return read_dataset(dataset)


@pytest.fixture(scope="module")
def truth_model(truth) -> TIModel:
    return TIModel(TIParameters.from_stored(truth["stored"]))


def glacier_wide_model(data: GlacierData, model) -> dict[tuple[int, str], float]:
    """Outline-weighted mean SMB per (year, season) from running all years in sequence
    (one at a time: windows touching 12 and 13 calendar months do not stack), summed
    over the season windows with both end dates in full (the observation convention)."""
    per_date, state = np.zeros(len(data.dates)), None
    for year in data.years:
        forcing = data.year_forcing(year)
        result = run_year(model, forcing, state=state, daily=True)
        state = result.final_state
        w = data.outline[data.geometry_index(year)]
        active = np.asarray(forcing.plan.active)
        steps = (np.asarray(result.daily, np.float64) * w).sum(axis=(1, 2))[active] / w.sum()
        start = int((data.windows[year].begin - data.dates[0]).astype(int))
        np.add.at(per_date, start + np.asarray(forcing.plan.day_index)[active], steps)

    def window(b, e):
        i, j = (int((d - data.dates[0]).astype(int)) for d in (b, e))
        return float(per_date[i:j + 1].sum())

    out = {}
    for year in data.years:
        w = data.windows[year]
        out[(year, "annual")] = window(w.begin, w.end)
        if w.seasonal:
            out[(year, "winter")], out[(year, "summer")] = window(w.begin, w.midseason), window(w.midseason, w.end)
    return out


# --- round trip ------------------------------------------------------------------------

def test_index_and_folds(dataset):
    index = read_index(dataset)
    assert list(index["name"]) == [f"Synthetic {i:02d}" for i in range(1, 5)]
    assert list(index["fold"]) == [0, 1, 2, 3]
    split = split_by_fold(index)
    assert split.test == ["Synthetic 01"] and split.validation == ["Synthetic 02"]
    assert split.train == ["Synthetic 03", "Synthetic 04"]
    assert split_by_fold(index, test=2, validation=3).train == ["Synthetic 01", "Synthetic 02"]
    assert [g.name for g in read_dataset(dataset, folds=[2, 3])] == split.train
    assert [g.name for g in read_dataset(dataset, folds=[3, 7])] == ["Synthetic 04"]
    with pytest.raises(DatasetError, match=r"index.csv: no glacier is in the folds \[6, 7\] asked for; "
                                           r"the folds in the index are \[0, 1, 2, 3\]"):
        read_dataset(dataset, folds=[7, 6])
    with pytest.raises(DatasetError, match=r"no glacier is in the training folds \[4, 5\] asked for; "
                                           r"the folds in the index are \[0, 1, 2, 3\]"):
        check_folds(dataset, index, [5, 4], "training")
    assert [g.name for g in read_dataset(dataset, names=["Synthetic 04"])] == ["Synthetic 04"]


def test_truth_differs_from_published(truth):
    published = load_pretrained("A").ti.constrained()._asdict()
    changed = synthetic_dataset.DEFAULT_TRUE_PARAMETERS
    assert len(changed) == len(truth["trainable"]) == 7
    for name in changed:
        ratio = truth["constrained"][name] / float(published[name])
        assert 0.1 <= abs(ratio - 1) <= 0.3, (name, ratio)


def test_shapes_dates_windows_and_counts(glaciers, truth):
    assert len(glaciers) == 4
    for g in glaciers:
        info = truth["glaciers"][g.name]
        assert g.shape == (16, 20) and g.temperature.dtype == np.float32
        assert g.precipitation.shape == g.temperature.shape and g.precipitation.dtype == np.float32
        assert g.dates[0] == np.datetime64("1989-09-01") and g.dates[-1] == np.datetime64("2005-10-31")
        assert len(g.dates) == g.temperature.shape[0]
        assert g.years == list(range(1990, 2006)) == list(g.windows)
        assert list(g.geometry_years) == g.years and g.elevation.shape == (16, 16, 20)
        seasonal = [y for y, w in g.windows.items() if w.seasonal]
        assert seasonal == info["seasonal_years"] and len(seasonal) >= 4
        for year, w in g.windows.items():  # consecutive years share their survey date
            assert w.year == year and 360 <= int((w.end - w.begin).astype(int)) <= MAX_DAYS_PER_YEAR - 1
            if year + 1 in g.windows:
                assert g.windows[year + 1].begin == w.end
        counts = pd.Series([o.season for o in g.glacier_wide]).value_counts()
        assert counts["annual"] == 16 and counts["winter"] == counts["summer"] == len(seasonal)
        # 4 annual stakes a year, 2 winter + 2 summer in seasonal years; index every 4th year.
        assert len(g.stakes) == 4 * 16 + 4 * len(seasonal)
        assert sum(s.is_index for s in g.stakes) == 4
        assert {(s.row, s.col) for s in g.stakes} == {tuple(c) for c in info["stake_cells"]}
        assert all(s.season in SEASONS and s.end > s.begin for s in g.stakes)
        assert pyproj.CRS.from_wkt(g.crs) == pyproj.CRS.from_epsg(32632)
        assert g.x.shape == (20,) and g.y.shape == (16,) and g.y[0] > g.y[-1]
    assert sorted(glaciers[0].facies_by_year) == [2003, 2004, 2005]
    assert all(not g.facies_by_year for g in glaciers[1:])


def test_temperature_is_downscaled_with_the_years_dem(dataset, glaciers):
    g = glaciers[1]
    folder = dataset / g.name
    raw = xr.load_dataset(folder / "temperature.nc")["temperature_2m"].values
    orography = xr.load_dataset(folder / "orography.nc")["elevation"].values
    elevation = xr.load_dataset(folder / "dem.nc")["z"].values
    for year in (1997, 1998):  # 1998 begins on the day 1997 ends: each uses its own DEM then
        w = g.windows[year]
        start, stop = (int((d - g.dates[0]).astype(int)) for d in (w.begin, w.end))
        expected = raw[start:stop + 1] + LAPSE_RATE * (elevation[list(g.geometry_years).index(year)] - orography)
        got = np.asarray(g.year_forcing(year).temperature)[:stop + 1 - start]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def test_observations_reproduced_by_the_truth(glaciers, truth_model):
    """Running variant A with the true parameters on the data read back reproduces the
    glacier-wide observations (written with 6 decimals); published A does not."""
    published = load_pretrained("A")
    for g in glaciers[:2]:
        model = glacier_wide_model(g, truth_model)
        obs = {(o.year, o.season): o.balance for o in g.glacier_wide}
        assert set(obs) == set(model)
        np.testing.assert_allclose([model[k] for k in obs], list(obs.values()), rtol=0, atol=2e-5)
        other = glacier_wide_model(g, published)
        assert np.mean([abs(other[k] - v) for k, v in obs.items()]) > 0.05


def test_stakes_match_their_cells(glaciers, truth_model):
    """Stake values are their cell's SMB over the stake's own dates: the generator's sums
    on the data read back reproduce them, and they are close to the cell's SMB over the
    glacier's window (dates differ by a few days)."""
    g = glaciers[0]
    years, daily, _ = synthetic_dataset._truth_run(g, truth_model)
    stakes = [s for s in g.stakes]
    sums = synthetic_dataset._point_sums(
        daily, np.array([s.begin for s in stakes]), np.array([s.end for s in stakes]),
        np.array([s.row for s in stakes]), np.array([s.col for s in stakes]), g.dates[0])
    np.testing.assert_allclose(sums, [s.balance for s in stakes], rtol=0, atol=1e-6)
    annual = [s for s in stakes if s.season == "annual"]
    window = [daily[(g.dates >= g.windows[s.year].begin) & (g.dates <= g.windows[s.year].end), s.row, s.col].sum()
              for s in annual]
    assert np.max(np.abs(np.subtract(window, [s.balance for s in annual]))) < 0.3


def test_year_forcing_feeds_the_core(glaciers, truth_model):
    g = glaciers[0]
    seasonal = next(y for y, w in g.windows.items() if w.seasonal)
    year = g.year_forcing(seasonal)
    assert year.temperature.shape == (MAX_DAYS_PER_YEAR, 16, 20)
    assert year.plan.period.max() == 1  # winter and summer
    assert g.year_forcing(seasonal, seasonal=False).plan.period.max() == 0
    assert np.all(np.asarray(year.facies) == -1)  # no facies map that year
    assert np.all(np.asarray(g.year_forcing(2004).facies) >= 0)
    # Survey dates around 1 October: windows touch 12 or 13 calendar months; years with
    # the same count stack into one sequence.
    months = {y: g.year_forcing(y).month_membership.shape[1] for y in g.years}
    assert set(months.values()) == {12, 13}
    pair = next(y for y in g.years[:-1] if months[y] == months[y + 1])
    result = run_years(truth_model, stack_years([g.year_forcing(y) for y in (pair, pair + 1)]))
    assert np.isfinite(np.asarray(result.years.period_smb)).all()


def test_writer_is_atomic_and_refuses_to_overwrite(tmp_path, monkeypatch):
    root = write_synthetic_dataset(tmp_path / "small", n_glaciers=1, years=(2000, 2001))
    with pytest.raises(FileExistsError):
        write_synthetic_dataset(root, n_glaciers=1, years=(2000, 2001))
    write_synthetic_dataset(root, n_glaciers=2, years=(2000, 2001), overwrite=True)
    assert len(read_index(root)) == 2

    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    original = synthetic_dataset._write_glacier
    monkeypatch.setattr(synthetic_dataset, "_write_glacier", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_synthetic_dataset(tmp_path / "broken", n_glaciers=2, years=(2000, 2001))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small"]  # nothing half-written


# --- bad inputs ------------------------------------------------------------------------

def copy_glacier(dataset: Path, tmp_path: Path) -> Path:
    """A dataset with only glacier NAME, copied from the shared one, to corrupt."""
    root = tmp_path / "dataset"
    shutil.copytree(dataset / NAME, root / NAME)
    index = read_index(dataset)
    index[index["name"] == NAME].to_csv(root / "index.csv", index=False)
    return root


def rewrite(path: Path, variable: str, change) -> None:
    """Apply ``change`` to one variable of a netCDF file and write it back."""
    ds = xr.load_dataset(path)
    ds[variable] = change(ds[variable])
    ds.to_netcdf(path)


def set_value(da: xr.DataArray, date: str, value: float) -> xr.DataArray:
    out = da.copy()
    out.loc[dict(time=date)] = value
    return out


def edit_csv(path: Path, year: int, **changes) -> None:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = table["year"].astype(int) == year
    for column, value in changes.items():
        table.loc[rows, column] = value
    table.to_csv(path, index=False)


def seasonal_year(folder: Path) -> int:
    table = pd.read_csv(folder / "total_smb.csv")
    return int(table["year"][table["midseason_date"].notna()].iloc[0])


def different_crs(ds_path: Path) -> None:
    ds = xr.load_dataset(ds_path)
    wkt = pyproj.CRS.from_epsg(32633).to_wkt()
    ds["spatial_ref"].attrs.update(crs_wkt=wkt, spatial_ref=wkt)
    ds.to_netcdf(ds_path)


CORRUPTIONS = {
    # name: (corrupt(folder), file named, year/date named or None)
    "missing dem": (lambda f: (f / "dem.nc").unlink(), "dem.nc", None),
    "missing total_smb": (lambda f: (f / "total_smb.csv").unlink(), "total_smb.csv", None),
    "temperature NaN": (
        lambda f: rewrite(f / "temperature.nc", "temperature_2m", lambda da: set_value(da, "1997-01-15", np.nan)),
        "temperature.nc", "1997-01-15"),
    "outline NaN": (
        lambda f: rewrite(f / "outlines.nc", "outlines",
                          lambda da: da.where(da["year"] != 1995)), "outlines.nc", "year 1995"),
    "elevation NaN": (
        lambda f: rewrite(f / "dem.nc", "z",
                          lambda da: da.where((da["year"] != 2001) | (da["x"] > da["x"][0]))),
        "dem.nc", "year 2001"),
    "crs mismatch": (lambda f: different_crs(f / "orography.nc"), "orography.nc", None),
    "grid shape": (
        lambda f: xr.load_dataset(f / "outlines.nc").isel(x=slice(0, -1)).to_netcdf(f / "outlines.nc"),
        "outlines.nc", None),
    "seasonal without midseason": (
        lambda f: edit_csv(f / "total_smb.csv", seasonal_year(f), midseason_date=""),
        "total_smb.csv", "seasonal"),
    "year outside the forcing": (
        lambda f: pd.concat([pd.read_csv(f / "total_smb.csv", dtype=str, keep_default_na=False),
                             pd.DataFrame([["2007", "2006-10-01", "", "2007-10-01", "-1.0", "", ""]],
                                          columns=pd.read_csv(f / "total_smb.csv").columns)])
        .to_csv(f / "total_smb.csv", index=False), "total_smb.csv", "year 2007"),
    "stake outside the forcing": (
        lambda f: edit_csv(f / "point_smb.csv", 2005, end_date="2006-03-01"), "point_smb.csv", "year 2005"),
    "balance in mm": (
        lambda f: edit_csv(f / "total_smb.csv", 1998, annual_balance="-850"), "total_smb.csv", "year 1998"),
    "no grid mapping": (
        lambda f: xr.load_dataset(f / "orography.nc").drop_vars("spatial_ref").to_netcdf(f / "orography.nc"),
        "orography.nc", None),
    "gap in the days": (
        lambda f: xr.load_dataset(f / "temperature.nc").drop_sel(time="1999-03-01").to_netcdf(f / "temperature.nc"),
        "temperature.nc", "1999-02-28"),
    "overlapping years": (
        lambda f: edit_csv(f / "total_smb.csv", 1994, begin_date="1993-10-15", end_date="1994-10-10",
                           midseason_date="1994-05-01"), "total_smb.csv", "year 1995"),
    "unknown balance code": (
        lambda f: edit_csv(f / "point_smb.csv", 2001, balance_code="spring"), "point_smb.csv", "year 2001"),
    "stake NaN": (lambda f: edit_csv(f / "point_smb.csv", 1999, balance="nan"), "point_smb.csv", "year 1999"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_bad_input_names_glacier_file_and_year(dataset, tmp_path, case):
    corrupt, file, year = CORRUPTIONS[case]
    root = copy_glacier(dataset, tmp_path)
    if year == "seasonal":  # the year the corruption will hit
        year = f"year {seasonal_year(root / NAME)}"
    corrupt(root / NAME)
    with pytest.raises(DatasetError) as info:
        read_glacier(root, NAME)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert f"glacier '{NAME}'" in message and file in message, message
    if year is not None:
        assert year in message, message


def test_stake_outside_the_grid(dataset, tmp_path):
    root = copy_glacier(dataset, tmp_path)
    edit_csv(root / NAME / "point_smb.csv", 2000, latitude="47.5")
    with pytest.raises(DatasetError, match=rf"glacier '{NAME}'.*point_smb.csv.*year 2000.*outside the glacier grid"):
        read_glacier(root, NAME)
    with pytest.warns(DatasetWarning, match=r"year 2000.*outside the glacier grid.*dropped"):
        g = read_glacier(root, NAME, outside_stakes="warn")
    assert 2000 not in {s.year for s in g.stakes if s.season == "annual"}


def test_index_problems(dataset, tmp_path):
    root = copy_glacier(dataset, tmp_path)
    with pytest.raises(DatasetError, match=r"glacier 'Nowhere'.*index.csv.*not listed"):
        read_glacier(root, "Nowhere")
    edit = pd.read_csv(root / "index.csv")
    edit.assign(width=21).to_csv(root / "index.csv", index=False)
    with pytest.raises(DatasetError, match=rf"glacier '{NAME}'.*index.csv.*differ from the grid"):
        read_glacier(root, NAME)
    (root / "index.csv").unlink()
    with pytest.raises(DatasetError, match=r"index.csv: the dataset index is missing"):
        read_dataset(root)
