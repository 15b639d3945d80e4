"""A 200-glacier region on 2 Dask workers: wall time and each worker's memory through the run.

The 20 Ötztal glaciers of OGGM's sample data are prepared once (OGGM's preprocessing), then
copied under new RGI ids (RGI50-11.90000, ...) until the region has ``--glaciers`` of them;
each runs the cheap GlaUnTI chain (daily climate, model grid, calibration on one mean over
2004-2010, gridded SMB of two years, a 6-year run; ``chain.cheap_chain``) with
``run_region`` on a LocalCluster of ``--workers`` process workers (one XLA thread each), in
rounds of the 20 glaciers (every grid shape is compiled in the first round: a worker's
memory must then stay flat) or, with ``--largest-first``, in run_region's default order.
The workers' resident memory is sampled from /proc every ``--every`` seconds (Linux). Prints
figures only: the wall time, glaciers per hour, and per worker its resident memory after
each tenth of the glaciers, its peak, and its growth over the second half of the region (flat
memory: none; a worker meets every grid shape in the first rounds).

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
    """``n`` copies of ``gdirs`` (cycled) under new RGI ids RGI50-11.90000, ... in ``base_dir``:
    the outline written anew under the new id, every other file copied."""
    from oggm import utils

    clones = []
    for i in range(n):
        source, rgi_id = gdirs[i % len(gdirs)], f"RGI50-11.9{i:04d}"
        if os.path.isdir(os.path.join(base_dir, rgi_id[:8], rgi_id[:11], rgi_id)):
            clones.append(utils.GlacierDirectory(rgi_id, base_dir=base_dir))
            continue
        entity = source.read_shapefile("outlines").to_crs("EPSG:4326").iloc[0].copy()
        entity["RGIId"] = rgi_id
        clone = utils.GlacierDirectory(entity, base_dir=base_dir)
        for name in os.listdir(source.dir):
            if not name.startswith(("outlines", "intersects")):
                shutil.copy2(os.path.join(source.dir, name), clone.dir)
        for key in ("inversion_flowlines", "model_flowlines"):  # OGGM takes another id for a tributary
            flowlines = clone.read_pickle(key)
            for fl in flowlines:
                fl.rgi_id = rgi_id
            clone.write_pickle(flowlines, key)
        clones.append(clone)
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
    """Samples the workers' resident memory and how many glaciers are done until stopped;
    prints a line each time another tenth of the ``total`` glaciers is done."""

    def __init__(self, pids: dict, every: float, done, total: int):
        super().__init__(daemon=True)
        self.pids, self.every, self.done, self.total = pids, every, done, total
        self.samples = []  # (seconds, glaciers done, {worker: rss MiB})
        self.peaks = {}
        self._halt = threading.Event()
        self._start = time.perf_counter()
        self._tenth = 0

    def run(self):
        names = sorted(self.pids)
        print("resident memory (MiB) of each worker, after each tenth of the glaciers:\n"
              f"{'glaciers done':>14s} {'seconds':>8s} " + " ".join(f"{n:>10s}" for n in names), flush=True)
        while not self._halt.wait(self.every):
            rss = {}
            for name, pid in self.pids.items():
                try:
                    rss[name], self.peaks[name] = _rss_mib(pid)
                except OSError:  # restarted worker
                    continue
            seconds, done = time.perf_counter() - self._start, self.done()
            self.samples.append((seconds, done, rss))
            reached = self._tenth
            while done >= (self._tenth + 1) * self.total / 10 and self._tenth < 10:
                self._tenth += 1
            if self._tenth > reached:
                print(f"{done:14d} {seconds:8.0f} " + " ".join(f"{rss.get(n, float('nan')):10.0f}" for n in names),
                      flush=True)

    def stop(self):
        self._halt.set()
        self.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--glaciers", type=int, default=200, help="glaciers in the region (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--variant", default="A", choices=list("ACD"), help="GlaUnTI variant (default A)")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between memory samples (default 2)")
    parser.add_argument("--working-dir", default=None, help="OGGM working directory (default: temporary)")
    parser.add_argument("--rgi-ids", nargs="+", default=None, help="Ötztal glaciers copied (default: all 20)")
    parser.add_argument("--largest-first", action="store_true",
                        help="run_region's default order (the copies of a glacier one after another, "
                             "so that new grid shapes, hence new compilations, come until the end); "
                             "default: in rounds of the Ötztal glaciers, every shape compiled in the first")
    args = parser.parse_args()

    from distributed import Client
    from oggm import cfg

    from oggm_glaunti.integration.regions import chain, local_cluster, run_region

    working_dir = os.path.abspath(args.working_dir or tempfile.mkdtemp(prefix="region_memory_"))
    t0 = time.perf_counter()
    prepared = chain.prepare_oetztal(os.path.join(working_dir, "prep"), rgi_ids=args.rgi_ids)
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
        sampler = MemorySampler(pids, args.every, lambda: len(done), len(gdirs))
        progress = threading.Thread(target=_count_done, args=(os.path.dirname(base), gdirs, done), daemon=True)
        sampler.start()
        progress.start()
        result = run_region(steps, gdirs, client=client, progress=False, largest_first=args.largest_first)
        time.sleep(2 * args.every)  # the last glaciers counted and sampled
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
    order = "largest first" if args.largest_first else "in rounds of the Ötztal glaciers"
    print(f"\n{n} glaciers ({order}), cheap chain of GlaUnTI {args.variant}, {result.workers} workers x 1 XLA "
          f"thread (shared machine: timings are indicative)")
    print(f"wall time {result.wall_seconds:.0f} s, {n / result.wall_seconds * 3600:.0f} glaciers per hour, "
          f"failed: {len(result.failed)}")
    names = sorted(sampler.pids)
    print("peak resident memory (VmHWM, MiB): " + ", ".join(f"{name} {sampler.peaks.get(name, float('nan')):.0f}"
                                                          for name in names))
    # a worker compiles (or loads from the shared cache) each grid shape the first time it
    # meets one, during the first rounds: flat memory is judged on the second half
    for name in names:
        series = [(s[1], s[2][name]) for s in sampler.samples if name in s[2] and s[1] >= max(1, n // 2)]
        if len(series) > 2:
            first, last = series[0], series[-1]
            slope = (last[1] - first[1]) / max(last[0] - first[0], 1) * 100
            print(f"{name}: {slope:+.1f} MiB per 100 glaciers over the second half of the region "
                  f"({first[1]:.0f} -> {last[1]:.0f} MiB)")


if __name__ == "__main__":
    main()
