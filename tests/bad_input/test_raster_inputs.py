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
        # 1e6 m moved variant D's SMB by 27 % on Hintereisferner
        "elevation_std_huge": (
            lambda g: _utm_raster(g, tmp / "s.tif", np.full((N, N), 1e6, np.float32)),
            "elevation_std_raster", ValueError, ["above the plausible 5699 m", "1e+06", "units"]),
        "elevation_std_undeclared_nodata": (
            lambda g: _utm_raster(g, tmp / "s.tif", np.tile(np.where(np.arange(N) < 30, 65535, 8)
                                                            .astype(np.uint16), (N, 1))),
            "elevation_std_raster", ValueError, ["65535", "nodata", "gdal_edit"]),
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
    (dict(elevation_std_default=1e4), ["elevation_std_default=10000", "0..5699 m"]),
], ids=["dx_negative", "dx_nan", "margin_negative", "min_cells_zero", "std_default_negative",
        "std_default_huge"])
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


# --- the cell size against the corrector's training grids (~100 m) -------------------------
def test_cell_size_far_from_100_m_refused_by_the_corrector(gdir_copy, caplog):
    """D moved by -48 % at dx = 1000 m and +26 % at 25 m (the TI alone: < 0.5 % within
    25..200 m): C and D refuse a grid outside 50..200 m; A runs on it."""
    from oggm_glaunti.integration import GlaUnTIMassBalance

    with caplog.at_level("WARNING"):
        glaunti_model_grid(gdir_copy, dx=250., filesuffix="_250")
    assert "dx = 250 m is outside 75..150 m" in caplog.text
    for variant in ("C", "D"):
        with refused(ValueError, "glaunti_grid_250.nc", "dx = 250 m is outside 50..200 m",
                     "trained on grids of about 100 m", "dx=100", folders=[gdir_copy.dir]):
            GlaUnTIMassBalance(gdir_copy, variant=variant, grid_filesuffix="_250")
    assert GlaUnTIMassBalance(gdir_copy, variant="A", grid_filesuffix="_250").variant == "A"


def test_cell_size_moderately_off_warns(gdir_copy, caplog):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    glaunti_model_grid(gdir_copy, dx=180., filesuffix="_180")
    caplog.clear()
    with caplog.at_level("WARNING"):
        GlaUnTIMassBalance(gdir_copy, variant="D", grid_filesuffix="_180")
    assert "dx = 180 m is outside 75..150 m" in caplog.text and "-6 % at 200 m" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):  # once per grid: not again for each flowline's MB model
        GlaUnTIMassBalance(gdir_copy, variant="D", grid_filesuffix="_180")
    assert "outside 75..150 m" not in caplog.text


# --- padding to a minimum size stays outside the corrector's window ------------------------
@pytest.fixture(scope="module")
def small_glacier(oggm_sample_data, light_gdir, tmp_path_factory):
    """RGI50-11.00684 (0.34 km2, 11 x 9 cells of 100 m without a margin), daily climate
    1995-1999; OGGM's configuration is given back as it was."""
    from oggm import cfg

    from oggm_glaunti.integration import oetztal_gdirs, process_daily_from_monthly

    packed, cache_dir = cfg.pack_config(), cfg.CACHE_DIR
    try:
        gdir = oetztal_gdirs(tmp_path_factory.mktemp("small"), rgi_ids=["RGI50-11.00684"], initialize=False,
                             calibrate=False, invert=False, init_present_time=False)[0]
        process_daily_from_monthly(gdir, y0=1995, y1=1999)
    finally:
        cfg.unpack_config(packed)
        cfg.CACHE_DIR = cache_dir
    return gdir


def test_padding_leaves_a_small_glacier_smb_unchanged(small_glacier):
    """Cells added to reach min_cells lie outside the glacier's own grid, which alone the
    corrector sees: padding the 11 x 9 grid to 32 x 32 moved D's SMB by 25 % before."""
    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.integration.grid.glacier_data import read_model_grid

    smb, grids = {}, {}
    for min_cells in (8, 32):
        suffix = f"_c{min_cells}"
        glaunti_model_grid(small_glacier, margin_cells=0, min_cells=min_cells, size_multiple=1,
                           filesuffix=suffix)
        grids[min_cells] = read_model_grid(small_glacier, suffix)
        mb = GlaUnTIMassBalance(small_glacier, variant="D", grid_filesuffix=suffix)
        smb[min_cells] = [mb.grid_specific_mb(year) for year in (1997, 1998)]
    assert grids[8].shape == (11, 9) and grids[32].shape == (32, 32)
    assert grids[32].window[2:] == grids[8].window[2:] == (11, 9)
    np.testing.assert_allclose(smb[32], smb[8], rtol=1e-5)
