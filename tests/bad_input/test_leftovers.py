"""Leftovers of interrupted work: temporaries of killed writes, broken entries of JAX's
compilation cache. Each test produces the leftover for real (a killed process, a truncated
entry JAX wrote) and checks it is cleaned up."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from oggm_glaunti.atomic import atomic_folder, atomic_path, remove_stale_temporaries
from oggm_glaunti.integration.session.compilation_cache import CACHE_FOLDER, remove_broken_entries

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, check=check, timeout=300)


def _killed_while_writing(path: Path) -> list[Path]:
    """A process that dies (SIGKILL) halfway through an atomic write of ``path``."""
    code = """
        import os, signal, sys
        from oggm_glaunti.atomic import atomic_path
        with atomic_path(sys.argv[1]) as tmp, open(tmp, "w") as f:
            f.write("half of a file")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """
    result = _python(code, str(path), check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr
    return [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]


def test_killed_write_leaves_the_old_file_and_its_temporary_is_removed(tmp_path):
    target = tmp_path / "climate_historical_daily.nc"
    target.write_text("the previous, complete file")
    left = _killed_while_writing(target)
    assert len(left) == 1 and left[0].read_text() == "half of a file"
    assert target.read_text() == "the previous, complete file"
    with atomic_path(tmp_path / "other.nc") as tmp, open(tmp, "w") as f:  # any later write
        f.write("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["climate_historical_daily.nc", "other.nc"]


def test_temporaries_of_running_writers_and_other_files_are_kept(tmp_path):
    with atomic_path(tmp_path / "a.nc") as tmp:
        open(tmp, "w").close()
        (tmp_path / ".hidden.tmp").write_text("not ours")
        assert remove_stale_temporaries(tmp_path) == []  # this writer still runs
        assert Path(tmp).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden.tmp", "a.nc"]


def test_old_temporary_of_another_host_is_removed(tmp_path):
    other = tmp_path / ".x.nc.glaunti-otherhost-123-abcd1234.tmp"
    other.write_text("left on a shared file system")
    os.utime(other, (0, 0))
    fresh = tmp_path / ".y.nc.glaunti-otherhost-124-abcd1234.tmp"
    fresh.write_text("maybe still being written")
    assert remove_stale_temporaries(tmp_path) == [str(other)]
    assert fresh.exists()


def test_killed_folder_write_leaves_no_folder_and_its_temporary_is_removed(tmp_path):
    target = tmp_path / "Hintereisferner"
    code = """
        import os, signal, sys
        from oggm_glaunti.atomic import atomic_folder
        with atomic_folder(sys.argv[1]) as tmp:
            with open(os.path.join(tmp, "temperature.nc"), "w") as f:
                f.write("half of a dataset")
            os.kill(os.getpid(), signal.SIGKILL)
    """
    result = _python(code, str(target), check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert not target.exists()
    left = [p for p in tmp_path.iterdir() if p.name.startswith(f".{target.name}.")]
    assert len(left) == 1 and left[0].is_dir()
    assert remove_stale_temporaries(tmp_path) == [str(left[0])]
    assert list(tmp_path.iterdir()) == []


def test_failed_folder_write_leaves_nothing_and_an_existing_folder_is_kept(tmp_path):
    target = tmp_path / "dataset"
    with pytest.raises(RuntimeError, match="disk full"), atomic_folder(target) as tmp:
        (Path(tmp) / "index.csv").write_text("half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []

    with atomic_folder(target) as tmp:
        (Path(tmp) / "index.csv").write_text("old")
    assert oct(target.stat().st_mode & 0o777) == oct(0o777 & ~_umask_now())
    with pytest.raises(FileExistsError, match="pass overwrite=True"), atomic_folder(target):
        pytest.fail("entered although the folder exists")
    with pytest.raises(RuntimeError, match="disk full"), atomic_folder(target, overwrite=True) as tmp:
        (Path(tmp) / "index.csv").write_text("half")
        raise RuntimeError("disk full")
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]
    assert (target / "index.csv").read_text() == "old"

    with atomic_folder(target, overwrite=True) as tmp:
        (Path(tmp) / "index.csv").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]
    assert [p.name for p in target.iterdir()] == ["index.csv"]
    assert (target / "index.csv").read_text() == "new"


def test_old_folder_is_put_back_when_the_new_one_cannot_be_renamed(tmp_path, monkeypatch):
    target = tmp_path / "dataset"
    with atomic_folder(target) as tmp:
        (Path(tmp) / "index.csv").write_text("old")
    replace, calls = os.replace, []

    def second_fails(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError("rename refused")
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(OSError, match="rename refused"), atomic_folder(target, overwrite=True) as tmp:
        (Path(tmp) / "index.csv").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]
    assert (target / "index.csv").read_text() == "old"


def _umask_now() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_COMPILE = """
    import sys, warnings
    import jax, jax.numpy as jnp
    from oggm import cfg
    cfg.initialize(logging_level="WARNING")
    cfg.PATHS["working_dir"] = sys.argv[1]
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    from oggm_glaunti.integration.session.compilation_cache import use_working_dir_compilation_cache
    use_working_dir_compilation_cache()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jax.jit(lambda x: jnp.sin(x) * 3 + 1)(2.0).block_until_ready()
    print("CACHE WARNINGS:", [str(w.message) for w in caught if "persistent" in str(w.message)])
"""


@pytest.mark.slow
def test_truncated_compilation_cache_entry_is_repaired(tmp_path):
    first = _python(_COMPILE, str(tmp_path))
    assert "CACHE WARNINGS: []" in first.stdout, first.stdout + first.stderr
    entries = list((tmp_path / CACHE_FOLDER).glob("*-cache"))
    assert len(entries) == 1
    complete = entries[0].read_bytes()
    entries[0].write_bytes(complete[: len(complete) // 3])  # as a killed write leaves it

    second = _python(_COMPILE, str(tmp_path))  # a later process: repairs, then compiles
    assert "CACHE WARNINGS: []" in second.stdout, second.stdout + second.stderr
    assert "removed 1 broken" in second.stderr
    assert entries[0].read_bytes() == complete  # written anew, whole


def test_broken_entry_is_removed_and_good_ones_kept(tmp_path):
    import zlib

    good, broken = tmp_path / "good-cache", tmp_path / "broken-cache"
    payload = zlib.compress(b"x" * 10000)
    try:
        from jax._src.compilation_cache import compress_executable
        payload = compress_executable(b"x" * 10000)
    except ImportError:
        pass
    good.write_bytes(payload)
    broken.write_bytes(payload[:20])
    (tmp_path / "broken-atime").write_bytes(b"12345678")
    assert sorted(remove_broken_entries(tmp_path)) == sorted(
        [str(broken), str(tmp_path / "broken-atime")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good-cache"]
