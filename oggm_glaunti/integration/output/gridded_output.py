"""GlaUnTI surface mass balance on its model grid, written to a file (entity task).

:func:`glaunti_gridded_smb` runs :class:`~.massbalance.GlaUnTIMassBalance` (so the
calibrated parameters of the glacier are used) for hydrological years ``ys..ye`` and writes
``glaunti_gridded_smb{filesuffix}.nc`` (file key ``glaunti_gridded_smb``):

- ``smb_annual``, ``smb_winter``, ``smb_summer`` (hydro_year, y, x), m w.e.: SMB of the
  hydrological year and of its two seasons. Hydrological year ``Y`` (the calendar year it
  begins in) runs from 1 October Y to 1 October Y+1 in the northern hemisphere and from
  1 April Y to 1 April Y+1 in the southern one (``cfg.PARAMS['glaunti_hydro_start_month_*']``;
  the glacier's calendar, :mod:`oggm_glaunti.hydro_calendar`).
  Winter ends and summer begins on the first day of ``winter_end_month`` (default 5:
  winter = 1 Oct..1 May, summer = 1 May..1 Oct; in the southern hemisphere the month is
  shifted by 6, i.e. 1 Apr..1 Nov and 1 Nov..1 Apr). As in the model's own day plan the
  boundary days are shared: the first and last day of each season count half, so that
  ``smb_annual = smb_winter + smb_summer``.
- ``corrections`` (hydro_year, correction, y, x): the corrector's fields d1..d5 of each year
  (variants C and D; NaN for A and B); see :data:`CORRECTIONS`.
- ``smb_daily`` (time, y, x), m w.e. per day, only with ``daily=True``: the model's SMB of
  each date from the first day of ``ys`` to the last day of ``ye`` (1 October). The date
  that separates two hydrological years is the last half-day of one plus the first
  half-day of the next, so the first and last dates of the file hold half a day; the sum
  over all dates equals the sum of ``smb_annual`` over the years.
- ``outline_fraction`` and ``elevation`` (y, x), and the ``x``/``y`` coordinates, copied
  from the model grid file ``glaunti_grid.nc`` (``pyproj_srs`` in the global attributes).

SMB is computed on every cell of the model grid, including the margin cells outside the
outline (``outline_fraction == 0``): mask them for glacier statistics
(:func:`glacier_wide_series` weights by ``outline_fraction``).

How the seasons are obtained: the glacier's :class:`~.glacier_run.GlacierRun` (the
model's own run, split at 1 January, under its state rule) gives each year's weighted
daily SMB (:meth:`~.glacier_run.GlacierRun.daily`: a year not run before is run once, with
daily output), which is summed between the dates. Annual totals are therefore those of
the MB model (``GlacierRun.year(...).period_smb.sum(0)``) to float32 round-off.

This module does not import JAX at import time (OGGM's pool workers are forked).
"""
from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import xarray as xr
from oggm import utils

from .._io import write_netcdf_atomic
from ..grid.glacier_data import glacier_calendar
from ..session.params import register_file_keys

log = logging.getLogger(__name__)

register_file_keys()  # before the entity tasks below document their files

#: The corrector fields: name -> (meaning, units).
CORRECTIONS = {
    'd1': ('log factor on the precipitation scale c_p', '1'),
    'd2': ('log factor on the snow degree-day factor DDF_s', '1'),
    'd3': ('log factor on the ice/snow degree-day factor ratio', '1'),
    'd4': ('offset of the snow/rain threshold temperature T_c', 'degC'),
    'd5': ('offset of the melt temperature', 'degC'),
}

_SMB_VARS = ('smb_annual', 'smb_winter', 'smb_summer')


def _year_daily(run, hy: int, adj):
    """Hydrological year ``hy``'s weighted SMB per date (n_days, H, W), float64, and its
    corrections, from the glacier run."""
    out, steps = run.daily(hy, adj)
    plan = run.reference_years([hy]).plan
    active = np.asarray(plan.active[0])
    day_index = np.asarray(plan.day_index[0])[active]
    per_day = np.zeros((run.window(hy).n_days,) + steps.shape[1:], np.float64)
    np.add.at(per_day, day_index, np.asarray(steps, np.float64)[active])  # the 1 January split day: two halves
    return per_day, out.corrections


