"""The demo's OGGM workflow on Hintereisferner: GlaUnTI against OGGM's MonthlyTIModel.

Each step is an ordinary OGGM call (the demo is also a worked example): build the glacier
from OGGM's demo files, add daily climate and the GlaUnTI grid, calibrate, compare the
two models with the WGMS series, cross-validate both (split-sample), project both with a
CMIP5 scenario.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

#: The historical comparison: the WGMS years inside the HISTALP demo climate.
HISTORICAL_YEARS = (1953, 2002)
#: The projection: from the year after the outline's date (2003; OGGM's convention, as the
#: outline is often from the summer before) to 2100.
PROJECTION_YEARS = (2004, 2100)
#: OGGM's demo GCM files (CMIP5 CCSM4, RCP2.6).
GCM_FILES = ("tas_mon_CCSM4_rcp26_r1i1p1_g025.nc", "pr_mon_CCSM4_rcp26_r1i1p1_g025.nc")
GCM_SUFFIX = "_CCSM4_rcp26"

#: The two models compared, by label.
GLAUNTI, MONTHLY_TI = "GlaUnTI", "MonthlyTIModel"
#: GlaUnTI's projection with the corrector on the evolving glacier (``geometry='evolving'``).
GLAUNTI_EVOLVING = "GlaUnTI evolving"
#: The years of the evolving-geometry figure (maps: hydrological years; profiles: calendar years).
GEOMETRY_YEARS = (2030, 2050, 2099)

@dataclass
class DemoRun:
    """What the workflow produced, for the figures and the report."""

    gdir: object
    variant: str
    calibration: dict
    specific_mb: pd.DataFrame  # year x {observed, GlaUnTI, MonthlyTIModel} [+ seasonal], mm w.e.
    profiles: dict = field(default_factory=dict)  # label -> (heights m, mb mm w.e. per yr)
    skill: dict = field(default_factory=dict)  # glaunti_skill's result (split-sample)
    projection_files: dict = field(default_factory=dict)  # label -> model_diagnostics path
    gridded_file: Path | None = None
    geometry_file: Path | None = None  # glaunti_geometry.nc of the evolving projection
    geometry_profiles: dict = field(default_factory=dict)  # 'static'/'evolving' -> {year: (heights, mm w.e.)}


def _observed(gdir, years: tuple[int, int]) -> pd.DataFrame:
    ref = gdir.get_ref_mb_data().loc[years[0]:years[1]]
    columns = {"ANNUAL_BALANCE": "observed", "WINTER_BALANCE": "observed_winter",
               "SUMMER_BALANCE": "observed_summer"}
    return ref[[c for c in columns if c in ref]].rename(columns=columns).astype(float)


def compare_with_wgms(gdir, models: dict, years: tuple[int, int] = HISTORICAL_YEARS) -> pd.DataFrame:
    """Specific MB of each model on the initial flowlines against the WGMS series.

    Each model is scored on WGMS's own years: annual values are sums over the hydrological
    year (October-September in the north), not OGGM's calendar years, which would shift
    three months of winter accumulation into the wrong year. Winter and summer only where
    WGMS has them.
    """
    from ..integration.run.wgms_year import months_specific_mb, wgms_months

    fls = gdir.read_pickle("model_flowlines")
    table = _observed(gdir, years)
    seasons = (("", "annual", "observed"), ("_winter", "winter", "observed_winter"),
               ("_summer", "summer", "observed_summer"))
    for label, mb_model in models.items():
        for suffix, season, observed_column in seasons:
            observed = table.get(observed_column)
            if observed is None or not observed.notna().any():
                continue
            table[f"{label}{suffix}"] = [
                months_specific_mb(mb_model, fls, wgms_months(mb_model, int(y), season)) if np.isfinite(o) else np.nan
                for y, o in observed.items()
            ]
    return table


def mb_profiles(gdir, models: dict, years: tuple[int, int] = HISTORICAL_YEARS) -> dict:
    """Mean annual MB against elevation at the flowline points on the glacier: each model
    over the years of the WGMS profiles.

    Returns label -> (heights, mm w.e. per year); the WGMS profiles (years x elevation bins,
    mm w.e.) under the label 'WGMS'.
    """
    from oggm import cfg

    from ..integration.run.wgms_year import flowline_weights

    profile = gdir.get_ref_mb_profile()
    out = {}
    if profile is not None:
        profile = profile.loc[years[0]:years[1]]
        out["WGMS"] = profile
    profile_years = profile.index.values if profile is not None and len(profile) else np.arange(years[0], years[1] + 1)
    fls = gdir.read_pickle("model_flowlines")
    heights = np.concatenate([fl.surface_h for fl in fls])[flowline_weights(fls) > 0]  # on the glacier
    order = np.argsort(heights)
    for label, mb_model in models.items():
        rates = [mb_model.get_annual_mb(heights[order], year=int(y)) for y in profile_years]
        out[label] = (heights[order], np.mean(rates, axis=0) * cfg.SEC_IN_YEAR * cfg.PARAMS["ice_density"])
    return out


def run_demo_workflow(work_dir: Path, variant: str = "D", step: Callable[[str], None] = lambda _: None) -> DemoRun:
    """Run every OGGM step of the demo in ``work_dir``; ``step`` is told each step's name."""
    from ..integration.session.offline import prepare_salem_cache

    prepare_salem_cache()  # before salem's first import (through OGGM), which would download
    from oggm import cfg, tasks, utils
    from oggm.core.massbalance import MonthlyTIModel

    from ..integration import (GlaUnTIMassBalance, glaunti_calibrate, glaunti_model_grid,
                               hintereisferner_gdir, process_daily_from_gcm, process_daily_from_monthly)
    from ..integration.calibration.skill import glaunti_skill
    from ..integration.grid.glacier_data import glacier_calendar
    from ..integration.output.gridded_output import glaunti_gridded_smb

    step("Hintereisferner from OGGM's demo files: flowlines, MonthlyTIModel calibration, inversion")
    gdir = hintereisferner_gdir(work_dir, mb_years=HISTORICAL_YEARS)

    step("daily climate (disaggregated HISTALP) and the GlaUnTI model grid")
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)

    step(f"calibrating GlaUnTI {variant} on the WGMS series {HISTORICAL_YEARS[0]}-{HISTORICAL_YEARS[1]}")
    calibration = glaunti_calibrate(gdir, variant=variant, ref_years=HISTORICAL_YEARS)

    step(f"split-sample skill: GlaUnTI {variant} and MonthlyTIModel calibrated on one half, scored on the other")
    skill = glaunti_skill(gdir, variant=variant, ref_years=HISTORICAL_YEARS)

    step("historical specific MB of both models against WGMS")
    models = {GLAUNTI: GlaUnTIMassBalance(gdir, variant=variant), MONTHLY_TI: MonthlyTIModel(gdir)}
    specific_mb = compare_with_wgms(gdir, models)
    profiles = mb_profiles(gdir, models)

    step("GlaUnTI SMB and corrections on its grid")
    hydro_year_of = glacier_calendar(gdir.hemisphere).hydro_year_of
    glaunti_gridded_smb(gdir, ys=hydro_year_of(HISTORICAL_YEARS[0]), ye=hydro_year_of(HISTORICAL_YEARS[1]),
                        variant=variant)

    step(f"projections {PROJECTION_YEARS[0]}-{PROJECTION_YEARS[1]} with CMIP5 CCSM4 RCP2.6 (both models)")
    tasks.process_cmip_data(gdir, filesuffix=GCM_SUFFIX, fpath_temp=utils.get_demo_file(GCM_FILES[0]),
                            fpath_precip=utils.get_demo_file(GCM_FILES[1]))
    process_daily_from_gcm(gdir, input_filesuffix=GCM_SUFFIX)
    cfg.PARAMS["glaunti_variant"] = variant  # OGGM's run tasks make the model from the class alone
    projection_files = {}
    for label, mb_class in ((GLAUNTI, GlaUnTIMassBalance), (MONTHLY_TI, MonthlyTIModel)):
        suffix = f"_{label}{GCM_SUFFIX}"
        tasks.run_from_climate_data(gdir, ys=PROJECTION_YEARS[0], ye=PROJECTION_YEARS[1],
                                    climate_filename="gcm_data", climate_input_filesuffix=GCM_SUFFIX,
                                    mb_model_class=mb_class, output_filesuffix=suffix)
        projection_files[label] = Path(gdir.get_filepath("model_diagnostics", filesuffix=suffix))

    step("GlaUnTI's projection with the corrector on the evolving glacier")
    geometry_file, geometry_profiles = evolving_projection(gdir, variant)
    projection_files[GLAUNTI_EVOLVING] = Path(gdir.get_filepath("model_diagnostics",
                                                                filesuffix=f"_GlaUnTI_evolving{GCM_SUFFIX}"))
    return DemoRun(gdir=gdir, variant=variant, calibration=calibration, specific_mb=specific_mb,
                   profiles=profiles, skill=skill, projection_files=projection_files,
                   gridded_file=Path(gdir.get_filepath("glaunti_gridded_smb")),
                   geometry_file=geometry_file, geometry_profiles=geometry_profiles)


