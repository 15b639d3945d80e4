"""Regions on Dask, the parts that need no cluster: OGGM's input rules, the glacier-folder
transaction (a killed writer leaves the old folder), a chain finished on a worker that died
before reporting is not run again, resume, where a run goes, the SLURM job script."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

from oggm import cfg, tasks, utils  # noqa: E402
from oggm.exceptions import InvalidWorkflowError  # noqa: E402

from oggm_glaunti.integration.regions.cluster import open_client, slurm_cluster, worker_environment  # noqa: E402
from oggm_glaunti.integration.regions.steps import (normalise_glaciers, normalise_steps,  # noqa: E402
                                                    step_kwargs, step_name)
from oggm_glaunti.integration.regions.transaction import exchange_folders, glacier_transaction  # noqa: E402
from oggm_glaunti.integration.regions.worker import (DONE_BEFORE, RunSpec, StepFailed,  # noqa: E402
                                                     run_glacier)

TEMPORARY_MARK = ".glaunti-"


def test_oggm_input_rules():
    steps = normalise_steps([tasks.prepare_for_inversion,
                             (tasks.run_from_climate_data, dict(output_filesuffix="_a", ye=2010))],
                            dict(ye=2000, ys=1990))
    assert [s.task for s in steps] == [tasks.prepare_for_inversion, tasks.run_from_climate_data]
    assert steps[0].kwargs == dict(ye=2000, ys=1990)  # call kwargs, then the task's own
    assert steps[1].kwargs == dict(ye=2010, ys=1990, output_filesuffix="_a")
    assert [step_name(s) for s in steps] == ["prepare_for_inversion", "run_from_climate_data_a"]
    assert normalise_steps(tasks.prepare_for_inversion)[0].kwargs == {}
    gdir = SimpleNamespace(rgi_id="RGI60-11.00001")
    glaciers = normalise_glaciers([(gdir, dict(ys=1995)), gdir])
    assert [g.kwargs for g in glaciers] == [dict(ys=1995), {}]
    assert step_kwargs(steps[1], glaciers[0].kwargs)["ys"] == 1995  # the glacier's kwargs win
    with pytest.raises(InvalidWorkflowError, match="global task"):
        normalise_steps(utils.compile_run_output)
    with pytest.raises(TypeError, match="a step must be"):
        normalise_steps([(tasks.prepare_for_inversion, "not kwargs")])


def _folder(path: Path, **files: str) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _listing(path: Path) -> dict:
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


def test_exchange_folders(tmp_path):
    a, b = _folder(tmp_path / "a", x="old"), _folder(tmp_path / "b", y="new")
    if not exchange_folders(str(a), str(b)):
        pytest.skip("this system has no renameat2(RENAME_EXCHANGE); the two-rename fallback is used")
    assert _listing(a) == {"y": "new"} and _listing(b) == {"x": "old"}


def _fake_gdir(path: Path):
    return SimpleNamespace(rgi_id=path.name, dir=str(path), logfile=str(path / "log.txt"))


def test_transaction_whole_folder_or_nothing(tmp_path):
    folder = _folder(tmp_path / "RGI60-11.00001", a="old a", b="old b")
    gdir = _fake_gdir(folder)
    with pytest.raises(RuntimeError, match="step failed"):
        with glacier_transaction(gdir) as work:
            Path(work.dir, "a").write_text("new a")
            raise RuntimeError("step failed")
    assert _listing(folder) == {"a": "old a", "b": "old b"}
    with glacier_transaction(gdir) as work:
        assert work.dir != gdir.dir and work.logfile == os.path.join(work.dir, "log.txt")
        Path(work.dir, "a").write_text("new a")
        Path(work.dir, "c").write_text("new c")
        assert _listing(folder) == {"a": "old a", "b": "old b"}  # unchanged until the end
    assert _listing(folder) == {"a": "new a", "b": "old b", "c": "new c"}
    assert [n for n in os.listdir(tmp_path) if TEMPORARY_MARK in n] == []


def test_transaction_of_a_killed_process(tmp_path):
    folder = _folder(tmp_path / "RGI60-11.00002", a="old a")
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from types import SimpleNamespace
        from oggm_glaunti.integration.regions.transaction import glacier_transaction
        gdir = SimpleNamespace(rgi_id="x", dir={str(folder)!r}, logfile="")
        with glacier_transaction(gdir) as work:
            Path(work.dir, "a").write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -signal.SIGKILL
    assert _listing(folder) == {"a": "old a"}
    assert len([n for n in os.listdir(tmp_path) if TEMPORARY_MARK in n]) == 1  # the killed copy
    with glacier_transaction(_fake_gdir(folder)):
        pass  # the next transaction beside it removes the killed one's copy
    assert [n for n in os.listdir(tmp_path) if TEMPORARY_MARK in n] == []
    assert _listing(folder) == {"a": "old a"}


@pytest.fixture
def glacier(oggm_sample_data, tmp_path, restore_oggm_cfg):
    """A bare OGGM glacier directory (Hintereisferner's outline), nothing computed."""
    import geopandas as gpd

    from oggm_glaunti.integration import initialize_oggm

    initialize_oggm(tmp_path / "wd", use_intersects=False)
    entity = gpd.read_file(utils.get_demo_file("Hintereisferner_RGI5.shp")).iloc[0]
    return utils.GlacierDirectory(entity, base_dir=str(tmp_path / "wd" / "per_glacier"))


def count_call(gdir, fail: bool = False):
    """A plain step: counts its calls in a file of the glacier folder."""
    path = Path(gdir.dir) / "calls.txt"
    path.write_text(str(int(path.read_text()) + 1 if path.exists() else 1))
    if fail:
        raise ValueError("bad input in this glacier")
    return gdir.rgi_id


def _spec(steps, resume=False, run_id=None):
    return RunSpec(tuple(normalise_steps(steps)), None, run_id or uuid.uuid4().hex, resume)


def _calls(gdir) -> int:
    return int(Path(gdir.dir, "calls.txt").read_text())


def test_finished_chain_is_not_run_again(glacier):
    (item,) = normalise_glaciers([glacier])
    spec = _spec([count_call])
    first = run_glacier(item, spec)
    assert first.status == "done" and first.output == glacier.rgi_id and not first.reused
    # the same run's task again (its worker died before the result reached the scheduler)
    again = run_glacier(item, spec)
    assert again.reused and again.output == glacier.rgi_id and _calls(glacier) == 1
    assert glacier.get_task_status("count_call") == "SUCCESS"
    # a later run with resume: done before, from the task log
    resumed = run_glacier(item, _spec([count_call], resume=True))
    assert resumed.status == DONE_BEFORE and _calls(glacier) == 1
    run_glacier(item, _spec([count_call]))  # without resume: runs again
    assert _calls(glacier) == 2


def big_output(gdir):
    """A plain step returning 2 MiB."""
    return b"x" * (2 << 20)


def test_big_outputs_are_not_kept_in_the_folder(glacier):
    (item,) = normalise_glaciers([glacier])
    spec = _spec([big_output])
    assert len(run_glacier(item, spec).output) == 2 << 20
    again = run_glacier(item, spec)  # finished before: from the record, without the output
    assert again.reused and again.output is None
    assert os.path.getsize(glacier.get_filepath("glaunti_region_run")) < 10_000


def test_drop_in_without_dask_is_oggms_own(glacier):
    from oggm_glaunti.integration.regions.scheduler import execute_entity_task

    assert execute_entity_task(count_call, [glacier]) == [glacier.rgi_id]
    assert _calls(glacier) == 1 and glacier.get_task_status("count_call") is None  # not logged by OGGM


def test_failed_step_recorded_or_raised(glacier):
    (item,) = normalise_glaciers([glacier])
    cfg.PARAMS["continue_on_error"] = True
    record = run_glacier(item, _spec([(count_call, dict(fail=True)), count_call]))
    assert record.status == "failed" and record.failed_step.name == "count_call"
    assert record.steps[1].status == "skipped"
    assert "ValueError: bad input in this glacier" in glacier.get_task_status("count_call")
    error_file = Path(cfg.PATHS["working_dir"], "log", f"{glacier.rgi_id}.ERROR")
    assert "bad input in this glacier" in error_file.read_text()
    cfg.PARAMS["continue_on_error"] = False
    with pytest.raises(ValueError, match="bad input"):
        run_glacier(item, _spec([(count_call, dict(fail=True))]))
    assert _calls(glacier) == 2  # the failed attempt's folder is kept, with its log
    spec = _spec([(count_call, dict(fail=True))])
    with pytest.raises(ValueError):
        run_glacier(item, spec)
    with pytest.raises(StepFailed, match="bad input"):  # the same run again: from its record
        run_glacier(item, spec)
    assert _calls(glacier) == 3


def test_where_a_run_goes(restore_oggm_cfg):
    with open_client("serial") as client:
        assert client is None
    with open_client(None, fallback=None) as client:  # nothing configured, no current client
        assert client is None
    cfg.PARAMS["glaunti_scheduler"] = "serial"
    with open_client(None) as client:
        assert client is None
    with pytest.raises(TypeError, match="scheduler address"):
        with open_client(42):
            pass
    assert worker_environment(2) == {"PJRT_NPROC": "2", "NPROC": "2",
                                     "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
    with pytest.raises(ValueError, match="at least 1"):
        worker_environment(0)


def test_slurm_job_script():
    cluster = slurm_cluster(cores=8, memory="32GB", xla_threads=2, walltime="02:00:00",
                            queue="compute", local_directory="$TMPDIR")
    try:
        script = cluster.job_script()
        assert cluster.scheduler.WORKER_SATURATION == 1.0  # a glacier per worker at a time
    finally:
        cluster.close()
    assert "#SBATCH --cpus-per-task=8" in script and "#SBATCH -p compute" in script
    assert "#SBATCH -t 02:00:00" in script
    assert "export PJRT_NPROC=2 NPROC=2 DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in script
    worker_line = next(line for line in script.splitlines() if "dask_worker" in line)
    assert "--nworkers 4" in worker_line and "--nthreads 2" in worker_line  # 4 x 2 = 8 cores
    assert "--local-directory $TMPDIR" in worker_line
    assert "--preload oggm_glaunti.integration.regions.preload" in worker_line  # ready when they join
    assert script.index("export PJRT_NPROC") < script.index("dask_worker")  # before the workers start


def test_slurm_worker_args_are_added_to():
    """A user's own worker arguments, a list or one string, follow the package's preload whole."""
    for extra, expected in ((["--lifetime", "55m"], "--lifetime 55m"), ("--no-dashboard", "--no-dashboard")):
        cluster = slurm_cluster(cores=2, memory="8GB", worker_extra_args=extra)
        try:
            script = cluster.job_script()
        finally:
            cluster.close()
        worker_line = next(line for line in script.splitlines() if "dask_worker" in line)
        assert f"--preload oggm_glaunti.integration.regions.preload {expected}" in worker_line, worker_line


class _NoOutlines:
    rgi_id = "RGI60-00.00000"

    @property
    def rgi_area_km2(self):
        raise RuntimeError("No outlines available")


def test_areas_that_order_the_glaciers(glacier):
    """The largest glaciers start first; a glacier whose outlines cannot be read starts last
    (its chain fails and is recorded) instead of stopping the region before it starts."""
    from oggm_glaunti.integration.regions.scheduler import _glacier_areas
    from oggm_glaunti.integration.regions.steps import Glacier

    areas = _glacier_areas([Glacier(glacier, {}), Glacier(_NoOutlines(), {})], None)
    assert areas == [pytest.approx(glacier.rgi_area_km2), 0.0] and areas[0] > 0


def test_record_takes_the_area_the_scheduler_read(glacier, monkeypatch):
    """A worker does not read the outlines again for the glacier's record (~0.1 s a glacier)."""
    from oggm_glaunti.integration.regions.steps import Glacier

    monkeypatch.setattr(type(glacier), "rgi_area_km2", _NoOutlines.rgi_area_km2)  # a read would give 0
    record = run_glacier(Glacier(glacier, {}, area_km2=8.5), _spec([count_call]))
    assert record.status == "done" and record.area_km2 == 8.5
