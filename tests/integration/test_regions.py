"""Regions on Dask: the chain of three small Ötztal glaciers on a LocalCluster of 2 process
workers against OGGM's own serial workflow, a worker killed mid-region, a run killed and
started again, a glacier with bad input.

The serial reference is OGGM's ``workflow.execute_entity_task`` (multiprocessing off), step
after step, in this process. The workers' XLA pools are given this process's thread count,
so that both sides run the same XLA configuration and their files must be identical (only
the ``creation_date`` attributes of the netCDF files differ). The workers load the compiled
code of the serial run from its JAX compilation cache.
"""
from __future__ import annotations

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

from oggm import cfg, utils, workflow  # noqa: E402

from integration._region_steps import echo, environment, region_steps  # noqa: E402
from oggm_glaunti.integration.regions import chain, run_region  # noqa: E402
from oggm_glaunti.integration.regions.cluster import local_cluster, machine_cores  # noqa: E402
from oggm_glaunti.integration.regions.preload import PRELOAD  # noqa: E402
from oggm_glaunti.integration.regions.scheduler import execute_entity_task  # noqa: E402
from oggm_glaunti.integration.regions.summary import SUMMARY_FILE  # noqa: E402
from oggm_glaunti.integration.regions.worker import RECORD_KEY  # noqa: E402

pytestmark = pytest.mark.slow

