"""Daily climate from a user's daily gridded netCDF (process_daily_gridded_climate)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from oggm_glaunti.integration.climate.climate_daily import process_daily_gridded_climate

LATS = np.round(np.arange(47.1, 46.55, -0.1), 2)   # descending, as ERA5-Land
LONS = np.round(np.arange(10.5, 11.05, 0.1), 2)
TIME = pd.date_range('2001-01-01', '2003-12-31', freq='D')
G = 9.80665


def _fields():
    """t2m (K) and tp (m/day) with a known, separable pattern."""
    nt = TIME.size
    tt = 270 + 10 * np.sin(2 * np.pi * np.arange(nt) / 365.25)
    t2m = (tt[:, None, None] + 3 * (LATS[None, :, None] - 47)
           + 2 * (LONS[None, None, :] - 10.5))
    tp = (0.002 + 0.001 * np.cos(np.arange(nt) / 7.))[:, None, None] \
        * (1 + (LONS[None, None, :] - 10.5)) * np.ones((1, LATS.size, 1))
    z = G * (3000 + 100 * (LATS[:, None] - 47) + 50 * (LONS[None, :] - 10.5))
    return t2m, tp, z


def _ds(var, values, units, time=TIME, sel=slice(None)):
    da = xr.DataArray(values[sel], dims=('time', 'latitude', 'longitude'),
                      coords={'time': time[sel], 'latitude': LATS,
                              'longitude': LONS}, name=var)
    if units:
        da.attrs['units'] = units
    return da.to_dataset()


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('gridded')
    t2m, tp, z = _fields()
    both = xr.merge([_ds('t2m', t2m, 'K'), _ds('tp', tp, 'm')])
    both.to_netcdf(root / 'both.nc')
    inv = xr.DataArray(z[None], dims=('time', 'latitude', 'longitude'),
                       coords={'time': TIME[:1], 'latitude': LATS,
                               'longitude': LONS}, name='z',
                       attrs={'units': 'm**2 s**-2'}).to_dataset()
    inv.to_netcdf(root / 'invariant.nc')
    xr.merge([both, inv.isel(time=0, drop=True)]).to_netcdf(root / 'all.nc')
    # split: temperature per year, precipitation in mm/day in one file
    for i, year in enumerate((2001, 2002, 2003)):
        sel = TIME.year == year
        _ds('t2m', t2m, 'K', sel=sel).to_netcdf(root / f't2m_{year}.nc')
    _ds('tp', tp * 1000, 'mm/day').to_netcdf(root / 'tp_mm.nc')
    _ds('tp', tp * 1000 / 86400, 'kg m-2 s-1').to_netcdf(root / 'tp_rate.nc')
    _ds('tp', tp, None).to_netcdf(root / 'tp_nounits.nc')
    return root, t2m, tp, z


def _read(gdir, suffix):
    with xr.open_dataset(gdir.get_filepath('climate_historical_daily',
                                           filesuffix=suffix)) as ds:
        return ds.load()


def test_nearest(hef_gdir, files):
    root, t2m, tp, z = files
    process_daily_gridded_climate(hef_gdir, filepath=root / 'both.nc',
                                  orography=root / 'invariant.nc',
                                  filesuffix='_grid_nn')
    d = _read(hef_gdir, '_grid_nn')
    j = np.argmin(np.abs(LATS - hef_gdir.cenlat))
    i = np.argmin(np.abs(LONS - hef_gdir.cenlon))
    assert (LATS[j], LONS[i]) == (46.8, 10.8)
    np.testing.assert_allclose(d.temp.values, t2m[:, j, i] - 273.15,
                               atol=1e-9)
    np.testing.assert_allclose(d.prcp.values, tp[:, j, i] * 1000, rtol=1e-12)
    assert d.attrs['ref_hgt'] == pytest.approx(z[j, i] / G)
    assert d.attrs['ref_pix_lon'] == pytest.approx(10.8)
    assert d.attrs['ref_pix_lat'] == pytest.approx(46.8)
    assert d.temp.attrs['units'] == 'degC'
    assert d.prcp.attrs['units'] == 'kg m-2 day-1'
    np.testing.assert_array_equal(d.time.values.astype('datetime64[D]'),
                                  TIME.values.astype('datetime64[D]'))


def test_bilinear_split_files_and_units(hef_gdir, files):
    root, t2m, tp, z = files
    lon, lat = hef_gdir.cenlon, hef_gdir.cenlat
    process_daily_gridded_climate(hef_gdir, filepath=root / 'all.nc', method='bilinear',
                                  y0=2002, y1=2002, filesuffix='_grid_bl')
    d = _read(hef_gdir, '_grid_bl')
    sel = TIME.year == 2002
    # fields are linear in lon and lat: bilinear interpolation is exact
    exp_t = (270 + 10 * np.sin(2 * np.pi * np.arange(TIME.size) / 365.25)
             + 3 * (lat - 47) + 2 * (lon - 10.5) - 273.15)[sel]
    np.testing.assert_allclose(d.temp.values, exp_t, atol=1e-6)
    exp_z = 3000 + 100 * (lat - 47) + 50 * (lon - 10.5)
    assert d.attrs['ref_hgt'] == pytest.approx(exp_z, abs=1e-6)
    assert d.attrs['ref_pix_lon'] == pytest.approx(lon)
    assert d.attrs['yr_0'] == 2002 == d.attrs['yr_1']
    # temperature split per year, precipitation in other units: same result
    split = [root / f't2m_{y}.nc' for y in (2003, 2001, 2002)]
    for tpfile in ('tp_mm.nc', 'tp_rate.nc'):
        process_daily_gridded_climate(
            hef_gdir, filepath=split + [root / tpfile], method='bilinear', y0=2002,
            y1=2002, orography=root / 'invariant.nc', filesuffix='_grid_sp')
        s = _read(hef_gdir, '_grid_sp')
        np.testing.assert_allclose(s.temp.values, d.temp.values, atol=1e-9)
        np.testing.assert_allclose(s.prcp.values, d.prcp.values, rtol=1e-9)


def test_errors(hef_gdir, files):
    root = files[0]
    kw = dict(orography=root / 'invariant.nc', filesuffix='_grid_err')
    nounits = ([root / f't2m_{y}.nc' for y in (2001, 2002, 2003)]
               + [root / 'tp_nounits.nc'])
    with pytest.raises(ValueError, match='prcp_units'):
        process_daily_gridded_climate(hef_gdir, filepath=nounits, **kw)
    process_daily_gridded_climate(hef_gdir, filepath=nounits, prcp_units='m', **kw)
    with pytest.raises(ValueError, match='filepath='):
        process_daily_gridded_climate(hef_gdir, **kw)
    with pytest.raises(ValueError, match='2001-2003'):
        process_daily_gridded_climate(hef_gdir, filepath=root / 'both.nc', y0=1999,
                                      **kw)
    with pytest.raises(ValueError, match='none of the files'):
        process_daily_gridded_climate(hef_gdir, filepath=root / 'both.nc',
                                      temp_var='tas', **kw)
    with pytest.raises(ValueError, match='No orography'):
        process_daily_gridded_climate(hef_gdir, filepath=root / 'both.nc',
                                      filesuffix='_grid_err')
    with pytest.raises(ValueError, match='gaps'):
        process_daily_gridded_climate(
            hef_gdir, filepath=[root / 't2m_2001.nc', root / 't2m_2003.nc',
                       root / 'tp_mm.nc'], **kw)
    with pytest.raises(ValueError, match="'nearest' or 'bilinear'"):
        process_daily_gridded_climate(hef_gdir, filepath=root / 'both.nc',
                                      method='cubic', **kw)
    with pytest.raises(FileNotFoundError, match='not found'):
        process_daily_gridded_climate(hef_gdir, filepath=root / 'nothere.nc', **kw)


def test_glacier_outside_grid(hef_gdir, files, tmp_path):
    root, t2m, tp, _ = files
    far = xr.open_dataset(root / 'all.nc').load()
    far = far.assign_coords(longitude=far.longitude + 5)
    far.to_netcdf(tmp_path / 'far.nc')
    with pytest.raises(ValueError, match='outside the grid'):
        process_daily_gridded_climate(hef_gdir, filepath=tmp_path / 'far.nc',
                                      filesuffix='_grid_err')
