"""glaunti_gridded_smb (gridded SMB file), glacier_wide_series and plot_gridded_smb on
Hintereisferner (HISTALP monthly climate 1802-2002, disaggregated to daily)."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr

YEARS = (1999, 2001)  # hydrological years 1 Oct 1999 .. 1 Oct 2002


@pytest.fixture(scope='module')
def hef_inputs(hef_gdir):
    """HEF with the daily climate and the model grid (default settings)."""
    from oggm_glaunti.integration.climate.climate_daily import process_daily_from_monthly
    from oggm_glaunti.integration.grid.model_grid import glaunti_model_grid

    process_daily_from_monthly(hef_gdir)
    glaunti_model_grid(hef_gdir)
    return hef_gdir


@pytest.fixture(scope='module')
def hef_smb(hef_inputs):
    """Variant D, three hydrological years, with the daily series."""
    from oggm_glaunti.integration.output.gridded_output import glaunti_gridded_smb

    glaunti_gridded_smb(hef_inputs, ys=YEARS[0], ye=YEARS[1], variant='D', daily=True,
                        filesuffix='_testD')
    path = hef_inputs.get_filepath('glaunti_gridded_smb', filesuffix='_testD')
    with xr.open_dataset(path) as ds:
        return hef_inputs, path, ds.load()


@pytest.fixture(scope='module')
def hef_model(hef_inputs):
    from oggm_glaunti.integration.run.massbalance import GlaUnTIMassBalance

    mb = GlaUnTIMassBalance(hef_inputs, variant='D')
    return mb, mb.adjustments


def test_file_content(hef_smb, hef_model):
    gdir, path, ds = hef_smb
    mb, _ = hef_model
    assert os.path.basename(path) == 'glaunti_gridded_smb_testD.nc'
    ny, nx = mb.glacier_run.grid.shape
    n = YEARS[1] - YEARS[0] + 1
    for name in ('smb_annual', 'smb_winter', 'smb_summer'):
        assert ds[name].dims == ('hydro_year', 'y', 'x')
        assert ds[name].shape == (n, ny, nx)
        assert ds[name].dtype == np.float32
        assert ds[name].attrs['units'] == 'm w.e.'
        assert ds[name].attrs['long_name']
        assert 'standard_name' not in ds[name].attrs  # CF's is for kg m-2 s-1
        assert np.isfinite(ds[name].values).all()
    assert ds['corrections'].dims == ('hydro_year', 'correction', 'y', 'x')
    assert list(ds['correction'].values) == ['d1', 'd2', 'd3', 'd4', 'd5']
    assert np.isfinite(ds['corrections'].values).all()
    assert ds['smb_daily'].dims == ('time', 'y', 'x')
    assert ds['smb_daily'].attrs['units'] == 'm w.e.'
    assert list(ds['hydro_year'].values) == list(range(YEARS[0], YEARS[1] + 1))

    with xr.open_dataset(gdir.get_filepath('glaunti_grid')) as grid:
        for c in ('x', 'y'):
            np.testing.assert_array_equal(ds[c].values, grid[c].values)
            assert ds[c].attrs == grid[c].attrs
        for v in ('outline_fraction', 'elevation'):
            np.testing.assert_array_equal(ds[v].values, grid[v].values)
            assert ds[v].attrs['units'] == grid[v].attrs['units']
        assert ds.attrs['pyproj_srs'] == grid.attrs['pyproj_srs']
    a = ds.attrs
    assert a['variant'] == 'D' and a['rgi_id'] == gdir.rgi_id
    assert a['author'] == 'oggm_glaunti'
    assert (a['temp_bias'], a['prcp_fac'], a['melt_f']) == (mb.temp_bias, mb.prcp_fac, mb.melt_f)
    assert a['hydro_year_start_month'] == 10 and a['winter_end_month'] == 5


def test_annual_is_winter_plus_summer(hef_smb):
    _, _, ds = hef_smb
    np.testing.assert_allclose(ds.smb_annual.values, ds.smb_winter.values + ds.smb_summer.values,
                               rtol=0, atol=1e-5)
    # Alpine glacier: winter gain, summer loss, glacier-wide
    df = pd.DataFrame({k: (ds[k] * ds.outline_fraction).sum(('y', 'x')) for k in
                       ('smb_winter', 'smb_summer')})
    assert (df.smb_winter > 0).all() and (df.smb_summer < 0).all()


def test_seasons_split_on_1_may(hef_smb):
    _, _, ds = hef_smb
    d = ds.smb_daily.astype(np.float64)
    y0 = YEARS[0]
    # the file's first date holds only this year's half day
    winter = (d.sel(time=slice(f'{y0}-10-01', f'{y0 + 1}-04-30')).sum('time')
              + 0.5 * d.sel(time=f'{y0 + 1}-05-01'))
    np.testing.assert_allclose(ds.smb_winter.sel(hydro_year=y0).values, winter.values,
                               rtol=0, atol=1e-5)


def test_annual_equals_model(hef_smb, hef_model):
    _, _, ds = hef_smb
    mb, adj = hef_model
    from oggm_glaunti.integration.output.gridded_output import glacier_wide_series

    wide = glacier_wide_series(ds)
    for hy in range(YEARS[0], YEARS[1] + 1):
        out = mb.glacier_run.year(hy, adj)
        ref = out.period_smb.sum(0)
        np.testing.assert_allclose(ds.smb_annual.sel(hydro_year=hy).values, ref,
                                   rtol=0, atol=1e-5)
        np.testing.assert_array_equal(ds.corrections.sel(hydro_year=hy).values, out.corrections)
        assert wide.loc[hy, 'smb_annual'] == pytest.approx(mb.glacier_run.glacier_mean(ref), abs=1e-5)


def test_daily_consistent_with_annual_and_calendar(hef_smb, hef_model):
    _, _, ds = hef_smb
    mb, _ = hef_model
    t = ds.time.values.astype('datetime64[D]')
    assert t[0] == np.datetime64(f'{YEARS[0]}-10-01') and t[-1] == np.datetime64(f'{YEARS[1] + 1}-10-01')
    assert np.all(np.diff(t).astype(int) == 1)
    d = ds.smb_daily.astype(np.float64)
    np.testing.assert_allclose(d.sum('time').values,
                               ds.smb_annual.astype(np.float64).sum('hydro_year').values,
                               rtol=0, atol=1e-4)
    # calendar year 2000 (1 Jan .. 1 Jan, half days at both ends) = mb.grid_smb(2000)
    cal = (d.sel(time=slice('2000-01-02', '2000-12-31')).sum('time')
           + 0.5 * (d.sel(time='2000-01-01') + d.sel(time='2001-01-01')))
    np.testing.assert_allclose(cal.values, mb.grid_smb(2000), rtol=0, atol=1e-5)


def test_glacier_wide_series(hef_smb):
    _, path, ds = hef_smb
    from oggm_glaunti.integration.output.gridded_output import glacier_wide_series

    df = glacier_wide_series(path)
    assert list(df.columns) == ['smb_annual', 'smb_winter', 'smb_summer']
    assert df.index.name == 'hydro_year' and list(df.index) == list(range(YEARS[0], YEARS[1] + 1))
    w = ds.outline_fraction.values
    manual = (ds.smb_annual.values * w).sum((1, 2)) / w.sum()
    np.testing.assert_allclose(df.smb_annual.values, manual, rtol=1e-6)
    np.testing.assert_allclose(df.smb_annual, df.smb_winter + df.smb_summer, atol=1e-5)
    pd.testing.assert_frame_equal(df, glacier_wide_series(ds))


def test_bad_input(hef_inputs):
    from oggm_glaunti.integration.output.gridded_output import glaunti_gridded_smb

    gdir = hef_inputs
    with pytest.raises(ValueError, match=r'1700-1701.*1802-2001'):
        glaunti_gridded_smb(gdir, ys=1700, ye=1701, filesuffix='_bad')
    # 2002 is only partly covered (the record ends 31 Dec 2002)
    with pytest.raises(ValueError, match=r'2000-2002.*first outside: 2002'):
        glaunti_gridded_smb(gdir, ys=2000, ye=2002, filesuffix='_bad')
    with pytest.raises(ValueError, match='after'):
        glaunti_gridded_smb(gdir, ys=2001, ye=2000, filesuffix='_bad')
    with pytest.raises(ValueError, match='winter_end_month'):
        glaunti_gridded_smb(gdir, ys=2000, ye=2000, winter_end_month=10, filesuffix='_bad')
    with pytest.raises(ValueError, match='winter_end_month'):
        glaunti_gridded_smb(gdir, ys=2000, ye=2000, winter_end_month=13, filesuffix='_bad')
    assert not os.path.exists(gdir.get_filepath('glaunti_gridded_smb', filesuffix='_bad'))


def test_no_temporary_files(hef_smb):
    gdir, _, _ = hef_smb
    leftovers = [f for f in os.listdir(gdir.dir) if f.endswith('.tmp')]
    assert leftovers == []


def test_variant_a_has_no_corrections(hef_inputs):
    from oggm_glaunti.integration.output.gridded_output import glaunti_gridded_smb
    from oggm_glaunti.integration.run.massbalance import GlaUnTIMassBalance
    from oggm_glaunti.integration.output.plots import plot_gridded_smb

    glaunti_gridded_smb(hef_inputs, ys=2000, ye=2000, variant='A', filesuffix='_testA')
    path = hef_inputs.get_filepath('glaunti_gridded_smb', filesuffix='_testA')
    with xr.open_dataset(path) as ds:
        assert ds.attrs['variant'] == 'A'
        assert 'smb_daily' not in ds
        assert np.isnan(ds.corrections.values).all()
        mb = GlaUnTIMassBalance(hef_inputs, variant='A')
        ref = mb.glacier_run.year(2000, mb.adjustments).period_smb.sum(0)
        np.testing.assert_allclose(ds.smb_annual.sel(hydro_year=2000).values, ref, atol=1e-5)
    with pytest.raises(ValueError, match='no corrector'):
        plot_gridded_smb(path, what='corrections')


def test_plots(hef_smb, tmp_path):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from oggm_glaunti.integration.output.plots import plot_gridded_smb

    gdir, path, _ = hef_smb
    fig = plot_gridded_smb(gdir, year=2000, filesuffix='_testD')
    out = tmp_path / 'hef_smb_annual_2000.png'
    fig.savefig(out, dpi=80)
    assert out.stat().st_size > 10_000
    ax = fig.axes[0]
    assert gdir.rgi_id in ax.get_title() and '2000' in ax.get_title()
    assert 'm w.e.' in fig.axes[1].get_ylabel()  # the colorbar
    lo, hi = ax.collections[0].get_clim()
    assert lo == -hi  # centred at 0
    plt.close(fig)

    fig = plot_gridded_smb(path, what='corrections')  # default: the last year
    out = tmp_path / 'hef_corrections.png'
    fig.savefig(out, dpi=60)
    assert out.stat().st_size > 10_000
    assert len(fig.axes) == 10  # 5 maps + 5 colorbars
    assert str(YEARS[1]) in fig._suptitle.get_text()
    plt.close(fig)

    fig, axes = plt.subplots(1, 2)
    assert plot_gridded_smb(path, year=2001, ax=axes[1], what='smb_winter') is fig
    plt.close(fig)
    with pytest.raises(ValueError, match='1999-2001'):
        plot_gridded_smb(path, year=1990)
    with pytest.raises(ValueError, match='what'):
        plot_gridded_smb(path, what='smb')
