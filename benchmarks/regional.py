"""The Ötztal glaciers through the full regional chain: cost per step, per glacier, per core.

The chain per glacier (``oggm_glaunti.integration.regions.chain.model_chain``): daily
climate and model grid (GlaUnTI), calibration on one mean per glacier (the glacier's WGMS
mean over 1980-2012, else the regional mean, as a geodetic-style mean), inversion with the
model's apparent MB, dynamic spin-up from 1979, projection to 2100 with the CMIP5 CCSM4
RCP2.6 demo files — for MonthlyTIModel and GlaUnTI A and D, each in these modes:

- ``oggm-serial``: OGGM's serial default, ``workflow.execute_entity_task`` step after step
  (a barrier after each) in one process, XLA with its default threads;
- ``dask-1``, ``dask-2``: ``run_region`` on a LocalCluster of 1 and 2 process workers of
  one XLA thread each (each glacier's chain as one unit, largest first).

Each (model, mode) runs in a fresh process on fresh copies of the prepared glaciers; all
share one JAX compilation cache, filled first (``--no-warm`` to skip) by each model's chain
on all the glaciers, so that every mode meets the compiled code as in a long regional run,
where a worker meets few grid sizes that no worker has compiled before. Prints figures
only: seconds per glacier of every step (median and largest glacier, from ``dask-1``: one
core each), the chain per glacier as a multiple of MonthlyTIModel's, wall time, glaciers
per core-hour and the scaling from 1 to 2 workers, and each mode's peak resident memory
per process. The wall time of a Dask mode is the region's (``run_region``) on a cluster
whose workers have started; their start (spawn, then the preload that imports OGGM, the
package and JAX: ``oggm_glaunti.integration.regions.preload``) is printed beside it, as
the serial mode's imports happen before its clock starts. On a shared machine whose speed
drifts over minutes, ``--repeat N`` runs the Dask modes N times, alternating ``dask-1``
and ``dask-2``, and reports each mode's fastest run (every wall time is printed). Offline::

    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python benchmarks/regional.py
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

MODES = ("oggm-serial", "dask-1", "dask-2")
MODELS = ("MonthlyTIModel", "A", "D")


def _peak_mib(pid: int | None = None) -> float:
    """Peak resident memory (MiB) of a process (VmHWM), this one by default."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


def _cpu_seconds() -> float:
    """CPU time (user + system, all threads) this process has used."""
    times = os.times()
    return times.user + times.system


def run_one(spec: dict) -> dict:
    """One (model, mode) on fresh copies of the prepared glaciers (in this fresh process)."""
    from oggm import cfg, utils, workflow

    from oggm_glaunti.integration.regions import chain, run_region
    from oggm_glaunti.integration.regions.cluster import quiet_dask_logging
    from oggm_glaunti.integration.regions.steps import Step, step_name

    with open(spec["config"], "rb") as f:
        cfg.unpack_config(pickle.load(f))
    cfg.set_logging_config("WARNING")  # what cfg.initialize would have set up in this process
    quiet_dask_logging()  # as oggm-glaunti region
    prepared = [utils.GlacierDirectory(r, base_dir=spec["prepared"]) for r in spec["rgi_ids"]]
    gdirs = chain.copy_glaciers(prepared, spec["folder"])
    model, mode = spec["model"], spec["mode"]
    if model != chain.MONTHLY_TI:
        cfg.PARAMS["glaunti_variant"] = model
    steps = chain.model_chain(model, spec["mean"])
    names = [step_name(Step(task, kwargs)) for task, kwargs in steps]
    start, cluster_start, cores_used = time.perf_counter(), None, None
    if mode == "oggm-serial":
        for task, kwargs in steps:
            workflow.execute_entity_task(task, gdirs, **kwargs)
        wall, peaks = time.perf_counter() - start, [_peak_mib()]
        seconds = {g.rgi_id: [g.get_task_time(n) for n in names] for g in gdirs}
        failed = [g.rgi_id for g in gdirs if any(g.get_task_status(n) != "SUCCESS" for n in names)]
    else:
        from distributed import Client

        from oggm_glaunti.integration.regions import local_cluster

        with local_cluster(n_workers=int(mode.split("-")[1]), xla_threads=1) as cluster, Client(cluster) as client:
            cluster_start = time.perf_counter() - start  # workers started ready (preload)
            cpu_before, here_before = client.run(_cpu_seconds), _cpu_seconds()
            start = time.perf_counter()
            result = run_region(steps, gdirs, client=client, progress=False, summary=False)
            wall = time.perf_counter() - start
            cpu_after, here_after = client.run(_cpu_seconds), _cpu_seconds()
            peaks = [_peak_mib(pid) for pid in client.run(os.getpid).values()]
        # cores each worker kept busy (a "single-threaded" worker also runs XLA's and Dask's own
        # threads), and this process's (the scheduler and the client)
        cores_used = [(cpu_after[w] - cpu_before[w]) / wall for w in cpu_before] + [(here_after - here_before) / wall]
        seconds = {r.rgi_id: [s.seconds for s in r.steps] for r in result.records}
        failed = result.failed
    return dict(model=model, mode=mode, wall=wall, names=names, seconds=seconds, failed=failed, peaks=peaks,
                area={g.rgi_id: g.rgi_area_km2 for g in gdirs}, cluster_start=cluster_start, cores_used=cores_used)


