"""A process-wide, size-bounded cache of model-grid results shared by all MB model instances.

OGGM creates a new mass-balance model for nearly every task (calibration, inversion,
each run), while the grid years GlaUnTI computes depend only on the glacier's inputs, the
weights, the forcing adjustments and the state rule. Results are therefore keyed by a
content fingerprint of all of those, not by the instance, so that a second run on the
same glacier with the same parameters reuses them. Each worker process of OGGM's pool
has its own cache. ``cfg.PARAMS['glaunti_grid_cache_mb']`` bounds its size (0 disables).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any, Callable, Hashable

import numpy as np


def fingerprint(*parts: Any) -> str:
    """A content hash of arrays (bytes, dtype and shape) and plain values (their repr)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if hasattr(part, "__array__"):
            a = np.ascontiguousarray(np.asarray(part))
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 0


class ResultCache:
    """Least-recently-used mapping bounded by the total size of the NumPy arrays it holds."""

    def __init__(self) -> None:
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any], max_bytes: int) -> Any:
        """The cached value of ``key``, or ``compute()`` stored under it (if it fits)."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        value = compute()
        size = _nbytes(value)
        if 0 < size <= max_bytes:
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return value

    def resize(self, key: Hashable, size: int, max_bytes: int) -> None:
        """Record that the value of ``key`` grew to ``size`` bytes (e.g. a segment run
        further); least recently used others are dropped to stay within ``max_bytes``,
        and ``key`` too if it alone exceeds it."""
        if key not in self._items:
            return
        value, old = self._items[key]
        self._items[key] = (value, size)
        self._items.move_to_end(key)
        self._bytes += size - old
        while self._bytes > max_bytes and self._items:
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= dropped

    def get_or_create(self, key: Hashable, create: Callable[[], Any], max_bytes: int) -> Any:
        """The value of ``key``, or ``create()`` stored under it (unless ``max_bytes`` is 0):
        for values that grow in place, reported by :meth:`resize`."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        value = create()
        if max_bytes > 0:
            self._items[key] = (value, 0)
        return value

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes


#: The cache of grid segments (see :mod:`.glacier_run`).
GRID_SEGMENTS = ResultCache()


def clear_grid_cache() -> None:
    """Forget all cached grid results of this process (e.g. to time a cold run)."""
    GRID_SEGMENTS.clear()
