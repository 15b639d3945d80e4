"""Bad input in a dataset of the released layout: a DatasetError naming the glacier, the
file and, where the problem has one, the year or date (issue 15)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from oggm_glaunti.training.dataset import DatasetError, read_glacier
from oggm_glaunti.training.synthetic_dataset import write_synthetic_dataset

NAME = "Synthetic 01"


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """One small glacier (8 x 8 cells, years 1990-1992) in the released layout."""
    return write_synthetic_dataset(tmp_path_factory.mktemp("clean") / "dataset", n_glaciers=1,
                                   shape=(8, 8), years=(1990, 1992))


@pytest.fixture
def dataset(clean, tmp_path):
    """A copy to corrupt."""
    return shutil.copytree(clean, tmp_path / "dataset")


def _rewrite(path, change) -> None:
    ds = xr.load_dataset(path, decode_coords="all")
    change(ds).to_netcdf(path)


def _set_day(ds: xr.Dataset, variable: str, day: str, value: float) -> xr.Dataset:
    ds[variable].loc[dict(time=day)] = value
    return ds


def _read_error(root) -> str:
    with pytest.raises(DatasetError) as info:
        read_glacier(root, NAME)
    message = str(info.value)
    assert f"glacier '{NAME}'" in message and info.value.glacier == NAME, message
    return message


@pytest.mark.parametrize("file, variable", [("temperature.nc", "temperature_2m"),
                                            ("precipitation.nc", "total_precipitation_sum"),
                                            ("orography.nc", "elevation"), ("dem.nc", "zstddev"),
                                            ("outlines.nc", "outlines")])
def test_missing_variable(dataset, file, variable):
    _rewrite(dataset / NAME / file, lambda ds: ds.drop_vars(variable))
    message = _read_error(dataset)
    assert f"{NAME}/{file}" in message and f"has no variable {variable!r}" in message, message


def test_our_former_names_are_refused(dataset):
    """One format only: the variable names of our earlier layout are not read."""
    _rewrite(dataset / NAME / "temperature.nc", lambda ds: ds.rename(temperature_2m="temperature"))
    message = _read_error(dataset)
    assert "temperature.nc" in message and "'temperature_2m'" in message and "['temperature']" in message


def test_temperature_in_kelvin(dataset):
    _rewrite(dataset / NAME / "temperature.nc", lambda ds: _set_day(ds, "temperature_2m", "1991-07-14", 285.0))
    message = _read_error(dataset)
    assert "temperature.nc, date 1991-07-14" in message and "kelvin" in message, message
    assert "subtract 273.15" in message


def test_precipitation_in_mm(dataset):
    _rewrite(dataset / NAME / "precipitation.nc",
             lambda ds: _set_day(ds, "total_precipitation_sum", "1990-11-02", 25.0))
    message = _read_error(dataset)
    assert "precipitation.nc, date 1990-11-02" in message and "looks like mm" in message, message
    assert "divide by 1000" in message


@pytest.mark.parametrize("change, words", [
    (lambda z: z * 9.80665, ["geopotential", "divided by g"]),
    (lambda z: z * 0 - 5000, ["-5000", "outside the plausible -500..9000 m"]),
], ids=["geopotential_as_height", "below_sea_level"])
def test_implausible_orography(dataset, change, words):
    """The climate's reference height is range-checked as the OGGM layer checks it."""
    def rewrite(ds):
        ds["elevation"] = ds["elevation"].copy(data=change(ds["elevation"].values))
        return ds

    _rewrite(dataset / NAME / "orography.nc", rewrite)
    message = _read_error(dataset)
    assert "orography.nc" in message and "'elevation'" in message, message
    assert all(w in message for w in words), message


def test_year_without_geometry_layer(dataset):
    for file in ("dem.nc", "outlines.nc"):
        _rewrite(dataset / NAME / file, lambda ds: ds.sel(year=[1990, 1992]))
    message = _read_error(dataset)
    assert "total_smb.csv, year 1991" in message and "no geometry layer in dem.nc" in message, message


def test_stake_outside_the_grid(dataset):
    path = dataset / NAME / "point_smb.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[table["year"] == "1992", "latitude"] = "46.9"  # ~20 km north of the grid
    table.to_csv(path, index=False)
    message = _read_error(dataset)
    assert "point_smb.csv, year 1992" in message and "outside the glacier grid" in message, message


def test_unknown_balance_code(dataset):
    path = dataset / NAME / "point_smb.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[table.index[-1], "balance_code"] = "spring"
    table.to_csv(path, index=False)
    message = _read_error(dataset)
    assert f"point_smb.csv, year {table['year'].iloc[-1]}" in message and "'spring'" in message, message


def test_clean_copy_reads(dataset):
    """The corruptions above are the only problem: the untouched copy reads."""
    glacier = read_glacier(dataset, NAME)
    assert glacier.years == [1990, 1991, 1992] and np.isfinite(glacier.temperature).all()
