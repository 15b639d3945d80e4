"""A small synthetic dataset folder in the released layout, with a known truth.

:func:`write_synthetic_dataset` writes a handful of small idealised glaciers in the layout of
the released GlaUnTI dataset (``docs/dataset_format.md``; file and variable names, no
``units`` attributes, the CRS as rioxarray writes it), so every test that trains on it
exercises the real format: daily forcing at the climate's orography height, annual DEMs and
outlines, and observations produced by the
TI model (variant A) run with a known "true" parameter set, recorded in ``truth.json``.

How the observations are made (per glacier):

- the in-memory :class:`~oggm_glaunti.training.records.GlacierData` is built as the reader
  builds it (temperature at the orography, downscaled per year), and all its years run in
  sequence from a fresh state,
  the state carried from year to year;
- glacier-wide: the outline-weighted mean daily SMB summed over the year's season windows
  (annual every year; winter and summer, with a midseason date, in about half of the years);
- stakes: a few on-glacier cells with their own dates (a few days off the glacier's), whose
  balance is the cell's daily SMB of that same run summed over the stake's dates; one cell's
  annual record is coded "index" every fourth year;
- windows as the published evaluation reads them (:mod:`oggm_glaunti.observation_operators`:
  both end dates included, a date shared by two periods counted once in full), so that
  :func:`~oggm_glaunti.training.evaluate.evaluate` scores the truth exactly;
- optional Gaussian noise (``noise`` m w.e., seeded) is added to every observation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Optional

import numpy as np
import pandas as pd
import pyproj
import rioxarray  # noqa: F401  (registers the .rio accessor: the CRS as the released files carry it)
import xarray as xr

from ..atomic import atomic_folder
from ..core import MAX_DAYS_PER_YEAR, TIModel, TIParameters, run_year
from ..core.parameters import PRIOR_CONSTRAINED, TRAINABLE_NAMES
from ..dataset_layout import (
    DEM_FILE, ELEVATION_STD_VAR, ELEVATION_VAR, FACIES_BAND_LABELS, FACIES_FILE, FACIES_VAR, INDEX_FILE,
    LAPSE_RATE, OROGRAPHY_FILE, OROGRAPHY_VAR, OUTLINE_FILE, OUTLINE_VAR, POINT_SMB_FILE,
    PRECIPITATION_FILE, PRECIPITATION_VAR, TEMPERATURE_FILE, TEMPERATURE_VAR, TOTAL_SMB_FILE,
)
from ..hydro_calendar import day_of_year
from ..observation_operators import glacier_mean, window_sum
from ..synthetic import glacier_geometry
from .records import GlacierData, SeasonWindow

#: The true constrained TI parameters: each 15-25 % off the published variant A values.
DEFAULT_TRUE_PARAMETERS: dict[str, float] = {
    "prec_scale": 1.15,                # published 1.3822
    "ddf_snow": 0.0059,                # 0.004964
    "ddf_relative_ice": 1.80,          # 1.5063
    "snow_to_rain_steepness": 1.25,    # 1.5163
    "snow_to_rain_centre": 1.20,       # 0.9870
    "snow_depletion_steepness": 2.50,  # 2.9614
    "snow_depletion_centre": 0.036,    # 0.030388
}
CRS = "EPSG:32632"  # UTM 32N: the Alps
CELL_SIZE = 100.0  # m
N_STAKE_CELLS = 4


def _dates(first_year: int, last_year: int) -> np.ndarray:
    """Forcing days: 1 September before the first hydrological year to 31 October after
    the last, so that survey dates a few days off 1 October stay inside."""
    return np.arange(np.datetime64(f"{first_year - 1}-09-01"), np.datetime64(f"{last_year}-11-01"))


def _windows(rng: np.random.Generator, years: np.ndarray) -> dict[int, SeasonWindow]:
    """Survey dates from 26 September to 4 October shared by consecutive years (as a
    glaciological survey), never spanning more than MAX_DAYS_PER_YEAR days; a midseason date
    near 1 May in about half of the years.

    Windows touch 12 or 13 calendar months (both occur): the first survey is in October,
    and once in September the surveys stay there (September to October would touch 14).
    """
    shift = [int(rng.integers(5, 9))]  # days after 26 September (5 = 1 October)
    for year in years:
        base = int((np.datetime64(f"{year}-09-26") - np.datetime64(f"{year - 1}-09-26")).astype(int))
        longest = shift[-1] + (MAX_DAYS_PER_YEAR - 1) - base  # keeps end - begin <= 366
        highest = min(8 if shift[-1] >= 5 else 4, longest)
        # Surveys can only creep later (a year is at most 367 days) but may jump earlier.
        shift.append(int(np.clip(shift[-1] + rng.choice([-3, -1, 0, 1, 1, 1]), 0, highest)))
    bounds = [np.datetime64(f"{y - 1}-09-26") + s for y, s in zip(list(years) + [years[-1] + 1], shift)]
    seasonal = rng.random(len(years)) < 0.5
    seasonal[1::4] = True  # at least every fourth year
    return {
        int(y): SeasonWindow(int(y), bounds[i], bounds[i + 1],
                             np.datetime64(f"{y}-05-01") + int(rng.integers(-10, 11)) if seasonal[i] else None)
        for i, y in enumerate(years)
    }


def _geometry(i: int, shape: tuple[int, int], n_years: int, rng: np.random.Generator):
    """Annual elevation (thinning most at the tongue), uncertainty and shrinking soft outlines."""
    top, bottom = 3400.0 + 100.0 * i, 2500.0 + 100.0 * i
    elevation0, _ = glacier_geometry(shape, top=top, bottom=bottom)
    t = np.arange(n_years, dtype=np.float32)[:, None, None]
    elevation = elevation0[None] - 0.8 * t * (top - elevation0[None]) / (top - bottom)
    elevation_std = 3.0 + 6.0 * rng.random((n_years,) + shape)
    rows, cols = np.meshgrid(np.linspace(-1, 1, shape[0]), np.linspace(-1, 1, shape[1]), indexing="ij")
    shrink = 1.0 - 0.01 * t
    radius = np.sqrt((rows / (0.9 * shrink)) ** 2 + (cols / (0.7 * shrink)) ** 2)
    outline = np.clip((1.0 - radius) / 0.15 + 0.5, 0.0, 1.0)  # fractional edge cells
    orography = (2900.0 + 100.0 * i + 40.0 * cols - 25.0 * rows).astype(np.float32)
    return [a.astype(np.float32) for a in (elevation, elevation_std, outline)] + [orography]


def _climate(i: int, dates: np.ndarray, orography: np.ndarray, rng: np.random.Generator):
    """Daily temperature (degC at the orography height) and precipitation (m w.e./day)."""
    n = len(dates)
    hydro_doy = day_of_year(dates) + 92.0  # 0 = 1 Oct
    hydro_doy = np.mod(hydro_doy, 365.25)[:, None, None]
    seasonal_cycle = -8.0 * np.cos(2 * np.pi * (hydro_doy - 100) / 365.25)  # coldest ~8 Jan
    t_3000 = -4.8 + 0.3 * i + seasonal_cycle + 3.0 * rng.standard_normal((n, 1, 1))
    temperature = t_3000 + LAPSE_RATE * (orography[None] - 3000.0)
    wet = rng.random((n, 1, 1)) < 0.45
    amount = wet * rng.gamma(0.8, 0.011, (n, 1, 1))
    gradient = 1.0 + 0.05 * np.linspace(-1, 1, orography.shape[1])[None, None, :]
    precipitation = np.broadcast_to(amount * gradient, (n,) + orography.shape)
    return temperature.astype(np.float32), np.ascontiguousarray(precipitation, np.float32)


def _truth_run(data: GlacierData, model: TIModel):
    """Per-date daily SMB (n_dates, H, W) of one run and its outline-weighted glacier mean
    (n_dates,), each year's steps weighted with that year's outline.

    Years run one at a time with the state carried: windows touching 12 and 13 calendar
    months do not stack into one sequence (one compilation per month count serves all).
    """
    years = sorted(data.windows)
    daily = np.zeros(data.temperature.shape, np.float64)
    glacier_wide = np.zeros(len(daily), np.float64)
    state = None
    for year in years:
        forcing = data.year_forcing(year)
        result = run_year(model, forcing, state=state, daily=True)
        state = result.final_state
        # Steps are already weighted (a shared boundary day counts half in each year):
        # adding them onto their dates gives each date's SMB.
        start = int((data.windows[year].begin - data.dates[0]).astype(int))
        active = np.asarray(forcing.plan.active)
        steps = np.asarray(result.daily, np.float64)[active]
        dates = start + np.asarray(forcing.plan.day_index)[active]
        np.add.at(daily, dates, steps)
        np.add.at(glacier_wide, dates, glacier_mean(steps, np.asarray(forcing.outline)))
    return years, daily, glacier_wide


def _point_sums(daily: np.ndarray, begin: np.ndarray, end: np.ndarray, row: np.ndarray, col: np.ndarray,
                first: np.datetime64) -> np.ndarray:
    """Sum of each stake cell's daily SMB over its own dates (see the module docstring)."""
    return np.array([window_sum(daily[:, r, c], first, b, e) for b, e, r, c in zip(begin, end, row, col)])


