"""A region's worker made ready when it starts (a Dask worker preload).

Without it, a worker imports OGGM, this package and JAX, and starts JAX's CPU backend,
while it deserialises its first task: ~2 s during which a region waits on every worker,
however many glaciers follow (a tenth of a 20-glacier MonthlyTIModel region). With it,
the worker does that work while it starts, before it joins the scheduler, and the clusters
made here (:func:`~.cluster.local_cluster`, :func:`~.cluster.slurm_cluster`) return ready
workers. For a cluster of your own, start the workers with
``dask worker --preload oggm_glaunti.integration.regions.preload ...``.

XLA's thread pool is sized first (:func:`~.worker.bound_xla_threads`: ``PJRT_NPROC`` as
set in the worker's environment, else the worker's Dask threads): it cannot change once
JAX's backend has started.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

#: This module's name, for ``preload=`` and ``dask worker --preload``.
PRELOAD = __name__


def dask_setup(worker=None) -> None:
    """Size XLA's thread pool, import what a glacier's chain runs, start JAX's backend."""
    from .worker import bound_xla_threads

    bound_xla_threads(None if worker is None else worker.state.nthreads)
    import oggm.core.dynamic_spinup  # noqa: F401 - the chain's OGGM tasks
    import oggm.core.flowline  # noqa: F401
    import oggm.core.inversion  # noqa: F401
    import oggm.core.massbalance  # noqa: F401
    import oggm.shop.gcm_climate  # noqa: F401
    import jax

    import oggm_glaunti.integration  # noqa: F401 - the package's tasks, JAX and equinox

    jax.devices()  # starts the CPU backend
    log.debug("worker ready: OGGM, oggm_glaunti and JAX (%s) loaded", jax.default_backend())
