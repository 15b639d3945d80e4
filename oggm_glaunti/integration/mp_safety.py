"""Keep OGGM's process pool safe once JAX has run in the main process.

OGGM's pool forks (``multiprocessing`` default on Linux). Forking a process whose JAX
(XLA) backend is initialised copies the backend's state but not its threads: a forked
worker that then runs JAX can wait forever on locks or thread pools that no longer exist,
and ``workflow.execute_entity_task`` hangs (JAX warns "os.fork() was called ... JAX is
multithreaded, so this will likely lead to a deadlock"). Importing JAX alone is harmless;
what matters is whether a backend was created (any computation, or creating a JAX array,
e.g. loading the GlaUnTI weights). Workers started with the ``spawn`` method are fresh
interpreters and are not affected.

:func:`use_spawn_if_jax_initialised` switches OGGM to spawned workers
(``cfg.PARAMS['use_mp_spawn'] = True``) when it is needed. Spawned workers need the
tasks to be importable (true for this package's tasks) and scripts to guard their entry
point with ``if __name__ == '__main__':``. Offline sample data reach them through the
link described in :mod:`.offline`.

This module does not import JAX or OGGM at import time.
"""
from __future__ import annotations

import logging
import multiprocessing
import sys

log = logging.getLogger(__name__)


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


def use_spawn_if_jax_initialised() -> bool:
    """Make OGGM's pool spawn its workers if forking would be unsafe.

    Sets ``cfg.PARAMS['use_mp_spawn'] = True`` (and logs a warning) when all hold:

    - this is the main process (pool workers are left alone);
    - ``cfg.PARAMS['use_multiprocessing']`` is on and ``use_mp_spawn`` is off;
    - JAX's backend is initialised in this process (:func:`jax_backend_initialised`).

    Changing ``cfg.PARAMS`` makes OGGM re-create its pool at the next
    ``execute_entity_task``. Call it after JAX was first used in the main process and
    before the next ``execute_entity_task``; calling it again is cheap.

    Returns
    -------
    bool
        True if the setting was changed.
    """
    if multiprocessing.parent_process() is not None:
        return False
    from oggm import cfg

    if not cfg.PARAMS.get('use_multiprocessing', False) or cfg.PARAMS.get('use_mp_spawn', False):
        return False
    if not jax_backend_initialised():
        return False
    log.warning(
        "JAX is initialised in this process and OGGM multiprocessing is on: forked pool "
        "workers running JAX can hang. Setting cfg.PARAMS['use_mp_spawn'] = True "
        "(workers are spawned; guard scripts with `if __name__ == '__main__':`).")
    cfg.PARAMS['use_mp_spawn'] = True
    return True
