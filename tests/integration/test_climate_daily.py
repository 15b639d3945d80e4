"""Daily climate from OGGM's monthly files (process_daily_from_monthly / _from_gcm)."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from oggm_glaunti.integration.climate.climate_daily import (
    process_daily_from_gcm, process_daily_from_monthly,
)


def _read(gdir, key='climate_historical_daily', suffix=''):
    with xr.open_dataset(gdir.get_filepath(key, filesuffix=suffix)) as ds:
        return ds.load()


def _monthly_check(daily, monthly):
    """Monthly means / totals of ``daily`` equal ``monthly`` (float64 round-off)."""
    tm = daily.temp.resample(time='MS').mean()
    pm = daily.prcp.resample(time='MS').sum()
    sel = monthly.sel(time=slice(tm.time[0].values, tm.time[-1].values))
    assert tm.size == sel.time.size
    np.testing.assert_allclose(tm.values, sel.temp.values.astype(float),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(pm.values, sel.prcp.values.astype(float),
                               rtol=1e-12, atol=1e-9)


def _write_variant(gdir, suffix, y0, y1, temp_std=None, dry_every=None,
                   negative=None):
    """A monthly climate_historical{suffix} copied from the real one."""
    with xr.open_dataset(gdir.get_filepath('climate_historical')) as ds:
        ds = ds.sel(time=slice(f'{y0}', f'{y1}')).load()
    prcp = ds.prcp.values.copy()
    if dry_every:
        prcp[::dry_every] = 0.
    if negative is not None:
        prcp[negative] = -10.
    gdir.write_monthly_climate_file(
        ds.time.values, prcp, ds.temp.values, ds.ref_hgt, ds.ref_pix_lon,
        ds.ref_pix_lat, temp_std=temp_std, filesuffix=suffix, source='test')
    return xr.open_dataset(gdir.get_filepath('climate_historical',
                                             filesuffix=suffix)).load()


def test_from_monthly_format_and_preservation(hef_gdir):
    process_daily_from_monthly(hef_gdir, output_filesuffix='_full')
    d = _read(hef_gdir, suffix='_full')
    with xr.open_dataset(hef_gdir.get_filepath('climate_historical')) as m:
        m = m.load()
    assert d.temp.dtype == np.float64 and d.prcp.dtype == np.float64
    assert d.temp.attrs['units'] == 'degC'
    assert d.prcp.attrs['units'] == 'kg m-2 day-1'
    for key in ('ref_hgt', 'ref_pix_lon', 'ref_pix_lat'):
        assert d.attrs[key] == m.attrs[key]
    assert m.attrs['climate_source'] in d.attrs['climate_source']
    assert d.attrs['yr_0'] == 1802 and d.attrs['yr_1'] == 2002
    assert d.attrs['glaunti_temp_std_source'].startswith('default 3.0')
    days = d.time.values.astype('datetime64[D]')
    assert days[0] == np.datetime64('1802-01-01')
    assert days[-1] == np.datetime64('2002-12-31')
    assert np.all(np.diff(days).astype(int) == 1)
    _monthly_check(d, m)
    assert 0.3 < float((d.prcp > 0).mean()) < 0.55


def test_from_monthly_subset_seed_and_params(hef_gdir, monkeypatch):
    from oggm import cfg

    process_daily_from_monthly(hef_gdir, output_filesuffix='_a', y0=1990,
                               y1=1999)
    process_daily_from_monthly(hef_gdir, output_filesuffix='_b', y0=1995,
                               y1=2002)
    process_daily_from_monthly(hef_gdir, output_filesuffix='_c', y0=1990,
                               y1=1999)
    process_daily_from_monthly(hef_gdir, output_filesuffix='_s', y0=1990,
                               y1=1999, seed=7)
    a, b, c, s = (_read(hef_gdir, suffix=x) for x in ('_a', '_b', '_c', '_s'))
    assert a.attrs['yr_0'] == 1990 and a.attrs['yr_1'] == 1999
    np.testing.assert_array_equal(a.temp.values, c.temp.values)
    np.testing.assert_array_equal(a.prcp.values, c.prcp.values)
    # the weather of a day does not depend on the chosen period
    common = slice('1995-01-01', '1999-12-31')
    np.testing.assert_array_equal(a.temp.sel(time=common).values,
                                  b.temp.sel(time=common).values)
    assert not np.allclose(a.temp.values, s.temp.values)
    assert not np.allclose(a.prcp.values, s.prcp.values)
    # cfg.PARAMS provides the defaults
    monkeypatch.setitem(cfg.PARAMS, 'glaunti_daily_seed', 7)
    process_daily_from_monthly(hef_gdir, output_filesuffix='_p', y0=1990,
                               y1=1999)
    np.testing.assert_array_equal(_read(hef_gdir, suffix='_p').temp.values,
                                  s.temp.values)


def test_temp_std_used_and_dry_months(hef_gdir):
    m = _write_variant(hef_gdir, '_std', 1990, 1999, dry_every=5,
                       temp_std=np.linspace(1., 6., 120))
    process_daily_from_monthly(hef_gdir, input_filesuffix='_std',
                               output_filesuffix='_std')
    d = _read(hef_gdir, suffix='_std')
    _monthly_check(d, m)
    assert 'temp_std variable' in d.attrs['glaunti_temp_std_source']
    sd = d.temp.resample(time='MS').std().values  # ddof=0
    np.testing.assert_allclose(sd, m.temp_std.values.astype(float), atol=1e-9)
    ptot = d.prcp.resample(time='MS').sum().values
    assert np.all(ptot[::5] == 0) and np.all(ptot[1::5] > 0)
    wet = (d.prcp > 0).resample(time='MS').sum().values
    assert np.all(wet[::5] == 0)


def test_negative_monthly_precipitation_set_to_zero(hef_gdir, caplog):
    m = _write_variant(hef_gdir, '_neg', 1990, 1991, negative=[3, 7])
    process_daily_from_monthly(hef_gdir, input_filesuffix='_neg',
                               output_filesuffix='_neg')
    d = _read(hef_gdir, suffix='_neg')
    assert d.attrs['glaunti_negative_prcp_months_set_to_0'] == 2
    assert 'negative precipitation' in caplog.text
    ptot = d.prcp.resample(time='MS').sum().values
    assert np.all(ptot[[3, 7]] == 0) and np.all(d.prcp.values >= 0)
    m['prcp'] = m.prcp.clip(0)
    _monthly_check(d, m)


def test_from_monthly_errors(hef_gdir):
    with pytest.raises(FileNotFoundError,
                       match='process_custom_climate_data'):
        process_daily_from_monthly(hef_gdir, input_filesuffix='_missing')
    with pytest.raises(FileNotFoundError, match='process_climate_data'):
        process_daily_from_monthly(hef_gdir, input_filesuffix='_missing')
    with pytest.raises(ValueError, match='1802-2002'):
        process_daily_from_monthly(hef_gdir, y0=1700, y1=1800)
    with pytest.raises(ValueError, match='1802-2002'):
        process_daily_from_monthly(hef_gdir, y0=2000, y1=2010)
    with pytest.raises(ValueError, match='ar1'):
        process_daily_from_monthly(hef_gdir, ar1=-0.1)


@pytest.fixture(scope='module')
def hef_gcm(hef_gdir):
    from oggm import tasks, utils

    tasks.process_cmip_data(
        hef_gdir, filesuffix='_CCSM4_rcp26',
        fpath_temp=utils.get_demo_file('tas_mon_CCSM4_rcp26_r1i1p1_g025.nc'),
        fpath_precip=utils.get_demo_file('pr_mon_CCSM4_rcp26_r1i1p1_g025.nc'))
    return hef_gdir


def test_from_gcm(hef_gcm):
    process_daily_from_gcm(hef_gcm, input_filesuffix='_CCSM4_rcp26', y0=2050)
    d = _read(hef_gcm, 'gcm_data_daily', '_CCSM4_rcp26')
    with xr.open_dataset(hef_gcm.get_filepath(
            'gcm_data', filesuffix='_CCSM4_rcp26')) as m:
        m = m.load()
    # gcm_data stamps months on the 15th: compare month by month
    m = m.assign_coords(time=m.time.values.astype('datetime64[M]')
                        .astype('datetime64[ns]'))
    _monthly_check(d, m)
    assert d.attrs['yr_0'] == 2050 and d.attrs['yr_1'] == 2100
    assert d.attrs['ref_hgt'] == m.attrs['ref_hgt']
    assert d.attrs['glaunti_input_file'] == 'gcm_data_CCSM4_rcp26.nc'
    process_daily_from_gcm(hef_gcm, input_filesuffix='_CCSM4_rcp26',
                           output_filesuffix='_other', y0=2050)
    np.testing.assert_array_equal(
        _read(hef_gcm, 'gcm_data_daily', '_other').temp.values,
        d.temp.values)
    with pytest.raises(FileNotFoundError, match='process_cmip_data'):
        process_daily_from_gcm(hef_gcm, input_filesuffix='_nogcm')
