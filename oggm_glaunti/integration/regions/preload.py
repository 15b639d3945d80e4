"""A region's worker made ready when it starts (a Dask worker preload).

Without it, a worker imports OGGM, this package and JAX, and starts JAX's CPU backend,
while it deserialises its first task: ~2 s during which a region waits on every worker,
however many glaciers follow (a tenth of a 20-glacier MonthlyTIModel region); and the
package's own modules (:data:`CHAIN_MODULES`, with equinox), which it imports lazily,
during its first glacier. With it, the worker does that work while it starts, before it
joins the scheduler, and the clusters made here (:func:`~.cluster.local_cluster`,
:func:`~.cluster.slurm_cluster`) return ready workers. For a cluster of your own, start
the workers with ``dask worker --preload oggm_glaunti.integration.regions.preload ...``.

XLA's thread pool is sized first (:func:`~.worker.bound_xla_threads`: ``PJRT_NPROC`` as
set in the worker's environment, else the worker's Dask threads): it cannot change once
JAX's backend has started.

The preload also gives back to glibc's ``malloc`` the thresholds it reaches by itself in
any other process (:func:`keep_freed_memory`). Dask's nanny starts each worker with
``MALLOC_TRIM_THRESHOLD_=65536``, and setting any threshold stops glibc from adapting them:
every array over 128 KiB (a grid year's arrays are megabytes) was then mapped from the
kernel, zeroed and unmapped again, and the kernel's page faults took ~20 % of a GlaUnTI
worker's time (A, 20 Ötztal glaciers on one worker: 24 s of system time in 112 s; 5 s in
91 s with the thresholds below).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import logging

log = logging.getLogger(__name__)

#: This module's name, for ``preload=`` and ``dask worker --preload``.
PRELOAD = __name__

#: glibc's ``mallopt`` parameters (malloc.h) and the values its dynamic rule reaches on a
#: 64-bit machine: blocks up to 32 MiB come from the heap, and up to 64 MiB of freed heap
#: is kept for the next allocations instead of being returned to the kernel.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES

#: The modules a region's chain runs: OGGM's tasks, and this package's, which it imports
#: lazily (without them here a worker imported them, with equinox and the core, during its
#: first glacier).
CHAIN_MODULES = (
    "oggm.core.dynamic_spinup", "oggm.core.flowline", "oggm.core.inversion", "oggm.core.massbalance",
    "oggm.shop.gcm_climate", *(f"oggm_glaunti.{name}" for name in (
        "integration.climate.climate_daily", "integration.grid.model_grid", "integration.run.massbalance",
        "integration.run.flowline_run", "integration.calibration.task", "integration.calibration.objective",
        "integration.calibration.optimiser", "integration.output.gridded_output", "weights.registry")))


def keep_freed_memory() -> bool:
    """Set glibc's ``malloc`` thresholds (see the module docstring) in this process.

    Returns
    -------
    bool
        False where the C library is not glibc (macOS, musl): nothing is changed there.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


def dask_setup(worker=None) -> None:
    """Set ``malloc``'s thresholds, size XLA's thread pool, import what a glacier's chain
    runs, start JAX's backend."""
    from .worker import bound_xla_threads

    keep_freed_memory()
    bound_xla_threads(None if worker is None else worker.state.nthreads)
    import jax

    for module in CHAIN_MODULES:
        importlib.import_module(module)
    jax.devices()  # starts the CPU backend
    log.debug("worker ready: OGGM, oggm_glaunti and JAX (%s) loaded", jax.default_backend())
