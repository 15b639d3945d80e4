"""Test-only steps for the region tests (importable by Dask workers and subprocesses)."""
from __future__ import annotations

import os
import time
from pathlib import Path


def pause_once(gdir, flag_dir: str, only: str | None = None, seconds: float = 600.0) -> None:
    """The first time on glacier ``only`` (any glacier if None): damage outputs as a killed
    step would (half-written files), write ``<flag_dir>/<rgi_id>.paused`` with this
    process's id, and sleep ``seconds`` (to be killed meanwhile). Later calls do nothing."""
    if only is not None and gdir.rgi_id != only:
        return
    flag = Path(flag_dir) / f"{gdir.rgi_id}.paused"
    if flag.exists():
        return
    for name in os.listdir(gdir.dir):
        if name.startswith("mb_calib_glaunti"):  # an earlier step's output, cut in half in place
            path = os.path.join(gdir.dir, name)
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) // 2)
    with open(gdir.get_filepath("model_diagnostics", filesuffix="_historical"), "wb") as f:
        f.write(b"CDF\x01 half a file")  # a later step's output, half written
    tmp = flag.with_suffix(".tmp")
    tmp.write_text(str(os.getpid()))
    os.replace(tmp, flag)
    time.sleep(seconds)


def echo(gdir, a: int = 0, b: int = 0, c: int = 0):
    """Return the glacier and the kwargs it got (OGGM's merge order)."""
    return gdir.rgi_id, a, b, c


def region_steps(regional_mean: float, flag_dir: str | None = None, only: str | None = None) -> list:
    """The tests' chain: the cheap GlaUnTI A chain, with :func:`pause_once` after the
    calibration when ``flag_dir`` is given."""
    from oggm_glaunti.integration.regions.chain import cheap_chain

    steps = cheap_chain("A", regional_mean)
    if flag_dir is not None:
        steps.insert(3, (pause_once, dict(flag_dir=flag_dir, only=only)))
    return steps


def environment(name: str) -> str | None:
    """An environment variable of the process this runs in (for ``client.run``)."""
    return os.environ.get(name)


def worker_state() -> dict:
    """What a worker holds before its first task: the package's modules a chain runs, OGGM
    and JAX loaded, JAX's backend started, the size of its XLA pool (for ``client.run``)."""
    import sys

    from oggm_glaunti.integration.regions.preload import CHAIN_MODULES
    from oggm_glaunti.integration.session.mp_safety import jax_backend_initialised

    package = ("equinox", "oggm_glaunti.core.models", *CHAIN_MODULES)
    return dict(package=all(name in sys.modules for name in package), oggm="oggm.core.flowline" in sys.modules,
                jax_started=jax_backend_initialised(), xla_threads=os.environ.get("PJRT_NPROC"))


def compile_into_working_dir_cache(working_dir: str) -> list[str]:
    """Compile a small function with the package's cache in ``working_dir`` as a glacier's
    first task would (no folder chosen before), and list the cache's entries."""
    import jax
    import jax.numpy as jnp
    from oggm import cfg

    from oggm_glaunti.integration.session.compilation_cache import use_working_dir_compilation_cache

    cfg.PATHS["working_dir"] = working_dir
    jax.config.update("jax_compilation_cache_dir", None)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    folder = use_working_dir_compilation_cache()
    jax.jit(lambda x: x * 2.0 + 1.0)(jnp.arange(3.0)).block_until_ready()
    return sorted(os.listdir(folder))


def allocation_page_faults(blocks: int, block_bytes: int) -> int:
    """The kernel's page faults of this process while it allocates and frees ``blocks``
    arrays of ``block_bytes`` (each mapped afresh when ``malloc`` gives freed memory back)."""
    import resource

    import numpy as np

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(blocks):
        block = np.ones(block_bytes // 8)
        del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
