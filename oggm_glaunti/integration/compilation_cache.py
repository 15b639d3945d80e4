"""JAX's persistent compilation cache, kept in the OGGM working directory.

Every process compiles GlaUnTI's functions anew: OGGM's pool workers (spawned, see
:mod:`.mp_safety`) each pay ~2 s per new grid shape for a run and ~5 s for a calibration,
and so does every later run of the same workflow. JAX can keep compiled code on disk and
load it instead (measured: a new grid shape's compile, 2.4 s, fell to 0.1 s in the next
process). :func:`use_working_dir_compilation_cache` points JAX at
``<working_dir>/glaunti_jax_cache`` unless ``cfg.PARAMS['glaunti_compilation_cache']`` is
False or the user already chose a folder (``jax_compilation_cache_dir``, or the
``JAX_COMPILATION_CACHE_DIR`` environment variable). JAX only stores compilations that
took more than ``jax_persistent_cache_min_compile_time_secs`` (1 s by default) and fixes
the folder at its first use, so a process keeps the first working directory it met.
"""
from __future__ import annotations

import logging
import os

from .params import get_param

log = logging.getLogger(__name__)

CACHE_FOLDER = "glaunti_jax_cache"


def use_working_dir_compilation_cache() -> str | None:
    """Point JAX's persistent compilation cache at the OGGM working directory.

    Returns
    -------
    the folder JAX uses now, or None (disabled, or no working directory set).
    """
    import jax
    from oggm import cfg

    chosen = jax.config.jax_compilation_cache_dir
    if chosen or not get_param("glaunti_compilation_cache"):
        return chosen or None
    working_dir = cfg.PATHS.get("working_dir")
    if not working_dir:
        return None
    path = os.path.join(working_dir, CACHE_FOLDER)
    jax.config.update("jax_compilation_cache_dir", path)
    log.info("JAX's persistent compilation cache: %s", path)
    return path
