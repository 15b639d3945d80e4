"""Argument checks shared by the tools (clear ``ValueError`` messages)."""

from __future__ import annotations

import math


def check_positive(name: str, value: float) -> float:
    """``value`` as a float, or ``ValueError`` if it is not a finite number > 0."""
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value}")
    return value


def check_count(name: str, value: int, minimum: int = 1) -> int:
    if int(value) != value or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)