def _stake_records(rng, data: GlacierData, daily: np.ndarray, cells: np.ndarray) -> pd.DataFrame:
    records = []
    first, last = data.dates[0], data.dates[-1]
    for year, w in data.windows.items():
        seasons = [("annual", w.begin, w.end, range(len(cells)))]
        if w.seasonal:
            seasons += [("winter", w.begin, w.midseason, range(2)), ("summer", w.midseason, w.end, range(2))]
        for season, b, e, which in seasons:
            for c in which:
                sb = max(first, b + int(rng.integers(-4, 5)))
                se = min(last, e + int(rng.integers(-4, 5)), sb + (MAX_DAYS_PER_YEAR - 1))
                index = season == "annual" and c == 0 and (year - min(data.windows)) % 4 == 0
                records.append((year, season, sb, se, c, int(index)))
    table = pd.DataFrame(records, columns=["year", "season", "begin", "end", "cell", "is_index"])
    rows, cols = cells[table["cell"], 0], cells[table["cell"], 1]
    table["balance"] = _point_sums(daily, table["begin"].to_numpy().astype("datetime64[D]"),
                                   table["end"].to_numpy().astype("datetime64[D]"), rows, cols, first)
    # Stake positions: somewhere inside the cell (not its centre), as lat/lon.
    x = data.x[cols] + CELL_SIZE * rng.uniform(-0.3, 0.3, len(table))
    y = data.y[rows] + CELL_SIZE * rng.uniform(-0.3, 0.3, len(table))
    lon, lat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    table["latitude"], table["longitude"] = lat, lon
    return table


