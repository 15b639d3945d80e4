"""What runs in a worker: one glacier's chain of steps, as one unit.

:func:`run_glacier` is the function the scheduler sends to a worker for each glacier (and
runs in the calling process in serial mode). In a worker process it first sets the process
up as OGGM's pool does for its workers: the caller's ``cfg`` unpacked (``cfg.unpack_config``
of ``cfg.pack_config()``), multiprocessing off inside the worker, OGGM's download lock
shared by all workers (a Dask lock), and, before JAX starts in the process, the size of
XLA's CPU thread pool (``PJRT_NPROC``; :func:`~.cluster.xla_environment`).

Then, holding the glacier's lock (:func:`~.transaction.glacier_lock`):

1. a record of this same run in the glacier folder (:data:`RECORD_KEY`) means the chain
   already finished on a worker that died before its result reached the scheduler: the
   record is returned and nothing runs again (with the last step's output if it was small,
   :data:`KEPT_OUTPUT_BYTES`, else None);
2. with ``resume``, a glacier whose every step is ``SUCCESS`` in its ``log.txt`` (OGGM's
   task log) is not run (``done before``);
3. otherwise the steps run in order on a copy of the folder
   (:func:`~.transaction.glacier_transaction`): each entity task logs itself in the
   glacier's ``log.txt`` and, on error, in ``<working_dir>/log/<RGI id>.ERROR`` as OGGM's
   decorator does (a plain function is logged the same way here); with ``resume`` a step
   already ``SUCCESS`` is not run again; the first failed step ends the chain (later steps
   ``skipped``); the record is written into the copy, which then replaces the folder.

A failed step whose ``continue_on_error`` is False (the step's argument, else
``cfg.PARAMS['continue_on_error']``) raises its exception once the folder is in place, as
OGGM's ``execute_entity_task`` would.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import socket
import threading
import time
from typing import Any

from .steps import Glacier, Step, is_entity_task, known_area_km2, step_kwargs, step_name
from .transaction import glacier_lock, glacier_transaction

log = logging.getLogger(__name__)

#: File key of the record a chain leaves in its glacier folder (``glaunti_region_run.pkl``).
RECORD_KEY = "glaunti_region_run"
SUCCESS = "SUCCESS"
DONE_BEFORE = "done before"  # SUCCESS in the task log before this run (resume)
SKIPPED = "skipped"  # not run: an earlier step of the chain failed
#: Largest output (pickled) kept in a glacier's record.
KEPT_OUTPUT_BYTES = 1 << 20

# one glacier at a time per process: OGGM's cfg is global and HDF5 is not thread-safe
_ONE_GLACIER = threading.Lock()
_process_ready = False


@dataclasses.dataclass
class StepRecord:
    """How one step went on one glacier."""

    name: str
    status: str  # SUCCESS, DONE_BEFORE, SKIPPED, or "<error type>: <message>"
    seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in (SUCCESS, DONE_BEFORE)


@dataclasses.dataclass
class GlacierRecord:
    """How a glacier's chain went: every step's status and time, where it ran."""

    rgi_id: str
    area_km2: float
    steps: list[StepRecord]
    seconds: float
    worker: str
    run_id: str
    reused: bool = False  # returned from the folder: the run's earlier attempt finished it
    output: Any = None  # what the last step returned (None when it did not run)
    error: str | None = None  # what stopped the glacier outside its steps (e.g. a lost worker)

    @property
    def failed_step(self) -> StepRecord | None:
        return next((s for s in self.steps if not s.ok and s.status != SKIPPED), None)

    @property
    def status(self) -> str:
        if self.error is not None or self.failed_step is not None:
            return "failed"
        return DONE_BEFORE if all(s.status == DONE_BEFORE for s in self.steps) else "done"


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What every glacier of one call shares: the steps, the caller's ``cfg`` and options."""

    steps: tuple[Step, ...]
    config: dict | None  # cfg.pack_config(); None: run in the caller's process as it is
    run_id: str
    resume: bool
    xla_threads: int | None = None  # None: the worker's Dask threads
    forget_glacier: bool = False  # drop the process's cached grid results after each glacier
    keep_output: bool = True  # return the last step's output (else None: less memory and traffic)


class StepFailed(RuntimeError):
    """A step of a finished run failed with ``continue_on_error`` off (its exception is gone)."""


