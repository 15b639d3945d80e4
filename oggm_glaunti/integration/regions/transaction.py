"""A glacier's chain as one transaction on its directory: the old folder or a whole new one.

OGGM's tasks write their files in place (``model_diagnostics.nc``, ``inversion_output.pkl``,
``gridded_data.nc`` opened in append mode). A worker killed in the middle of a step would
leave a half-written file that a later reader, or a restarted step, takes for a result.
:func:`glacier_transaction` therefore runs a glacier's steps on a copy of its directory
(a marked temporary beside it, see ``oggm_glaunti.atomic``) and puts the copy in place
when the steps are over, in one atomic exchange of the two folders (Linux
``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, between which the folder is absent
for an instant). A process killed before the exchange leaves the glacier's folder as it
was, and a temporary that the next transaction beside it removes.

:func:`glacier_lock` keeps two processes from running the same glacier at once (a worker
the scheduler has given up on while it still runs, two runs of a region started on the
same working directory): an advisory POSIX lock on ``.<RGI id>.lock`` beside the folder,
released by the kernel when its process dies. On a file system without POSIX locks it
warns once and runs without.
"""
from __future__ import annotations

import contextlib
import copy
import ctypes
import ctypes.util
import errno
import logging
import os
import shutil
import sys
import tempfile
from typing import Iterator

from ...atomic import _swap_folder, _temporary_prefix, _umask, remove_stale_temporaries

log = logging.getLogger(__name__)

_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
_renameat2 = None
_warned_no_lock = False


def _libc_renameat2():
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            function = getattr(libc, "renameat2", None)  # glibc >= 2.28
            if function is not None:
                function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                     ctypes.c_uint]
                _renameat2 = function
    return _renameat2


def exchange_folders(first: str, second: str) -> bool:
    """Swap two existing paths in one atomic step (``renameat2(RENAME_EXCHANGE)``).

    Returns
    -------
    False where the system cannot (not Linux, an old C library or kernel, a file system
    without it); the paths are then unchanged.
    """
    function = _libc_renameat2()
    if not function:
        return False
    if function(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f"exchanging {first} and {second}: {os.strerror(code)}")


@contextlib.contextmanager
def glacier_lock(folder: str) -> Iterator[bool]:
    """Hold an exclusive advisory lock for the glacier folder ``folder`` (waits for it).

    Yields True when locked, False where the file system has no POSIX locks (warned once).
    """
    global _warned_no_lock
    parent, name = os.path.split(os.path.abspath(folder))
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield False
        return
    handle = open(os.path.join(parent, f".{name}.lock"), "a+")
    try:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX)
        except OSError as err:
            if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
            if not _warned_no_lock:
                _warned_no_lock = True
                log.warning("no POSIX file locks on %s (%s): two processes running the same glacier "
                            "at once are not kept apart", parent, err)
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _publish(new: str, path: str) -> None:
    """Put the folder ``new`` in place of ``path`` (and remove the old one)."""
    os.chmod(new, 0o777 & ~_umask())
    if exchange_folders(new, path):
        shutil.rmtree(new)  # now the old folder
    else:
        _swap_folder(new, path)


@contextlib.contextmanager
def glacier_transaction(gdir) -> Iterator:
    """Yield a copy of ``gdir`` whose folder is a fresh copy of the glacier's folder; when
    the block ends without an exception the copy replaces the folder, otherwise it is
    removed and the folder left as it was.

    Raises
    ------
    FileNotFoundError
        the glacier's folder does not exist.
    """
    path = os.path.abspath(gdir.dir)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{gdir.rgi_id}: the glacier directory {path} does not exist; "
                                "create it first (workflow.init_glacier_directories)")
    parent, name = os.path.split(path)
    remove_stale_temporaries(parent)
    work_dir = tempfile.mkdtemp(prefix=_temporary_prefix(name), suffix=".tmp", dir=parent)
    try:
        shutil.copytree(path, work_dir, symlinks=True, dirs_exist_ok=True)
        work = copy.copy(gdir)
        work.dir = work_dir
        work.logfile = os.path.join(work_dir, "log.txt")
        yield work
        _publish(work_dir, path)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
