"""Write files so that a reader never sees a half-written one (temporary name, then rename).

The temporary file lies beside the destination, named
``.<name>.glaunti-<host>-<pid>-<random><suffix>``. A process killed while writing (SIGKILL,
power loss) cannot remove it; the next write into the same folder removes such leftovers:
those of a process of this host that no longer runs, and any older than
:data:`STALE_AFTER_SECONDS` (written from another host, e.g. on a shared file system).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import tempfile
import time
from typing import Iterator

log = logging.getLogger(__name__)

#: Temporaries of other hosts older than this are taken as left by a killed write.
STALE_AFTER_SECONDS = 24 * 3600.
_MARK = "glaunti"
_TEMPORARY = re.compile(rf"^\..+\.{_MARK}-(?P<host>[A-Za-z0-9_.]+)-(?P<pid>\d+)-[^.]+\.[A-Za-z0-9]+$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    """This host's name, reduced to the characters allowed in the temporary names."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _is_stale(folder: str, name: str, host: str, now: float) -> bool:
    match = _TEMPORARY.match(name)
    if match is None:
        return False
    if match["host"] == host:
        return not _running(int(match["pid"]))
    try:
        return now - os.path.getmtime(os.path.join(folder, name)) > STALE_AFTER_SECONDS
    except OSError:  # removed meanwhile
        return False


def remove_stale_temporaries(folder: str | os.PathLike) -> list[str]:
    """Remove the temporaries of :func:`atomic_path` that killed writes left in ``folder``.

    Returns
    -------
    the paths removed.
    """
    folder, host, now = os.fspath(folder), _host(), time.time()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        if name.startswith(".") and _is_stale(folder, name, host, now):
            path = os.path.join(folder, name)
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                removed.append(path)
    if removed:
        log.warning("removed %d temporary file(s) left by interrupted writes in %s: %s",
                    len(removed), folder, ", ".join(os.path.basename(p) for p in removed))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On any exception the temporary file is removed and ``path`` is left as it was. The new
    file gets the usual permissions (``0o666`` less the umask), not ``mkstemp``'s private
    ``0o600``. Temporaries left in the folder by killed writes are removed first
    (:func:`remove_stale_temporaries`).
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{_MARK}-{_host()}-{os.getpid()}-", suffix=suffix,
                               dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