def _run_subprocess(spec: dict, folder: str) -> dict:
    path = os.path.join(folder, f"{spec['model']}_{spec['mode']}_{spec.get('tag', 0)}.json")
    with open(path + ".spec", "w") as f:
        json.dump(spec, f)
    subprocess.run([sys.executable, __file__, "--one", path + ".spec", path], check=True)
    with open(path) as f:
        return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rgi-ids", nargs="+", default=None, help="Ötztal glaciers (default: all 20)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), help="default: %(default)s")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES, help="default: all")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the Dask modes this many times, alternating; report the fastest of each")
    parser.add_argument("--no-warm", action="store_true", help="do not warm the compilation cache first")
    parser.add_argument("--working-dir", default=None, help="default: temporary")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # internal: one (model, mode)
    args = parser.parse_args()
    if args.one:
        with open(args.one[0]) as f:
            result = run_one(json.load(f))
        with open(args.one[1], "w") as f:
            json.dump(result, f)
        return

    from oggm import cfg

    from oggm_glaunti.integration.regions import chain

    folder = os.path.abspath(args.working_dir or tempfile.mkdtemp(prefix="regional_"))
    os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.join(folder, "jax_cache")  # one cache for all
    t0 = time.perf_counter()
    prepared = chain.prepare_oetztal(os.path.join(folder, "prep"), rgi_ids=args.rgi_ids)
    cfg.PARAMS["continue_on_error"] = True
    mean = chain.regional_mean(chain.REF_YEARS)
    config = os.path.join(folder, "config.pkl")
    with open(config, "wb") as f:
        pickle.dump(cfg.pack_config(), f)
    base = dict(config=config, prepared=os.path.join(folder, "prep", "per_glacier"), mean=mean)
    ids = [g.rgi_id for g in prepared]
    print(f"{len(ids)} glaciers prepared (OGGM: flowlines, climate) in {time.perf_counter() - t0:.0f} s; "
          f"regional mean {mean:.0f} kg m-2 per year", flush=True)
    if not args.no_warm:
        for model in args.models:
            _run_subprocess(dict(base, model=model, mode="oggm-serial", rgi_ids=ids, tag="warm",
                                 folder=os.path.join(folder, "warm", model)), folder)
        print(f"compilation cache warmed ({time.perf_counter() - t0:.0f} s)", flush=True)
    results = []
    for model in args.models:
        runs = [m for m in args.modes if m == "oggm-serial"]
        runs += [m for _ in range(max(args.repeat, 1)) for m in args.modes if m != "oggm-serial"]
        tries: dict[str, list[dict]] = {}
        for n, mode in enumerate(runs):
            spec = dict(base, model=model, mode=mode, rgi_ids=ids, tag=n,
                        folder=os.path.join(folder, model, f"{mode}_{n}"))
            tries.setdefault(mode, []).append(_run_subprocess(spec, folder))
            print(f"  {chain.model_label(model)}, {mode}: {tries[mode][-1]['wall']:.0f} s", flush=True)
        for runs_of_mode in tries.values():
            fastest = min(runs_of_mode, key=lambda r: r["wall"])
            results.append(dict(fastest, walls=[r["wall"] for r in runs_of_mode]))
    report(results, os.cpu_count() or 1)


