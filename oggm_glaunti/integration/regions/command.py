"""``oggm-glaunti region``: a region's chain on Dask, OGGM's compiled output and a figure."""
from __future__ import annotations

import argparse
import os
import shutil

from . import chain_defaults as defaults

FIGURE_FILE = "region_volume_area.png"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``region`` sub-command to ``subparsers``."""
    from ...cli import _at_least

    p = subparsers.add_parser("region", help="a region's chain (GlaUnTI and MonthlyTIModel) on Dask, with a figure",
                              description=run_region_command.__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--working-dir", default="glaunti-region",
                   help="OGGM working directory (default ./glaunti-region); the prepared glaciers are in its "
                        "per_glacier folder, each model's run in a sub-folder")
    p.add_argument("--oetztal", action="store_true",
                   help="prepare the 20 Ötztal glaciers of OGGM's sample data (or --rgi-ids of them) first")
    p.add_argument("--rgi-ids", nargs="+", default=None, metavar="ID", help="the glaciers (default with --oetztal: all)")
    p.add_argument("--variant", default="D", choices=list("ACD"), help="GlaUnTI variant (default D)")
    p.add_argument("--no-monthly-ti", action="store_true", help="run GlaUnTI only, not MonthlyTIModel beside it")
    p.add_argument("--chain", choices=["full", "cheap"], default="full",
                   help="full (default): calibration, inversion, dynamic spin-up, projection to 2100; cheap: "
                        f"calibration and a run over {defaults.CHEAP_YEARS[0]}-{defaults.CHEAP_YEARS[1]}")
    p.add_argument("--ref-years", nargs=2, type=int, default=list(defaults.REF_YEARS), metavar=("Y0", "Y1"),
                   help="years of the calibration mean (full chain; default %(default)s)")
    p.add_argument("--regional-mean", type=float, default=None,
                   help="calibration mean (kg m-2 per year) of glaciers with fewer than "
                        f"{defaults.MIN_WGMS_YEARS} WGMS years (default: the mean of the WGMS glaciers given)")
    p.add_argument("--gcm", nargs=2, default=None, metavar=("TAS", "PR"),
                   help="monthly CMIP temperature and precipitation files (default: OGGM's CCSM4 RCP2.6 demo files)")
    p.add_argument("--scheduler", default="local",
                   help="'local' (default: a LocalCluster on this machine's cores), 'serial', or a Dask "
                        "scheduler address (tcp://host:8786)")
    p.add_argument("--workers", type=_at_least(1), default=None,
                   help="worker processes of the local cluster (default: cores // threads per worker)")
    p.add_argument("--threads-per-worker", type=_at_least(1), default=1,
                   help="XLA threads of each worker (default 1); each worker runs one glacier at a time")
    p.add_argument("--rerun", action="store_true",
                   help="run every step again (default: skip what the glaciers' task logs say is done)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_region_command)


def run_region_command(args: argparse.Namespace) -> int:
    """Run each glacier's whole chain as one unit on Dask (a LocalCluster on this machine by
    default, or --scheduler), for GlaUnTI and next to it MonthlyTIModel, each model in its
    own sub-folder of the working directory; then OGGM's compiled run output and a figure of
    the region's volume and area through time.

    The glaciers' directories must be in <working-dir>/per_glacier, prepared with OGGM
    (outlines, flowlines, monthly climate); --oetztal prepares the Ötztal sample glaciers
    there (offline with GLAUNTI_OGGM_SAMPLE_DATA). Started again on the same working
    directory, it skips what is done (glaciers and steps, from their task logs).

    The full chain per glacier: daily climate and model grid (GlaUnTI), calibration on one
    mean per glacier (its own WGMS mean over --ref-years, else --regional-mean), inversion,
    dynamic spin-up from 1979, projection to 2100 (--gcm). Each model's per-glacier summary
    (status and time of every step) is written to its folder.
    """
    from ..session.offline import prepare_salem_cache

    prepare_salem_cache()
    from oggm import cfg, utils

    from . import chain
    from .cluster import SERIAL, open_client, quiet_dask_logging
    from .figure import region_figure
    from .scheduler import run_region

    quiet_dask_logging()
    working_dir = os.path.abspath(args.working_dir)
    gdirs = _prepared_glaciers(args, working_dir)
    full = args.chain == "full"
    years = tuple(args.ref_years) if full else chain.CHEAP_YEARS
    mean = args.regional_mean if args.regional_mean is not None else _regional_mean(args, gdirs, years)
    models = ([] if args.no_monthly_ti else [chain.MONTHLY_TI]) + [args.variant]
    suffixes = [chain.SPINUP_SUFFIX, chain.GCM_SUFFIX] if full else [chain.CHEAP_SUFFIX]
    cfg.PARAMS["auto_skip_task"] = not args.rerun
    cfg.PARAMS["continue_on_error"] = True
    results, outputs = {}, {}
    with open_client(args.scheduler, n_workers=args.workers, xla_threads=args.threads_per_worker) as client:
        for model in models:
            label = chain.model_label(model)
            model_dir = os.path.join(working_dir, label.replace(" ", "_"))
            if args.rerun:
                shutil.rmtree(model_dir, ignore_errors=True)
            copies = chain.copy_glaciers(gdirs, model_dir)
            if model != chain.MONTHLY_TI:
                cfg.PARAMS["glaunti_variant"] = model
            steps = (chain.model_chain(model, mean, years, gcm_files=args.gcm) if full
                     else chain.cheap_chain(model, mean, years))
            print(f"{label}: {len(copies)} glaciers in {model_dir}", flush=True)
            results[label] = run_region(steps, copies, client=client if client is not None else SERIAL,
                                        progress=not args.quiet, xla_threads=args.threads_per_worker)
            done = [g for g, r in zip(copies, results[label].records) if r.status != "failed"]
            for suffix in suffixes if done else []:
                utils.compile_run_output(done, input_filesuffix=suffix)  # <model_dir>/run_output<suffix>.nc
            outputs[label] = [os.path.join(model_dir, f"run_output{s}.nc") for s in suffixes]
    common = [g.rgi_id for g in gdirs if all(r.status != "failed" for res in results.values()
                                             for r in res.records if r.rgi_id == g.rgi_id)]
    print(_report(results, mean))
    if not common:
        raise ValueError("no glacier ran for every model: nothing to draw; see the summaries above")
    what = "projection with CMIP5 CCSM4 RCP2.6" if full and args.gcm is None else "run"
    title = f"{len(common)} of {len(gdirs)} glaciers: {what} (OGGM flowline dynamics)"
    figure = region_figure({label: paths for label, paths in outputs.items()}, common,
                           os.path.join(working_dir, FIGURE_FILE), title)
    print(f"figure: {figure}")
    return 0


def _prepared_glaciers(args, working_dir: str) -> list:
    """The glacier directories of the region, largest first (prepared here with --oetztal)."""
    from oggm import utils

    from . import chain

    if args.oetztal:
        return chain.prepare_oetztal(working_dir, rgi_ids=args.rgi_ids, reset=args.rerun,
                                     auto_skip_task=not args.rerun)
    if not args.rgi_ids:
        raise ValueError("give --rgi-ids of glacier directories prepared in the working directory, or --oetztal")
    from ..session.offline import initialize_oggm

    initialize_oggm(working_dir)
    base = os.path.join(working_dir, "per_glacier")
    missing = [r for r in args.rgi_ids if not os.path.isdir(os.path.join(base, r[:8], r[:11], r))]
    if missing:
        raise FileNotFoundError(f"no glacier directory for {missing} in {base}: prepare them with OGGM "
                                "(outlines, flowlines, monthly climate), or use --oetztal")
    gdirs = [utils.GlacierDirectory(r, base_dir=base) for r in args.rgi_ids]
    return sorted(gdirs, key=lambda g: -g.rgi_area_km2)


def _regional_mean(args, gdirs, years) -> float:
    from . import chain

    if args.oetztal:
        return chain.regional_mean(years)
    from ..session.sample_glaciers import wgms_mean_balance

    try:
        return wgms_mean_balance([g.rgi_id for g in gdirs], years)
    except ValueError:
        raise ValueError(f"none of the glaciers has WGMS annual balances in {years[0]}-{years[1]}: give "
                         "--regional-mean (kg m-2 per year)") from None


def _report(results: dict, mean: float) -> str:
    lines = [f"\ncalibration mean of glaciers without enough WGMS years: {mean:.0f} kg m-2 per year",
             f"{'model':16s} {'glaciers':>8s} {'failed':>6s} {'wall (s)':>9s} {'workers':>7s}  summary"]
    for label, result in results.items():
        lines.append(f"{label:16s} {len(result.records):8d} {len(result.failed):6d} {result.wall_seconds:9.0f} "
                     f"{result.workers:7d}  {result.summary_path}")
        for record in result.records:
            if record.status == "failed":
                failed = record.failed_step
                lines.append(f"    {record.rgi_id} failed: {failed.name + ': ' + failed.status if failed else record.error}")
    return "\n".join(lines)
