"""The chain of a region's glacier, for ``oggm-glaunti region`` and the benchmarks.

A glacier arrives with OGGM's preprocessing done (outline, flowlines, monthly climate;
:func:`prepare_oetztal` for the Ötztal sample). Its chain for one model
(:func:`model_chain`; ``MonthlyTIModel``, or GlaUnTI variant ``A``, ``C`` or ``D``):

1. GlaUnTI only: daily climate (disaggregated monthly climate), the model grid;
2. calibration on one mean per glacier (:func:`region_calibrate_on_mean`): the glacier's
   own WGMS annual mean over the reference years where it has at least
   :data:`MIN_WGMS_YEARS` of them, else the regional mean, as a geodetic-style mean — the
   regional use, where a glacier has one geodetic mean or none;
3. inversion with the model's apparent mass balance, the model flowlines;
4. dynamic spin-up from 1979 to the end of the climate (:func:`region_dynamic_spinup`);
5. the projection to 2100 from the spin-up's end on the CMIP5 CCSM4 RCP2.6 demo files
   (bias-corrected to the glacier's climate; daily for GlaUnTI).

:func:`cheap_chain` is the short version the tests and the memory benchmark run (GlaUnTI:
daily climate, grid, calibration on 2004-2010, gridded SMB of two years, a 6-year run;
MonthlyTIModel: the calibration and the run).
Each model runs in its own working directory (:func:`copy_glaciers`): OGGM's inversion
files are not suffixed per model.
"""
from __future__ import annotations

import logging
import os
import shutil
from typing import Sequence

from oggm import cfg, tasks, utils

from ..session.params import register_file_keys
from .chain_defaults import (CHEAP_SUFFIX, CHEAP_YEARS, GCM_FILES, GCM_SUFFIX, MIN_WGMS_YEARS,  # noqa: F401
                             MONTHLY_TI, PROJECTION_END, REF_YEARS, SPINUP_START, SPINUP_SUFFIX)

log = logging.getLogger(__name__)

register_file_keys()


def model_label(model: str) -> str:
    """``MonthlyTIModel`` or ``GlaUnTI <variant>``."""
    return model if model == MONTHLY_TI else f"GlaUnTI {model}"


def _check_model(model: str) -> str:
    if model != MONTHLY_TI and model not in ("A", "C", "D"):
        raise ValueError(f"model must be {MONTHLY_TI!r} or a GlaUnTI variant 'A', 'C' or 'D'; got {model!r}")
    return model


def glacier_reference_mean(gdir, ref_years: tuple[int, int], regional_mean: float,
                           min_years: int = MIN_WGMS_YEARS) -> tuple[float, str]:
    """The glacier's calibration mean (kg m-2 yr-1) over ``ref_years`` (inclusive) and its
    source: its own WGMS annual mean with at least ``min_years`` values, else the regional mean."""
    links, _ = utils.get_wgms_files()
    if gdir.rgi_id in set(links["RGI50_ID"]):
        annual = gdir.get_ref_mb_data()["ANNUAL_BALANCE"].loc[ref_years[0]:ref_years[1]].dropna()
        if len(annual) >= min_years:
            return float(annual.mean()), f"WGMS ({len(annual)} years)"
    return float(regional_mean), "regional mean"


