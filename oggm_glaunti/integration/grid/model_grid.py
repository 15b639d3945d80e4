"""GlaUnTI's own model grid for a glacier directory (entity task).

GlaUnTI's corrector was trained on ~100 m grids cropped to each glacier, so
the model gets its own raster rather than OGGM's glacier grid (whose
resolution depends on the glacier size). :func:`glaunti_model_grid` writes
``glaunti_grid.nc`` (file key ``glaunti_grid``):

- projection: the glacier directory's (``gdir.grid.proj``, local transverse
  Mercator), written as the proj4 string in the global attribute
  ``pyproj_srs`` (as OGGM does);
- extent: the outline's bounding box snapped outwards to multiples of ``dx``
  in that projection, plus ``margin_cells`` cells (default 4, i.e. 400 m) on
  each side so that the corrector's 3x3 convolutions see terrain around the
  glacier, widened symmetrically (with real terrain) to 8 cells along an axis
  where shorter, because the corrector pools three times by two and needs
  H, W >= 8: this is the glacier's own grid, the corrector's window; the
  grid is then widened to at least ``min_cells`` (default 8) cells and to a
  multiple of ``size_multiple`` cells per axis, outside the window;
- coordinates ``x``, ``y`` (m): cell centres, ``y`` descending (north up);
- ``elevation`` (m, (y, x)): ``dem.tif`` averaged onto the cells (cells of
  DEM voids are filled from ``gridded_data.nc``'s void-filled ``topo``;
  margin cells beyond the DEM - the grid size is rounded up to a multiple
  of ``size_multiple`` - take the nearest valid elevation, counted in the
  attribute ``elevation_filled_cells``; glacier cells without DEM data are
  an error);
- ``outline_fraction`` (1, (y, x)): exact fraction of each cell's area
  inside the outline (shapely intersections), 0..1;
- ``elevation_std`` (m, (y, x)): elevation uncertainty, averaged from a
  user raster when given, else ``elevation_std_default`` (10 m: the median
  per-cell uncertainty of the published GlaUnTI example grid with real
  inputs, and the order of the vertical accuracy of the DEMs OGGM uses in
  steep terrain; after normalisation by 5699 m the channel is ~0.002, so the
  choice matters little);
- ``facies`` (1, (class, y, x); class = ice, snow, debris, firn, shadow,
  superimposed_ice, cloud, water) and ``facies_confidence`` (1, (y, x)):
  one-hot dominant class and its share (see :func:`glaunti_model_grid`);
  -1 everywhere when no facies map is given (global attribute
  ``has_facies`` = 0), 0 outside the outline otherwise.

Other global attributes: ``dx`` (m), ``margin_cells``, ``glacier_window``
(row0, col0, n_rows, n_cols: the glacier's own grid, before ``min_cells``
and size bucketing; the corrector sees only this window), ``rgi_id``,
``has_facies``, ``facies_source``, ``elevation_std_source`` and, when the
glacier has a climate file, ``ref_hgt`` (m; from
``climate_historical_daily.nc``, else ``climate_historical.nc``; named in
``ref_hgt_source``; informative only, the model reads the climate file).
"""
from __future__ import annotations

import logging
import math
import os

import numpy as np
import rasterio
import shapely
import xarray as xr
from affine import Affine
from oggm import utils
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject

from .._io import write_netcdf_atomic
from ..session.params import get_param, register_file_keys
from .raster_checks import (MAX_PLAUSIBLE_ELEVATION_STD, check_dem_values, check_elevation_std_values,
                            check_facies_probabilities)
from .resolution import warn_outside_quiet_dx

log = logging.getLogger(__name__)

register_file_keys()  # before the entity tasks below document their files

#: The corrector's smallest grid: it max-pools three times by two (the core's
#: ``oggm_glaunti.core.corrector.MIN_GRID_SIZE``; not imported, to keep JAX out of this task).
CORRECTOR_MIN_CELLS = 8

#: Facies classes, in the order of the corrector's input channels.
FACIES_CLASSES = ('ice', 'snow', 'debris', 'firn', 'shadow',
                  'superimposed_ice', 'cloud', 'water')


