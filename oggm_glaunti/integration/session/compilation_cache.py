"""JAX's persistent compilation cache, kept in the OGGM working directory.

Every process compiles GlaUnTI's functions anew: OGGM's pool workers (spawned, see
:mod:`.mp_safety`) each pay ~2 s per new grid shape for a run and ~5 s for a calibration,
and so does every later run of the same workflow. JAX can keep compiled code on disk and
load it instead (measured: a new grid shape's compile, 2.4 s, fell to 0.1 s in the next
process). :func:`use_working_dir_compilation_cache` points JAX at
``<working_dir>/glaunti_jax_cache`` unless ``cfg.PARAMS['glaunti_compilation_cache']`` is
False or the user already chose a folder (``jax_compilation_cache_dir``, or the
``JAX_COMPILATION_CACHE_DIR`` environment variable). JAX fixes the folder at its first
use, so a process keeps the first working directory it met.

JAX only stores compilations that took longer than
``jax_persistent_cache_min_compile_time_secs``, 1 s by default, and many of GlaUnTI's take
0.1–1 s (A's grid year of each window shape, among others): after a serial run of the 20
Ötztal glaciers the cache held one entry for A, so every new worker and every rerun
compiled them again. At 0.1 s it holds one grid year per window shape, and A's median
chain per glacier on a worker fell from 8.6 s to 4.9–6.7 s (``benchmarks/regional.py``,
cache filled by an earlier run). The threshold is therefore lowered to
``cfg.PARAMS['glaunti_compilation_cache_min_seconds']`` (0.1 s), unless the user set it
(``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS``, or a value other than JAX's default).

JAX writes an entry in place and never replaces an existing one: an entry truncated by a
killed process would make every later process fail to read it and compile again, for
good. :func:`remove_broken_entries` checks the folder's entries once per process (each
must decompress) and removes the broken ones, so that the next compilation writes them anew.
"""
from __future__ import annotations

import logging
import math
import os
import zlib

from .params import get_param

log = logging.getLogger(__name__)

CACHE_FOLDER = "glaunti_jax_cache"
_JAX_DEFAULT_MIN_SECONDS = 1.0
_MIN_SECONDS_ENV = "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"
_ENTRY_SUFFIX = "-cache"  # JAX's LRUCache: <key>-cache, and <key>-atime when evicting
_checked: set[str] = set()


def _decompressor():
    """JAX's own decompression of cache entries (zstd or zlib, as it writes them)."""
    try:
        from jax._src.compilation_cache import decompress_executable
    except ImportError:  # private API moved: zlib, JAX's fallback compression
        return zlib.decompress
    return decompress_executable


def remove_broken_entries(folder: str | os.PathLike) -> list[str]:
    """Remove the entries of a JAX compilation cache folder that do not decompress
    (truncated by an interrupted write), with their access-time files.

    Returns
    -------
    the paths removed.
    """
    folder = os.fspath(folder)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(_ENTRY_SUFFIX))
    except OSError:
        return []
    decompress, removed = _decompressor(), []
    for name in names:
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as f:
                decompress(f.read())
        except OSError:
            continue  # removed meanwhile or unreadable: JAX will report it
        except Exception:  # noqa: BLE001  (zlib.error, zstd's errors: a broken entry)
            for broken in (path, path[: -len(_ENTRY_SUFFIX)] + "-atime"):
                try:
                    os.remove(broken)
                    removed.append(broken)
                except FileNotFoundError:
                    pass
    if removed:
        log.warning("JAX compilation cache %s: removed %d broken (truncated) entry file(s); "
                    "they are compiled and written again when next needed", folder, len(removed))
    return removed


def use_working_dir_compilation_cache() -> str | None:
    """Point JAX's persistent compilation cache at the OGGM working directory.

    Returns
    -------
    the folder JAX uses now, or None (disabled, or no working directory set).
    """
    import jax
    from oggm import cfg

    chosen = jax.config.jax_compilation_cache_dir
    if not get_param("glaunti_compilation_cache"):
        _check_once(chosen)
        return chosen or None
    _keep_short_compilations(jax)
    if chosen:
        _check_once(chosen)
        return chosen
    working_dir = cfg.PATHS.get("working_dir")
    if not working_dir:
        return None
    path = os.path.join(working_dir, CACHE_FOLDER)
    _check_once(path)
    jax.config.update("jax_compilation_cache_dir", path)
    log.info("JAX's persistent compilation cache: %s", path)
    return path


def _keep_short_compilations(jax) -> None:
    """Lower JAX's store threshold to ``glaunti_compilation_cache_min_seconds`` unless the
    user chose one (see the module docstring)."""
    user_set = (os.environ.get(_MIN_SECONDS_ENV) is not None
                or jax.config.jax_persistent_cache_min_compile_time_secs != _JAX_DEFAULT_MIN_SECONDS)
    if not user_set:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", _min_seconds())


def _min_seconds() -> float:
    """``glaunti_compilation_cache_min_seconds``, refused unless a number >= 0 (NaN would
    keep nothing and say nothing)."""
    value = get_param("glaunti_compilation_cache_min_seconds")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"cfg.PARAMS['glaunti_compilation_cache_min_seconds'] = {value!r}: give "
                         "seconds >= 0 (default 0.1), or set cfg.PARAMS['glaunti_compilation_cache'] "
                         "= False to switch the cache off")
    return seconds


def _check_once(folder: str | None) -> None:
    """:func:`remove_broken_entries` on ``folder``, the first time this process uses it."""
    if folder and folder not in _checked:
        _checked.add(folder)
        remove_broken_entries(folder)