@utils.entity_task(log, writes=['glaunti_gridded_smb'])
def glaunti_gridded_smb(gdir, ys: int, ye: int, variant: str | None = None,
                        daily: bool = False, winter_end_month: int = 5,
                        climate_filename: str = 'climate_historical',
                        climate_input_filesuffix: str = '',
                        filesuffix: str = '') -> None:
    """Write GlaUnTI's SMB on its model grid for hydrological years ``ys..ye``.

    Writes ``glaunti_gridded_smb{filesuffix}.nc``; its content is described in the module
    docstring. Needs the daily climate (e.g. ``process_daily_from_monthly``) and the model
    grid (``glaunti_model_grid``); uses the glacier's GlaUnTI calibration when there is one
    (see :class:`~.massbalance.GlaUnTIMassBalance`).

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        the glacier directory.
    ys, ye : int
        first and last hydrological year (labelled by the calendar year they begin in;
        hydrological year 2000 runs from 1 October 2000 to 1 October 2001 in the northern
        hemisphere). Both must be full hydrological years of the daily climate.
    variant : str, optional
        'A', 'B', 'C' or 'D' (default ``cfg.PARAMS['glaunti_variant']``).
    daily : bool
        also write ``smb_daily`` (memory and disk: days x cells).
    winter_end_month : int
        first day of this month ends winter and begins summer: 5 (default) for
        winter = 1 Oct..1 May and summer = 1 May..1 Oct in the northern hemisphere; in the
        southern hemisphere the month is shifted by 6 (5 -> 11).
    climate_filename : str
        the monthly climate key ('climate_historical' or 'gcm_data'); the daily file
        ``<climate_filename>_daily<climate_input_filesuffix>.nc`` is read.
    climate_input_filesuffix : str
        suffix of the climate file.
    filesuffix : str
        suffix of the output file.
    """
    from ..run.massbalance import GlaUnTIMassBalance

    ys, ye = int(ys), int(ye)
    calendar = glacier_calendar(gdir.hemisphere, winter_end_month)  # checks winter_end_month
    if ys > ye:
        raise ValueError(f'{gdir.rgi_id}: ys={ys} is after ye={ye}')
    mb = GlaUnTIMassBalance(gdir, filename=climate_filename,
                            input_filesuffix=climate_input_filesuffix, variant=variant)
    run = mb.glacier_run
    valid = run.full_years
    if len(valid) == 0:
        raise ValueError(f'{gdir.rgi_id}: the daily climate {mb.climate_source_file} covers '
                         'no full hydrological year')
    outside = [y for y in range(ys, ye + 1) if y not in valid]
    if outside:
        raise ValueError(
            f'{gdir.rgi_id}: hydrological years {ys}-{ye} are outside the daily climate '
            f'{mb.climate_source_file} ({run.climate.dates[0]} to {run.climate.dates[-1]}) '
            f'(first outside: {outside[0]}); full hydrological years available: '
            f'{valid[0]}-{valid[-1]} (year Y begins on 1 month {run.start_month} of Y)')
    month = calendar.summer_month
    adj = mb.adjustments
    years = np.arange(ys, ye + 1)
    shape = run.grid.shape
    seasons = np.zeros((3, len(years)) + shape, np.float64)
    corrections = np.full((len(years), len(CORRECTIONS)) + shape, np.nan, np.float32)
    daily_parts = []
    for i, hy in enumerate(years):
        per_day, corr = _year_daily(run, int(hy), adj)
        begin, midseason, _ = calendar.window(int(hy))
        split = int((midseason - begin).astype(int))
        winter = per_day[:split].sum(0) + 0.5 * per_day[split]
        summer = 0.5 * per_day[split] + per_day[split + 1:].sum(0)
        seasons[:, i] = winter + summer, winter, summer
        if corr is not None:
            corrections[i] = corr
        if daily:
            daily_parts.append(per_day)

    with xr.open_dataset(run.grid.path) as grid:
        grid = grid.load()
    yx = ('y', 'x')
    hem_start = run.start_month
    season_text = {
        'smb_annual': f'hydrological year (1 month {hem_start} to 1 month {hem_start} of the next year)',
        'smb_winter': f'winter (1 month {hem_start} to 1 month {month})',
        'smb_summer': f'summer (1 month {month} to 1 month {hem_start})',
    }
    data = {}
    for k, name in enumerate(_SMB_VARS):
        data[name] = (('hydro_year',) + yx, seasons[k].astype(np.float32), {
            'units': 'm w.e.',
            'long_name': f'surface mass balance of the {season_text[name]}, '
                         'metres of water equivalent',
            'comment': 'period total (not a rate); the first and last day of the '
                       'period count half (shared with the adjacent period)'})
    data['corrections'] = (('hydro_year', 'correction') + yx, corrections, {
        'units': '1 (d1-d3) or degC (d4, d5)',
        'long_name': 'GlaUnTI corrector fields d1..d5 of the hydrological year',
        'comment': '; '.join(f'{k}: {v[0]} ({v[1]})' for k, v in CORRECTIONS.items())
                   + '. NaN for variants without corrector (A, B).'})
    for name in ('outline_fraction', 'elevation'):
        data[name] = (yx, grid[name].values, dict(grid[name].attrs))
    coords = {
        'x': ('x', grid['x'].values, dict(grid['x'].attrs)),
        'y': ('y', grid['y'].values, dict(grid['y'].attrs)),
        'hydro_year': ('hydro_year', years, {
            'long_name': 'hydrological year, labelled by the calendar year it begins in',
            'comment': f'begins on 1 month {hem_start} of the year'}),
        'correction': ('correction', list(CORRECTIONS), {
            'long_name': 'corrector field',
            'comment': '; '.join(f'{k}: {v[0]}' for k, v in CORRECTIONS.items())}),
    }
    if daily:
        first = run.window(int(ys)).begin
        last_w = run.window(int(ye))
        n = int((last_w.begin - first).astype(int)) + last_w.n_days
        series = np.zeros((n,) + shape, np.float64)
        for hy, per_day in zip(years, daily_parts):
            o = int((run.window(int(hy)).begin - first).astype(int))
            series[o:o + per_day.shape[0]] += per_day
        data['smb_daily'] = (('time',) + yx, series.astype(np.float32), {
            'units': 'm w.e.',
            'long_name': 'daily surface mass balance, metres of water equivalent per day',
            'comment': 'the first and last dates hold half a day (they are shared with '
                       'the hydrological years before and after)'})
        coords['time'] = ('time', (first + np.arange(n)).astype('datetime64[ns]'),
                          {'long_name': 'date'})

    ds = xr.Dataset(data, coords=coords)
    ds.attrs = {
        'title': 'GlaUnTI surface mass balance on the GlaUnTI model grid',
        'rgi_id': gdir.rgi_id,
        'variant': mb.variant,
        'temp_bias': mb.temp_bias,
        'prcp_fac': mb.prcp_fac,
        'melt_f': mb.melt_f,
        'hemisphere': gdir.hemisphere,
        'hydro_year_start_month': int(hem_start),
        'winter_end_month': int(month),
        'ys': int(ys),
        'ye': int(ye),
        'climate_file': os.path.basename(mb.climate_source_file) + '.nc',
        'climate_source': run.climate.source,
        'grid_file': os.path.basename(run.grid.path),
        'dx': float(run.grid.dx),
        'pyproj_srs': grid.attrs.get('pyproj_srs', gdir.grid.proj.srs),
        'author': 'oggm_glaunti',
        'created_by': 'oggm_glaunti.integration.output.gridded_output.glaunti_gridded_smb',
        'creation_date': pd.Timestamp.now(tz='UTC').strftime('%Y-%m-%d %H:%M:%S UTC'),
    }
    encoding = {name: {'zlib': True, 'complevel': 1}
                for name in (*_SMB_VARS, 'corrections', 'smb_daily') if name in ds}
    write_netcdf_atomic(ds, gdir.get_filepath('glaunti_gridded_smb', filesuffix=filesuffix),
                        encoding=encoding)


def glacier_wide_series(ds: xr.Dataset | str | os.PathLike) -> pd.DataFrame:
    """Glacier-wide SMB (m w.e.) per hydrological year from a ``glaunti_gridded_smb`` file.

    Parameters
    ----------
    ds : xarray.Dataset or path
        the dataset (or file) written by :func:`glaunti_gridded_smb`.

    Returns
    -------
    pandas.DataFrame
        index ``hydro_year``; columns ``smb_annual``, ``smb_winter``, ``smb_summer``: the
        means over the cells weighted by ``outline_fraction``, m w.e.
    """
    if not isinstance(ds, xr.Dataset):
        with xr.open_dataset(ds) as f:
            return glacier_wide_series(f.load())
    w = ds['outline_fraction'].astype(np.float64)
    if not float(w.sum()) > 0:
        raise ValueError('outline_fraction is zero everywhere: no glacier cells to average')
    out = {name: (ds[name].astype(np.float64) * w).sum(('y', 'x')).values / float(w.sum())
           for name in _SMB_VARS}
    return pd.DataFrame(out, index=pd.Index(ds['hydro_year'].values, name='hydro_year'))
