"""A daily GlaUnTI projection of Hintereisferner with a CMIP5 GCM, and what the daily
disaggregation's randomness does to it.

GCMs give monthly values; GlaUnTI runs daily. ``process_daily_from_gcm`` disaggregates the
bias-corrected monthly GCM file stochastically (monthly means and totals kept exactly),
so one monthly projection has many daily realisations. This script

1. builds Hintereisferner from OGGM's demo files (flowlines, inversion) with daily
   historical climate and the GlaUnTI model grid, and calibrates each variant's
   temperature bias to the WGMS annual balances 1953-2002;
2. bias-corrects the CCSM4 RCP2.6 demo files onto the glacier (``process_cmip_data``) and
   disaggregates them into ``--members`` daily realisations (different seeds);
3. runs 2004-2100 with ``run_from_climate_data`` for every variant and realisation, and
   with OGGM's ``MonthlyTIModel`` for reference;
4. prints the volume left in 2100 and writes ``gcm_projection_volume.png`` and
   ``gcm_projection.csv`` to ``--output``.

Offline (in the repository root)::

    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params \\
    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    python sandbox/gcm_projection.py

About 4 minutes on 2 CPU cores with the defaults.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

GCM = "CCSM4"
SCENARIO = "rcp26"
SUFFIX = f"_{GCM}_{SCENARIO}"
YEARS = (2004, 2100)  # the outlines are from 2003
REF_YEARS = (1953, 2002)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--working-dir", default=None, help="OGGM working directory (default: temporary)")
    parser.add_argument("--output", default="gcm_projection_output", help="folder for the figure and table")
    parser.add_argument("--variants", nargs="+", default=["A", "D"], choices=list("ACD"),
                        help="GlaUnTI variants to run")
    parser.add_argument("--members", type=int, default=3, help="daily realisations of the GCM")
    args = parser.parse_args()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.working_dir or tempfile.mkdtemp(prefix="glaunti_gcm_"))
    started = time.perf_counter()

    from oggm_glaunti.integration.session.offline import prepare_salem_cache

    prepare_salem_cache()  # before salem's first import (through OGGM)
    from oggm import cfg, tasks, utils
    from oggm.core.massbalance import MonthlyTIModel

    from oggm_glaunti.integration import (GlaUnTIMassBalance, glaunti_calibrate, glaunti_model_grid,
                                          hintereisferner_gdir, process_daily_from_gcm,
                                          process_daily_from_monthly)

    print("1. Hintereisferner, daily climate, model grid, calibration")
    gdir = hintereisferner_gdir(work, mb_years=REF_YEARS)
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)
    for variant in args.variants:
        calib = glaunti_calibrate(gdir, variant=variant, ref_years=REF_YEARS)
        print(f"   variant {variant}: temp_bias {calib['temp_bias']:+.2f} degC, annual RMSE "
              f"{calib['misfit_m_we']['annual']['rmse'] * 1000:.0f} mm w.e.")

    print(f"2. {GCM} {SCENARIO}: bias-corrected monthly file, {args.members} daily realisations")
    tasks.process_cmip_data(gdir, filesuffix=SUFFIX,
                            fpath_temp=utils.get_demo_file(f"tas_mon_{GCM}_{SCENARIO}_r1i1p1_g025.nc"),
                            fpath_precip=utils.get_demo_file(f"pr_mon_{GCM}_{SCENARIO}_r1i1p1_g025.nc"))
    members = [f"{SUFFIX}_m{seed}" for seed in range(args.members)]
    for seed, member in enumerate(members):
        process_daily_from_gcm(gdir, input_filesuffix=SUFFIX, output_filesuffix=member, seed=seed)

    print(f"3. runs {YEARS[0]}-{YEARS[1]}")
    volumes = {}

    def run(label: str, mb_class, climate_suffix: str) -> None:
        t0 = time.perf_counter()
        tasks.run_from_climate_data(gdir, ys=YEARS[0], ye=YEARS[1], climate_filename="gcm_data",
                                    climate_input_filesuffix=climate_suffix, mb_model_class=mb_class,
                                    output_filesuffix=f"_{label}")
        with xr.open_dataset(gdir.get_filepath("model_diagnostics", filesuffix=f"_{label}")) as ds:
            volumes[label] = ds.volume_m3.to_series() * 1e-9
        print(f"   {label:22s} {time.perf_counter() - t0:5.1f} s")

    run("MonthlyTIModel", MonthlyTIModel, SUFFIX)
    for variant in args.variants:
        cfg.PARAMS["glaunti_variant"] = variant  # the class reads its variant from here in OGGM tasks
        for member in members:
            run(f"GlaUnTI_{variant}{member[len(SUFFIX):]}", GlaUnTIMassBalance, member)

    table = pd.DataFrame(volumes)
    table.index = table.index.astype(int)  # OGGM's time axis is float years
    table.index.name = "year"
    table.to_csv(out / "gcm_projection.csv", float_format="%.5f")
    first, last = table.index[0], table.index[-1]
    print(f"\n4. volume (km3) {first} -> {last}")
    for label in table:
        v0, v1 = table[label].iloc[0], table[label].iloc[-1]
        print(f"   {label:22s} {v0:.3f} -> {v1:.3f} ({100 * (v1 / v0 - 1):+.0f} %)")
    for variant in args.variants:
        ends = table[[c for c in table if c.startswith(f"GlaUnTI_{variant}_")]].iloc[-1]
        print(f"   variant {variant}: spread of the {len(ends)} daily realisations in {last}: "
              f"{ends.min():.3f}-{ends.max():.3f} km3")

    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    colours = dict(zip(args.variants, ("tab:blue", "tab:red", "tab:green")))
    for label in table:
        if label == "MonthlyTIModel":
            ax.plot(table.index, table[label], "k--", label="MonthlyTIModel")
            continue
        variant = label.split("_")[1]
        first_member = label.endswith("_m0")
        ax.plot(table.index, table[label], color=colours[variant], lw=1.2 if first_member else 0.7,
                label=f"GlaUnTI {variant} ({len(members)} daily realisations)" if first_member else None)
    ax.set(xlabel="year", ylabel="volume (km$^3$)",
           title=f"Hintereisferner, {GCM} {SCENARIO.upper()}, daily GlaUnTI vs MonthlyTIModel")
    ax.legend()
    fig.savefig(out / "gcm_projection_volume.png", dpi=110)
    print(f"\nfigure and table in {out}; OGGM working directory {work} "
          f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
