"""A worker started with the package's preload is ready before its first glacier, and
JAX's persistent compilation cache still goes where the glacier's cfg puts it (the
working directory arrives with the first glacier, after the preload started JAX)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from integration._region_steps import allocation_page_faults, compile_into_working_dir_cache, worker_state
from oggm_glaunti.integration.regions.preload import PRELOAD

#: 200 arrays of 1 MiB: 51,200 pages, each faulted in again when malloc returns the memory
#: (1 MiB: above malloc's 128 KiB under the nanny's setting, and too small to hold a 2 MiB
#: transparent huge page, so that the count is the same with the kernel's THP always on)
BLOCKS, BLOCK_BYTES = 200, 1 << 20
PAGES_TOUCHED = BLOCKS * BLOCK_BYTES // 4096

pytestmark = pytest.mark.slow


def test_a_worker_of_ones_own_cluster_starts_ready(tmp_path, monkeypatch):
    """A cluster of the user's own (``dask worker --preload ...``): the XLA pool sized from
    the worker's Dask threads, as the chain runner would size it."""
    from distributed import Client, LocalCluster

    for name in ("PJRT_NPROC", "NPROC"):  # the spawned worker inherits this environment
        monkeypatch.delenv(name, raising=False)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, preload=[PRELOAD],
                      dashboard_address=None) as cluster, Client(cluster) as client:
        (state,) = client.run(worker_state).values()
        (faults,) = client.run(allocation_page_faults, BLOCKS, BLOCK_BYTES).values()
        cached = client.submit(compile_into_working_dir_cache, str(tmp_path), pure=False).result()
    assert state == dict(package=True, oggm=True, jax_started=True, xla_threads="2")
    assert cached, "the preloaded worker wrote nothing to the working directory's compilation cache"
    # Dask's nanny set MALLOC_TRIM_THRESHOLD_=65536 for this worker; the preload undid its effect
    assert faults < PAGES_TOUCHED / 10, faults


def test_malloc_keeps_freed_memory():
    """In a process started as Dask's nanny starts a worker (``MALLOC_TRIM_THRESHOLD_`` set),
    freed arrays are mapped and faulted in afresh; after :func:`keep_freed_memory` they are
    reused (glibc; elsewhere the function changes nothing and says so)."""
    script = (
        "from integration._region_steps import allocation_page_faults as faults\n"
        "from oggm_glaunti.integration.regions.preload import keep_freed_memory\n"
        f"print(faults({BLOCKS}, {BLOCK_BYTES}), keep_freed_memory(), faults({BLOCKS}, {BLOCK_BYTES}))\n"
    )
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    before, changed, after = out.stdout.split()
    if changed == "False":  # not glibc: nothing to undo, nothing changed
        assert abs(int(after) - int(before)) < PAGES_TOUCHED / 2
        return
    assert int(before) > PAGES_TOUCHED / 2, before  # the nanny's setting: every block faulted in
    assert int(after) < PAGES_TOUCHED / 10, after