def _grid_dataset(variables: dict[str, np.ndarray], dims: tuple[str, ...], coords: dict) -> xr.Dataset:
    """Variables on the grid, float32, no ``units`` attribute (as released), CRS by rioxarray."""
    ds = xr.Dataset({name: xr.DataArray(values.astype(np.float32), dims=dims, coords=coords)
                     for name, values in variables.items()})
    return ds.rio.write_crs(CRS)


def _write_glacier(folder: Path, i: int, shape: tuple[int, int], years: np.ndarray, model: TIModel,
                   noise: float, rng: np.random.Generator) -> dict:
    dates = _dates(int(years[0]), int(years[-1]))
    x = 600_000.0 + 5_000.0 * i + CELL_SIZE * (np.arange(shape[1]) + 0.5)
    y = 5_200_000.0 + 3_000.0 * i - CELL_SIZE * (np.arange(shape[0]) + 0.5)  # north up
    elevation, elevation_std, outline, orography = _geometry(i, shape, len(years), rng)
    t_orography, precipitation = _climate(i, dates, orography, rng)
    windows = _windows(rng, years)
    data = GlacierData(folder.name, None, dates, t_orography, precipitation, years, elevation,
                       elevation_std, outline, windows, x=x, y=y, orography=orography)

    obs_years, daily, glacier_wide = _truth_run(data, model)
    seasonal = np.array([windows[y].seasonal for y in obs_years])
    means = np.array([[window_sum(glacier_wide, dates[0], *bounds) if None not in bounds else np.nan
                       for bounds in ((w.begin, w.end), (w.begin, w.midseason), (w.midseason, w.end))]
                      for w in (windows[y] for y in obs_years)])
    means = means + noise * rng.standard_normal(means.shape)  # noise on each measured balance
    total = pd.DataFrame({
        "year": obs_years,
        "begin_date": [str(windows[y].begin) for y in obs_years],
        "midseason_date": [str(windows[y].midseason) if windows[y].seasonal else "" for y in obs_years],
        "end_date": [str(windows[y].end) for y in obs_years],
        "annual_balance": means[:, 0],
        "winter_balance": np.where(seasonal, means[:, 1], np.nan),
        "summer_balance": np.where(seasonal, means[:, 2], np.nan),
    })
    inside = np.argwhere(outline.min(axis=0) >= 1.0)  # on the glacier in every year
    cells = inside[rng.choice(len(inside), N_STAKE_CELLS, replace=False)]
    stakes = _stake_records(rng, data, daily, cells)
    stakes["balance"] += noise * rng.standard_normal(len(stakes))

    grid = {"y": y, "x": x}
    annual = {"year": years, **grid}
    daily = {"time": dates.astype("datetime64[ns]"), **grid}
    folder.mkdir()
    _grid_dataset({TEMPERATURE_VAR: t_orography}, ("time", "y", "x"), daily).to_netcdf(folder / TEMPERATURE_FILE)
    _grid_dataset({PRECIPITATION_VAR: precipitation}, ("time", "y", "x"), daily).to_netcdf(
        folder / PRECIPITATION_FILE)
    _grid_dataset({OROGRAPHY_VAR: orography}, ("y", "x"), grid).to_netcdf(folder / OROGRAPHY_FILE)
    _grid_dataset({ELEVATION_VAR: elevation, ELEVATION_STD_VAR: elevation_std}, ("year", "y", "x"),
                  annual).to_netcdf(folder / DEM_FILE)
    _grid_dataset({OUTLINE_VAR: outline}, ("year", "y", "x"), annual).to_netcdf(folder / OUTLINE_FILE)
    if i == 0:  # facies maps for the last three years of the first glacier only (they are optional)
        n = min(3, len(years))
        probabilities = rng.dirichlet(np.ones(len(FACIES_BAND_LABELS) - 1), (n,) + shape).transpose(0, 3, 1, 2)
        facies = np.concatenate([probabilities, rng.uniform(0.5, 1.0, (n, 1) + shape)], axis=1)
        _grid_dataset({FACIES_VAR: facies}, ("year", "band", "y", "x"),
                      {"year": years[-n:], "band": list(FACIES_BAND_LABELS), **grid}).to_netcdf(folder / FACIES_FILE)
    total.to_csv(folder / TOTAL_SMB_FILE, index=False, float_format="%.6f")
    pd.DataFrame({
        "year": stakes["year"], "stake_id": [f"S{c}" for c in stakes["cell"]],
        "begin_date": stakes["begin"].astype(str), "end_date": stakes["end"].astype(str),
        "latitude": stakes["latitude"], "longitude": stakes["longitude"], "balance": stakes["balance"],
        "balance_code": np.where(stakes["is_index"].astype(bool), "index", stakes["season"]),
    }).to_csv(folder / POINT_SMB_FILE, index=False, float_format="%.9f")
    return {"stake_cells": cells.tolist(), "seasonal_years": [y for y in obs_years if windows[y].seasonal]}


