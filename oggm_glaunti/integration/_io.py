"""Small I/O helpers shared by the integration modules."""
from __future__ import annotations

import os

import xarray as xr

from ..atomic import atomic_path


def write_netcdf_atomic(ds: xr.Dataset, path: str | os.PathLike,
                        encoding: dict | None = None) -> None:
    """Write ``ds`` to ``path`` without ever leaving a half-written file.

    The dataset is written to a temporary file in the same folder, which then
    replaces ``path`` in one ``os.replace`` (atomic on POSIX file systems).
    On failure the temporary file is removed and ``path`` is unchanged.

    Parameters
    ----------
    ds : xarray.Dataset
        the data to write.
    path : path-like
        the destination file.
    encoding : dict, optional
        passed to :meth:`xarray.Dataset.to_netcdf`.
    """
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format='NETCDF4', encoding=encoding)
