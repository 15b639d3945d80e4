"""Plausibility checks of the rasters the model grid is made from.

Values are checked as read (declared nodata already masked as NaN): an undeclared nodata
value such as -32768 in a DEM, or negative facies probabilities, would otherwise be taken
as data and give a wrong grid without any error.
"""
from __future__ import annotations

import numpy as np

from ...plausible import PLAUSIBLE_ELEVATION

#: Values commonly used as nodata that are not declared in the file.
_NODATA_LIKE = (-32768., -32767., -9999., -3.4028234663852886e38, 32767., 65535.)


def _nodata_hint(bad: np.ndarray, path: str) -> str | None:
    """How to declare the nodata value among ``bad`` values, if one looks like nodata."""
    nodata = [v for v in _NODATA_LIKE if np.any(bad == np.float32(v))]
    if not nodata:
        return None
    return (f'{nodata[0]:g} looks like a nodata value the file does not declare: declare it '
            f'(e.g. `gdal_edit.py -a_nodata {nodata[0]:g} {path}`)')


def check_dem_values(dem: np.ndarray, path: str) -> None:
    """Raise a ValueError if the DEM holds elevations outside :data:`PLAUSIBLE_ELEVATION`."""
    lo, hi = PLAUSIBLE_ELEVATION
    valid = dem[np.isfinite(dem)]
    bad = valid[(valid < lo) | (valid > hi)]
    if not bad.size:
        return
    why = _nodata_hint(bad, path)
    why = f'{why} or fill the voids' if why else 'check the DEM and its units (m expected)'
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


#: The largest plausible elevation uncertainty (m): the published normalisation scale of the
#: corrector's elevation-uncertainty channel (the channel is the value divided by it).
#: Below it the channel hardly matters (on Hintereisferner, variant D: a uniform 1000 m
#: moves the glacier-wide SMB by < 0.1 %, 5699 m by 1.2 %), beyond it quickly (1e6 m: 27 %);
#: values beyond it are nodata or a unit mistake (mm read as m).
MAX_PLAUSIBLE_ELEVATION_STD = 5699.1201273232155


def check_elevation_std_values(std: np.ndarray, path: str) -> None:
    """Raise a ValueError if the elevation uncertainty raster holds negative values or
    values above :data:`MAX_PLAUSIBLE_ELEVATION_STD`."""
    negative = np.isfinite(std) & (std < 0)
    if negative.any():
        raise ValueError(
            f'The elevation uncertainty raster {path} has {int(negative.sum())} negative '
            f'value(s) (minimum {std[negative].min():g} m); a standard deviation is >= 0. '
            'Declare its nodata value if these are voids.')
    large = np.isfinite(std) & (std > MAX_PLAUSIBLE_ELEVATION_STD)
    if large.any():
        why = _nodata_hint(std[large], path) or (
            'check its units (m expected; mm read as m gives 1000 times too much) and its '
            'nodata value')
        raise ValueError(
            f'The elevation uncertainty raster {path} has {int(large.sum())} value(s) above the '
            f'plausible {MAX_PLAUSIBLE_ELEVATION_STD:.0f} m (maximum {float(std[large].max()):g} '
            f"m; the scale by which the corrector's uncertainty input is normalised): {why}.")
