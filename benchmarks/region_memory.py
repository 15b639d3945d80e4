"""A 200-glacier region on 2 Dask workers: wall time and each worker's memory through the run.

The 20 Ötztal glaciers of OGGM's sample data are prepared once (OGGM's preprocessing), then
copied under new RGI ids (RGI50-11.90000, ...) until the region has ``--glaciers`` of them;
each runs the cheap GlaUnTI chain (daily climate, model grid, calibration on one mean over
2004-2010, gridded SMB of two years, a 6-year run; ``chain.cheap_chain``) with
``run_region`` on a LocalCluster of ``--workers`` process workers (one XLA thread each).
The workers' resident memory is sampled from /proc every ``--every`` seconds (Linux). Prints
figures only: the wall time, glaciers per hour, and per worker its resident memory after
each tenth of the glaciers and its peak (flat memory: no growth with glaciers done).

Offline::

    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python benchmarks/region_memory.py
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()


def clone_glaciers(gdirs, n: int, base_dir: str) -> list:
    """``n`` copies of ``gdirs`` (cycled) under new RGI ids RGI50-11.90000, ... in ``base_dir``."""
    import geopandas as gpd
    from oggm import utils

    clones = []
    for i in range(n):
        source, rgi_id = gdirs[i % len(gdirs)], f"RGI50-11.9{i:04d}"
        target = os.path.join(base_dir, rgi_id[:8], rgi_id[:11], rgi_id)
        if not os.path.isdir(target):
            shutil.copytree(source.dir, target)
            outlines = gpd.read_file(os.path.join(target, "outlines.shp"))
            outlines["RGIId"] = rgi_id
            outlines.to_file(os.path.join(target, "outlines.shp"))
        clones.append(utils.GlacierDirectory(rgi_id, base_dir=base_dir))
    return clones


def _rss_mib(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory (MiB) of a process, from /proc."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _ = line.split()
                values[key] = int(amount) / 1024
    return values["VmRSS:"], values["VmHWM:"]


class MemorySampler(threading.Thread):
    """Samples the workers' resident memory, and how many glaciers are done, until stopped."""

    def __init__(self, pids: dict, every: float, done):
        super().__init__(daemon=True)
        self.pids, self.every, self.done = pids, every, done
        self.samples = []  # (seconds, glaciers done, {worker: rss MiB})
        self.peaks = {}
        self._stop = threading.Event()
        self._start = time.perf_counter()

    def run(self):
        while not self._stop.wait(self.every):
            rss = {}
            for name, pid in self.pids.items():
                try:
                    rss[name], self.peaks[name] = _rss_mib(pid)
                except OSError:  # restarted worker
                    continue
            self.samples.append((time.perf_counter() - self._start, self.done(), rss))

    def stop(self):
        self._stop.set()
        self.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--glaciers", type=int, default=200, help="glaciers in the region (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--variant", default="A", choices=list("ACD"), help="GlaUnTI variant (default A)")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between memory samples (default 2)")
    parser.add_argument("--working-dir", default=None, help="OGGM working directory (default: temporary)")
    args = parser.parse_args()

    from distributed import Client
    from oggm import cfg

    from oggm_glaunti.integration.regions import chain, local_cluster, run_region

    working_dir = os.path.abspath(args.working_dir or tempfile.mkdtemp(prefix="region_memory_"))
    t0 = time.perf_counter()
    prepared = chain.prepare_oetztal(os.path.join(working_dir, "prep"))
    base = os.path.join(working_dir, "region", "per_glacier")
    gdirs = clone_glaciers(prepared, args.glaciers, base)
    cfg.PATHS["working_dir"] = os.path.dirname(base)
    cfg.PARAMS["continue_on_error"] = True
    mean = chain.regional_mean(chain.CHEAP_YEARS)
    steps = chain.cheap_chain(args.variant, mean)
    print(f"prepared {len(prepared)} Ötztal glaciers, {len(gdirs)} copies: {time.perf_counter() - t0:.0f} s",
          flush=True)

    done = []
    with local_cluster(n_workers=args.workers, xla_threads=1) as cluster, Client(cluster) as client:
        pids = {f"worker {i}": pid for i, pid in enumerate(client.run(os.getpid).values())}
        sampler = MemorySampler(pids, args.every, lambda: len(done))
        progress = threading.Thread(target=_count_done, args=(os.path.dirname(base), gdirs, done), daemon=True)
        sampler.start()
        progress.start()
        result = run_region(steps, gdirs, client=client, progress=True)
        done.extend([None] * (len(gdirs) - len(done)))
        sampler.stop()
    _report(args, result, sampler)


def _count_done(working_dir: str, gdirs, done: list) -> None:
    """Count the glaciers whose chain has finished (their run record is in place)."""
    from oggm_glaunti.integration.regions.worker import RECORD_KEY

    pending = {g.dir for g in gdirs}
    while pending:
        for folder in list(pending):
            if os.path.exists(os.path.join(folder, f"{RECORD_KEY}.pkl")):
                pending.discard(folder)
                done.append(folder)
        time.sleep(1.0)


def _report(args, result, sampler: MemorySampler) -> None:
    n = len(result.records)
    print(f"\n{n} glaciers, cheap chain of GlaUnTI {args.variant}, {result.workers} workers x 1 XLA thread "
          f"(shared machine: timings are indicative)")
    print(f"wall time {result.wall_seconds:.0f} s, {n / result.wall_seconds * 3600:.0f} glaciers per hour, "
          f"failed: {len(result.failed)}")
    print("\nresident memory (MiB) of each worker, after each tenth of the glaciers:")
    names = sorted(sampler.pids)
    print(f"{'glaciers done':>14s} {'seconds':>8s} " + " ".join(f"{name:>10s}" for name in names))
    for tenth in range(1, 11):
        target = tenth * n // 10
        sample = next((s for s in sampler.samples if s[1] >= target), sampler.samples[-1] if sampler.samples else None)
        if sample is None:
            break
        print(f"{sample[1]:14d} {sample[0]:8.0f} " + " ".join(f"{sample[2].get(name, float('nan')):10.0f}"
                                                             for name in names))
    print("peak (VmHWM)           " + " ".join(f"{sampler.peaks.get(name, float('nan')):10.0f}" for name in names))
    for name in names:
        series = [(s[1], s[2][name]) for s in sampler.samples if name in s[2] and s[1] >= n // 10]
        if len(series) > 2:
            first, last = series[0], series[-1]
            slope = (last[1] - first[1]) / max(last[0] - first[0], 1) * 100
            print(f"{name}: {slope:+.1f} MiB per 100 glaciers after the first tenth")


if __name__ == "__main__":
    main()
