"""Plausibility checks of the rasters the model grid is made from.

Values are checked as read (declared nodata already masked as NaN): an undeclared nodata
value such as -32768 in a DEM, or negative facies probabilities, would otherwise be taken
as data and give a wrong grid without any error.
"""
from __future__ import annotations

import numpy as np

#: Plausible surface elevations (m): the Dead Sea shore to above Everest.
PLAUSIBLE_ELEVATION = (-500., 9000.)
#: Values commonly used as nodata that are not declared in the file.
_NODATA_LIKE = (-32768., -32767., -9999., -3.4028234663852886e38, 32767., 65535.)


def check_dem_values(dem: np.ndarray, path: str) -> None:
    """Raise a ValueError if the DEM holds elevations outside :data:`PLAUSIBLE_ELEVATION`."""
    lo, hi = PLAUSIBLE_ELEVATION
    valid = dem[np.isfinite(dem)]
    bad = valid[(valid < lo) | (valid > hi)]
    if not bad.size:
        return
    nodata = [v for v in _NODATA_LIKE if np.any(bad == np.float32(v))]
    why = (f'{nodata[0]:g} looks like a nodata value the file does not declare: declare it '
           f'(e.g. `gdal_edit.py -a_nodata {nodata[0]:g} {path}`) or fill the voids'
           if nodata else 'check the DEM and its units (m expected)')
    raise ValueError(f'The DEM {path} has {bad.size} value(s) outside the plausible elevations '
                     f'{lo:g}..{hi:g} m (e.g. {bad[0]:g}): {why}.')


def check_facies_probabilities(bands: np.ndarray, path: str) -> None:
    """Raise a ValueError if a band of class probabilities holds negative values."""
    negative = np.isfinite(bands) & (bands < 0)
    if negative.any():
        band = int(np.argwhere(negative)[0][0])
        raise ValueError(
            f'Facies raster {path}: {int(negative.sum())} negative class probabilities (first '
            f'in band {band + 1}, minimum {bands[negative].min():g}); probabilities must be '
            '>= 0. Declare the nodata value of the file if these are voids.')


def check_elevation_std_values(std: np.ndarray, path: str) -> None:
    """Raise a ValueError if the elevation uncertainty raster holds negative values."""
    negative = np.isfinite(std) & (std < 0)
    if negative.any():
        raise ValueError(
            f'The elevation uncertainty raster {path} has {int(negative.sum())} negative '
            f'value(s) (minimum {std[negative].min():g} m); a standard deviation is >= 0. '
            'Declare its nodata value if these are voids.')
