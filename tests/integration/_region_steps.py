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
