"""Daily climate at a glacier from a user's daily gridded netCDF (entity task).

Supports regular longitude/latitude grids such as ERA5-Land daily
statistics: coordinates named ``lon``/``longitude`` and ``lat``/``latitude``
(ascending or descending, longitudes in [-180, 180] or [0, 360]), a daily
time axis named ``time`` or ``valid_time`` (standard calendar, any time of
day; one value per day), variables split over several files if needed.
Temperature stays at the height of the climate data (the orography), which
becomes the file's ``ref_hgt``; downscaling to the glacier is the model's
job. Output format: see :mod:`.daily_file`.
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Sequence

import numpy as np
import xarray as xr
from oggm import utils

from ...hydro_calendar import calendar_year
from ...plausible import GRAVITY, check_reference_height
from .daily_file import select_years, write_daily_climate_file

log = logging.getLogger(__name__)

_TIME_NAMES = ('time', 'valid_time')
_LON_NAMES = ('lon', 'longitude')
_LAT_NAMES = ('lat', 'latitude')
_OROG_NAMES = ('z', 'orog', 'orography', 'hgt', 'height', 'elevation',
               'surface_altitude')

_TEMP_OFFSETS = {'k': -273.15, 'kelvin': -273.15, 'degc': 0., 'c': 0.,
                 '°c': 0., 'celsius': 0., 'deg_c': 0., 'degrees_c': 0.,
                 'degree_c': 0., 'degree_celsius': 0., 'degrees_celsius': 0.}
# factor to kg m-2 day-1, for daily totals or rates
_PRCP_FACTORS = {'m': 1000., 'm/day': 1000., 'mday-1': 1000.,
                 'md-1': 1000., 'mm': 1., 'mm/day': 1., 'mmday-1': 1.,
                 'mmd-1': 1., 'kgm-2': 1., 'kg/m2': 1., 'kgm-2day-1': 1.,
                 'kgm-2d-1': 1., 'kg/m2/day': 1., 'kg/m2/d': 1.,
                 'kgm-2s-1': 86400., 'kg/m2/s': 86400., 'mm/s': 86400.,
                 'mms-1': 86400., 'ms-1': 86400. * 1000, 'm/s': 86400. * 1000}
_OROG_FACTORS = {'m': 1., 'metre': 1., 'meter': 1., 'metres': 1.,
                 'meters': 1., 'm2s-2': 1 / GRAVITY, 'm2/s2': 1 / GRAVITY}


def _norm_units(units: str) -> str:
    return (units.strip().lower().replace('**', '').replace('^', '')
            .replace(' ', '').replace('.', ''))


def _units_value(table: dict, da: xr.DataArray, given: str | None,
                 what: str, arg: str) -> float:
    """Look up the conversion of ``da``'s units (or ``given``)."""
    units = given if given is not None else da.attrs.get('units')
    if units is None:
        raise ValueError(f'The {what} variable {da.name!r} has no `units` '
                         f'attribute: pass {arg}= (one of '
                         f'{sorted(table)}).')
    key = _norm_units(units)
    if key not in table:
        raise ValueError(f'{what} units {units!r} of {da.name!r} are not '
                         f'understood: pass {arg}= with one of '
                         f'{sorted(table)}.')
    return table[key]


def _coord(da: xr.DataArray, names: Sequence[str], fname: str) -> str:
    for name in names:
        if name in da.coords:
            return name
    raise ValueError(f'{fname}: variable {da.name!r} has none of the '
                     f'coordinates {names}; a regular lon/lat grid is needed.')


def _monotonic(da: xr.DataArray, names: Sequence[str], fname: str) -> xr.DataArray:
    """``da`` sorted along coordinates that are not monotonic (e.g. longitudes rolled from
    0..360 to -180..180 without sorting); repeated coordinate values are an error."""
    for name in names:
        values = da[name].values
        steps = np.diff(values)
        if np.all(steps > 0) or np.all(steps < 0):
            continue
        unique, counts = np.unique(values, return_counts=True)
        repeated = unique[counts > 1]
        if repeated.size:
            raise ValueError(f'{fname}: the coordinate {name!r} of {da.name!r} repeats the '
                             f'value(s) {repeated[:5].tolist()}: each grid column/row needs its '
                             'own coordinate. Fix the grid of the file.')
        log.info('%s: coordinate %r of %r is not sorted; sorting it', fname, name, da.name)
        da = da.sortby(name)
    return da