class ClusterLock:
    """A ``distributed.Lock`` made at its first use (a worker opens no client to the
    scheduler unless OGGM downloads something)."""

    def __init__(self, name: str) -> None:
        self.name, self._lock = name, None

    def __enter__(self):
        if self._lock is None:
            from distributed import Lock

            self._lock = Lock(self.name)
        self._lock.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dask_worker():
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def bound_xla_threads(threads: int | None) -> None:
    """Size XLA's CPU thread pool (``PJRT_NPROC``) before JAX starts in this process:
    ``threads`` (None: the Dask worker's threads), unless the environment sizes it already;
    a warning if JAX runs already with another size."""
    from ..session.mp_safety import jax_backend_initialised
    from .cluster import xla_environment

    worker = _dask_worker()
    if threads is None:
        threads = worker.state.nthreads if worker is not None else None
    if threads is None:
        return
    wanted = xla_environment(threads)
    if jax_backend_initialised():
        if any(os.environ.get(k) != v for k, v in wanted.items()):
            log.warning("JAX already runs in worker %s: its XLA thread pool keeps its size "
                        "(wanted %d threads)", _worker_name(), threads)
        return
    for key, value in wanted.items():
        os.environ.setdefault(key, value)


def _prepare_process(spec: RunSpec) -> None:
    """Set this worker process up as OGGM's pool sets up its workers (see the module doc)."""
    global _process_ready
    from oggm import cfg

    from ..session.params import register_settings

    cfg.unpack_config(spec.config)
    do_log, cfg.PARAMS.do_log = cfg.PARAMS.do_log, False
    cfg.PARAMS["use_multiprocessing"] = False  # the workers are the parallelism
    cfg.PARAMS.do_log = do_log
    register_settings()
    if not _process_ready:
        _process_ready = True
        if not hasattr(logging.Logger, "workflow"):  # OGGM's log level, made by cfg.initialize
            cfg.set_logging_config(logging.getLevelName(logging.getLogger().getEffectiveLevel()))
        bound_xla_threads(spec.xla_threads)
        if _dask_worker() is not None:  # one download at a time across the cluster, as OGGM's pool
            from oggm.utils import _downloads

            _downloads.lock = ClusterLock("oggm-glaunti-downloads")


def _task_log(logfile: str) -> dict[str, tuple[str, float | None]]:
    """{task name: (last status, its time or None)} from a glacier's ``log.txt``."""
    found: dict[str, tuple[str, float | None]] = {}
    try:
        with open(logfile) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return found
    for line in lines:
        parts = line.split(";")
        if len(parts) < 3:
            continue
        seconds, rest = None, parts[2:]
        if rest[0].startswith("time:") and len(rest) > 1:
            seconds, rest = float(rest[0][5:]), rest[1:]
        found[parts[1]] = (";".join(rest), seconds)
    return found


def _record_path(gdir) -> str:
    return gdir.get_filepath(RECORD_KEY)


def _earlier_record(gdir, run_id: str) -> GlacierRecord | None:
    """The record this run left in the folder, if it finished the glacier before."""
    try:
        with open(_record_path(gdir), "rb") as f:
            record = pickle.load(f)
    except (FileNotFoundError, EOFError, pickle.UnpicklingError, AttributeError):
        return None
    if not isinstance(record, GlacierRecord) or record.run_id != run_id:
        return None
    return dataclasses.replace(record, reused=True)


def _call_step(gdir, step: Step, kwargs: dict, name: str):
    """Run a step; a plain function is logged as OGGM's entity-task decorator would."""
    if is_entity_task(step.task):
        return step.task(gdir, **kwargs)
    from oggm.utils._workflow import pipe_log

    start = time.time()
    try:
        out = step.task(gdir, **kwargs)
    except Exception as err:
        gdir.log(name, err=err)
        pipe_log(gdir, name, err=err)
        raise
    gdir.log(name, task_time=time.time() - start)
    return out


def _raises(step: Step, kwargs: dict) -> bool:
    from oggm import cfg

    value = kwargs.get("continue_on_error") if is_entity_task(step.task) else None
    return not (cfg.PARAMS["continue_on_error"] if value is None else value)