def write_synthetic_dataset(
    root: str | os.PathLike,
    n_glaciers: int = 4,
    shape: tuple[int, int] = (16, 20),
    years: tuple[int, int] = (1990, 2005),
    seed: int = 0,
    true_parameters: Optional[Mapping[str, float]] = None,
    noise: float = 0.0,
    overwrite: bool = False,
) -> Path:
    """Write a synthetic dataset folder in the released layout and its truth.

    Parameters
    ----------
    root : the folder to create. It is written under a temporary name beside it and renamed
        at the end, so an interrupted call leaves no half-written dataset.
    n_glaciers : number of glaciers; glacier ``i`` is named ``"Synthetic NN"`` (NN = i + 1)
        and gets fold ``i % 6``, so that 3 or more glaciers give test (0), validation (1)
        and training (2-5) folds.
    shape : (H, W) cells of every glacier's grid (100 m cells, UTM 32N).
    years : first and last hydrological year (WGMS labels: year Y ends in autumn Y).
    seed : seeds everything (forcing, dates, stakes, noise).
    true_parameters : constrained TI values (names of
        :data:`~oggm_glaunti.core.PRIOR_CONSTRAINED`) overriding
        :data:`DEFAULT_TRUE_PARAMETERS`.
    noise : standard deviation (m w.e.) of the Gaussian noise added to every observation.
    overwrite : replace an existing ``root``.

    Returns
    -------
    The dataset folder's path. ``truth.json`` inside records the true parameters (constrained
    and stored), the settings, and each glacier's stake cells and seasonal years.
    """
    root = Path(root)
    if n_glaciers < 1 or years[1] < years[0] or min(shape) < 8:
        raise ValueError(f"need n_glaciers >= 1, years[0] <= years[1] and a grid of at least 8 x 8 cells; "
                         f"got n_glaciers={n_glaciers}, years={years}, shape={shape}")
    values = {**DEFAULT_TRUE_PARAMETERS, **dict(true_parameters or {})}
    parameters = TIParameters.from_constrained(**values)  # also rejects unknown names
    model = TIModel(parameters)
    all_years = np.arange(years[0], years[1] + 1)
    shape = (int(shape[0]), int(shape[1]))

    with atomic_folder(root, overwrite=overwrite) as folder:  # refuses an existing root unless overwrite
        tmp = Path(folder)
        names, glaciers = [], {}
        for i in range(n_glaciers):
            names.append(f"Synthetic {i + 1:02d}")
            rng = np.random.default_rng([seed, i])
            glaciers[names[-1]] = _write_glacier(tmp / names[-1], i, shape, all_years, model, noise, rng)
        pd.DataFrame({
            "name": names, "wgms_name": [n.upper() for n in names], "fold": [i % 6 for i in range(n_glaciers)],
            "region": "SYN", "max_year": years[1], "height": shape[0], "width": shape[1],
        }).to_csv(tmp / INDEX_FILE, index=False)
        truth = {
            "variant": "A",
            "constrained": {**{k: float(v) for k, v in PRIOR_CONSTRAINED.items()
                               if "softplus" in k}, **{k: float(v) for k, v in values.items()}},
            "stored": {k: v for k, v in parameters.as_stored_dict().items()},
            "trainable": list(TRAINABLE_NAMES),
            "noise": noise, "seed": seed, "years": list(years), "shape": list(shape),
            "lapse_rate": LAPSE_RATE, "crs": CRS, "glaciers": glaciers,
        }
        (tmp / "truth.json").write_text(json.dumps(truth, indent=2, default=int))
    return root
