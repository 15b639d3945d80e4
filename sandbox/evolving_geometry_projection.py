"""Static against evolving geometry: what the corrector sees in a projection to 2100.

GlaUnTI's corrector either sees the present-day outline and surface every year
(``geometry='static'``) or the flowline glacier of each year laid onto its grid
(``geometry='evolving'``, :mod:`oggm_glaunti.integration.run.geometry`). This script projects
with CMIP5 CCSM4 RCP2.6 (OGGM's demo files, one daily realisation) with both:

1. Hintereisferner as in the demo (``hintereisferner_gdir``, WGMS calibration 1953-2002);
2. the 20 Ötztal glaciers of OGGM's test data (``oetztal_gdirs``, calibrated as in
   ``oetztal_regional.py``: WGMS where a glacier has >= 5 years, else the regional mean),
   or the first ``--glaciers`` of them;

each glacier with ``run_from_climate_data`` 2004-2100 once per mode, the grid cache emptied
before each run (every run pays its own grid years), and prints the volume and area in
2004, 2050 and 2100, the SMB-elevation profile of 2050 (the SMB the flowline model got at
its points, replayed from the run's stored geometry) and the cost of each run. Writes to
``--output``: ``evolving_geometry.csv`` (per glacier and mode), ``profile_2050.csv``,
``hef_evolving_geometry.png`` (maps of three years, profiles, volume and area),
``oetztal_evolving_geometry.png`` and the glaciers' ``glaunti_geometry_*.nc``.

Offline (in the repository root)::

    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params \\
    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    python sandbox/evolving_geometry_projection.py [--glaciers N] [--processes P]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()  # before salem's first import (through OGGM)

GCM, SCENARIO = "CCSM4", "rcp26"
SUFFIX = f"_{GCM}_{SCENARIO}"
YEARS = (2004, 2100)  # the outlines are from 2003
REPORT_YEARS = (2004, 2050, 2100)
PROFILE_YEARS = (2030, 2050, 2099)  # calendar years of SMB (the last stored year has none)
MAP_YEARS = PROFILE_YEARS  # hydrological years of the maps
MODES = ("static", "evolving")
HEF_REF_YEARS = (1953, 2002)


def project_glacier(gdir, variant: str = "D") -> dict:
    """Both projections of one glacier, with their cost, the profiles and (evolving) the
    geometry file. Runs in OGGM's pool workers too (all arguments picklable)."""
    from oggm import tasks
    from oggm.core.massbalance import MultipleFlowlineMassBalance

    from oggm_glaunti.integration import GlaUnTIMassBalance, glaunti_geometry_history
    from oggm_glaunti.integration.output.geometry_history import replayed_profiles
    from oggm_glaunti.integration.run.grid_cache import clear_grid_cache

    out = {"rgi_id": gdir.rgi_id, "name": gdir.name, "seconds": {}, "profiles": {}}
    # compile first (a short run), so that neither mode's time holds JAX's compilation
    tasks.run_from_climate_data(gdir, ys=YEARS[0], ye=YEARS[0] + 2, mb_model_class=GlaUnTIMassBalance,
                                climate_filename="gcm_data", climate_input_filesuffix=SUFFIX,
                                output_filesuffix="_compile", store_model_geometry=False)
    for mode in MODES:
        clear_grid_cache()
        mb = MultipleFlowlineMassBalance(gdir, mb_model_class=GlaUnTIMassBalance, filename="gcm_data",
                                         input_filesuffix=SUFFIX, variant=variant, geometry=mode)
        started = time.perf_counter()
        tasks.run_from_climate_data(gdir, ys=YEARS[0], ye=YEARS[1], mb_model=mb,
                                    output_filesuffix=f"_{mode}{SUFFIX}", store_model_geometry=True)
        out["seconds"][mode] = time.perf_counter() - started
        one = GlaUnTIMassBalance(gdir, filename="gcm_data", input_filesuffix=SUFFIX, variant=variant,
                                 geometry=mode)  # replays from the cache: same process, same geometries
        out["profiles"][mode] = replayed_profiles(gdir, one, f"_{mode}{SUFFIX}", PROFILE_YEARS)
    out["geometry_file"] = glaunti_geometry_history(gdir, input_filesuffix=f"_evolving{SUFFIX}")
    return out


def gcm_climate(gdirs, processes: int) -> None:
    from oggm import cfg, tasks, utils, workflow

    from oggm_glaunti.integration import process_daily_from_gcm

    cfg.PARAMS["use_multiprocessing"] = processes > 1
    cfg.PARAMS["mp_processes"] = processes
    workflow.execute_entity_task(tasks.process_cmip_data, gdirs, filesuffix=SUFFIX,
                                 fpath_temp=utils.get_demo_file(f"tas_mon_{GCM}_{SCENARIO}_r1i1p1_g025.nc"),
                                 fpath_precip=utils.get_demo_file(f"pr_mon_{GCM}_{SCENARIO}_r1i1p1_g025.nc"))
    workflow.execute_entity_task(process_daily_from_gcm, gdirs, input_filesuffix=SUFFIX)