@utils.entity_task(log, writes=["mb_calib"])
def region_calibrate_on_mean(gdir, *, model: str, regional_mean: float,
                             ref_years: tuple[int, int] = REF_YEARS, min_wgms_years: int = MIN_WGMS_YEARS):
    """Calibrate ``model`` on one mean per glacier (see :func:`glacier_reference_mean`).

    ``MonthlyTIModel``: OGGM's ``mb_calibration_from_scalar_mb`` (``melt_f``, then
    ``temp_bias``); GlaUnTI: ``glaunti_calibrate`` on the mean as a geodetic mean.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
    model : str
        ``'MonthlyTIModel'`` or a GlaUnTI variant (``'A'``, ``'C'``, ``'D'``).
    regional_mean : float
        kg m-2 yr-1 over ``ref_years``, for glaciers without enough WGMS years.
    ref_years : (int, int)
        first and last year of the mean.
    min_wgms_years : int
        fewer own WGMS annual balances in ``ref_years``: the regional mean.

    Returns
    -------
    the calibration dict.
    """
    mean, source = glacier_reference_mean(gdir, ref_years, regional_mean, min_wgms_years)
    y0, y1 = ref_years
    log.info("(%s) calibrating %s on %.0f kg m-2 yr-1 (%s)", gdir.rgi_id, model, mean, source)
    if _check_model(model) == MONTHLY_TI:
        return tasks.mb_calibration_from_scalar_mb.unwrapped(
            gdir, ref_mb=mean, ref_period=f"{y0}-01-01_{y1 + 1}-01-01", overwrite_gdir=True,
            calibrate_param2="temp_bias")
    from ..calibration.task import glaunti_calibrate

    return glaunti_calibrate.unwrapped(gdir, variant=model, use_wgms=False, geodetic=(y0, y1 + 1, mean))


@utils.entity_task(log, writes=["model_geometry", "model_diagnostics"])
def region_dynamic_spinup(gdir, *, model: str, spinup_start_yr: int = SPINUP_START,
                          output_filesuffix: str = SPINUP_SUFFIX):
    """OGGM's ``run_dynamic_spinup`` (area matched at the outline's date) with ``model`` as
    the historical mass balance, from ``spinup_start_yr`` to the end of the climate.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
    model : str
        ``'MonthlyTIModel'`` or a GlaUnTI variant.
    spinup_start_yr : int
        first year of the spin-up.
    output_filesuffix : str
        suffix of the run's files.
    """
    from oggm.core.massbalance import MultipleFlowlineMassBalance

    historical = None
    if _check_model(model) != MONTHLY_TI:
        from ..run.massbalance import GlaUnTIMassBalance

        historical = MultipleFlowlineMassBalance(gdir, mb_model_class=GlaUnTIMassBalance,
                                                 use_inversion_flowlines=True, variant=model)
    ye = gdir.get_climate_info()["baseline_yr_1"] + 1
    return tasks.run_dynamic_spinup.unwrapped(gdir, spinup_start_yr=spinup_start_yr, ye=ye,
                                              mb_model_historical=historical, minimise_for="area",
                                              output_filesuffix=output_filesuffix)


def _mb_class(model: str) -> dict:
    if model == MONTHLY_TI:
        return {}
    from ..run.massbalance import GlaUnTIMassBalance

    return {"mb_model_class": GlaUnTIMassBalance}


def model_chain(model: str, regional_mean: float, ref_years: tuple[int, int] = REF_YEARS,
                gcm_files: Sequence[str] | None = None) -> list:
    """The full chain of one glacier for ``model`` (see the module docstring), as OGGM
    ``(task, kwargs)`` steps; ``gcm_files``: monthly CMIP temperature and precipitation files
    (default :data:`GCM_FILES` of OGGM's demo files). GlaUnTI's variant is also read from
    ``cfg.PARAMS['glaunti_variant']`` by OGGM's tasks: set it to ``model`` before the run."""
    from ..climate.climate_daily import process_daily_from_gcm, process_daily_from_monthly
    from ..grid.model_grid import glaunti_model_grid

    temp, precip = gcm_files or [utils.get_demo_file(name) for name in GCM_FILES]
    glaunti = _check_model(model) != MONTHLY_TI
    mb = _mb_class(model)
    steps = [(process_daily_from_monthly, {}), (glaunti_model_grid, {})] if glaunti else []
    steps += [
        (region_calibrate_on_mean, dict(model=model, regional_mean=regional_mean, ref_years=ref_years)),
        (tasks.apparent_mb_from_any_mb, dict(mb_years=ref_years, **mb)),
        (tasks.prepare_for_inversion, {}),
        (tasks.mass_conservation_inversion, {}),
        (tasks.filter_inversion_output, {}),
        (tasks.init_present_time_glacier, {}),
        (region_dynamic_spinup, dict(model=model)),
        (tasks.process_cmip_data, dict(filesuffix=GCM_SUFFIX, fpath_temp=temp, fpath_precip=precip)),
    ]
    if glaunti:
        steps.append((process_daily_from_gcm, dict(input_filesuffix=GCM_SUFFIX)))
    steps.append((tasks.run_from_climate_data, dict(
        climate_filename="gcm_data", climate_input_filesuffix=GCM_SUFFIX, init_model_filesuffix=SPINUP_SUFFIX,
        ye=PROJECTION_END, output_filesuffix=GCM_SUFFIX, **mb)))
    return steps


