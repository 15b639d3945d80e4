"""Where a region runs: the embedded ``LocalCluster``, a user's scheduler or cluster, SLURM.

:func:`open_client` turns what the user gives into a Dask client (and closes what it
opened itself):

- a ``distributed.Client``: used as it is;
- any Dask cluster object (``LocalCluster``, ``SLURMCluster``, ...): a client on it;
- a scheduler address (``"tcp://host:8786"``): a client connected to it;
- ``"local"``: the embedded default, :func:`local_cluster` on this machine's cores;
- ``"serial"``: no Dask, every glacier in the calling process;
- None: ``cfg.PARAMS['glaunti_scheduler']`` (one of the above), else the process's
  current Dask client (``distributed.default_client()``), else the caller's fallback.

Every worker runs one glacier at a time (:mod:`.worker`), so the embedded cluster has one
Dask thread per worker process and ``cores // xla_threads`` workers: each worker's XLA
thread pool has ``xla_threads`` threads (``PJRT_NPROC``; set in the worker's environment
before JAX starts), so that workers x threads <= cores. Workers are spawned processes
(Dask's default), which is safe whatever JAX did in the calling process, and start ready
(:mod:`.preload`).
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Iterator

from .preload import PRELOAD

log = logging.getLogger(__name__)

SERIAL, LOCAL = "serial", "local"


def machine_cores() -> int:
    """The cores this process may use (its CPU affinity, e.g. a SLURM allocation)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def xla_environment(xla_threads: int) -> dict[str, str]:
    """Environment that gives a process's XLA CPU thread pool ``xla_threads`` threads.

    XLA sizes its pool from ``PJRT_NPROC`` (``NPROC`` for older jaxlib) when the process's
    JAX backend starts; the ``XLA_FLAGS`` thread options do not bound it in recent jaxlib.
    """
    threads = int(xla_threads)
    if threads < 1:
        raise ValueError(f"xla_threads must be at least 1, got {xla_threads}")
    return {"PJRT_NPROC": str(threads), "NPROC": str(threads)}


#: Dask's statistical profiler off in a region's workers: it keeps ~1000 one-second profiles
#: of the worker's stacks, and OGGM's and JAX's deep stacks made a worker grow by ~0.6 MiB
#: per glacier for its first ~17 minutes.
PROFILER_OFF = {"distributed.worker.profile.enabled": False}

#: The scheduler hands a worker its next glacier only when the worker is free (Dask's
#: default, 1.1, queues a second one on each single-threaded worker): the glaciers then
#: start strictly largest first and none waits on a busy worker while another idles. With
#: 16 tasks of 0.3-3 s on 2 workers: 8.15-8.84 s at 1.1, 8.16-8.18 s at 1.0 (8.10 s ideal).
#: Read by the scheduler when it starts, which for both clusters here is this process.
ONE_GLACIER_PER_WORKER = {"distributed.scheduler.worker-saturation": 1.0}


def worker_environment(xla_threads: int) -> dict[str, str]:
    """Environment of a region's worker started by a ``dask worker`` command (SLURM):
    :func:`xla_environment` and :data:`PROFILER_OFF` as Dask's environment variables. (A
    ``LocalCluster``'s nanny passes its own Dask config to the worker over the environment:
    :func:`local_cluster` sets :data:`PROFILER_OFF` there.)"""
    dask_settings = {"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
                     for key, value in PROFILER_OFF.items()}
    return {**xla_environment(xla_threads), **dask_settings}