def report(results: list[dict], cores: int) -> None:
    """Print the tables (see the module docstring)."""
    from oggm_glaunti.integration.regions.chain import model_label

    print("\n(shared machine: timings are indicative)")
    per_glacier = {}
    for r in results:
        if r["mode"] != "dask-1":
            continue
        largest = max(r["area"], key=r["area"].get)
        print(f"\n{model_label(r['model'])}: seconds per glacier of each step (dask-1: one worker, one XLA thread)")
        print(f"{'step':40s} {'median':>8s} {'largest':>8s}")
        for i, name in enumerate(r["names"]):
            values = [s[i] for s in r["seconds"].values() if s[i] is not None]
            print(f"{name:40s} {statistics.median(values):8.2f} {r['seconds'][largest][i] or float('nan'):8.2f}")
        totals = [sum(v or 0 for v in s) for s in r["seconds"].values()]
        per_glacier[r["model"]] = statistics.median(totals)
        print(f"{'chain':40s} {statistics.median(totals):8.2f} {sum(v or 0 for v in r['seconds'][largest]):8.2f}"
              f"   (largest: {largest}, {r['area'][largest]:.1f} km2)")
    if "MonthlyTIModel" in per_glacier:
        for model, seconds in per_glacier.items():
            if model == "MonthlyTIModel":
                continue
            print(f"chain per glacier, {model_label(model)} / MonthlyTIModel: {seconds / per_glacier['MonthlyTIModel']:.1f}x")
    print(f"\n{'model':16s} {'mode':12s} {'wall s':>8s} {'start s':>8s} {'cores':>5s} {'glaciers/core-h':>16s} "
          f"{'failed':>6s} {'peak MiB per process':>22s}")
    walls, tries_of = {}, {}
    for r in results:
        tries_of[(r["model"], r["mode"])] = r.get("walls", [r["wall"]])
        used = cores if r["mode"] == "oggm-serial" else int(r["mode"].split("-")[1])
        n = len(r["seconds"])
        walls[(r["model"], r["mode"])] = r["wall"]
        peaks = ", ".join(f"{p:.0f}" for p in r["peaks"])
        tries = tries_of[(r["model"], r["mode"])]
        others = f"   (runs: {', '.join(f'{w:.1f}' for w in tries)} s)" if len(tries) > 1 else ""
        started = "-" if r.get("cluster_start") is None else f"{r['cluster_start']:.1f}"
        print(f"{model_label(r['model']):16s} {r['mode']:12s} {r['wall']:8.0f} {started:>8s} {used:5d} "
              f"{n / (r['wall'] * used / 3600):16.0f} {len(r['failed']):6d} {peaks:>22s}{others}")
    for model in dict.fromkeys(r["model"] for r in results):
        if (model, "dask-1") in walls and (model, "dask-2") in walls:
            line = f"{model_label(model)}: dask-2 is {walls[model, 'dask-1'] / walls[model, 'dask-2']:.2f}x dask-1"
            if (model, "oggm-serial") in walls:
                line += f", {walls[model, 'oggm-serial'] / walls[model, 'dask-2']:.2f}x OGGM's serial default"
            pairs = list(zip(tries_of[model, "dask-1"], tries_of[model, "dask-2"]))
            if len(pairs) > 1:  # run one after the other: each pair met the machine at about the same speed
                line += f"; within each pair of runs: {', '.join(f'{a / b:.2f}x' for a, b in pairs)}"
            print(line)
            for r in results:
                if r["model"] == model and r.get("cores_used"):
                    *workers, here = r["cores_used"]
                    print(f"  {r['mode']} (fastest run): cores kept busy by each worker "
                          f"{', '.join(f'{c:.2f}' for c in workers)}, by the scheduler and client {here:.2f}")


if __name__ == "__main__":
    main()