def _at_glacier(da: xr.DataArray, lon: float, lat: float, method: str,
                fname: str) -> tuple[xr.DataArray, float, float]:
    """Values of ``da`` at the glacier: (values, ref_lon, ref_lat)."""
    xn = _coord(da, _LON_NAMES, fname)
    yn = _coord(da, _LAT_NAMES, fname)
    da = _monotonic(da, (xn, yn), fname)
    xs, ys = da[xn].values, da[yn].values
    if xs.max() > 180 and lon < 0:
        lon += 360
    hx = np.abs(np.diff(xs)).max() / 2 if xs.size > 1 else 0.
    hy = np.abs(np.diff(ys)).max() / 2 if ys.size > 1 else 0.
    if method == 'bilinear':
        hx = hy = 0.
    if not (xs.min() - hx <= lon <= xs.max() + hx
            and ys.min() - hy <= lat <= ys.max() + hy):
        raise ValueError(f'{fname}: the glacier ({lon:.4f}E, {lat:.4f}N) is '
                         f'outside the grid of {da.name!r} (lon {xs.min()}..'
                         f'{xs.max()}, lat {ys.min()}..{ys.max()}; '
                         f'method={method!r}).')
    if method == 'nearest':
        out = da.sel({xn: lon, yn: lat}, method='nearest')
        rlon, rlat = float(out[xn]), float(out[yn])
    else:
        out = da.sortby([xn, yn]).interp({xn: lon, yn: lat}, method='linear')
        rlon, rlat = lon, lat
    out = out.load()
    if not np.all(np.isfinite(out.values)):
        raise ValueError(f'{fname}: {da.name!r} is missing (NaN) at the '
                         f'glacier ({method} at {rlon:.4f}E, {rlat:.4f}N), '
                         'e.g. a masked sea cell. Check the file covers '
                         'the glacier with valid data.')
    rlon = rlon - 360 if rlon > 180 else rlon
    return out.drop_vars([xn, yn], errors='ignore'), rlon, rlat


#: Calendars whose days are those of numpy's datetime64 (proleptic Gregorian).
_STANDARD_CALENDARS = ('standard', 'gregorian', 'proleptic_gregorian')


def _standard_days(time: xr.DataArray, fname: str, var: str) -> np.ndarray:
    """The days of ``time`` as ``datetime64[D]``; a ValueError naming the calendar, and how
    to convert it, when it is not the standard one (a no-leap file would otherwise have a
    gap at every 29 February, and a 360-day file days that do not exist)."""
    try:
        calendar = time.dt.calendar
    except (AttributeError, TypeError):
        raise ValueError(f'{fname}: the time axis of {var!r} is not read as dates (values '
                         f'{time.values[:2]}...): it needs CF `units` such as "days since '
                         '1950-01-01" and a `calendar`.') from None
    if calendar not in _STANDARD_CALENDARS:
        align = ", align_on='year'" if calendar == '360_day' else ''
        raise ValueError(
            f'{fname}: the time axis of {var!r} is on the {calendar!r} calendar; only the '
            'standard (Gregorian) calendar is read, with one value for every day. Convert the '
            f"file first, e.g. with xarray: ds.convert_calendar('standard'{align}, "
            "missing=np.nan).interpolate_na('time'), which fills the days this calendar lacks "
            '(such as 29 February) by linear interpolation.')
    return time.values.astype('datetime64[D]')