def _widen(lo: int, hi: int, size: int) -> tuple[int, int]:
    """Extend the cell range [lo, hi) symmetrically to ``size`` cells if shorter."""
    extra = max(size - (hi - lo), 0)
    return lo - extra // 2, hi + extra - extra // 2


def grid_layout(bounds: tuple[float, float, float, float], dx: float,
                margin_cells: int, min_cells: int, size_multiple: int = 1
                ) -> tuple[Affine, int, int]:
    """Transform and shape of a grid covering ``bounds`` (xmin, ymin, xmax,
    ymax) with cell edges at multiples of ``dx``, ``margin_cells`` extra
    cells on each side, at least ``min_cells`` cells per axis, and a number of
    cells per axis rounded up to a multiple of ``size_multiple`` (glaciers of
    similar size then share one compiled model; the extra cells are real
    terrain, a slightly wider margin).

    Returns
    -------
    (affine.Affine, ny, nx)
        the north-up transform of the cell corners and the shape.
    """
    xmin, ymin, xmax, ymax = bounds
    i0, i1 = math.floor(xmin / dx) - margin_cells, math.ceil(xmax / dx) + margin_cells
    j0, j1 = math.floor(ymin / dx) - margin_cells, math.ceil(ymax / dx) + margin_cells
    i0, i1 = _widen(i0, i1, min_cells)
    j0, j1 = _widen(j0, j1, min_cells)
    m = max(int(size_multiple), 1)
    i0, i1 = _widen(i0, i1, -(-(i1 - i0) // m) * m)
    j0, j1 = _widen(j0, j1, -(-(j1 - j0) // m) * m)
    return Affine(dx, 0., i0 * dx, 0., -dx, j1 * dx), j1 - j0, i1 - i0


def glacier_window(bounds, dx: float, margin_cells: int, transform: Affine,
                   shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(row0, col0, n_rows, n_cols) of the glacier's own grid inside the grid of
    ``transform`` and ``shape``.

    The glacier's own grid is the outline's box plus ``margin_cells``, widened (with real
    terrain) to the corrector's minimum :data:`CORRECTOR_MIN_CELLS` where smaller. The
    corrector sees only this window: cells added beyond it - to reach ``min_cells`` or a
    multiple of ``size_multiple`` - are outside it, so that padding a grid never changes
    the glacier's SMB (the CNN's RMS normalisations average over every position they see).
    """
    own, own_ny, own_nx = grid_layout(bounds, dx, margin_cells, CORRECTOR_MIN_CELLS, 1)
    row0 = int(round((transform.f - own.f) / dx))
    col0 = int(round((own.c - transform.c) / dx))
    if not (0 <= row0 <= shape[0] - own_ny and 0 <= col0 <= shape[1] - own_nx):  # by construction
        raise RuntimeError(f'the glacier window {(row0, col0, own_ny, own_nx)} is not inside the '
                           f'{shape} grid')
    return row0, col0, own_ny, own_nx


def _reproject(src, src_transform, src_crs, dst_transform, dst_crs, shape,
               src_nodata=np.nan) -> np.ndarray:
    """Average ``src`` (2-D) onto the destination grid, NaN where no data."""
    dst = np.full(shape, np.nan, dtype=np.float64)
    reproject(np.asarray(src, dtype=np.float64), dst,
              src_transform=src_transform, src_crs=src_crs,
              src_nodata=src_nodata, dst_transform=dst_transform,
              dst_crs=dst_crs, dst_nodata=np.nan,
              resampling=Resampling.average)
    return dst


def _read_raster(path, what: str, var: str | None = None):
    """(data (bands, y, x) float64 with NaN nodata, transform, crs)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f'The {what} raster {path} does not exist.')
    name = f'NETCDF:"{path}":{var}' if var else path
    try:
        with rasterio.open(name) as src:
            data = src.read(masked=True).astype(np.float64)
            transform, crs = src.transform, src.crs
    except rasterio.errors.RasterioError as err:
        raise ValueError(f'Cannot read the {what} raster {path} ({err}). A '
                         'GeoTIFF or netCDF raster with a coordinate '
                         'reference system is expected.') from err
    if crs is None:
        raise ValueError(f'The {what} raster {path} has no coordinate '
                         'reference system: add one (e.g. with '
                         '`gdal_edit.py -a_srs`).')
    return data.filled(np.nan), transform, crs


def _fill_nearest(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``values`` with each ``missing`` cell set to its nearest valid neighbour's value."""
    from scipy import ndimage

    index = ndimage.distance_transform_edt(missing, return_distances=False, return_indices=True)
    return values[tuple(index)]


def _outline_fraction(geom, transform: Affine, shape) -> np.ndarray:
    ny, nx = shape
    dx = transform.a
    x0 = transform.c + dx * np.arange(nx)
    y1 = transform.f - dx * np.arange(ny)
    xl, yt = np.meshgrid(x0, y1)
    boxes = shapely.box(xl, yt - dx, xl + dx, yt)
    shapely.prepare(geom)
    frac = shapely.area(shapely.intersection(boxes, geom)) / dx ** 2
    return np.clip(frac, 0., 1.)


def _facies(path, var, dst_transform, dst_crs, shape, inside):
    """One-hot dominant class (8, y, x) and its share (y, x)."""
    data, transform, crs = _read_raster(path, 'facies', var)
    n = len(FACIES_CLASSES)
    if data.shape[0] == 1:
        cls = data[0]
        valid = np.isfinite(cls)
        if np.any((cls[valid] != np.round(cls[valid])) | (cls[valid] < 0)
                  | (cls[valid] >= n)):
            raise ValueError(f'Facies raster {path}: a single-band raster '
                             f'must hold integer classes 0..{n - 1} '
                             f'({", ".join(FACIES_CLASSES)}) or nodata.')
        bands = [np.where(valid, (cls == k).astype(float), np.nan)
                 for k in range(n)]
    elif data.shape[0] == n:
        check_facies_probabilities(data, path)
        bands = list(data)
    else:
        raise ValueError(f'Facies raster {path} has {data.shape[0]} bands: '
                         f'expected 1 (class numbers) or {n} (class '
                         f'probabilities in the order {FACIES_CLASSES}).')
    prob = np.stack([_reproject(b, transform, crs, dst_transform, dst_crs,
                                shape) for b in bands])
    covered = np.all(np.isfinite(prob), axis=0)
    if not np.any(covered & inside):
        raise ValueError(f'Facies raster {path} does not cover the glacier '
                         '(no valid data inside the outline after '
                         'reprojection): check its extent and CRS.')
    if np.any(inside & ~covered):
        log.warning('Facies raster %s covers only %.0f %% of the glacier '
                    'cells', path, 100 * covered[inside].mean())
    prob = np.where(covered, prob, 0.)
    total = prob.sum(axis=0)
    prob = np.divide(prob, total, out=np.zeros_like(prob), where=total > 0)
    best = np.argmax(prob, axis=0)
    onehot = (np.arange(n)[:, None, None] == best).astype(np.float64)
    keep = covered & inside & (total > 0)
    return onehot * keep, np.max(prob, axis=0) * keep


def _climate_ref_hgt(gdir) -> tuple[float, str] | None:
    for key in ('climate_historical_daily', 'climate_historical'):
        fpath = gdir.get_filepath(key)
        if os.path.exists(fpath):
            with xr.open_dataset(fpath) as ds:
                return float(ds.attrs['ref_hgt']), os.path.basename(fpath)
    return None


@utils.entity_task(log, writes=['glaunti_grid'])
def glaunti_model_grid(gdir, dx: float | None = None,
                       margin_cells: int | None = None,
                       facies_raster: str | os.PathLike | None = None,
                       facies_var: str | None = None,
                       elevation_std_raster: str | os.PathLike | None = None,
                       elevation_std_default: float | None = None,
                       min_cells: int | None = None,
                       size_multiple: int | None = None,
                       filesuffix: str = '') -> None:
    """Write GlaUnTI's model grid ``glaunti_grid{filesuffix}.nc``.

    Needs ``define_glacier_region`` (``dem.tif``, outlines). File format and
    defaults: see the module docstring. Arguments left to None take their
    value from ``cfg.PARAMS['glaunti_grid_*']``.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        the glacier directory.
    dx : float, optional
        cell size (m), default 100: what the corrector was trained on. Variants C
        and D refuse grids outside 50..200 m and warn outside 75..150 m (see
        :mod:`.resolution`); the task warns outside 75..150 m.
    margin_cells : int, optional
        cells added on each side of the outline's bounding box, default 4.
    facies_raster : path-like, optional
        end-of-ablation-season facies map, in any CRS (reprojected): a
        GeoTIFF or netCDF raster with either one band of integer classes
        0..7 (in the order of :data:`FACIES_CLASSES`; other values must be
        nodata) or 8 bands of class probabilities. Each model cell gets the
        share of each class in its area (class rasters) or the area-averaged
        probabilities, normalised over the valid data; ``facies`` is the
        one-hot dominant class and ``facies_confidence`` its share. Cells
        outside the outline or without data get 0 in all channels.
    facies_var : str, optional
        variable of a netCDF facies file holding several variables.
    elevation_std_raster : path-like, optional
        per-pixel DEM uncertainty (m), any CRS, area-averaged; cells without
        data get ``elevation_std_default``.
    elevation_std_default : float, optional
        elevation uncertainty (m) where none is known, default 10; at most
        :data:`~.raster_checks.MAX_PLAUSIBLE_ELEVATION_STD` (5699 m), as the
        raster's values.
    min_cells : int, optional
        minimum cells per axis of the grid, default 8 (never fewer than the
        corrector's 8). Cells added to reach it lie outside the glacier's own
        grid, which the corrector sees, so they change no SMB.
    size_multiple : int, optional
        cells per axis are rounded up to a multiple of this (default 16) by
        widening the margin, so that glaciers of similar size share compiled
        code.
    filesuffix : str
        suffix of the output file.
    """
    dx = float(get_param('glaunti_grid_dx', dx))
    margin = int(get_param('glaunti_grid_margin_cells', margin_cells))
    min_cells = int(get_param('glaunti_grid_min_cells', min_cells))
    size_multiple = int(get_param('glaunti_grid_size_multiple', size_multiple))
    std_default = float(get_param('glaunti_grid_elevation_std_default',
                                  elevation_std_default))
    if (not dx > 0 or margin < 0 or min_cells < 1 or size_multiple < 1
            or not 0 <= std_default <= MAX_PLAUSIBLE_ELEVATION_STD):
        raise ValueError(f'Invalid grid settings: dx={dx} (> 0), margin_cells'
                         f'={margin} (>= 0), min_cells={min_cells} (>= 1), '
                         f'elevation_std_default={std_default} (0..'
                         f'{MAX_PLAUSIBLE_ELEVATION_STD:.0f} m).')
    warn_outside_quiet_dx(dx, f'{gdir.rgi_id}: glaunti_model_grid')
    dem_path = gdir.get_filepath('dem')
    if not os.path.exists(dem_path):
        raise FileNotFoundError(f'{gdir.rgi_id}: {dem_path} is missing: run '
                                'oggm.tasks.define_glacier_region first.')
    outlines = gdir.read_shapefile('outlines')
    geom = shapely.make_valid(shapely.union_all(outlines.geometry.values))
    crs = CRS.from_user_input(gdir.grid.proj.srs)
    transform, ny, nx = grid_layout(geom.bounds, dx, margin, max(min_cells, CORRECTOR_MIN_CELLS),
                                    size_multiple)
    shape = (ny, nx)
    window = glacier_window(geom.bounds, dx, margin, transform, shape)

    dem, dtr, dcrs = _read_raster(dem_path, 'DEM')
    check_dem_values(dem, dem_path)
    elev = _reproject(dem[0], dtr, dcrs, transform, crs, shape)
    gpath = gdir.get_filepath('gridded_data')
    if np.any(np.isnan(elev)) and os.path.exists(gpath):
        with xr.open_dataset(gpath) as ds:
            topo = ds['topo'].values
        cg = gdir.grid.corner_grid
        gtr = Affine(cg.dx, 0., cg.x0, 0., cg.dy, cg.y0)
        filled = _reproject(topo, gtr, crs, transform, crs, shape)
        elev = np.where(np.isnan(elev), filled, elev)
    frac = _outline_fraction(geom, transform, shape)
    missing = np.isnan(elev)
    if np.any(missing & (frac > 0)):
        raise ValueError(f'{gdir.rgi_id}: the DEM (dem.tif) has no valid data under '
                         f'{int(np.sum(missing & (frac > 0)))} glacier cells of the model grid. '
                         "Rerun define_glacier_region with a larger cfg.PARAMS['border'] "
                         'or a DEM that covers the glacier.')
    n_filled = int(missing.sum())
    if n_filled:
        # Margin cells beyond the DEM (the grid is rounded up to a bucketed size): the
        # nearest valid elevation, as the core's padding policy replicates edges.
        elev = _fill_nearest(elev, missing)
        log.info('%s: %d margin cells of the model grid lie beyond the DEM; their '
                 'elevation is the nearest valid one', gdir.rgi_id, n_filled)
    std = np.full(shape, std_default)
    std_source = f'default {std_default} m'
    if elevation_std_raster is not None:
        sdata, str_, scrs = _read_raster(elevation_std_raster,
                                         'elevation uncertainty')
        check_elevation_std_values(sdata, os.fspath(elevation_std_raster))
        std = _reproject(sdata[0], str_, scrs, transform, crs, shape)
        std = np.where(np.isfinite(std), std, std_default)
        std_source = os.path.basename(os.fspath(elevation_std_raster))

    n = len(FACIES_CLASSES)
    if facies_raster is None:
        facies, conf = -np.ones((n,) + shape), -np.ones(shape)
    else:
        facies, conf = _facies(facies_raster, facies_var, transform, crs,
                               shape, frac > 0)

    x = transform.c + dx * (np.arange(nx) + 0.5)
    y = transform.f - dx * (np.arange(ny) + 0.5)
    yx = ('y', 'x')
    ds = xr.Dataset(
        {'elevation': (yx, elev, {'units': 'm', 'long_name': 'mean surface '
                                  'elevation of the cell (from dem.tif)'}),
         'outline_fraction': (yx, frac, {
             'units': '1', 'long_name': 'fraction of the cell area inside '
                                        'the glacier outline'}),
         'elevation_std': (yx, std, {'units': 'm', 'long_name': 'elevation '
                                     'uncertainty (standard deviation)'}),
         'facies': (('class',) + yx, facies, {
             'units': '1', 'long_name': 'one-hot dominant surface facies '
                                        '(-1: no facies map)'}),
         'facies_confidence': (yx, conf, {
             'units': '1', 'long_name': 'share of the dominant facies class '
                                        '(-1: no facies map)'})},
        coords={'x': ('x', x, {'units': 'm', 'long_name': 'x coordinate of '
                               'the cell centre'}),
                'y': ('y', y, {'units': 'm', 'long_name': 'y coordinate of '
                               'the cell centre'}),
                'class': ('class', list(FACIES_CLASSES),
                          {'long_name': 'facies class'})})
    ds.attrs = {'pyproj_srs': gdir.grid.proj.srs, 'dx': dx,
                'margin_cells': margin, 'rgi_id': gdir.rgi_id,
                'glacier_window': np.asarray(window, np.int32),
                'has_facies': int(facies_raster is not None),
                'facies_source': (os.path.basename(os.fspath(facies_raster))
                                  if facies_raster is not None else 'none'),
                'elevation_std_source': std_source,
                'elevation_filled_cells': n_filled,
                'author': 'oggm_glaunti'}
    ref = _climate_ref_hgt(gdir)
    if ref is not None:
        ds.attrs['ref_hgt'], ds.attrs['ref_hgt_source'] = ref
    write_netcdf_atomic(ds, gdir.get_filepath('glaunti_grid',
                                              filesuffix=filesuffix))
