"""Read the published GlaUnTI ``.eqx`` files with NumPy alone (``docs/weights.md``).

Each file is a concatenation of ``.npy`` records, one per array leaf. A file is read whole
and checked (record count and every shape) before any model is built, so a truncated or
corrupted file is refused, never half-loaded.
"""

from __future__ import annotations

import io
import os

import jax.numpy as jnp
import numpy as np

from ..core import GlaUnTIModel, GRUModel, TIModel, TIParameters, STORED_NAMES, Corrector, GRUBaseline
from ..core.models import Model
from .errors import WeightsError

_TI_LAYOUT = [(name, ()) for name in STORED_NAMES]
_GRU_LAYOUT = [
    ("weight_ih", (48, 2)), ("weight_hh", (48, 16)), ("bias", (48,)), ("bias_n", (16,)),
    ("readout_weight", (1, 16)), ("readout_bias", (1,)), ("init_h", (16,)),
]


def expected_layout(variant: str) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of each record of a published file of ``variant``."""
    if variant == "A":
        return _TI_LAYOUT
    if variant == "B":
        return _GRU_LAYOUT
    if variant in ("C", "D"):
        return Corrector.layout() + _TI_LAYOUT
    raise ValueError(f"unknown variant {variant!r}; expected one of 'A', 'B', 'C', 'D'")


def read_records(path: str | os.PathLike) -> list[np.ndarray]:
    """All ``.npy`` records of a file, in order; raises :class:`WeightsError` if damaged."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise WeightsError(f"weights file not found: {path}") from None
    stream = io.BytesIO(data)
    records = []
    while stream.tell() < len(data):
        start = stream.tell()
        try:
            records.append(np.load(stream, allow_pickle=False))
        except Exception as exc:  # numpy raises several types on damaged headers/data
            raise WeightsError(
                f"{path} is truncated or corrupted: record {len(records)} at byte {start} "
                f"could not be read ({exc}). Delete the file and download it again."
            ) from None
    return records


def model_from_records(records: list[np.ndarray], variant: str, source: str = "weights") -> Model:
    """Build the model of ``variant`` from records, after checking count and shapes."""
    layout = expected_layout(variant)
    if len(records) != len(layout):
        raise WeightsError(
            f"{source}: expected {len(layout)} arrays for variant {variant}, found {len(records)} "
            "(truncated file, or a file of another variant?)"
        )
    for i, ((name, shape), rec) in enumerate(zip(layout, records)):
        if tuple(rec.shape) != tuple(shape):
            raise WeightsError(
                f"{source}: array {i} ({name}) has shape {tuple(rec.shape)}, expected {shape} "
                f"for variant {variant}"
            )
        if not np.all(np.isfinite(rec)):
            raise WeightsError(f"{source}: array {i} ({name}) contains NaN or infinite values")
    if variant == "B":
        return GRUModel(GRUBaseline(*[jnp.asarray(r, jnp.float32) for r in records]))
    ti = TIParameters.from_stored(dict(zip(STORED_NAMES, records[-len(STORED_NAMES):])))
    if variant == "A":
        return TIModel(ti)
    corrector = Corrector.from_arrays(records[: -len(STORED_NAMES)])
    return GlaUnTIModel(ti, corrector, use_facies=(variant == "D"))


def read_published(path: str | os.PathLike, variant: str) -> Model:
    """Read a published ``.eqx`` file of the given variant into our model classes.

    C and D files have the same layout; a file that is one of the published ones (by its
    SHA-256) must be read as its own variant, else :class:`WeightsError`.
    """
    variant = str(variant).upper()
    expected_layout(variant)  # an unknown variant is refused before the file is read
    records = read_records(path)
    check_published_variant(path, variant)
    return model_from_records(records, variant, source=os.fspath(path))


def check_published_variant(path: str | os.PathLike, variant: str) -> None:
    """Raise :class:`WeightsError` if ``path`` is the published file of another variant."""
    from .registry import SHA256, sha256_of  # registry imports this module

    digest = sha256_of(path)
    actual = next((v for v, known in SHA256.items() if known == digest), None)
    if actual is not None and actual != variant:
        raise WeightsError(
            f"{path} is the published variant {actual} file, but variant {variant} was asked "
            f"for: pass variant={actual!r}, or use {variant.lower()}.eqx for variant {variant}"
        )
