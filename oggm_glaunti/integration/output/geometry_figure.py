"""Figure: the glacier the corrector saw (evolving geometry) and what it changes against the
static geometry - maps of three years, the SMB profiles of those years, volume and area."""
from __future__ import annotations

from pathlib import Path

import xarray as xr

#: line style of each geometry mode in the figure
MODE_STYLES = {"static": "--", "evolving": "-"}


def plot_geometry_comparison(geometry_file: str | Path, diagnostics: dict, profiles: dict, years,
                             title: str = ""):
    """The comparison figure (returns the matplotlib Figure).

    Parameters
    ----------
    geometry_file : path
        ``glaunti_geometry.nc`` of the evolving run (:func:`.geometry_history.glaunti_geometry_history`).
    diagnostics : dict
        mode ('static', 'evolving') -> the run's ``model_diagnostics`` file.
    profiles : dict
        mode -> {year: (heights m, SMB mm w.e. yr-1)} (:func:`.geometry_history.replayed_profiles`).
    years : three ints
        the hydrological years of the maps and the calendar years of the profiles.
    title : str
        the figure's title.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    years = [int(y) for y in years]
    fig = plt.figure(figsize=(13, 8.2), constrained_layout=True)
    grid = fig.add_gridspec(2, 6)
    with xr.open_dataset(geometry_file) as ds:
        ds = ds.load()
    first = ds.isel(hydro_year=0)
    lowering = ds.surface_elevation - first.surface_elevation
    on_first = first.outline_fraction > 0
    ext = [float(ds.x.min()) * 1e-3, float(ds.x.max()) * 1e-3, float(ds.y.min()) * 1e-3, float(ds.y.max()) * 1e-3]
    image = None
    for k, year in enumerate(years):
        ax = fig.add_subplot(grid[0, 2 * k:2 * k + 2])
        one = ds.sel(hydro_year=year)
        change = lowering.sel(hydro_year=year).where(on_first | (one.outline_fraction > 0))
        image = ax.imshow(change, extent=ext, cmap="RdBu", vmin=-200, vmax=200, origin="upper")
        ax.contour(ds.x * 1e-3, ds.y * 1e-3, first.outline_fraction, levels=[0.5], colors="grey", linewidths=0.8,
                   linestyles="--")
        if float(one.outline_fraction.max()) > 0.5:
            ax.contour(ds.x * 1e-3, ds.y * 1e-3, one.outline_fraction, levels=[0.5], colors="k", linewidths=1.2)
        ax.set_title(f"{year}/{year + 1}: {float(one.glacier_area) * 1e-6:.2f} km$^2$ on the grid", fontsize=9)
        ax.set_xlabel("x (km)")
        if k == 0:
            ax.set_ylabel("y (km)")
        ax.set_aspect("equal")
    fig.colorbar(image, ax=fig.axes[-1], label=f"surface change since {int(ds.hydro_year[0])}/{int(ds.hydro_year[0]) + 1} (m)",
                 shrink=0.8)

    ax_p = fig.add_subplot(grid[1, 0:2])
    colours = dict(zip(years, ("tab:blue", "tab:orange", "tab:red")))
    for mode, by_year in profiles.items():
        for year in years:
            if year in by_year:
                heights, mb = by_year[year]
                ax_p.plot(mb, heights, MODE_STYLES.get(mode, ":"), color=colours[year], label=f"{year} {mode}")
    ax_p.axvline(0, color="grey", lw=0.5)
    ax_p.set(xlabel="annual SMB (mm w.e. yr$^{-1}$)", ylabel="elevation (m)", title="SMB at the flowline points")
    ax_p.xaxis.set_major_locator(MaxNLocator(5))
    ax_p.legend(fontsize=7)

    ax_v = fig.add_subplot(grid[1, 2:4])
    ax_a = fig.add_subplot(grid[1, 4:6])
    for mode, path in diagnostics.items():
        with xr.open_dataset(path) as diag:
            ax_v.plot(diag.time, diag.volume_m3 * 1e-9, MODE_STYLES.get(mode, ":"), color="k", label=mode)
            ax_a.plot(diag.time, diag.area_m2 * 1e-6, MODE_STYLES.get(mode, ":"), color="k", label=mode)
    ax_v.set(xlabel="year", ylabel="volume (km$^3$)", ylim=(0, None), title="volume")
    ax_a.set(xlabel="year", ylabel="area (km$^2$)", ylim=(0, None), title="area")
    for ax in (ax_v, ax_a):
        ax.legend(title="corrector's geometry", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig

