"""Keep OGGM's process pool safe once JAX has run in the main process.

OGGM's pool forks its workers (``multiprocessing``'s default on Linux). Forking a process
whose JAX (XLA) backend is initialised copies the backend's state but not its threads: a
forked worker that then runs JAX can wait forever on locks or thread pools that no longer
exist, and ``workflow.execute_entity_task`` hangs (JAX warns "os.fork() was called ... JAX
is multithreaded, so this will likely lead to a deadlock"). Importing JAX alone is
harmless; what matters is whether a backend was created (any computation, or creating a
JAX array, e.g. loading the GlaUnTI weights). Workers started with the ``spawn`` method
are fresh interpreters and are not affected.

The pool may be created long after JAX first ran: a user builds a ``GlaUnTIMassBalance``
or calibrates with multiprocessing off, then switches ``use_multiprocessing`` on; or calls
``cfg.initialize()`` again, which resets ``use_mp_spawn``. Every such order is covered by
:func:`protect_pool_from_jax`, which the integration calls whenever it loads GlaUnTI
weights in the main process (the step that starts JAX):

- ``cfg.PARAMS['use_mp_spawn'] = True``, so that OGGM spawns its pool's workers;
- and the process's default start method becomes ``spawn`` (if it was ``fork``), so that
  a pool OGGM creates without ``use_mp_spawn`` (after a later ``cfg.initialize()``) is
  spawned too.

Both are logged once per process (a warning) and documented in the workflow guide.
Spawned workers need the tasks to be importable (true for this package's tasks) and
scripts to guard their entry point with ``if __name__ == '__main__':``. Offline sample
data reach them through the link described in :mod:`.offline`. A pool forked *before* JAX
started keeps working: its workers never saw JAX.

This module does not import JAX or OGGM at import time.
"""
from __future__ import annotations

import logging
import multiprocessing
import sys

log = logging.getLogger(__name__)

_START_METHOD_SWITCHED = False


def jax_backend_initialised() -> bool:
    """True if JAX has created a backend (CPU/GPU client) in this process.

    False when JAX was never imported (this function does not import it).
    """
    if 'jax' not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge
    except Exception:  # pragma: no cover - JAX internals moved: be conservative
        return True
    check = getattr(xla_bridge, 'backends_are_initialized', None)
    if check is not None:
        return bool(check())
    backends = getattr(xla_bridge, '_backends', None)
    return True if backends is None else bool(backends)


def _is_main_process() -> bool:
    return multiprocessing.parent_process() is None


def _spawn_by_default() -> bool:
    """Make ``spawn`` the process's default start method if it is ``fork``."""
    global _START_METHOD_SWITCHED
    if multiprocessing.get_start_method(allow_none=True) in ('spawn', 'forkserver'):
        return False
    if multiprocessing.get_start_method() != 'fork':  # pragma: no cover - other platforms
        return False
    multiprocessing.set_start_method('spawn', force=True)
    _START_METHOD_SWITCHED = True
    return True


def protect_pool_from_jax() -> bool:
    """Make every later OGGM pool of this process spawn its workers.

    Call it in the main process when JAX starts (or has started). Sets
    ``cfg.PARAMS['use_mp_spawn'] = True`` and the default ``multiprocessing`` start method
    to ``spawn`` (see the module docstring); logs a warning the first time. Pool workers
    (child processes) are left alone. Cheap and idempotent.

    Returns
    -------
    bool
        True if a setting was changed.
    """
    if not _is_main_process():
        return False
    from oggm import cfg

    changed_default = _spawn_by_default()
    changed_param = not cfg.PARAMS.get('use_mp_spawn', False)
    if changed_param:
        cfg.PARAMS['use_mp_spawn'] = True
    if changed_default or changed_param:
        log.warning(
            "GlaUnTI runs JAX in this process: forked OGGM pool workers running JAX can "
            "hang, so pool workers are spawned from now on (cfg.PARAMS['use_mp_spawn'] = "
            "True%s). Guard scripts with `if __name__ == '__main__':`.",
            ", multiprocessing start method 'spawn'" if changed_default else "")
    return changed_default or changed_param


def use_spawn_if_jax_initialised() -> bool:
    """:func:`protect_pool_from_jax` if JAX's backend is initialised in this process.

    For scripts that ran JAX themselves (e.g. the core on its own) before OGGM's pool.

    Returns
    -------
    bool
        True if a setting was changed.
    """
    if not jax_backend_initialised():
        return False
    return protect_pool_from_jax()
