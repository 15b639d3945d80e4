"""Write files and folders so that a reader never sees a half-written one (temporary name,
then rename): :func:`atomic_path` for a file, :func:`atomic_folder` for a folder.

The temporary lies beside the destination, named
``.<name>.glaunti-<host>-<pid>-<random><suffix>``. A process killed while writing (SIGKILL,
power loss) cannot remove it; the next write into the same folder removes such leftovers
(files and folders): those of a process of this host that no longer runs, and any older than
:data:`STALE_AFTER_SECONDS` (written from another host, e.g. on a shared file system).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
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
    """Remove the temporaries of :func:`atomic_path` and :func:`atomic_folder` that killed
    writes left in ``folder``.

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
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)
                removed.append(path)
    if removed:
        log.warning("removed %d temporary file(s) or folder(s) left by interrupted writes in %s: %s",
                    len(removed), folder, ", ".join(os.path.basename(p) for p in removed))
    return removed


def _temporary_prefix(name: str) -> str:
    """The start of a temporary's name for ``name``: what :func:`remove_stale_temporaries`
    recognises (with a random part and a suffix after it)."""
    return f".{name}.{_MARK}-{_host()}-{os.getpid()}-"


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
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(name), suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _swap_folder(new: str, path: str) -> None:
    """Replace the folder ``path`` by ``new``: the old one moved aside (a marked temporary,
    so that a killed process leaves nothing the stale clean-up keeps), then removed; put
    back if the new one cannot be renamed into place."""
    parent, name = os.path.split(path)
    aside = tempfile.mkdtemp(prefix=_temporary_prefix(name), suffix=".old", dir=parent)
    old = os.path.join(aside, name)
    try:
        os.replace(path, old)
        os.replace(new, path)
    except BaseException:
        if os.path.exists(old) and not os.path.exists(path):
            os.replace(old, path)
        with contextlib.suppress(OSError):
            os.rmdir(aside)  # only when empty: never the old folder's only copy
        raise
    shutil.rmtree(aside)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, overwrite: bool = False) -> Iterator[str]:
    """Yield a new empty temporary folder beside ``path``; on success it becomes ``path``.

    The caller writes the folder's files into the yielded folder. When the ``with`` block
    ends without an exception the folder is renamed to ``path``; on any exception it is
    removed and ``path`` is left as it was. ``path``'s parent folders are created if needed,
    and temporaries left there by killed writes are removed first
    (:func:`remove_stale_temporaries`); a killed write's own temporary is removed the same
    way by the next write beside it. The new folder gets the usual permissions (``0o777``
    less the umask), not ``mkdtemp``'s private ``0o700``.

    When ``path`` exists:

    - ``overwrite=False``: :class:`FileExistsError` on entering, before anything is created
      (and at the end, should ``path`` have appeared meanwhile, with the new folder removed);
    - ``overwrite=True``: the old folder is kept until the new one is complete, then moved
      aside under a temporary name, the new one renamed into place and the old one removed.
      ``path`` is thus always the old or the new complete folder (absent only between the
      two renames).

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    remove_stale_temporaries(parent)
    tmp = tempfile.mkdtemp(prefix=_temporary_prefix(name), suffix=".tmp", dir=parent)
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if not os.path.exists(path):
            os.rename(tmp, path)
        elif not overwrite:
            raise FileExistsError(f"{path} was created while it was being written; pass overwrite=True "
                                  "to replace it")
        else:
            _swap_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
