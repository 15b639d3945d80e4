"""Ready-made OGGM glacier directories from OGGM's sample data.

Hintereisferner and the 20 Ötztal glaciers of OGGM's test workflow, built
from files of the ``oggm-sample-data`` repository only (no download), for
tests, examples and demos. See :mod:`oggm_glaunti.integration.session.offline` for how
the sample data are found offline; with a network OGGM downloads them.

OGGM is imported inside the functions (see :mod:`.offline` for why).
"""
from __future__ import annotations

import logging
import os
from typing import Any, Sequence

from .offline import initialize_oggm

log = logging.getLogger(__name__)

HEF_RGI_ID = 'RGI50-11.00897'


def _demo(fname: str) -> str:
    """``utils.get_demo_file`` that raises instead of returning None."""
    from oggm import cfg, utils

    path = utils.get_demo_file(fname)
    if path is None:
        raise FileNotFoundError(
            f'{fname} is not in OGGM\'s sample data under {cfg.CACHE_DIR}: '
            'check that the oggm-sample-data folder is complete.')
    return path


def _configure(working_dir, initialize: bool, dem: str, climate: str,
               border: int, prcp_fac: float, params: dict):
    """Initialise OGGM (optionally) and set the custom-data settings."""
    if initialize:
        initialize_oggm(working_dir, **params)
    from oggm import cfg

    if not initialize:
        os.makedirs(working_dir, exist_ok=True)
        cfg.PATHS['working_dir'] = str(working_dir)
        for key, value in params.items():
            cfg.PARAMS[key] = value
    cfg.PATHS['dem_file'] = _demo(dem)
    cfg.PATHS['climate_file'] = _demo(climate)
    cfg.set_intersects_db(_demo('rgi_intersect_oetztal.shp'))
    cfg.PARAMS['border'] = border
    cfg.PARAMS['baseline_climate'] = 'CUSTOM'
    cfg.PARAMS['prcp_fac'] = prcp_fac
    cfg.PARAMS['store_model_geometry'] = True


def _check_steps(calibrate: bool, invert: bool, init_present_time: bool):
    if invert and not calibrate:
        raise ValueError('invert=True needs calibrate=True (the inversion '
                         'uses the calibrated mass balance).')
    if init_present_time and not invert:
        raise ValueError('init_present_time=True needs invert=True (the '
                         'model flowlines need the inverted ice thickness).')


def _invert(gdirs, mb_years, init_present_time: bool):
    from oggm import tasks, workflow

    workflow.execute_entity_task(tasks.apparent_mb_from_any_mb, gdirs,
                                 mb_years=mb_years)
    for task in (tasks.prepare_for_inversion,
                 tasks.mass_conservation_inversion,
                 tasks.filter_inversion_output):
        workflow.execute_entity_task(task, gdirs)
    if init_present_time:
        workflow.execute_entity_task(tasks.init_present_time_glacier, gdirs)


_GEOMETRY_TASKS = ('define_glacier_region', 'simple_glacier_masks',
                   'elevation_band_flowline',
                   'fixed_dx_elevation_band_flowline',
                   'compute_downstream_line', 'compute_downstream_bedshape',
                   'process_custom_climate_data')


def hintereisferner_gdir(working_dir: str | os.PathLike, *,
                         initialize: bool = True,
                         reset: bool = True,
                         calibrate: bool = True,
                         invert: bool = True,
                         init_present_time: bool = True,
                         prcp_fac: float = 2.5,
                         border: int = 40,
                         mb_years: tuple[int, int] = (1953, 2002),
                         **params: Any):
    """Build Hintereisferner (RGI50-11.00897) from OGGM's sample data.

    Follows OGGM's minimal test sequence: SRTM DEM ``hef_srtm.tif``, RGI5
    outline, elevation-band flowlines, HISTALP monthly climate
    ``histalp_merged_hef.nc`` (custom climate, full years 1802-2002),
    ``MonthlyTIModel`` calibration of ``melt_f`` on the WGMS annual balances
    (``prcp_fac`` fixed), then optionally the inversion and the model
    flowlines.

    Parameters
    ----------
    working_dir : path-like
        OGGM working directory (created if needed).
    initialize : bool
        call :func:`~.offline.initialize_oggm` first (default). With False the
        current configuration is kept and only the settings this glacier
        needs are changed (paths, border, prcp_fac, baseline_climate).
    reset : bool
        empty the glacier directory first.
    calibrate : bool
        run ``mb_calibration_from_wgms_mb``.
    invert : bool
        run ``apparent_mb_from_any_mb`` (years ``mb_years``) and the
        inversion tasks (needs ``calibrate``).
    init_present_time : bool
        run ``init_present_time_glacier`` (needs ``invert``).
    prcp_fac : float
        precipitation factor (its OGGM default needs W5E5 data).
    border : int
        OGGM grid border (cells).
    mb_years : (int, int)
        period of the apparent mass balance for the inversion.
    **params
        further ``cfg.PARAMS`` overrides.

    Returns
    -------
    oggm.GlacierDirectory
    """
    _check_steps(calibrate, invert, init_present_time)
    _configure(working_dir, initialize, 'hef_srtm.tif',
               'histalp_merged_hef.nc', border, prcp_fac, params)
    import geopandas as gpd
    from oggm import cfg, tasks, utils

    entity = gpd.read_file(_demo('Hintereisferner_RGI5.shp'))
    gdir = utils.GlacierDirectory(entity.iloc[0],
                                  base_dir=cfg.PATHS['working_dir'],
                                  reset=reset)
    for name in _GEOMETRY_TASKS:
        getattr(tasks, name)(gdir)
    if calibrate:
        tasks.mb_calibration_from_wgms_mb(gdir, overwrite_gdir=True)
    if invert:
        _invert([gdir], mb_years, init_present_time)
    return gdir