def cheap_chain(model: str, regional_mean: float, years: tuple[int, int] = CHEAP_YEARS) -> list:
    """The short chain of one glacier for ``model``: (GlaUnTI: daily climate, grid,)
    calibration on ``years``, (GlaUnTI: gridded SMB of the first two years,) a run over
    ``years`` (output suffix ``CHEAP_SUFFIX``)."""
    from ..climate.climate_daily import process_daily_from_monthly
    from ..grid.model_grid import glaunti_model_grid
    from ..output.gridded_output import glaunti_gridded_smb

    y0, y1 = years
    calibrate = (region_calibrate_on_mean, dict(model=_check_model(model), regional_mean=regional_mean,
                                                ref_years=years))
    run = (tasks.run_from_climate_data, dict(ys=y0, ye=y1, output_filesuffix=CHEAP_SUFFIX, **_mb_class(model)))
    if model == MONTHLY_TI:
        return [calibrate, run]
    return [(process_daily_from_monthly, {}), (glaunti_model_grid, {}), calibrate,
            (glaunti_gridded_smb, dict(ys=y0, ye=y0 + 1, variant=model)), run]


def regional_mean(ref_years: tuple[int, int] = REF_YEARS) -> float:
    """The Ötztal glaciers' regional WGMS mean over ``ref_years`` (kg m-2 yr-1)."""
    import geopandas as gpd

    from ..session.sample_glaciers import _demo, wgms_mean_balance

    ids = gpd.read_file(_demo("rgi_oetztal.shp")).RGIId
    return wgms_mean_balance(sorted({i.split("_")[0] for i in ids}), ref_years)


def prepare_oetztal(working_dir: str | os.PathLike, rgi_ids: Sequence[str] | None = None, **params) -> list:
    """The Ötztal sample glaciers with OGGM's preprocessing (flowlines, monthly climate,
    MonthlyTIModel calibration and inversion; :func:`~.sample_glaciers.oetztal_gdirs`),
    initialising OGGM in ``working_dir``; largest first."""
    from ..session.sample_glaciers import oetztal_gdirs

    gdirs = oetztal_gdirs(working_dir, rgi_ids=rgi_ids, **params)
    return sorted(gdirs, key=lambda g: -g.rgi_area_km2)


def copy_glaciers(gdirs: Sequence, working_dir: str | os.PathLike) -> list:
    """Copies of the glacier directories in another working directory (created), which
    becomes ``cfg.PATHS['working_dir']``; existing copies are kept as they are."""
    working_dir = os.path.abspath(os.fspath(working_dir))
    base = os.path.join(working_dir, "per_glacier")
    copies = []
    for gdir in gdirs:
        target = os.path.join(base, os.path.relpath(gdir.dir, gdir.base_dir))
        if not os.path.isdir(target):
            shutil.copytree(gdir.dir, target)
        copies.append(utils.GlacierDirectory(gdir.rgi_id, base_dir=base))
    cfg.PATHS["working_dir"] = working_dir
    return copies
