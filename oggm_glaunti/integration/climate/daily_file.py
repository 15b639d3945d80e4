"""Writer of GlaUnTI's daily climate files.

Format (``climate_historical_daily{suffix}.nc``, ``gcm_data_daily
{suffix}.nc``; the daily key is always the monthly key + ``_daily``):
dimension ``time`` (daily, 00:00, proleptic Gregorian calendar, encoded as
int32 ``days since 1801-01-01``, or since 1 January of the first year before
1801); ``temp`` (float64, degC, daily mean 2 m air temperature at the height
``ref_hgt``); ``prcp`` (float64, kg m-2 day-1 = mm w.e. per day, daily total;
GlaUnTI's m w.e. per day is prcp / 1000). Global attributes as in OGGM's
monthly files: ``ref_hgt`` (m), ``ref_pix_lon``, ``ref_pix_lat`` (degrees),
``ref_pix_dis`` (m, distance to the glacier centre), ``climate_source``,
``yr_0``, ``yr_1``, ``author``; the tasks add ``glaunti_*`` attributes with
their settings. Values are float64 so that the monthly means and totals of
disaggregated files are preserved to float64 round-off.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from oggm import cfg, utils

from ...plausible import check_reference_height
from .._io import write_netcdf_atomic

DAILY_PRCP_UNITS = 'kg m-2 day-1'

#: Plausible daily mean 2 m temperature at a glacier's climate cell (degC): the coldest
#: and hottest daily means ever measured are about -89 and +45 degC.
PLAUSIBLE_DAILY_TEMP = (-90., 60.)
#: The largest plausible daily total (kg m-2): the world record is 1825 mm in 24 h.
MAX_PLAUSIBLE_DAILY_PRCP = 2000.
#: Over a year or more, a glacier's climate has at least one day with this much
#: precipitation (kg m-2); a wettest day below it means m per day read as mm.
MIN_WETTEST_DAY_PRCP = 1.


def check_daily_plausible(time, temp, prcp, source: str, units_hint: str = '') -> None:
    """Refuse daily temperature (degC) and precipitation (kg m-2 day-1) outside plausible
    ranges: the signature of wrong or mislabelled units.

    Checked after unit conversion, before a file is written: every temperature within
    :data:`PLAUSIBLE_DAILY_TEMP`, precipitation finite, >= 0 and at most
    :data:`MAX_PLAUSIBLE_DAILY_PRCP`, and - for a year or more of data - a wettest day of
    at least :data:`MIN_WETTEST_DAY_PRCP`.

    Raises
    ------
    ValueError
        naming ``source``, the value and its day, and ``units_hint``.
    """
    time = np.asarray(time, dtype='datetime64[D]')
    temp, prcp = np.asarray(temp, np.float64), np.asarray(prcp, np.float64)
    hint = f' {units_hint}' if units_hint else ''
    for name, values in (('temperature', temp), ('precipitation', prcp)):
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(f'{source}: daily {name} has {int(bad.sum())} NaN or infinite '
                             f'value(s) (first on {time[bad][0]}); fill the gaps first.')
    lo, hi = PLAUSIBLE_DAILY_TEMP
    for extreme, beyond in ((temp.min(), temp.min() < lo), (temp.max(), temp.max() > hi)):
        if beyond:
            day = time[int(np.argmin(temp) if extreme < lo else np.argmax(temp))]
            raise ValueError(
                f'{source}: a daily mean temperature of {extreme:.1f} degC (on {day}) is outside '
                f'the plausible {lo:g}..{hi:g} degC: the units are probably wrong (kelvin '
                f'read as degC gives about +270, degC read as kelvin about -270).{hint}')
    if prcp.size and prcp.min() < 0:
        raise ValueError(f'{source}: daily precipitation is negative ({prcp.min():.4g} '
                         f'{DAILY_PRCP_UNITS} on {time[int(np.argmin(prcp))]}).{hint}')
    if prcp.size and prcp.max() > MAX_PLAUSIBLE_DAILY_PRCP:
        raise ValueError(
            f'{source}: a daily precipitation total of {prcp.max():.4g} {DAILY_PRCP_UNITS} (on '
            f'{time[int(np.argmax(prcp))]}) exceeds the plausible {MAX_PLAUSIBLE_DAILY_PRCP:g}: '
            f'the units are probably wrong (mm per day read as m gives 1000 times too much).'
            f'{hint}')
    if time.size >= 365 and prcp.max() < MIN_WETTEST_DAY_PRCP:
        raise ValueError(
            f'{source}: the wettest of {time.size} days has only {prcp.max():.4g} '
            f'{DAILY_PRCP_UNITS}, implausibly dry (at least {MIN_WETTEST_DAY_PRCP:g} expected): '
            f'the units are probably wrong (m per day read as mm gives 1000 times too little).'
            f'{hint}')


def write_daily_climate_file(gdir, time, temp, prcp, ref_hgt: float,
                             ref_pix_lon: float, ref_pix_lat: float, *,
                             source: str,
                             file_name: str = 'climate_historical_daily',
                             filesuffix: str = '',
                             attrs: dict | None = None,
                             units_hint: str = '') -> str:
    """Write a daily climate file (format: see module docstring).

    The values are checked first (:func:`check_daily_plausible`, and ``ref_hgt`` by
    :func:`oggm_glaunti.plausible.check_reference_height`): implausible ones raise a
    ValueError and nothing is written.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        the glacier directory.
    time : array of datetime64
        the days (any time of day is floored to the day).
    temp : array
        daily mean temperature at ``ref_hgt`` (degC).
    prcp : array
        daily precipitation (kg m-2 day-1).
    ref_hgt, ref_pix_lon, ref_pix_lat : float
        elevation (m) and location of the climate data.
    source : str
        description of the data source.
    file_name : str
        the BASENAMES key of the file.
    filesuffix : str
        appended to the file name.
    attrs : dict, optional
        further global attributes.
    units_hint : str
        appended to the message of an implausible value (how to correct the units).

    Returns
    -------
    str
        the path of the file.
    """
    time = np.asarray(time, dtype='datetime64[D]')
    check_daily_plausible(time, temp, prcp, f'{gdir.rgi_id}, {source}', units_hint)
    ref_hgt = check_reference_height(ref_hgt, f'{gdir.rgi_id}, {source}: ref_hgt')
    y0 = int(str(time[0])[:4])
    unit = ('days since 1801-01-01' if y0 > 1800
            else f'days since {y0:04d}-01-01')
    ds = xr.Dataset(
        {'temp': ('time', np.asarray(temp, dtype=np.float64),
                  {'units': 'degC',
                   'long_name': 'daily mean 2 m air temperature at height '
                                'ref_hgt'}),
         'prcp': ('time', np.asarray(prcp, dtype=np.float64),
                  {'units': DAILY_PRCP_UNITS,
                   'long_name': 'daily total precipitation amount '
                                '(mm w.e. per day)'})},
        coords={'time': ('time', time.astype('datetime64[s]'))})
    ds.attrs = {
        'ref_hgt': float(ref_hgt), 'ref_pix_lon': float(ref_pix_lon),
        'ref_pix_lat': float(ref_pix_lat),
        'ref_pix_dis': float(utils.haversine(gdir.cenlon, gdir.cenlat,
                                             ref_pix_lon, ref_pix_lat)),
        'climate_source': source, 'yr_0': y0,
        'yr_1': int(str(time[-1])[:4]),
        'author': 'OGGM', 'author_info': 'Open Global Glacier Model '
                                         '(file written by oggm_glaunti)',
        **(attrs or {})}
    comp = {'zlib': bool(cfg.PARAMS.get('compress_climate_netcdf', True))}
    enc = {'time': {'units': unit, 'calendar': 'proleptic_gregorian',
                    'dtype': 'int32'}, 'temp': comp, 'prcp': comp}
    fpath = gdir.get_filepath(file_name, filesuffix=filesuffix)
    write_netcdf_atomic(ds, fpath, encoding=enc)
    return fpath


def select_years(years: np.ndarray, y0, y1, what: str) -> np.ndarray:
    """Boolean selection of ``y0 <= years <= y1`` (None: first/last year).

    Raises a ValueError naming ``what`` (the data) if the period is empty or
    not within the years available.
    """
    first, last = int(years.min()), int(years.max())
    y0 = first if y0 is None else int(y0)
    y1 = last if y1 is None else int(y1)
    if y0 > y1 or y0 < first or y1 > last:
        raise ValueError(f'y0={y0}, y1={y1} are not a valid period within '
                         f'the years {first}-{last} of {what}.')
    return (years >= y0) & (years <= y1)