def _daily_series(dsets: list, var: str, lon: float, lat: float,
                  method: str):
    """Point time series of ``var`` concatenated over the files."""
    parts, ref = [], None
    for fname, ds in dsets:
        if var not in ds:
            continue
        pt, rlon, rlat = _at_glacier(ds[var], lon, lat, method, fname)
        tn = next((n for n in _TIME_NAMES if n in pt.dims), None)
        if tn is None or pt.ndim != 1:
            raise ValueError(f'{fname}: {var!r} must have the dimensions '
                             f'(time, lat, lon), got {ds[var].dims}.')
        days = _standard_days(pt[tn], fname, var)
        parts.append((days, pt.values.astype(np.float64), pt))
        ref = (rlon, rlat)
    if not parts:
        found = sorted({v for _, ds in dsets for v in ds.data_vars})
        raise ValueError(f'Variable {var!r} is in none of the files '
                         f'{[f for f, _ in dsets]}; variables found: {found}.')
    days = np.concatenate([p[0] for p in parts])
    vals = np.concatenate([p[1] for p in parts])
    order = np.argsort(days, kind='stable')
    days, vals = days[order], vals[order]
    if days.size > 1 and np.any(np.diff(days).astype(int) != 1):
        raise ValueError(f'{var!r}: the daily time axis has gaps or '
                         'duplicate days (one value per day is needed, '
                         'files must not overlap).')
    return days, vals, parts[0][2], ref


def _orography(dsets, orography, orography_var, units, lon, lat, method):
    """Reference height (m) at the glacier."""
    if orography is not None and os.path.exists(os.fspath(orography)):
        path = os.fspath(orography)
        with xr.open_dataset(path) as ds:
            names = ([orography_var] if orography_var else
                     [n for n in _OROG_NAMES if n in ds] or list(ds.data_vars))
            if len(names) != 1 or names[0] not in ds:
                raise ValueError(f'{path}: cannot tell the orography '
                                 f'variable among {list(ds.data_vars)}; '
                                 'pass orography_var=.')
            return _orog_value(ds[names[0]], units, lon, lat, method, path)
    name = orography or orography_var
    names = [name] if name else list(_OROG_NAMES)
    for fname, ds in dsets:
        for n in names:
            if n in ds:
                return _orog_value(ds[n], units, lon, lat, method, fname)
    raise ValueError(f'No orography found (looked for {names} in the data '
                     'files). The reference height of the climate data is '
                     'needed: pass orography= as a variable name or as the '
                     'path of a file (geopotential in m2 s-2 or height in m).')


def _orog_value(da, units, lon, lat, method, fname):
    factor = _units_value(_OROG_FACTORS, da, units, 'orography',
                          'orography_units')
    pt, rlon, rlat = _at_glacier(da, lon, lat, method, fname)
    pt = pt.squeeze(drop=True)
    if pt.ndim != 0:
        raise ValueError(f'{fname}: orography {da.name!r} must be 2-D '
                         f'(lat, lon), possibly with a time of length 1.')
    used = units if units is not None else da.attrs.get('units')
    height = check_reference_height(
        float(pt) * factor, f'{fname}: orography {da.name!r} at the glacier (units {used!r})',
        " If the variable is a geopotential, pass orography_units='m2 s-2'; else correct the "
        'file or pass the true units as orography_units=.')
    return height, rlon, rlat


