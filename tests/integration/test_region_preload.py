"""A worker started with the package's preload is ready before its first glacier, and
JAX's persistent compilation cache still goes where the glacier's cfg puts it (the
working directory arrives with the first glacier, after the preload started JAX)."""
from __future__ import annotations

import pytest

from integration._region_steps import compile_into_working_dir_cache, worker_state
from oggm_glaunti.integration.regions.preload import PRELOAD

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
        cached = client.submit(compile_into_working_dir_cache, str(tmp_path), pure=False).result()
    assert state == dict(package=True, oggm=True, jax_started=True, xla_threads="2")
    assert cached, "the preloaded worker wrote nothing to the working directory's compilation cache"
