"""Bad rasters given to glaunti_model_grid: facies maps, the DEM, the elevation uncertainty
and grid settings. The glacier's model grid must stay as it was."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin

from oggm_glaunti.integration.grid.model_grid import glaunti_model_grid

from .conftest import refused

RES, N = 50., 240  # a 12 km square around the glacier, in UTM 32N


def _tif(path, data, crs="EPSG:32632", nodata=None, transform=None):
    data = np.asarray(data)
    data = data[None] if data.ndim == 2 else data
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[1], width=data.shape[2],
                       count=data.shape[0], dtype=data.dtype, crs=crs, nodata=nodata,
                       transform=transform) as dst:
        dst.write(data)
    return path


def _utm_raster(gdir, path, data, **kw):
    """``data`` (bands, N, N) centred on the glacier in UTM 32N."""
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True).transform(
        gdir.cenlon, gdir.cenlat)
    transform = from_origin(x - RES * N / 2, y + RES * N / 2, RES, RES)
    return _tif(path, data, transform=transform, **kw)


def _probabilities(negative=False):
    prob = np.full((8, N, N), 0.125, np.float32)
    if negative:
        prob[3, 100:140, 100:140] = -0.5
    return prob


#: name: (raster file maker, task arguments, exception, key words)
def _cases(tmp):
    return {
        "facies_probabilities_negative": (
            lambda g: _utm_raster(g, tmp / "f.tif", _probabilities(negative=True)),
            "facies_raster", ValueError, ["negative class probabilities", "band 4"]),
        "facies_three_bands": (
            lambda g: _utm_raster(g, tmp / "f.tif", _probabilities()[:3]),
            "facies_raster", ValueError, ["has 3 bands", "expected 1"]),
        "facies_fractional_classes": (
            lambda g: _utm_raster(g, tmp / "f.tif", np.full((N, N), 1.5, np.float32)),
            "facies_raster", ValueError, ["integer classes 0..7"]),
        "facies_class_beyond_seven": (
            lambda g: _utm_raster(g, tmp / "f.tif", np.full((N, N), 9, np.uint8)),
            "facies_raster", ValueError, ["integer classes 0..7"]),
        "facies_without_crs": (
            # georeferenced but for the CRS (an identity transform would make rasterio warn)
            lambda g: _tif(tmp / "f.tif", np.zeros((N, N), np.uint8), crs=None,
                           transform=from_origin(1000, 1000, 1, 1)),
            "facies_raster", ValueError, ["no coordinate reference system", "gdal_edit"]),
        "facies_elsewhere": (
            lambda g: _tif(tmp / "f.tif", np.zeros((N, N), np.uint8),
                           transform=from_origin(100000, 5000000, RES, RES)),
            "facies_raster", ValueError, ["does not cover the glacier"]),
        "facies_not_a_raster": (
            lambda g: (tmp / "f.tif").write_text("not a raster") and tmp / "f.tif",
            "facies_raster", ValueError, ["cannot read the facies raster"]),
        "facies_missing": (lambda g: tmp / "none.tif", "facies_raster", FileNotFoundError,
                           ["does not exist"]),
        "elevation_std_negative": (
            lambda g: _utm_raster(g, tmp / "s.tif", np.full((N, N), -5., np.float32)),
            "elevation_std_raster", ValueError, ["negative", "standard deviation"]),
    }


CASES = list(_cases(None))


@pytest.mark.parametrize("case", CASES)
def test_bad_raster(light_gdir, tmp_path, case):
    make, argument, error, words = _cases(tmp_path)[case]
    path = make(light_gdir)
    with refused(error, *words, folders=[light_gdir.dir, tmp_path]):
        glaunti_model_grid(light_gdir, **{argument: path})


@pytest.mark.parametrize("settings, words", [
    (dict(dx=-100.), ["dx=-100"]),
    (dict(dx=float("nan")), ["dx=nan"]),
    (dict(margin_cells=-1), ["margin_cells=-1"]),
    (dict(min_cells=0), ["min_cells=0"]),
    (dict(elevation_std_default=-2.), ["elevation_std_default=-2"]),
], ids=["dx_negative", "dx_nan", "margin_negative", "min_cells_zero", "std_default_negative"])
def test_bad_grid_settings(light_gdir, settings, words):
    with refused(ValueError, "invalid grid settings", *words, folders=[light_gdir.dir]):
        glaunti_model_grid(light_gdir, **settings)


def _edit_dem(gdir, change):
    path = gdir.get_filepath("dem")
    with rasterio.open(path, "r+") as dem:
        data = dem.read(1)
        change(data)
        dem.write(data, 1)


def _undeclared_voids(data):
    data[:20, :20] = -32768


def _too_high(data):
    data[5, 5] = 20000


@pytest.mark.parametrize("change, words", [
    (_undeclared_voids, ["-32768", "nodata", "gdal_edit"]),
    (_too_high, ["20000", "plausible elevations"]),
], ids=["dem_undeclared_nodata", "dem_implausible_elevation"])
def test_bad_dem(gdir_copy, change, words):
    _edit_dem(gdir_copy, change)
    with refused(ValueError, *words, folders=[gdir_copy.dir]):
        glaunti_model_grid(gdir_copy)


def test_dem_missing(gdir_copy):
    import os

    os.remove(gdir_copy.get_filepath("dem"))
    with refused(FileNotFoundError, "define_glacier_region", folders=[gdir_copy.dir]):
        glaunti_model_grid(gdir_copy)