@utils.entity_task(log, writes=['climate_historical_daily'])
def process_daily_gridded_climate(gdir, filepath=None, *,
                                  temp_var: str = 't2m',
                                  prcp_var: str = 'tp',
                                  orography=None,
                                  orography_var: str | None = None,
                                  temp_units: str | None = None,
                                  prcp_units: str | None = None,
                                  orography_units: str | None = None,
                                  method: str = 'nearest',
                                  y0: int | None = None,
                                  y1: int | None = None,
                                  filesuffix: str = '',
                                  source: str | None = None) -> None:
    """Write ``climate_historical_daily{filesuffix}.nc`` from daily gridded
    data.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        the glacier directory.
    filepath : path-like or sequence of path-like
        daily netCDF file(s), required (a keyword argument: OGGM's entity
        tasks take only ``gdir`` positionally); ``temp_var`` and
        ``prcp_var`` may be in different files, and a variable may be
        split over several files (e.g. one per year; they must not
        overlap).
    temp_var, prcp_var : str
        names of the daily mean temperature and daily precipitation total.
    orography : str or path-like, optional
        the orography (reference height): the path of a separate file, or
        the name of a variable in the data files. Default: the first of
        ``z``, ``orog``, ``orography``, ``hgt``, ``height``, ``elevation``,
        ``surface_altitude`` found in the data files.
    orography_var : str, optional
        the variable in a separate orography file (default: guessed).
    temp_units : str, optional
        'K' or 'degC' (default: the variable's ``units`` attribute).
    prcp_units : str, optional
        units of the daily values: 'm' or 'm/day' (ERA5), 'mm' or 'mm/day',
        'kg m-2' or 'kg m-2 day-1', or rates 'kg m-2 s-1', 'mm/s', 'm s-1'
        (default: the ``units`` attribute).
    orography_units : str, optional
        'm' or geopotential 'm2 s-2' (default: the ``units`` attribute).
    method : {'nearest', 'bilinear'}
        'nearest' takes the grid cell nearest to the glacier centre (its
        centre becomes ref_pix_lon/lat); 'bilinear' interpolates the fields
        and the orography linearly to the glacier centre.
    y0, y1 : int, optional
        first and last calendar year to keep (default: all).
    filesuffix : str
        suffix of the output file.
    source : str, optional
        the ``climate_source`` attribute (default: the file names).
    """
    if method not in ('nearest', 'bilinear'):
        raise ValueError(f"method must be 'nearest' or 'bilinear', got "
                         f'{method!r}.')
    if filepath is None:
        raise ValueError('process_daily_gridded_climate needs filepath= (the '
                         'daily netCDF file or files).')
    paths = ([filepath] if isinstance(filepath, (str, os.PathLike))
             else list(filepath))
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f'Daily climate file {p} not found.')
    lon, lat = float(gdir.cenlon), float(gdir.cenlat)
    with contextlib.ExitStack() as stack:
        dsets = [(os.path.basename(p), stack.enter_context(xr.open_dataset(p)))
                 for p in paths]
        tdays, temp, tda, tref = _daily_series(dsets, temp_var, lon, lat,
                                               method)
        pdays, prcp, pda, pref = _daily_series(dsets, prcp_var, lon, lat,
                                               method)
        hgt, olon, olat = _orography(dsets, orography, orography_var,
                                     orography_units, lon, lat, method)
    if tdays.shape != pdays.shape or np.any(tdays != pdays):
        raise ValueError(f'{temp_var!r} ({tdays[0]}..{tdays[-1]}) and '
                         f'{prcp_var!r} ({pdays[0]}..{pdays[-1]}) must cover '
                         'the same days.')
    if method == 'nearest' and not np.allclose([tref, pref], [olon, olat],
                                               atol=1e-4):
        raise ValueError(f'The cells nearest to the glacier differ between '
                         f'temperature {tref}, precipitation {pref} and '
                         f'orography ({olon}, {olat}): the fields must be on '
                         'the same grid.')
    temp = temp + _units_value(_TEMP_OFFSETS, tda, temp_units, 'temperature',
                               'temp_units')
    prcp = prcp * _units_value(_PRCP_FACTORS, pda, prcp_units,
                               'precipitation', 'prcp_units')
    units_hint = (f'Units used: temperature {temp_units or tda.attrs.get("units")!r}, '
                  f'precipitation {prcp_units or pda.attrs.get("units")!r}; if they are '
                  'wrong, pass the true ones as temp_units= / prcp_units=.')
    if np.any(prcp < -1e-6):
        log.warning('%s: negative daily precipitation set to 0 (min %.3g '
                    'kg m-2 day-1)', gdir.rgi_id, prcp.min())
    prcp = np.clip(prcp, 0, None)

    years = calendar_year(tdays)
    sel = select_years(years, y0, y1, 'the daily files')
    names = ', '.join(f for f, _ in dsets)
    write_daily_climate_file(
        gdir, tdays[sel], temp[sel], prcp[sel], hgt, tref[0], tref[1],
        source=source or f'daily gridded data: {names}',
        filesuffix=filesuffix,
        attrs={'glaunti_method': f'daily gridded data, {method} '
                                 'at the glacier centre',
               'glaunti_input_file': names},
        units_hint=units_hint)
