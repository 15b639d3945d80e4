"""Maps of the gridded GlaUnTI output (``glaunti_gridded_smb``), with matplotlib.

Works with any backend (nothing here calls ``plt.show``); matplotlib is imported inside the
function, so importing this module is cheap.
"""
from __future__ import annotations

import os
import textwrap

import numpy as np
import xarray as xr

#: What can be mapped: variable -> short label.
WHAT = {
    'smb_annual': 'annual SMB',
    'smb_winter': 'winter SMB',
    'smb_summer': 'summer SMB',
    'corrections': 'corrector fields d1..d5',
}


def _open(gdir_or_path, filesuffix: str) -> xr.Dataset:
    if isinstance(gdir_or_path, (str, os.PathLike)):
        path = os.fspath(gdir_or_path)
    else:
        from ..session.params import register_file_keys

        register_file_keys()
        path = gdir_or_path.get_filepath('glaunti_gridded_smb', filesuffix=filesuffix)
    if not os.path.exists(path):
        raise FileNotFoundError(f'{path} does not exist: run the task glaunti_gridded_smb first')
    with xr.open_dataset(path) as ds:
        return ds.load()


def _symmetric_norm(values: np.ndarray):
    from matplotlib.colors import Normalize

    finite = values[np.isfinite(values)]
    vlim = float(np.abs(finite).max()) if finite.size else 1.0
    vlim = vlim if vlim > 0 else 1.0
    return Normalize(vmin=-vlim, vmax=vlim)


def _map(ax, ds: xr.Dataset, field: np.ndarray, label: str, cmap: str = 'RdBu',
         shrink: float = 0.8):
    """Diverging map of ``field`` (masked outside the outline) with outline and colorbar."""
    inside = ds['outline_fraction'].values > 0
    data = np.ma.masked_where(~inside | ~np.isfinite(field), field)
    x, y = ds['x'].values, ds['y'].values
    mesh = ax.pcolormesh(x, y, data, cmap=cmap, norm=_symmetric_norm(data.compressed()),
                         shading='nearest')
    ax.contour(x, y, ds['outline_fraction'].values, levels=[0.5], colors='k', linewidths=1.0)
    ax.set_aspect('equal')
    ax.ticklabel_format(style='plain', useOffset=False)
    ax.set_xlabel('x (m)')
    ax.set_ylabel('y (m)')
    ax.figure.colorbar(mesh, ax=ax, label=label, shrink=shrink)
    return mesh


def plot_gridded_smb(gdir_or_path, year: int | str | None = None, ax=None, what: str = 'smb_annual',
                     filesuffix: str = ''):
    """Map one hydrological year of a ``glaunti_gridded_smb`` file.

    SMB maps use a diverging colormap centred at 0 (red: mass loss, blue: gain), masked
    outside the glacier (``outline_fraction == 0``), with the outline (50 % contour of
    ``outline_fraction``), a colorbar in m w.e. and the glacier-wide value in the title.

    Parameters
    ----------
    gdir_or_path : oggm.GlacierDirectory or path
        the glacier directory (its ``glaunti_gridded_smb{filesuffix}.nc``) or the file.
    year : int or 'mean', optional
        hydrological year (default: the last in the file), or 'mean' for the mean over
        all years of the file.
    ax : matplotlib Axes, optional
        where to draw an SMB map; for ``'corrections'`` a sequence of 5 Axes. Default: a
        new figure.
    what : str
        'smb_annual', 'smb_winter', 'smb_summer' or 'corrections' (a 1 x 5 panel figure of
        d1..d5, variants C and D only).
    filesuffix : str
        suffix of the file when a glacier directory is given.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if what not in WHAT:
        raise ValueError(f'what={what!r}; expected one of {list(WHAT)}')
    ds = _open(gdir_or_path, filesuffix)
    years = ds['hydro_year'].values
    if isinstance(year, str) and year == 'mean':
        one = ds.mean('hydro_year', keep_attrs=True)
        when = f'mean of hydrological years {int(years[0])}/{int(years[0]) + 1}-{int(years[-1])}/{int(years[-1]) + 1}'
    else:
        year = int(years[-1]) if year is None else int(year)
        if year not in years:
            raise ValueError(f'hydrological year {year} is not in the file; it has '
                             f'{int(years[0])}-{int(years[-1])}')
        one = ds.sel(hydro_year=year)
        when = f'hydrological year {year}/{year + 1}'
    rgi_id = ds.attrs.get('rgi_id', '')
    variant = ds.attrs.get('variant', '')

    if what == 'corrections':
        from .gridded_output import CORRECTIONS

        corr = one['corrections'].values
        if not np.isfinite(corr).any():
            raise ValueError(f'the file has no corrections (variant {variant} has no corrector)')
        if ax is None:
            fig, axes = plt.subplots(1, 5, figsize=(22, 4.0), constrained_layout=True)
        else:
            axes = list(np.ravel(ax))
            if len(axes) != 5:
                raise ValueError('what="corrections" needs ax=None or a sequence of 5 Axes')
            fig = axes[0].figure
        for k, (name, (meaning, units)) in enumerate(CORRECTIONS.items()):
            _map(axes[k], ds, corr[k], f'{name} ({units})', cmap='PuOr_r', shrink=0.6)
            axes[k].set_title('\n'.join(textwrap.wrap(f'{name}: {meaning}', 32)), fontsize=10)
            if k:
                axes[k].set_ylabel('')
        fig.suptitle(f'{rgi_id}: GlaUnTI {variant} corrector fields, {when}')
        return fig

    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 6), constrained_layout=True)
    fig = ax.figure
    field = one[what].values
    units = ds[what].attrs.get('units', '')
    _map(ax, ds, field, f'{WHAT[what]} ({units})')
    w = ds['outline_fraction'].values
    mean = float(np.nansum(field * w) / w.sum())
    ax.set_title(f'{rgi_id}: {WHAT[what]}, {when}\nGlaUnTI {variant}, glacier-wide '
                 f'{mean:+.2f} {units}')
    return fig
