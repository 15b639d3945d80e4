"""GlaUnTI's ~100 m model grid (glaunti_model_grid)."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr
from pyproj import Transformer
from rasterio.transform import from_origin

from oggm_glaunti.integration.grid.model_grid import (
    CORRECTOR_MIN_CELLS, FACIES_CLASSES, glacier_window, glaunti_model_grid, grid_layout,
)


def _read(gdir, suffix=''):
    with xr.open_dataset(gdir.get_filepath('glaunti_grid',
                                           filesuffix=suffix)) as ds:
        return ds.load()


def _write_tif(path, data, transform, crs, nodata=None):
    data = np.atleast_3d(data) if data.ndim == 2 else data
    if data.ndim == 3 and data.shape[-1] == 1:
        data = data[..., 0][None]
    with rasterio.open(path, 'w', driver='GTiff', height=data.shape[1],
                       width=data.shape[2], count=data.shape[0],
                       dtype=data.dtype, crs=crs, transform=transform,
                       nodata=nodata) as dst:
        dst.write(data)


def _utm_box(gdir, pad=6000.):
    """Bounds of the glacier in UTM 32N (EPSG:32632), padded."""
    tr = Transformer.from_crs('EPSG:4326', 'EPSG:32632', always_xy=True)
    x, y = tr.transform(gdir.cenlon, gdir.cenlat)
    return x - pad, y + pad, x, y


def test_grid_layout_snaps_and_pads():
    tr, ny, nx = grid_layout((120., 30., 380., 250.), 100., 2, 1)
    assert (tr.c, tr.f, nx, ny) == (-100., 500., 7, 7)
    tr, ny, nx = grid_layout((120., 30., 380., 250.), 100., 0, 8)
    assert (nx, ny) == (8, 8)
    assert tr.c == -100. and tr.f == 600.


def test_glacier_window_inside_padded_grids():
    """The window (the glacier's own grid) is the layout at the corrector's minimum; any
    padding (min_cells, size_multiple: odd and even amounts) lies around it."""
    from oggm_glaunti.core.corrector import MIN_GRID_SIZE

    assert CORRECTOR_MIN_CELLS == MIN_GRID_SIZE
    bounds = (120., 30., 380., 250.)  # 3 x 3 cells of 100 m
    for margin, min_cells, multiple in [(0, 8, 1), (0, 13, 1), (0, 13, 16), (1, 9, 5), (2, 8, 16)]:
        own, own_ny, own_nx = grid_layout(bounds, 100., margin, CORRECTOR_MIN_CELLS)
        tr, ny, nx = grid_layout(bounds, 100., margin, max(min_cells, CORRECTOR_MIN_CELLS), multiple)
        row0, col0, n_rows, n_cols = glacier_window(bounds, 100., margin, tr, (ny, nx))
        assert (n_rows, n_cols) == (own_ny, own_nx) == (max(3 + 2 * margin, 8),) * 2
        # the window's cells are the own grid's cells
        assert tr.c + 100. * col0 == own.c and tr.f - 100. * row0 == own.f
        assert row0 + n_rows <= ny and col0 + n_cols <= nx


def test_hef_grid(hef_gdir):
    glaunti_model_grid(hef_gdir)
    ds = _read(hef_gdir)
    ny, nx = ds.elevation.shape
    assert 40 <= ny <= 90 and 40 <= nx <= 90
    assert ds.facies.dims == ('class', 'y', 'x')
    assert tuple(ds['class'].values) == FACIES_CLASSES
    area = float(ds.outline_fraction.sum()) * 100. ** 2
    assert area == pytest.approx(hef_gdir.rgi_area_m2, rel=0.05)
    frac = ds.outline_fraction.values
    assert frac.min() == 0 and frac.max() == 1
    assert np.all(frac[:4] == 0) and np.all(frac[:, -4:] == 0)  # margin
    inside = frac > 0
    elev = ds.elevation.values
    assert 2400 < elev[inside].min() < elev[inside].max() < 3800
    assert 2200 < elev.min() and elev.max() < 3900
    assert np.all(ds.elevation_std.values == 10.)
    assert np.all(ds.facies.values == -1)
    assert np.all(ds.facies_confidence.values == -1)
    assert ds.attrs['has_facies'] == 0
    assert ds.attrs['dx'] == 100.
    assert ds.attrs['pyproj_srs'] == hef_gdir.grid.proj.srs
    with xr.open_dataset(hef_gdir.get_filepath('climate_historical')) as c:
        assert ds.attrs['ref_hgt'] == c.attrs['ref_hgt']
    np.testing.assert_allclose(np.diff(ds.x), 100.)
    np.testing.assert_allclose(np.diff(ds.y), -100.)
    for v in ('elevation', 'outline_fraction', 'elevation_std', 'facies',
              'facies_confidence'):
        assert {'units', 'long_name'} <= set(ds[v].attrs)
    # cell centres on (k + 0.5) dx; mean elevation close to OGGM's topo
    assert np.allclose((ds.x.values / 100.) % 1, 0.5)
    with xr.open_dataset(hef_gdir.get_filepath('gridded_data')) as g:
        topo = g.topo.where(g.glacier_mask == 1)
        assert float(topo.mean()) == pytest.approx(
            float((elev * frac).sum() / frac.sum()), abs=15)


def test_min_cells_and_errors(hef_gdir):
    glaunti_model_grid(hef_gdir, dx=600., margin_cells=0, size_multiple=1, filesuffix='_600')
    ds = _read(hef_gdir, '_600')
    assert ds.elevation.shape[0] == 8 and ds.elevation.shape[1] >= 8
    assert float(ds.outline_fraction.sum()) * 600 ** 2 == pytest.approx(
        hef_gdir.rgi_area_m2, rel=0.05)
    with pytest.raises(ValueError, match='dx='):
        glaunti_model_grid(hef_gdir, dx=-1., filesuffix='_bad')


def test_missing_dem(tmp_path, hef_gdir):
    import geopandas as gpd
    from oggm import utils

    entity = gpd.read_file(utils.get_demo_file('Hintereisferner_RGI5.shp'))
    gdir = utils.GlacierDirectory(entity.iloc[0], base_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='define_glacier_region'):
        glaunti_model_grid(gdir)


def test_facies_classes_reprojected_from_utm(hef_gdir, tmp_path):
    x0, y0, xc, yc = _utm_box(hef_gdir)
    res, n = 20., 600
    xs = x0 + res * (np.arange(n) + 0.5)
    ys = y0 - res * (np.arange(n) + 0.5)
    # quadrants around the glacier centre: 2 * north + east -> classes 0..3
    cls = (2 * (ys[:, None] > yc) + (xs[None, :] > xc)).astype(np.uint8)
    cls[:5, :5] = 255  # some nodata
    path = tmp_path / 'facies_utm.tif'
    _write_tif(path, cls[None], from_origin(x0, y0, res, res), 'EPSG:32632',
               nodata=255)
    glaunti_model_grid(hef_gdir, facies_raster=path, filesuffix='_fac')
    ds = _read(hef_gdir, '_fac')
    assert ds.attrs['has_facies'] == 1
    assert ds.attrs['facies_source'] == 'facies_utm.tif'
    inside = ds.outline_fraction.values > 0
    fac, conf = ds.facies.values, ds.facies_confidence.values
    assert np.all(fac[:, ~inside] == 0) and np.all(conf[~inside] == 0)
    assert np.all(fac[:, inside].sum(axis=0) == 1)
    # expected class from the cell centre in UTM, away from the boundaries
    to_utm = Transformer.from_crs(hef_gdir.grid.proj.srs, 'EPSG:32632',
                                  always_xy=True)
    X, Y = np.meshgrid(ds.x.values, ds.y.values)
    ux, uy = to_utm.transform(X, Y)
    far = inside & (np.abs(ux - xc) > 120) & (np.abs(uy - yc) > 120)
    expected = 2 * (uy > yc) + (ux > xc)
    assert far.sum() > 200
    np.testing.assert_array_equal(np.argmax(fac, axis=0)[far], expected[far])
    np.testing.assert_allclose(conf[far], 1.)
    for k in range(4):  # every quadrant is represented
        assert np.any(expected[far] == k)
    mixed = inside & ~far
    assert np.all(conf[mixed] >= 0.25) and np.any(conf[mixed] < 1)


def test_facies_probabilities_in_lonlat(hef_gdir, tmp_path):
    res = 0.001
    lon0, lat0 = hef_gdir.cenlon - 0.1, hef_gdir.cenlat + 0.1
    prob = np.zeros((8, 200, 200), dtype=np.float32)
    prob[FACIES_CLASSES.index('firn')] = 0.6
    prob[FACIES_CLASSES.index('snow')] = 0.4
    path = tmp_path / 'facies_prob.tif'
    _write_tif(path, prob, from_origin(lon0, lat0, res, res), 'EPSG:4326')
    glaunti_model_grid(hef_gdir, facies_raster=path, filesuffix='_prob')
    ds = _read(hef_gdir, '_prob')
    inside = ds.outline_fraction.values > 0
    firn = FACIES_CLASSES.index('firn')
    assert np.all(ds.facies.values[firn][inside] == 1)
    np.testing.assert_allclose(ds.facies_confidence.values[inside], 0.6,
                               rtol=1e-6)


def test_elevation_std_raster(hef_gdir, tmp_path):
    x0, y0, _, _ = _utm_box(hef_gdir)
    path = tmp_path / 'std.tif'
    _write_tif(path, np.full((1, 600, 600), 4., np.float32),
               from_origin(x0, y0, 20., 20.), 'EPSG:32632')
    glaunti_model_grid(hef_gdir, elevation_std_raster=path, filesuffix='_std')
    ds = _read(hef_gdir, '_std')
    inside = ds.outline_fraction.values > 0
    assert np.allclose(ds.elevation_std.values[inside], 4.)
    assert ds.attrs['elevation_std_source'] == 'std.tif'


def test_bad_facies_rasters(hef_gdir, tmp_path):
    kw = dict(filesuffix='_badfac')
    with pytest.raises(FileNotFoundError, match='does not exist'):
        glaunti_model_grid(hef_gdir, facies_raster=tmp_path / 'no.tif', **kw)
    corrupt = tmp_path / 'corrupt.tif'
    corrupt.write_bytes(b'II*\x00 definitely not a GeoTIFF')
    with pytest.raises(ValueError, match='Cannot read the facies raster'):
        glaunti_model_grid(hef_gdir, facies_raster=corrupt, **kw)
    x0, y0, _, _ = _utm_box(hef_gdir)
    tr = from_origin(x0, y0, 20., 20.)
    _write_tif(tmp_path / 'nocrs.tif', np.zeros((1, 600, 600), np.uint8),
               tr, None)
    with pytest.raises(ValueError, match='no coordinate reference system'):
        glaunti_model_grid(hef_gdir, facies_raster=tmp_path / 'nocrs.tif',
                           **kw)
    _write_tif(tmp_path / 'three.tif', np.zeros((3, 600, 600), np.uint8),
               tr, 'EPSG:32632')
    with pytest.raises(ValueError, match='3 bands'):
        glaunti_model_grid(hef_gdir, facies_raster=tmp_path / 'three.tif',
                           **kw)
    _write_tif(tmp_path / 'cls9.tif', np.full((1, 600, 600), 9, np.uint8),
               tr, 'EPSG:32632')
    with pytest.raises(ValueError, match='integer classes'):
        glaunti_model_grid(hef_gdir, facies_raster=tmp_path / 'cls9.tif',
                           **kw)
    _write_tif(tmp_path / 'away.tif', np.zeros((1, 600, 600), np.uint8),
               from_origin(x0 + 50000, y0, 20., 20.), 'EPSG:32632')
    with pytest.raises(ValueError, match='does not cover the glacier'):
        glaunti_model_grid(hef_gdir, facies_raster=tmp_path / 'away.tif',
                           **kw)
    assert not hef_gdir.has_file('glaunti_grid', filesuffix='_badfac')


def test_grid_size_rounded_to_multiple(hef_gdir):
    glaunti_model_grid(hef_gdir, size_multiple=16, filesuffix='_m16')
    ny, nx = _read(hef_gdir, '_m16').elevation.shape
    assert ny % 16 == 0 and nx % 16 == 0


def test_margin_beyond_dem_takes_nearest_elevation(hef_gdir):
    # a 4 km margin reaches past the DEM (OGGM's border is 40 cells of 50 m around HEF)
    glaunti_model_grid(hef_gdir, margin_cells=40, filesuffix='_wide')
    ds = _read(hef_gdir, '_wide')
    assert ds.attrs['elevation_filled_cells'] > 0
    elevation = ds.elevation.values
    assert np.isfinite(elevation).all()
    assert elevation.min() > 1500 and elevation.max() < 4000  # edge values, not fill values
    glaunti_model_grid(hef_gdir)
    assert _read(hef_gdir).attrs['elevation_filled_cells'] == 0
