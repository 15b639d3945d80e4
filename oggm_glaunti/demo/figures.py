"""The demo's figures (PNG), one function per figure; each returns the file it wrote."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the demo runs on machines without a screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from .workflow import GEOMETRY_YEARS, GLAUNTI, GLAUNTI_EVOLVING, MONTHLY_TI, DemoRun  # noqa: E402

COLOURS = {GLAUNTI: "tab:blue", GLAUNTI_EVOLVING: "tab:cyan", MONTHLY_TI: "tab:orange", "observed": "black"}


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def smb_map(run: DemoRun, out: Path) -> Path:
    """Mean annual SMB on the GlaUnTI grid over the historical years."""
    from ..integration.output.plots import plot_gridded_smb

    return _save(plot_gridded_smb(run.gridded_file, year="mean"), out / "smb_map.png")


def correction_maps(run: DemoRun, out: Path) -> Path:
    """The corrector's five fields, averaged over the historical years."""
    from ..integration.output.plots import plot_gridded_smb

    return _save(plot_gridded_smb(run.gridded_file, year="mean", what="corrections"), out / "correction_maps.png")


def annual_mb(run: DemoRun, out: Path) -> Path:
    """Glacier-wide annual MB of both models and WGMS, year by year."""
    table = run.specific_mb
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    ax.plot(table.index, table["observed"], "o-", color=COLOURS["observed"], ms=3, label="WGMS")
    for label in (GLAUNTI, MONTHLY_TI):
        ax.plot(table.index, table[label], "-", color=COLOURS[label], label=label)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("year")
    ax.set_ylabel("specific MB (mm w.e. yr$^{-1}$)")
    ax.set_title(f"{run.gdir.rgi_id} ({run.gdir.name}): annual specific MB on the initial geometry")
    ax.legend()
    return _save(fig, out / "annual_mb.png")


def mb_profile(run: DemoRun, out: Path) -> Path:
    """Mean MB against elevation: both models and the WGMS profiles of the same years."""
    fig, ax = plt.subplots(figsize=(6.5, 6), constrained_layout=True)
    wgms = run.profiles.get("WGMS")
    if wgms is not None and len(wgms):
        heights = wgms.columns.values.astype(float)
        for _, row in wgms.iterrows():
            ax.plot(row.values, heights, "-", color="grey", lw=0.4, alpha=0.5)
        ax.plot(wgms.mean().values, heights, "o-", color=COLOURS["observed"], ms=3,
                label=f"WGMS, mean of {len(wgms)} years ({wgms.index.min()}-{wgms.index.max()})")
    for label in (GLAUNTI, MONTHLY_TI):
        heights, mb = run.profiles[label]
        ax.plot(mb, heights, "-", color=COLOURS[label], lw=2, label=label)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("annual MB (mm w.e. yr$^{-1}$)")
    ax.set_ylabel("elevation (m)")
    ax.set_title(f"{run.gdir.name}: MB against elevation")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, out / "mb_profile.png")


def volume_area(run: DemoRun, out: Path) -> Path:
    """Volume and area of the glacier through the projection, both models."""
    fig, (ax_v, ax_a) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for label, path in run.projection_files.items():
        with xr.open_dataset(path) as ds:
            ax_v.plot(ds.time, ds.volume_m3 * 1e-9, color=COLOURS[label], label=label)
            ax_a.plot(ds.time, ds.area_m2 * 1e-6, color=COLOURS[label], label=label)
    ax_v.set_ylabel("volume (km$^3$)")
    ax_a.set_ylabel("area (km$^2$)")
    for ax in (ax_v, ax_a):
        ax.set_xlabel("year")
        ax.legend()
        ax.set_ylim(bottom=0)
    fig.suptitle(f"{run.gdir.name}: projection with CMIP5 CCSM4 RCP2.6 (OGGM flowline dynamics)")
    return _save(fig, out / "volume_area.png")


def evolving_geometry(run: DemoRun, out: Path) -> Path:
    """GlaUnTI's projection with the corrector on the present-day (static) and on the
    evolving glacier: the glacier it saw in three years, the SMB profiles, volume and area."""
    from ..integration.output.geometry_figure import plot_geometry_comparison

    diagnostics = {"static": run.projection_files[GLAUNTI], "evolving": run.projection_files[GLAUNTI_EVOLVING]}
    fig = plot_geometry_comparison(run.geometry_file, diagnostics, run.geometry_profiles, GEOMETRY_YEARS,
                                   title=f"{run.gdir.name}, GlaUnTI {run.variant}, CCSM4 RCP2.6: the corrector on "
                                         "the present-day (static) or the evolving glacier")
    return _save(fig, out / "evolving_geometry.png")


FIGURES = (smb_map, correction_maps, annual_mb, mb_profile, volume_area, evolving_geometry)


def draw_all(run: DemoRun, out: Path) -> list[Path]:
    """Every figure of the demo, in report order."""
    if not np.isfinite(run.specific_mb["observed"]).any():
        raise ValueError("the demo has no WGMS observations to draw")
    return [figure(run, out) for figure in FIGURES]