def _run_steps(gdir, glacier_kwargs: dict, spec: RunSpec) -> tuple[list[StepRecord], Any, BaseException | None]:
    """Run the chain on ``gdir``; returns the step records, the last output and the
    exception to raise (a failed step with ``continue_on_error`` off)."""
    done = _task_log(gdir.logfile) if spec.resume else {}
    records, output, failed, to_raise = [], None, False, None
    for step in spec.steps:
        name, kwargs = step_name(step, glacier_kwargs), step_kwargs(step, glacier_kwargs)
        if failed:
            records.append(StepRecord(name, SKIPPED))
            continue
        if done.get(name, ("",))[0] == SUCCESS:
            records.append(StepRecord(name, DONE_BEFORE, done[name][1]))
            output = None
            continue
        start, error = time.perf_counter(), None
        try:
            output = _call_step(gdir, step, kwargs, name)
        except Exception as err:  # noqa: BLE001 - recorded, and raised below when asked to
            output, error = None, err
        seconds = time.perf_counter() - start
        if error is not None:
            status = f"{type(error).__name__}: {error}"
        else:  # an entity task with continue_on_error logs its error and returns
            status = _task_log(gdir.logfile).get(name, (SUCCESS,))[0] if is_entity_task(step.task) else SUCCESS
        records.append(StepRecord(name, status.replace("\n", " "), seconds))
        if status != SUCCESS:
            failed = True
            if _raises(step, kwargs):
                to_raise = error if error is not None else StepFailed(f"{gdir.rgi_id}: {name}: {status}")
    return records, output, to_raise


def run_glacier(glacier: Glacier, spec: RunSpec) -> GlacierRecord:
    """Run the steps of ``spec`` on one glacier as one unit (see the module docstring).

    With ``spec.forget_glacier`` the process's cache of model-grid results
    (:mod:`~oggm_glaunti.integration.run.grid_cache`) is emptied afterwards: its entries
    serve later steps on the same glacier only, and a worker's memory then stays that of
    one glacier at a time.
    """
    import dask

    # Dask's local scheduler inside the chain: in a worker, xarray otherwise takes a cluster-wide
    # distributed.Lock for every netCDF file it writes, and each such lock stays alive in the
    # worker and the scheduler (a worker grew by ~1.5 MiB per glacier); OGGM's tasks never need
    # the cluster themselves.
    with _ONE_GLACIER, dask.config.set(scheduler="synchronous"):
        try:
            return _run_glacier(glacier, spec)
        finally:
            if spec.forget_glacier:
                from ..run.grid_cache import clear_grid_cache

                clear_grid_cache()


def _run_glacier(glacier: Glacier, spec: RunSpec) -> GlacierRecord:
    if spec.config is not None:
        _prepare_process(spec)
    gdir, start = glacier.gdir, time.perf_counter()
    with glacier_lock(gdir.dir):
        earlier = _earlier_record(gdir, spec.run_id)
        if earlier is not None:
            failed = earlier.failed_step
            step = spec.steps[earlier.steps.index(failed)] if failed is not None else None
            if step is not None and _raises(step, step_kwargs(step, glacier.kwargs)):
                raise StepFailed(f"{gdir.rgi_id}: {failed.name}: {failed.status}")
            return earlier
        to_raise = None
        names = [step_name(s, glacier.kwargs) for s in spec.steps]
        done = _task_log(gdir.logfile) if spec.resume else {}
        if spec.resume and all(done.get(n, ("",))[0] == SUCCESS for n in names):
            steps = [StepRecord(n, DONE_BEFORE, done[n][1]) for n in names]
            return GlacierRecord(gdir.rgi_id, known_area_km2(glacier), steps,
                                 time.perf_counter() - start, _worker_name(), spec.run_id)
        with glacier_transaction(gdir) as work:
            steps, output, to_raise = _run_steps(work, glacier.kwargs, spec)
            record = GlacierRecord(gdir.rgi_id, known_area_km2(glacier), steps,
                                   time.perf_counter() - start, _worker_name(), spec.run_id)
            output = output if spec.keep_output else None
            with open(_record_path(work), "wb") as f:
                pickle.dump(dataclasses.replace(record, output=_small(output)), f)
    if to_raise is not None:
        raise to_raise
    return dataclasses.replace(record, output=output)


def _small(value):
    """``value`` if it pickles into at most :data:`KEPT_OUTPUT_BYTES`, else None: the record
    in the glacier folder keeps small outputs only (a model object returned by a run task
    would cost megabytes of disk per glacier)."""
    try:
        size = len(pickle.dumps(value))
    except Exception:  # noqa: BLE001 - any pickling failure
        return None
    return value if size <= KEPT_OUTPUT_BYTES else None
