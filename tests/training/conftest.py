"""In-memory glaciers for the training tests (tiny grids, few years, exact observations).

:func:`make_glacier` builds a :class:`GlacierData` with the package's synthetic forcing
(:mod:`oggm_glaunti.synthetic`) and observations produced by a given "true" model, so that
a perfect model has zero data loss.
"""

from __future__ import annotations

import numpy as np
import pytest

from oggm_glaunti.core import TIModel, TIParameters, run_years, stack_years
from oggm_glaunti.synthetic import glacier_geometry, synthetic_forcing
from oggm_glaunti.training.records import GlacierData, GlacierWideObs, SeasonWindow, StakeObs

#: "True" TI parameters of the synthetic glaciers (constrained), distinct from the prior.
TRUE_PARAMETERS = dict(prec_scale=1.8, ddf_snow=0.0042, ddf_relative_ice=1.9,
                       snow_to_rain_steepness=1.5, snow_to_rain_centre=1.0,
                       snow_depletion_steepness=3.0, snow_depletion_centre=0.03)
STAKE_CELLS = ((1, 2), (4, 5), (6, 8))


def true_model() -> TIModel:
    return TIModel(TIParameters.from_constrained(**TRUE_PARAMETERS))


def make_glacier(name: str = "g0", fold: int = 2, shape=(8, 10), first_year: int = 2001,
                 n_years: int = 4, seed: int = 0, model=None, offset: float = 0.0,
                 stake_shift: int = 0) -> GlacierData:
    """A synthetic glacier, hydrological year Y = 1 Oct (Y-1) .. 1 Oct Y, split 1 May.

    ``offset`` (degC) shifts the glacier's temperature (glaciers then differ); observations
    are the SMB of ``model`` (default the true TI model) over the glacier's windows; stakes
    are dated ``stake_shift`` days after the glacier dates (their values unchanged).
    """
    model = true_model() if model is None else model
    rng = np.random.default_rng(seed)
    start = np.datetime64(f"{first_year - 1}-10-01")
    stop = np.datetime64(f"{first_year + n_years - 1}-10-01")
    n = int((stop - start).astype(int)) + 1
    temperature, precipitation = synthetic_forcing(shape, n, rng, first_doy=0)
    temperature = temperature + np.float32(offset)
    elevation, outline = glacier_geometry(shape)
    years = range(first_year, first_year + n_years)
    windows = {y: SeasonWindow(y, np.datetime64(f"{y - 1}-10-01"), np.datetime64(f"{y}-10-01"),
                               np.datetime64(f"{y}-05-01")) for y in years}
    glacier = GlacierData(
        name=name, fold=fold, dates=start + np.arange(n), temperature=temperature,
        precipitation=precipitation, geometry_years=np.array([first_year]),
        elevation=elevation[None], elevation_std=np.full((1,) + shape, 10.0, np.float32),
        outline=outline[None], windows=windows)
    stacked = stack_years([glacier.year_forcing(y) for y in years])
    periods = np.asarray(run_years(model, stacked).years.period_smb)  # (n, 2, H, W)
    seasons = np.stack([periods.sum(1), periods[:, 0], periods[:, 1]], 1)
    gw, stakes = [], []
    shift = np.timedelta64(stake_shift, "D")
    for i, y in enumerate(years):
        w = windows[y]
        dates = {"annual": (w.begin, w.end), "winter": (w.begin, w.midseason),
                 "summer": (w.midseason, w.end)}
        for s, season in enumerate(("annual", "winter", "summer")):
            mean = float((seasons[i, s] * outline).sum() / outline.sum())
            gw.append(GlacierWideObs(y, season, mean))
            for r, c in STAKE_CELLS:
                b, e = dates[season]
                stakes.append(StakeObs(y, season, b + shift, e + shift, r, c, float(seasons[i, s, r, c])))
    glacier.glacier_wide = tuple(gw)
    glacier.stakes = tuple(stakes)
    return glacier


@pytest.fixture
def glacier_factory():
    return make_glacier


@pytest.fixture
def truth():
    """The true TI model of :func:`make_glacier`'s observations."""
    return true_model()


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory):
    """The other helper's synthetic dataset: 3 glaciers (folds 0, 1, 2) of 8x10 cells,
    hydrological years 1990-1997, noise-free observations of a known variant A."""
    from oggm_glaunti.training.synthetic_dataset import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("data") / "synthetic", n_glaciers=3,
                                   shape=(8, 10), years=(1990, 1997), seed=0)


@pytest.fixture(scope="session")
def synthetic_glaciers(synthetic_root):
    from oggm_glaunti.training.dataset import read_dataset

    return read_dataset(synthetic_root)
