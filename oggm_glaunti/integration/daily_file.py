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

from ._io import write_netcdf_atomic

DAILY_PRCP_UNITS = 'kg m-2 day-1'


def write_daily_climate_file(gdir, time, temp, prcp, ref_hgt: float,
                             ref_pix_lon: float, ref_pix_lat: float, *,
                             source: str,
                             file_name: str = 'climate_historical_daily',
                             filesuffix: str = '',
                             attrs: dict | None = None) -> str:
    """Write a daily climate file (format: see module docstring).

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

    Returns
    -------
    str
        the path of the file.
    """
    time = np.asarray(time, dtype='datetime64[D]')
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
