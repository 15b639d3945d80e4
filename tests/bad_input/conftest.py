"""The bad-input matrix: shared checks and small inputs.

Every case asserts three things with :func:`refused`: the exception type, the key words
of its message, and that the folders involved are left exactly as they were - no file
written, replaced or removed, no temporary left behind (OGGM's own ``log.txt``, where it
records a failed task, excepted).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

#: Files a failed OGGM entity task writes by design (its task log).
IGNORED = {"log.txt"}


def snapshot(folder: str | os.PathLike) -> dict[str, tuple[int, str]]:
    """``{relative path: (inode, sha1)}`` of every file under ``folder``."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            if name in IGNORED:
                continue
            path = os.path.join(root, name)
            digest = hashlib.sha1(Path(path).read_bytes()).hexdigest()
            out[os.path.relpath(path, folder)] = (os.stat(path).st_ino, digest)
    return out


@contextlib.contextmanager
def unchanged(folders=()) -> Iterator[None]:
    """Assert that ``folders`` are exactly as before the block: no file written, replaced,
    removed or left half-written."""
    folders = [os.fspath(f) for f in folders]
    before = {f: snapshot(f) for f in folders}
    yield
    for folder in folders:
        after = snapshot(folder)
        added = sorted(set(after) - set(before[folder]))
        removed = sorted(set(before[folder]) - set(after))
        changed = sorted(k for k in after if k in before[folder] and after[k] != before[folder][k])
        assert not (added or removed or changed), (
            f"{folder}: added {added}, removed {removed}, replaced {changed}")


@contextlib.contextmanager
def refused(error: type[BaseException], *words: str, folders=()) -> Iterator[pytest.ExceptionInfo]:
    """Expect ``error`` whose message holds every one of ``words`` (case-insensitive), and
    ``folders`` unchanged (see :func:`unchanged`)."""
    with unchanged(folders), pytest.raises(error) as info:
        yield info
    message = str(info.value).lower()
    missing = [w for w in words if w.lower() not in message]
    assert not missing, f"message lacks {missing}: {info.value}"


@pytest.fixture(scope="session")
def light_gdir(oggm_sample_data, tmp_path_factory):
    """Hintereisferner with geometry, monthly and daily climate (1990-2002) and the model
    grid; no calibration or inversion (cheap). Cases must leave it unchanged."""
    from oggm_glaunti.integration import glaunti_model_grid, hintereisferner_gdir, process_daily_from_monthly

    gdir = hintereisferner_gdir(tmp_path_factory.mktemp("bad_input_hef"), calibrate=False,
                                invert=False, init_present_time=False)
    process_daily_from_monthly(gdir, y0=1990, y1=2002)
    glaunti_model_grid(gdir)
    return gdir


@pytest.fixture
def gdir_copy(light_gdir, tmp_path):
    """A private copy of :func:`light_gdir`, for cases that change its files first."""
    from oggm import utils

    base = tmp_path / "copy"
    shutil.copytree(light_gdir.dir, base / os.path.relpath(light_gdir.dir, light_gdir.base_dir))
    return utils.GlacierDirectory(light_gdir.rgi_id, base_dir=str(base))


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory):
    """A tiny dataset folder (3 glaciers of 8x10 cells, folds 0-2, years 1990-1997)."""
    from oggm_glaunti.training.synthetic_dataset import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("data") / "synthetic", n_glaciers=3,
                                   shape=(8, 10), years=(1990, 1997), seed=0)


@pytest.fixture(scope="session")
def exploding_weights(tmp_path_factory):
    """Variant A weights that load (all finite) but give non-finite mass balance."""
    import equinox as eqx
    import jax.numpy as jnp

    from oggm_glaunti.core import TIModel
    from oggm_glaunti.core.parameters import prior_parameters
    from oggm_glaunti.weights import save_model

    model = eqx.tree_at(lambda m: m.ti.ddf_snow_log, TIModel(prior_parameters()), jnp.float32(200.))
    path = tmp_path_factory.mktemp("weights") / "exploding_a.npz"
    save_model(model, path)
    return path