def table(gdirs, results: list[dict]):
    """One row per glacier and mode: volume (km3) and area (km2) in REPORT_YEARS, run seconds."""
    import pandas as pd
    import xarray as xr

    rows = []
    for gdir, res in zip(gdirs, results):
        for mode in MODES:
            with xr.open_dataset(gdir.get_filepath("model_diagnostics", filesuffix=f"_{mode}{SUFFIX}")) as ds:
                ds = ds.sel(time=list(REPORT_YEARS))
                row = {"rgi_id": gdir.rgi_id, "mode": mode, "seconds": res["seconds"][mode]}
                row.update({f"volume_{y}_km3": float(v) * 1e-9 for y, v in zip(REPORT_YEARS, ds.volume_m3)})
                row.update({f"area_{y}_km2": float(a) * 1e-6 for y, a in zip(REPORT_YEARS, ds.area_m2)})
                rows.append(row)
    return pd.DataFrame(rows)


def banded_profile(results: list[dict], year: int, dz: float = 100.0):
    """SMB (mm w.e. yr-1) of calendar year ``year`` in ``dz`` elevation bins, mean over the
    glaciers' ice-covered points (each point counted once), per mode."""
    import pandas as pd

    columns = {}
    for mode in MODES:
        heights = np.concatenate([r["profiles"][mode][year][0] for r in results if year in r["profiles"][mode]])
        smb = np.concatenate([r["profiles"][mode][year][1] for r in results if year in r["profiles"][mode]])
        bins = (np.floor(heights / dz) * dz).astype(int)
        columns[mode] = pd.Series(smb).groupby(bins).mean()
        columns[f"n_{mode}"] = pd.Series(smb).groupby(bins).size()
    frame = pd.DataFrame(columns)
    frame.index.name = f"elevation_bin_{int(dz)}m"
    return frame


def print_summary(label: str, frame, profile) -> None:
    total = frame.groupby("mode")[[c for c in frame if c.endswith(("km3", "km2"))]].sum()
    print(f"\n{label}: volume (km3) and area (km2), sum over {frame.rgi_id.nunique()} glacier(s)")
    print(total.round(4).to_string())
    cost = frame.groupby("mode")["seconds"].sum()
    n_years = YEARS[1] - YEARS[0]
    for mode in MODES:
        print(f"   {mode:9s} {cost[mode]:7.1f} s for {n_years}-year runs: {cost[mode] / n_years:.3f} s per year, "
              f"{cost[mode] / n_years * 100:.0f} s per 100 years")
    print(f"\n{label}: SMB in 2050 (mm w.e. yr-1) by elevation, mean over the ice-covered flowline points")
    print(profile.round(0).to_string())