#: three small Ötztal glaciers (0.3-1.3 km2), two of them in the same model-grid bucket
RGI_IDS = ["RGI50-11.00663", "RGI50-11.00674", "RGI50-11.00684"]
RECORD_FILE = f"{RECORD_KEY}.pkl"
TEMPORARY = re.compile(r"^\..+\.glaunti-.+\.(tmp|old)$")
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def region(oggm_sample_data, tmp_path_factory):
    """The glaciers prepared once (OGGM's preprocessing), the tests' chain, and the serial
    reference run with OGGM's own execute_entity_task; OGGM's cfg restored afterwards."""
    from oggm_glaunti.integration.session.params import register_file_keys

    register_file_keys()
    packed, cache_dir = cfg.pack_config(), cfg.CACHE_DIR
    base = tmp_path_factory.mktemp("region")
    prepared = chain.prepare_oetztal(base / "prep", rgi_ids=RGI_IDS)
    cfg.PARAMS["continue_on_error"] = True
    mean = chain.regional_mean(chain.CHEAP_YEARS)
    serial = chain.copy_glaciers(prepared, base / "serial")
    import jax

    # every compilation of the serial run kept on disk, for the workers and subprocesses
    min_seconds = jax.config.jax_persistent_cache_min_compile_time_secs
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    for task, kwargs in region_steps(mean):
        workflow.execute_entity_task(task, serial, **kwargs)
    jax_env = {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    if jax.config.jax_compilation_cache_dir:
        jax_env["JAX_COMPILATION_CACHE_DIR"] = jax.config.jax_compilation_cache_dir
    yield dict(base=base, prepared=prepared, mean=mean, serial={g.rgi_id: g for g in serial}, jax_env=jax_env)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", min_seconds)
    cfg.unpack_config(packed)
    cfg.CACHE_DIR = cache_dir


@pytest.fixture(scope="module")
def client(region):
    """A LocalCluster of 2 process workers, XLA pools of this process's size."""
    from distributed import Client

    with local_cluster(n_workers=2, xla_threads=_xla_threads(), env=region["jax_env"]) as cluster, \
            Client(cluster) as opened:
        yield opened


def _worker_saturation(dask_scheduler) -> float:
    return dask_scheduler.WORKER_SATURATION


def _preloads(dask_worker) -> list[str]:
    return [preload.name for preload in dask_worker.preloads]


def _profiler_enabled() -> bool:
    import dask

    return dask.config.get("distributed.worker.profile.enabled")


def _semaphores(dask_scheduler) -> list:
    """Names of the distributed locks the scheduler knows (xarray's per-file write locks)."""
    return sorted(dask_scheduler.extensions["semaphores"].max_leases)


def _xla_threads() -> int:
    """The size of this process's XLA thread pool."""
    return int(os.environ.get("PJRT_NPROC", machine_cores()))


def _copies(region, name: str) -> list:
    return chain.copy_glaciers(region["prepared"], region["base"] / name)


def _task_lines(gdir) -> list[tuple[str, str]]:
    """(task, status) of every line of the glacier's log.txt, times left out."""
    lines = Path(gdir.logfile).read_text().splitlines()
    return [(ln.split(";")[1], ln.split(";")[-1]) for ln in lines]


def _assert_same_files(gdir, reference) -> None:
    """Every file of ``reference``'s folder in ``gdir``'s, with the same content."""
    import xarray as xr

    ours = set(os.listdir(gdir.dir)) - {"log.txt", RECORD_FILE}
    theirs = set(os.listdir(reference.dir)) - {"log.txt"}
    assert ours == theirs, (gdir.rgi_id, ours ^ theirs)
    for name in sorted(ours):
        a, b = os.path.join(gdir.dir, name), os.path.join(reference.dir, name)
        if name.endswith(".nc"):
            with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
                for ds in (da, db):
                    ds.attrs.pop("creation_date", None)
                assert da.identical(db), (gdir.rgi_id, name)
        elif name.endswith(".json"):
            assert json.loads(Path(a).read_text()) == json.loads(Path(b).read_text()), (gdir.rgi_id, name)
        else:
            assert Path(a).read_bytes() == Path(b).read_bytes(), (gdir.rgi_id, name)
    steps = [line for line in _task_lines(gdir) if line[0] != "pause_once"]
    assert steps == _task_lines(reference), gdir.rgi_id


def _assert_no_temporaries(gdirs) -> None:
    for parent in {os.path.dirname(g.dir) for g in gdirs}:
        assert not [n for n in os.listdir(parent) if TEMPORARY.match(n)], parent


def _assert_each_step_once(gdir, steps) -> None:
    """Each step of the chain logged once, SUCCESS, after the preprocessing."""
    names = [chain_step for chain_step, _ in _task_lines(gdir)]
    for task, kwargs in steps:
        name = task.__name__ + (kwargs.get("output_filesuffix") or "")
        assert names.count(name) == 1, (gdir.rgi_id, name, names)
    assert all(status == "SUCCESS" for _, status in _task_lines(gdir)), gdir.rgi_id


def test_dask_chain_identical_to_oggm_serial(region, client):
    gdirs = _copies(region, "dask")
    result = run_region(region_steps(region["mean"]), gdirs, client=client, progress=False)
    assert result.failed == [] and result.workers == 2
    assert [r.rgi_id for r in result.records] == RGI_IDS  # input order
    assert result.outputs == [None] * 3  # OGGM's run task returns a model: not brought back
    # the workers' memory stays flat: no profiler history, no cluster lock per netCDF file written
    assert set(client.run(_profiler_enabled).values()) == {False}
    assert client.run_on_scheduler(_worker_saturation) == 1.0  # strictly largest first
    assert set(map(tuple, client.run(_preloads).values())) == {(PRELOAD,)}  # workers started ready
    assert set(client.run_on_scheduler(_semaphores)) <= {"oggm-glaunti-downloads"}  # OGGM's own lock
    for gdir in gdirs:
        _assert_same_files(gdir, region["serial"][gdir.rgi_id])
    _assert_no_temporaries(gdirs)
    table = utils.compile_task_log(gdirs, task_names=["glaunti_model_grid", "region_calibrate_on_mean"])
    assert (table == "SUCCESS").all().all()
    times = utils.compile_task_time(gdirs, task_names=["region_calibrate_on_mean"])
    assert (times > 0).all().all()
    summary = Path(cfg.PATHS["working_dir"]) / SUMMARY_FILE
    import pandas as pd

    frame = pd.read_csv(summary)
    assert list(frame.rgi_id) == RGI_IDS and set(frame.status) == {"done"}
    assert (frame["region_calibrate_on_mean_s"] > 0).all()
    # the XLA thread pool each worker was given
    assert set(client.run(environment, "PJRT_NPROC").values()) == {str(_xla_threads())}


def test_drop_in_execute_entity_task(region, client):
    """OGGM's input rules and return value, on Dask and through OGGM's own function."""
    gdirs = _copies(region, "drop_in")
    items = [(gdirs[0], dict(c=3)), gdirs[1], gdirs[2]]
    tasks = [(echo, dict(a=1)), (echo, dict(b=2))]
    on_dask = execute_entity_task(tasks, items, client=client, b=5)
    by_oggm = workflow.execute_entity_task(tasks, items, b=5)
    assert on_dask == by_oggm == [(gdirs[0].rgi_id, 0, 2, 3), (gdirs[1].rgi_id, 0, 2, 0),
                                  (gdirs[2].rgi_id, 0, 2, 0)]
    assert [name for name, _ in _task_lines(gdirs[0])].count("echo") == 2  # OGGM's own does not log
    # no client given: the current Dask client (this module's)
    assert execute_entity_task(echo, gdirs, a=4) == [(g.rgi_id, 4, 0, 0) for g in gdirs]
    assert [name for name, _ in _task_lines(gdirs[0])].count("echo") == 3


def test_worker_killed_mid_region(region, client, tmp_path):
    gdirs = _copies(region, "killed")
    paused = gdirs[0].rgi_id  # the largest: started first
    steps = region_steps(region["mean"], str(tmp_path), only=paused)
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(
        result=run_region(steps, gdirs, client=client, progress=False)))
    runner.start()
    flag = tmp_path / f"{paused}.paused"
    deadline = time.time() + 300
    while not flag.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert flag.exists(), "the paused step never started"
    killed = int(flag.read_text())
    os.kill(killed, signal.SIGKILL)
    runner.join(timeout=600)
    result = outcome["result"]
    assert result.failed == []
    record = result.records[0]
    assert record.rgi_id == paused and not record.worker.endswith(f":{killed}")
    for gdir in gdirs:  # the killed attempt's half files did not survive; nothing twice
        _assert_same_files(gdir, region["serial"][gdir.rgi_id])
        _assert_each_step_once(gdir, steps)
    _assert_no_temporaries(gdirs)