def wgms_mean_balance(rgi_ids: Sequence[str], years: tuple[int, int]
                       ) -> float:
    """Mean WGMS annual balance (kg m-2 yr-1) over ``years`` (inclusive) of
    the glaciers of ``rgi_ids`` that have WGMS data: the mean of each
    glacier's mean."""
    import pandas as pd
    from oggm import utils

    links, datadir = utils.get_wgms_files()
    means = []
    for wid in links.loc[links['RGI50_ID'].isin(rgi_ids), 'WGMS_ID']:
        df = pd.read_csv(os.path.join(datadir, f'mbdata_WGMS-{wid:05d}.csv'))
        df = df.set_index('YEAR').loc[years[0]:years[1], 'ANNUAL_BALANCE']
        if df.notnull().any():
            means.append(float(df.mean()))
    if not means:
        raise ValueError(f'No WGMS annual balance in {years} for any of the '
                         'Ötztal glaciers: choose other regional_ref_years.')
    return sum(means) / len(means)


def oetztal_gdirs(working_dir: str | os.PathLike, *,
                  rgi_ids: Sequence[str] | None = None,
                  initialize: bool = True,
                  reset: bool = True,
                  calibrate: bool = True,
                  invert: bool = True,
                  init_present_time: bool = True,
                  prcp_fac: float = 2.5,
                  border: int = 40,
                  regional_ref_years: tuple[int, int] = (1980, 2012),
                  mb_years: tuple[int, int] = (1980, 2012),
                  **params: Any) -> list:
    """Build the 20 Ötztal glaciers of OGGM's test workflow, offline.

    Inputs (all in OGGM's sample data): outlines ``rgi_oetztal.shp`` (RGI5;
    Vernagtferner as two divides), DEM ``srtm_oetztal.tif``, intersects
    ``rgi_intersect_oetztal.shp`` and monthly HISTALP climate
    ``HISTALP_oetztal.nc`` (custom climate, full years 1802-2013).
    Unlike OGGM's own test workflow this needs no download (no geodetic
    data): ``melt_f`` is calibrated (``MonthlyTIModel``, ``prcp_fac`` fixed,
    ``temp_bias`` as second parameter when ``melt_f`` hits its bounds) on

    - the glacier's own WGMS annual balances where they exist
      (``mb_calibration_from_wgms_mb``: Hintereis-, Kesselwand- and Langtaler
      Ferner);
    - otherwise on a regional value: the mean over ``regional_ref_years`` of
      the WGMS annual balances of the Ötztal glaciers that have them
      (Vernagtferner's two divides included).

    Parameters
    ----------
    working_dir : path-like
        OGGM working directory.
    rgi_ids : sequence of str, optional
        a subset of the 20 RGI ids (default: all).
    initialize, reset, calibrate, invert, init_present_time, prcp_fac, \
border, mb_years, **params
        as in :func:`hintereisferner_gdir`.
    regional_ref_years : (int, int)
        years (inclusive) of the regional reference balance.

    Returns
    -------
    list of oggm.GlacierDirectory
        in the order of ``rgi_oetztal.shp`` (or of ``rgi_ids``).
    """
    _check_steps(calibrate, invert, init_present_time)
    _configure(working_dir, initialize, 'srtm_oetztal.tif',
               'HISTALP_oetztal.nc', border, prcp_fac, params)
    import geopandas as gpd
    from oggm import tasks, utils, workflow

    rgidf = gpd.read_file(_demo('rgi_oetztal.shp'))
    if rgi_ids is not None:
        missing = sorted(set(rgi_ids) - set(rgidf.RGIId))
        if missing:
            raise ValueError(f'oetztal_gdirs: {missing} are not in '
                             f'rgi_oetztal.shp; valid ids: '
                             f'{sorted(rgidf.RGIId)}')
        rgidf = rgidf.set_index('RGIId').loc[list(rgi_ids)].reset_index()
    gdirs = workflow.init_glacier_directories(rgidf, reset=reset, force=True)
    for name in _GEOMETRY_TASKS:
        workflow.execute_entity_task(getattr(tasks, name), gdirs)

    if calibrate:
        links, _ = utils.get_wgms_files()
        wgms_ids = set(links['RGI50_ID'])
        ref = [g for g in gdirs if g.rgi_id in wgms_ids]
        other = [g for g in gdirs if g.rgi_id not in wgms_ids]
        kw = dict(overwrite_gdir=True, calibrate_param2='temp_bias')
        workflow.execute_entity_task(tasks.mb_calibration_from_wgms_mb, ref,
                                     **kw)
        if other:
            all_ids = gpd.read_file(_demo('rgi_oetztal.shp'))
            base_ids = {i.split('_')[0] for i in all_ids.RGIId}
            ref_mb = wgms_mean_balance(sorted(base_ids), regional_ref_years)
            y0, y1 = regional_ref_years
            workflow.execute_entity_task(
                tasks.mb_calibration_from_scalar_mb, other, ref_mb=ref_mb,
                ref_period=f'{y0}-01-01_{y1 + 1}-01-01', **kw)
    if invert:
        _invert(gdirs, mb_years, init_present_time)
    return gdirs
