"""The reader on a small dataset written BY HAND here in the released layout (xarray +
rioxarray netCDF, hand-written CSVs), independently of write_synthetic_dataset: the model
inputs it builds match values computed in this test from the same arrays."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyproj
import pytest
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr

from oggm_glaunti.core.inputs import monthly_climate, static_channels
from oggm_glaunti.training.dataset import DatasetWarning, read_dataset
from oggm_glaunti.training.targets import TAU_DAYS, build_targets, select_years

NAME = "Hand Made Ferner"  # a space, as the released names
CRS = "EPSG:32632"
H, W = 8, 10
X = 640_050.0 + 100.0 * np.arange(W)  # cell centres
Y = 5_190_950.0 - 100.0 * np.arange(H)  # north up
YEARS = np.array([1990, 1991, 1992])
DATES = np.arange(np.datetime64("1989-10-01"), np.datetime64("1992-10-02"))
# Published constants (docs/dataset_format.md, docs/weights.md), written out here on purpose.
LAPSE = -0.006
SCALES = {"elevation": 4341.383118842848, "elevation_std": 5699.1201273232155,
          "temperature": 45.744850158691406, "precipitation": 0.16851751506328583}
RELEASED_BANDS = ["ice", "snow", "debris", "firn", "shadow", "superimposed-ice", "cloud", "water", "confidence"]

TOTAL_SMB = """year,begin_date,midseason_date,end_date,annual_balance,winter_balance,summer_balance
1990,1989-10-01,,1990-10-01,-0.512,,
1991,1990-10-01,1991-05-01,1991-10-01,-0.8,1.1,-1.9
1992,1991-10-01,,1992-10-01,,,
"""
# (year, begin, end, row, col, balance, code)
STAKES = [
    (1991, "1990-10-03", "1991-09-28", 2, 3, -1.2, "annual"),
    (1991, "1990-10-01", "1991-10-01", 4, 5, -2.0, "annual"),
    (1991, "1990-09-29", "1991-05-05", 2, 3, 1.3, "winter"),
    (1991, "1991-05-01", "1991-10-01", 4, 5, -2.6, "summer"),
    (1991, "1990-10-01", "1991-10-01", 5, 6, -1.7, "index"),
    (1990, "1989-10-01", "1990-05-01", 3, 3, 0.9, "winter"),  # annual-only year: no weight
    (1992, "1991-10-05", "1992-10-01", 6, 1, -0.4, "annual"),
]


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(7)
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    base = 3300.0 - 40.0 * rows - 10.0 * cols
    outline = np.clip(1.2 - np.hypot((rows - 3.5) / 3.0, (cols - 4.5) / 3.5), 0, 1)
    facies = rng.dirichlet(np.ones(8), (H, W)).transpose(2, 0, 1)
    facies = np.concatenate([facies, rng.uniform(0.5, 1, (1, H, W))])
    facies[1, 0, 0] = np.nan  # a cloud gap: read as 0
    return {
        "t": rng.normal(-2.0, 6.0, (len(DATES), H, W)).astype(np.float32),
        "p": rng.gamma(0.5, 0.004, (len(DATES), H, W)).astype(np.float32),
        "orography": (2900.0 + 10.0 * cols + 5.0 * rows).astype(np.float32),
        "z": np.stack([base, base - 5.0, base - 12.0]).astype(np.float32),
        "zstd": np.stack([np.full((H, W), v) + rows for v in (2.0, 3.0, 4.0)]).astype(np.float32),
        "outlines": np.stack([outline, 0.95 * outline, 0.9 * outline]).astype(np.float32),
        "facies": facies.astype(np.float32),
    }


def _write(variables: dict, dims: tuple, coords: dict, path) -> None:
    xr.Dataset({k: (dims, v) for k, v in variables.items()}, coords=coords).rio.write_crs(CRS).to_netcdf(path)


@pytest.fixture(scope="module")
def root(tmp_path_factory, arrays):
    root = tmp_path_factory.mktemp("released")
    folder = root / NAME
    folder.mkdir()
    grid = {"y": Y, "x": X}
    daily = {"time": DATES.astype("datetime64[ns]"), **grid}
    annual = {"year": YEARS, **grid}
    _write({"temperature_2m": arrays["t"]}, ("time", "y", "x"), daily, folder / "temperature.nc")
    _write({"total_precipitation_sum": arrays["p"]}, ("time", "y", "x"), daily, folder / "precipitation.nc")
    _write({"elevation": arrays["orography"]}, ("y", "x"), grid, folder / "orography.nc")
    _write({"z": arrays["z"], "zstddev": arrays["zstd"]}, ("year", "y", "x"), annual, folder / "dem.nc")
    _write({"outlines": arrays["outlines"]}, ("year", "y", "x"), annual, folder / "outlines.nc")
    _write({"facies": arrays["facies"][None]}, ("year", "band", "y", "x"),
           {"year": [1991], "band": RELEASED_BANDS, **grid}, folder / "facies.nc")
    (folder / "total_smb.csv").write_text(TOTAL_SMB)
    to_lonlat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lines = ["year,begin_date,end_date,latitude,longitude,balance,balance_code"]
    for year, begin, end, r, c, balance, code in STAKES:
        lon, lat = to_lonlat.transform(X[c] + 30.0, Y[r] - 20.0)  # inside the cell, off centre
        lines.append(f"{year},{begin},{end},{lat:.8f},{lon:.8f},{balance},{code}")
    (folder / "point_smb.csv").write_text("\n".join(lines) + "\n")
    (root / "index.csv").write_text(f"name,wgms_name,fold,region,max_year,height,width\n"
                                    f"{NAME},HAND MADE F.,0,ALP,1992,{H},{W}\n")
    return root


@pytest.fixture(scope="module")
def glacier(root):
    return read_dataset(root)[0]


def _window(year):
    table = pd.read_csv(io.StringIO(TOTAL_SMB))
    row = table[table["year"] == year].iloc[0]
    return np.datetime64(row["begin_date"]), np.datetime64(row["end_date"])


@pytest.mark.parametrize("year", [1990, 1991, 1992])
def test_downscaled_temperature_and_precipitation(glacier, arrays, year):
    begin, end = _window(year)
    days = (DATES >= begin) & (DATES <= end)
    g = int(np.nonzero(YEARS == year)[0][0])
    expected = arrays["t"][days] + LAPSE * (arrays["z"][g] - arrays["orography"])
    forcing = glacier.year_forcing(year)
    n = int(days.sum())
    np.testing.assert_allclose(np.asarray(forcing.temperature)[:n], expected, rtol=0, atol=2e-5)
    np.testing.assert_array_equal(np.asarray(forcing.precipitation)[:n], arrays["p"][days])


@pytest.mark.parametrize("year", [1991, 1992])
def test_monthly_inputs(glacier, arrays, year):
    """Calendar-month means of the outline-weighted glacier means over the year's window."""
    begin, end = _window(year)
    days = (DATES >= begin) & (DATES <= end)
    g = int(np.nonzero(YEARS == year)[0][0])
    t = arrays["t"][days] + LAPSE * (arrays["z"][g] - arrays["orography"])
    weights = arrays["outlines"][g] / arrays["outlines"][g].sum()
    glacier_means = pd.DataFrame({"t": (t * weights).sum(axis=(1, 2)),
                                  "p": (arrays["p"][days] * weights).sum(axis=(1, 2))},
                                 index=pd.DatetimeIndex(DATES[days]))
    monthly = glacier_means.resample("MS").mean()
    expected = np.stack([monthly["t"] / SCALES["temperature"], monthly["p"] / SCALES["precipitation"]])
    f = glacier.year_forcing(year)
    got = monthly_climate(f.temperature, f.precipitation, f.outline, f.month_membership)
    assert got.shape == expected.shape == (2, 13)  # October to October
    np.testing.assert_allclose(np.asarray(got), expected, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("year", [1991, 1992])
def test_corrector_fields(glacier, arrays, year):
    g = int(np.nonzero(YEARS == year)[0][0])
    facies = np.nan_to_num(arrays["facies"], nan=0.0) if year == 1991 else np.full((9, H, W), -1.0)
    expected = np.concatenate([np.stack([arrays["outlines"][g], arrays["z"][g] / SCALES["elevation"],
                                         arrays["zstd"][g] / SCALES["elevation_std"]]), facies])
    f = glacier.year_forcing(year)
    got = static_channels(f.outline, f.elevation, f.elevation_std, f.facies)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-7)