def test_run_killed_and_started_again(region, client, tmp_path):
    gdirs = _copies(region, "interrupted")
    waits = gdirs[-1].rgi_id  # the smallest: last
    config = tmp_path / "config.pkl"
    config.write_bytes(pickle.dumps((cfg.pack_config(), RGI_IDS, region["mean"])))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
               PJRT_NPROC=str(_xla_threads()), **region["jax_env"])
    log_file = tmp_path / "output.txt"
    with open(log_file, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(HERE / "_region_interrupt.py"), str(config), str(tmp_path),
                                 waits], env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT)
        flag, deadline = tmp_path / f"{waits}.paused", time.time() + 300
        while not flag.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert flag.exists(), log_file.read_text()[-3000:]
    finished = {g.rgi_id: _task_lines(g) for g in gdirs[:-1]}

    steps = region_steps(region["mean"], str(tmp_path), only=waits)
    result = run_region(steps, gdirs, client=client, resume=True, progress=False)
    assert [r.status for r in result.records] == ["done before", "done before", "done"]
    for gdir in gdirs:
        _assert_same_files(gdir, region["serial"][gdir.rgi_id])
        _assert_each_step_once(gdir, steps)
        if gdir.rgi_id in finished:  # skipped: its log untouched
            assert _task_lines(gdir) == finished[gdir.rgi_id]
    _assert_no_temporaries(gdirs)


def test_glacier_with_bad_input_fails_alone(region, client):
    gdirs = _copies(region, "bad_input")
    bad = gdirs[1]
    os.remove(bad.get_filepath("climate_historical"))
    result = run_region(region_steps(region["mean"]), gdirs, client=client, progress=False)
    assert result.failed == [bad.rgi_id]
    row = result.summary.set_index("rgi_id").loc[bad.rgi_id]
    assert row.failed_step == "process_daily_from_monthly"
    assert "climate_historical" in row.error
    assert row.glaunti_model_grid == "skipped" and row.run_from_climate_data_historical == "skipped"
    names = [name for name, _ in _task_lines(bad)]
    assert names[-1] == "process_daily_from_monthly" and "glaunti_model_grid" not in names
    assert "climate_historical" in _task_lines(bad)[-1][1]
    error_log = Path(cfg.PATHS["working_dir"]) / "log" / f"{bad.rgi_id}.ERROR"
    assert "process_daily_from_monthly" in error_log.read_text()
    for gdir in gdirs:
        if gdir is not bad:
            _assert_same_files(gdir, region["serial"][gdir.rgi_id])
    assert not os.path.exists(bad.get_filepath("climate_historical_daily"))