def _as_list(value) -> list:
    """A Dask option that takes one string or a list of them, as a list (None: empty)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def local_cluster(n_workers: int | None = None, xla_threads: int = 1, **kwargs):
    """The embedded default: a ``distributed.LocalCluster`` of process workers.

    Parameters
    ----------
    n_workers : int, optional
        worker processes (default: this machine's cores // ``xla_threads``, at least 1).
    xla_threads : int
        threads of each worker's XLA thread pool (default 1).
    **kwargs
        passed to ``LocalCluster`` (e.g. ``memory_limit``, ``dashboard_address``; the
        dashboard is off unless asked for; ``preload`` is added to).

    The workers start ready (:mod:`.preload`): OGGM, this package and JAX imported.
    """
    import dask
    from distributed import LocalCluster

    if n_workers is None:
        n_workers = max(1, machine_cores() // int(xla_threads))
    env = {**xla_environment(xla_threads), **kwargs.pop("env", {})}
    kwargs.setdefault("dashboard_address", None)
    kwargs["preload"] = [PRELOAD, *_as_list(kwargs.get("preload"))]
    # each nanny hands this process's Dask config to its worker
    with dask.config.set({**PROFILER_OFF, **ONE_GLACIER_PER_WORKER}):
        return LocalCluster(n_workers=int(n_workers), threads_per_worker=1, processes=True, env=env,
                            **kwargs)


def slurm_cluster(cores: int, memory: str, xla_threads: int = 1, **kwargs):
    """A ``dask_jobqueue.SLURMCluster`` set up for GlaUnTI's workers (needs dask-jobqueue).

    Each SLURM job runs ``cores // xla_threads`` worker processes of one Dask thread and
    ``xla_threads`` XLA threads each, exports :func:`worker_environment` for them and starts
    them with :mod:`.preload` (ready when they join). The working
    directory must be on a file system all nodes share. Scale with ``cluster.scale(jobs=n)``.

    Parameters
    ----------
    cores : int
        cores of one job (``--cpus-per-task``).
    memory : str
        memory of one job, e.g. ``"32GB"`` (shared by its worker processes).
    xla_threads : int
        XLA threads per worker (default 1).
    **kwargs
        passed to ``SLURMCluster`` (``queue``, ``account``, ``walltime``,
        ``local_directory``, ``job_script_prologue`` and ``worker_extra_args`` (added to), ...).
    """
    import dask

    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as err:
        raise ImportError("slurm_cluster needs dask-jobqueue: pip install 'oggm-glaunti[cluster]'") from err
    threads = int(xla_threads)
    if cores < threads:
        raise ValueError(f"a job of {cores} cores cannot run workers of {threads} XLA threads")
    exports = " ".join(f"{k}={v}" for k, v in worker_environment(threads).items())
    prologue = [*kwargs.pop("job_script_prologue", []), f"export {exports}"]
    kwargs.setdefault("dashboard_address", None)
    kwargs["worker_extra_args"] = ["--preload", PRELOAD, *_as_list(kwargs.get("worker_extra_args"))]
    with dask.config.set(ONE_GLACIER_PER_WORKER):
        return SLURMCluster(cores=cores, processes=cores // threads, memory=memory,
                            job_script_prologue=prologue, **kwargs)


def quiet_dask_logging() -> None:
    """Distributed's loggers at WARNING (no INFO lines, nor the tracebacks it logs at INFO
    when a cluster closes). Importing distributed sets their levels, so it is imported first."""
    import distributed  # noqa: F401

    logging.getLogger("distributed").setLevel(logging.WARNING)


def _configured(client):
    if client is None:
        from oggm import cfg

        client = cfg.PARAMS.get("glaunti_scheduler")
    if client is None:
        try:
            from distributed import default_client

            client = default_client()
        except ValueError:  # no current client
            return None
    return client


@contextlib.contextmanager
def open_client(client: Any = None, fallback: str | None = LOCAL, n_workers: int | None = None,
                xla_threads: int = 1) -> Iterator[Any]:
    """Yield a ``distributed.Client`` for ``client`` (see the module docstring), or None
    for serial (or no client and no ``fallback``).

    ``n_workers`` and ``xla_threads`` shape the embedded ``LocalCluster`` only.
    """
    from distributed import Client

    chosen = _configured(client)
    if chosen is None:
        chosen = fallback
    if chosen is None or chosen == SERIAL:
        yield None
    elif isinstance(chosen, Client):
        _check_workers(chosen)
        yield chosen
    elif chosen == LOCAL:
        with local_cluster(n_workers, xla_threads) as cluster, Client(cluster) as opened:
            yield opened
    elif isinstance(chosen, str) or hasattr(chosen, "scheduler_address"):
        with Client(chosen) as opened:
            _check_workers(opened)
            yield opened
    else:
        raise TypeError(f"client must be a distributed.Client, a Dask cluster, a scheduler address, "
                        f"'{LOCAL}' or '{SERIAL}'; got {chosen!r}")


def _check_workers(client) -> None:
    """Warn about workers with several Dask threads: they run one glacier at a time."""
    threads = {w["nthreads"] for w in client.scheduler_info(n_workers=-1)["workers"].values()}
    if any(n > 1 for n in threads):
        log.warning("Dask workers with %s threads each run one glacier at a time (OGGM is not "
                    "thread-safe) and give XLA as many threads; for more glaciers at once start "
                    "more worker processes of one thread", sorted(threads))