def test_stake_cells_codes_and_weights(glacier):
    assert [(s.year, s.row, s.col, s.season, s.is_index, s.balance) for s in glacier.stakes] == [
        (y, r, c, "annual" if code == "index" else code, code == "index", b)
        for y, _, _, r, c, b, code in STAKES]
    with pytest.warns(DatasetWarning, match="1 winter/summer observation"):
        targets = build_targets(glacier, select_years(glacier, spinup_years=0))

    # The loss (Maslov et al., egusphere-2026-515): Gaussian date weights against the glacier's season dates, normalised
    # per season over the scored records; index readings and a winter reading in an
    # annual-only year get none.
    windows = {1990: ("1989-10-01", None, "1990-10-01"), 1991: ("1990-10-01", "1991-05-01", "1991-10-01"),
               1992: ("1991-10-01", None, "1992-10-01")}
    raw = []
    for year, begin, end, r, c, _, code in STAKES:
        b0, m, e0 = windows[year]
        if code == "index" or (code != "annual" and m is None):
            continue
        gb, ge = {"annual": (b0, e0), "winter": (b0, m), "summer": (m, e0)}[code]
        days = lambda a, b: (np.datetime64(a) - np.datetime64(b)).astype(int)  # noqa: E731
        weight = np.exp(-(days(begin, gb) / TAU_DAYS) ** 2) * np.exp(-(days(end, ge) / TAU_DAYS) ** 2)
        raw.append((year, r * W + c, code, weight))
    totals = {s: sum(w for _, _, code, w in raw if code == s) for s in ("annual", "winter", "summer")}
    expected = sorted((y, cell, w / totals[code]) for y, cell, code, w in raw)
    got = sorted((int(YEARS[i]), int(targets.stake_cell[i, k]), float(targets.stake_weight[i, k]))
                 for i, k in zip(*np.nonzero(targets.stake_weight)))
    assert [e[:2] for e in got] == [e[:2] for e in expected]
    np.testing.assert_allclose([e[2] for e in got], [e[2] for e in expected], rtol=1e-6)
    np.testing.assert_allclose(targets.gw_obs[:2], [[-0.512, 0, 0], [-0.8, 1.1, -1.9]], rtol=1e-6)
    assert not targets.gw_weight[2].any()  # 1992: dates only


def test_grid_and_crs(glacier):
    assert glacier.shape == (H, W)
    assert pyproj.CRS.from_wkt(glacier.crs) == pyproj.CRS.from_user_input(CRS)
    np.testing.assert_array_equal(glacier.x, X)
    np.testing.assert_array_equal(glacier.y, Y)
    assert list(glacier.windows) == [1990, 1991, 1992] and glacier.windows[1991].seasonal
    assert not glacier.windows[1990].seasonal