def oetztal(work: Path, n_glaciers: int | None, processes: int, variant: str):
    import geopandas as gpd
    from oggm import cfg, utils, workflow

    from oetztal_regional import calibrate
    from oggm_glaunti.integration import glaunti_model_grid, oetztal_gdirs, process_daily_from_monthly

    ids = None
    if n_glaciers:
        ids = list(gpd.read_file(utils.get_demo_file("rgi_oetztal.shp")).RGIId[:n_glaciers])
    gdirs = oetztal_gdirs(work, rgi_ids=ids)
    cfg.PARAMS["use_multiprocessing"] = processes > 1
    cfg.PARAMS["mp_processes"] = processes
    cfg.PARAMS["glaunti_variant"] = variant
    cfg.PARAMS["continue_on_error"] = False
    workflow.execute_entity_task(process_daily_from_monthly, gdirs)
    workflow.execute_entity_task(glaunti_model_grid, gdirs)
    calibrate(gdirs, variant)
    gcm_climate(gdirs, processes)
    return gdirs, workflow.execute_entity_task(project_glacier, gdirs, variant=variant)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--working-dir", default=None, help="OGGM working directory (default: temporary)")
    parser.add_argument("--output", default="evolving_geometry_output", help="folder for figures and tables")
    parser.add_argument("--variant", default="D", choices=list("ACD"))
    parser.add_argument("--glaciers", type=int, default=None, help="only the first N Ötztal glaciers")
    parser.add_argument("--skip-oetztal", action="store_true", help="Hintereisferner only")
    parser.add_argument("--processes", type=int, default=1, help="OGGM processes for the Ötztal")
    args = parser.parse_args()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.working_dir or tempfile.mkdtemp(prefix="glaunti_geometry_"))
    clock = time.perf_counter()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from oggm import cfg

    from oggm_glaunti.integration import (glaunti_calibrate, glaunti_model_grid, hintereisferner_gdir,
                                          process_daily_from_monthly)
    from oggm_glaunti.integration.output.geometry_figure import plot_geometry_comparison

    print("1. Hintereisferner (the demo's set-up): daily climate, grid, calibration, GCM", flush=True)
    hef = hintereisferner_gdir(work / "hef", mb_years=HEF_REF_YEARS)
    cfg.PARAMS["glaunti_variant"] = args.variant
    process_daily_from_monthly(hef)
    glaunti_model_grid(hef)
    calib = glaunti_calibrate(hef, variant=args.variant, ref_years=HEF_REF_YEARS)
    print(f"   temp_bias {calib['temp_bias']:+.2f} degC ({time.perf_counter() - clock:.0f} s)", flush=True)
    gcm_climate([hef], 1)
    hef_result = project_glacier(hef, args.variant)
    frame, profile = table([hef], [hef_result]), banded_profile([hef_result], 2050)
    print_summary("Hintereisferner", frame, profile)
    frame.assign(set_up="hintereisferner").to_csv(out / "evolving_geometry.csv", index=False, float_format="%.5f")
    profile.to_csv(out / "profile_2050.csv", float_format="%.1f")
    diagnostics = {m: hef.get_filepath("model_diagnostics", filesuffix=f"_{m}{SUFFIX}") for m in MODES}
    fig = plot_geometry_comparison(hef_result["geometry_file"], diagnostics, hef_result["profiles"], MAP_YEARS,
                                   title=f"Hintereisferner, GlaUnTI {args.variant}, {GCM} {SCENARIO.upper()}: "
                                         "the corrector sees the present-day (static) or the evolving glacier")
    fig.savefig(out / "hef_evolving_geometry.png", dpi=110)
    plt.close(fig)
    shutil.copy2(hef_result["geometry_file"], out / "glaunti_geometry_hef.nc")
    print(f"   ({time.perf_counter() - clock:.0f} s)", flush=True)
    if args.skip_oetztal:
        return

    n = args.glaciers or 20
    print(f"\n2. the Ötztal ({n} glaciers): flowlines, daily climate, grids, calibration, GCM, runs", flush=True)
    gdirs, results = oetztal(work / "oetztal", args.glaciers, args.processes, args.variant)
    frame, profile = table(gdirs, results), banded_profile(results, 2050)
    print_summary(f"Ötztal ({len(gdirs)} glaciers)", frame, profile)
    frame.assign(set_up="oetztal").to_csv(out / "evolving_geometry.csv", mode="a", header=False, index=False,
                                          float_format="%.5f")
    profile.to_csv(out / "profile_2050_oetztal.csv", float_format="%.1f")
    draw_region(gdirs, frame, profile, out / "oetztal_evolving_geometry.png")
    print(f"\nfigures and tables in {out}; OGGM working directory {work} ({time.perf_counter() - clock:.0f} s)")


def draw_region(gdirs, frame, profile, path: Path) -> None:
    """Regional volume and area through time, the 2050 profile (both modes), and each
    glacier's volume difference."""
    import matplotlib.pyplot as plt
    from oggm import utils

    from oggm_glaunti.integration.output.geometry_figure import MODE_STYLES

    fig, (ax_v, ax_a, ax_p, ax_d) = plt.subplots(1, 4, figsize=(18, 4.3), constrained_layout=True)
    wide = frame.pivot(index="rgi_id", columns="mode")
    start = wide[(f"volume_{REPORT_YEARS[0]}_km3", "static")]
    for year, colour in zip(REPORT_YEARS[1:], ("tab:orange", "tab:red")):
        change = wide[(f"volume_{year}_km3", "evolving")] - wide[(f"volume_{year}_km3", "static")]
        ax_d.scatter(start, 100 * change / start, color=colour, s=14, label=str(year))
    ax_d.axhline(0, color="grey", lw=0.5)
    ax_d.set(xscale="log", xlabel=f"volume in {REPORT_YEARS[0]} (km$^3$)",
             ylabel=f"evolving - static volume (% of {REPORT_YEARS[0]})", title="each glacier")
    ax_d.legend(fontsize=8)
    for mode in MODES:
        ds = utils.compile_run_output(gdirs, input_filesuffix=f"_{mode}{SUFFIX}")
        ax_v.plot(ds.time, ds.volume.sum("rgi_id") * 1e-9, MODE_STYLES[mode], color="k", label=mode)
        ax_a.plot(ds.time, ds.area.sum("rgi_id") * 1e-6, MODE_STYLES[mode], color="k", label=mode)
        ax_p.plot(profile[mode], profile.index + 50, MODE_STYLES[mode], color="tab:orange", label=f"2050 {mode}")
    ax_v.set(xlabel="year", ylabel="volume (km$^3$)", ylim=(0, None), title=f"{len(gdirs)} Ötztal glaciers: volume")
    ax_a.set(xlabel="year", ylabel="area (km$^2$)", ylim=(0, None), title="area")
    ax_p.axvline(0, color="grey", lw=0.5)
    ax_p.set(xlabel="SMB (mm w.e. yr$^{-1}$)", ylabel="elevation (m)", title="SMB in 2050 (100 m bins)")
    for ax in (ax_v, ax_a, ax_p):
        ax.legend(title="corrector's geometry", fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
