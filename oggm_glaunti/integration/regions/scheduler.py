"""OGGM entity tasks on Dask: a drop-in ``execute_entity_task`` and the chain runner.

:func:`execute_entity_task` takes OGGM's arguments and returns what OGGM's returns (the
last task's result per glacier, in input order). It runs on Dask when a client is given
(``client=``) or configured (``cfg.PARAMS['glaunti_scheduler']``, or a current Dask
client), and otherwise calls OGGM's own ``workflow.execute_entity_task``.

:func:`run_region` is the chain runner: every glacier runs its whole list of steps as one
unit on one worker, largest glaciers first, with no barrier between steps across
glaciers (a small glacier's later steps do not wait for a large glacier's calibration).
A glacier whose step fails is recorded, skips its later steps, and the others go on. With
nothing configured it starts the embedded ``LocalCluster`` on this machine's cores. It
shows a progress bar over glaciers and writes the per-glacier summary table
(:mod:`.summary`) to the working directory.

On each worker the caller's ``cfg`` is unpacked as OGGM's pool does, each glacier's steps
run on a copy of its folder put in place as a whole, and a glacier finished on a worker
that died before reporting is not run again (:mod:`.worker`, :mod:`.transaction`). Dask
re-runs the glaciers of a lost worker elsewhere; a glacier whose workers die
``distributed.scheduler.allowed-failures`` times (3) is recorded as failed
(``KilledWorker``), its folder unchanged. Differences from OGGM's function: the steps after
a failed step are not run on that glacier (OGGM runs them, and they fail on the missing
inputs), the glaciers are processed largest first (results still in input order), and a
plain function given as a step is logged in the glacier's task log like an entity task.
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

from tqdm.auto import tqdm

from .cluster import LOCAL, open_client
from .steps import Glacier, Step, glacier_area_km2, known_area_km2, normalise_glaciers, normalise_steps, step_name
from .summary import SUMMARY_FILE, RegionResult, summary_frame, write_summary
from .worker import SKIPPED, GlacierRecord, RunSpec, StepRecord, run_glacier

log = logging.getLogger(__name__)


def execute_entity_task(task, gdirs, client: Any = None, **kwargs):
    """Run entity task(s) on glacier directories, on Dask when a client is given or
    configured, else with OGGM's ``workflow.execute_entity_task``.

    Parameters
    ----------
    task : callable or sequence
        a task, or a list of tasks and ``(task, kwargs)`` pairs (OGGM's rules).
    gdirs : GlacierDirectory or list
        glacier directories, or ``(gdir, kwargs)`` pairs.
    client : distributed.Client, Dask cluster, str, optional
        where to run (see :func:`~.cluster.open_client`); None: as configured, else OGGM's
        own function.
    **kwargs
        passed to every task.

    Returns
    -------
    list
        the last task's result for every glacier, in input order (None for a glacier whose
        task failed with ``continue_on_error``); None for no glaciers.
    """
    from oggm import cfg, workflow

    glaciers = normalise_glaciers(gdirs)
    if not glaciers:
        return None
    steps = normalise_steps(task, kwargs)
    with open_client(client, fallback=None) as dask_client:
        if dask_client is None:
            return workflow.execute_entity_task(task, gdirs, **kwargs)
        records = _run_glaciers(steps, glaciers, dask_client, bool(cfg.PARAMS["auto_skip_task"]),
                                None, False, "")
    return [record.output for record in records]


def run_region(steps, gdirs, client: Any = None, *, resume: bool | None = None,
               summary: str | os.PathLike | bool = True, progress: bool = True, outputs: bool = False,
               largest_first: bool = True, n_workers: int | None = None, xla_threads: int | None = None,
               **kwargs) -> RegionResult:
    """Run each glacier's whole chain of ``steps`` as one unit (see the module docstring).

    Parameters
    ----------
    steps : callable or sequence
        the chain: tasks or ``(task, kwargs)`` pairs, in order (OGGM's rules).
    gdirs : list
        glacier directories, or ``(gdir, kwargs)`` pairs.
    client : distributed.Client, Dask cluster, str, optional
        where to run (:func:`~.cluster.open_client`): a client, a cluster, a scheduler
        address, ``'local'`` or ``'serial'``; None: as configured, else the embedded
        ``LocalCluster``.
    resume : bool, optional
        skip the steps (and glaciers) already ``SUCCESS`` in the glaciers' task logs, so
        that a run started again after an interruption does only what is left (default
        ``cfg.PARAMS['auto_skip_task']``, OGGM's switch for the same).
    summary : path or bool
        where to write the summary table (True: ``<working_dir>/glaunti_region_summary.csv``;
        False: nowhere).
    progress : bool
        show a progress bar over glaciers.
    outputs : bool
        bring back what the last step returned on each glacier (``result.outputs``; OGGM's
        run tasks return a model object of megabytes, held in this process); default: not.
    largest_first : bool
        start the largest glaciers first (default), so that no large glacier is left for
        the end while the other workers idle; False: in the order given.
    n_workers, xla_threads : int, optional
        the embedded ``LocalCluster``: worker processes (default cores // xla_threads) and
        XLA threads of each (default 1). For another client, ``xla_threads`` sizes the
        XLA pool of workers in which JAX has not started yet (default: the worker's Dask
        threads).
    **kwargs
        passed to every step (not the keywords above: give a step such a keyword in its
        ``(task, kwargs)`` pair).

    Returns
    -------
    RegionResult
        the records in input order, the summary table and where it was written.
    """
    from oggm import cfg

    glaciers = normalise_glaciers(gdirs)
    steps = normalise_steps(steps, kwargs)
    resume = bool(cfg.PARAMS["auto_skip_task"]) if resume is None else bool(resume)
    start = time.perf_counter()
    with open_client(client, LOCAL, n_workers, xla_threads or 1) as dask_client:
        workers = 1 if dask_client is None else len(dask_client.scheduler_info(n_workers=-1)["workers"])
        records = _run_glaciers(steps, glaciers, dask_client, resume, xla_threads, progress,
                                "glaciers", forget_glacier=True, keep_output=outputs,
                                largest_first=largest_first)
    wall = time.perf_counter() - start
    frame = summary_frame(records)
    path = None
    if summary:
        path = os.path.join(cfg.PATHS["working_dir"], SUMMARY_FILE) if summary is True else os.fspath(summary)
        write_summary(frame, path)
    result = RegionResult(records, frame, path, wall, workers)
    if result.failed:
        log.warning("%d of %d glaciers failed: %s (see %s)", len(result.failed), len(records),
                    ", ".join(result.failed[:10]) + (" ..." if len(result.failed) > 10 else ""),
                    path or "the summary")
    return result


def _identity(value):
    return value


def _lost(glacier: Glacier, steps: list[Step], spec: RunSpec, err: BaseException) -> GlacierRecord:
    """The record of a glacier stopped outside its steps (its folder is unchanged)."""
    names = [step_name(s, glacier.kwargs) for s in steps]
    return GlacierRecord(glacier.gdir.rgi_id, known_area_km2(glacier),
                         [StepRecord(n, SKIPPED) for n in names], 0.0, "", spec.run_id,
                         error=f"{type(err).__name__}: {err}")


def _glacier_areas(glaciers: list[Glacier], client) -> list[float]:
    """Each glacier's area, read by the workers when there are some: OGGM reads it from the
    outlines (~0.1 s a glacier), which in this process alone would keep a cluster idle for
    minutes before a region of thousands of glaciers starts."""
    gdirs = [g.gdir for g in glaciers]
    if client is None:
        return [glacier_area_km2(gdir) for gdir in gdirs]
    return client.gather(client.map(glacier_area_km2, gdirs, pure=False))


def _run_glaciers(steps: list[Step], glaciers: list[Glacier], client, resume: bool,
                  xla_threads: int | None, progress: bool, label: str,
                  forget_glacier: bool = False, keep_output: bool = True,
                  largest_first: bool = True) -> list[GlacierRecord]:
    """Run every glacier's chain (largest first); records in input order."""
    from oggm import cfg

    order = list(range(len(glaciers)))
    if largest_first:
        areas = _glacier_areas(glaciers, client)
        glaciers = [g._replace(area_km2=area) for g, area in zip(glaciers, areas)]
        order.sort(key=lambda i: (-areas[i], i))
    run_id = uuid.uuid4().hex
    records: list[GlacierRecord | None] = [None] * len(glaciers)
    bar = tqdm(total=len(glaciers), desc=label, unit="glacier", disable=not progress)
    failed = 0
    if client is None:
        spec = RunSpec(tuple(steps), None, run_id, resume, xla_threads, forget_glacier, keep_output)
        for i in order:
            records[i] = run_glacier(glaciers[i], spec)
            failed += records[i].status == "failed"
            bar.set_postfix(failed=failed, refresh=False)
            bar.update(1)
        bar.close()
        return records

    from distributed import as_completed

    spec = RunSpec(tuple(steps), cfg.pack_config(), run_id, resume, xla_threads, forget_glacier,
                   keep_output)
    # held by the scheduler with its inputs: recomputed, not lost, if its worker dies
    shared = client.submit(_identity, spec, key=f"glaunti-run-{run_id}", pure=False)
    futures = {client.submit(run_glacier, glaciers[i], shared, pure=False, priority=len(order) - rank,
                             key=f"glacier-{glaciers[i].gdir.rgi_id}-{run_id[:8]}"): i
               for rank, i in enumerate(order)}
    continue_on_error = bool(cfg.PARAMS["continue_on_error"])
    try:
        for future in as_completed(list(futures)):
            i = futures.pop(future)
            try:
                records[i] = future.result()
            except Exception as err:
                if not continue_on_error:
                    raise
                records[i] = _lost(glaciers[i], steps, spec, err)
                log.error("%s: %s", glaciers[i].gdir.rgi_id, records[i].error)
            failed += records[i].status == "failed"
            bar.set_postfix(failed=failed, refresh=False)
            bar.update(1)
            del future
    finally:
        bar.close()
        if futures:
            client.cancel(list(futures))
        client.cancel([shared])
    return records