def evolving_projection(gdir, variant: str) -> tuple[Path, dict]:
    """The projection again, with ``cfg.PARAMS['glaunti_geometry'] = 'evolving'`` (the
    corrector sees the flowline glacier of each year), the geometry it saw
    (``glaunti_geometry_history``), and both GlaUnTI projections' SMB profiles in
    :data:`GEOMETRY_YEARS`, replayed from their stored geometry."""
    from oggm import cfg, tasks

    from ..integration import GlaUnTIMassBalance, glaunti_geometry_history
    from ..integration.output.geometry_history import replayed_profiles

    suffix = f"_GlaUnTI_evolving{GCM_SUFFIX}"
    cfg.PARAMS["glaunti_geometry"] = "evolving"
    try:
        tasks.run_from_climate_data(gdir, ys=PROJECTION_YEARS[0], ye=PROJECTION_YEARS[1],
                                    climate_filename="gcm_data", climate_input_filesuffix=GCM_SUFFIX,
                                    mb_model_class=GlaUnTIMassBalance, output_filesuffix=suffix)
    finally:
        cfg.PARAMS["glaunti_geometry"] = "static"
    path = Path(glaunti_geometry_history(gdir, input_filesuffix=suffix))
    profiles = {}
    for mode, run_suffix in (("static", f"_{GLAUNTI}{GCM_SUFFIX}"), ("evolving", suffix)):
        model = GlaUnTIMassBalance(gdir, filename="gcm_data", input_filesuffix=GCM_SUFFIX, variant=variant,
                                   geometry=mode)
        profiles[mode] = replayed_profiles(gdir, model, run_suffix, GEOMETRY_YEARS)
    return path, profiles
