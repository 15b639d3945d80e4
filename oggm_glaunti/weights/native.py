"""Our own weights format: one ``.npz`` archive, versioned and self-describing.

Layout (format ``oggm-glaunti-weights``, version 1):

- ``__metadata__``: UTF-8 JSON (as a uint8 array) with ``format``, ``format_version``,
  ``variant`` (A-D), ``normalisation`` (the factors the model was trained with),
  ``ti_parameters`` (stored, unconstrained values; absent for B), ``package_version`` and
  free-form ``notes``;
- one array per model leaf, keyed by its path in the model tree (e.g. ``.ti.ddf_snow_log``).

Files are written to a temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import zipfile

import jax
import numpy as np

from .. import __version__
from ..core import inputs
from ..core.models import GlaUnTIModel, Model, TIModel
from ..atomic import atomic_path
from .errors import WeightsError
from .published import expected_layout, model_from_records

FORMAT_NAME = "oggm-glaunti-weights"
FORMAT_VERSION = 1

NORMALISATION = {
    "elevation": inputs.ELEVATION_SCALE,
    "elevation_std": inputs.ELEVATION_STD_SCALE,
    "t_monthly": inputs.MONTHLY_TEMPERATURE_SCALE,
    "p_monthly": inputs.MONTHLY_PRECIPITATION_SCALE,
}


def _leaves_by_key(model: Model) -> dict[str, np.ndarray]:
    flat, _ = jax.tree_util.tree_flatten_with_path(model)
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in flat}


def _skeleton(variant: str) -> Model:
    zeros = [np.zeros(shape, np.float32) for _, shape in expected_layout(variant)]
    return model_from_records(zeros, variant)


def save_model(model: Model, path: str | os.PathLike, notes: str = "") -> None:
    """Save ``model`` atomically in our format (see the module docstring)."""
    path = os.fspath(path)
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "variant": model.variant,
        "normalisation": NORMALISATION,
        "package_version": __version__,
        "notes": notes,
    }
    if isinstance(model, (TIModel, GlaUnTIModel)):
        meta["ti_parameters"] = model.ti.as_stored_dict()
    arrays = _leaves_by_key(model)
    arrays["__metadata__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def read_metadata(path: str | os.PathLike) -> dict:
    """The metadata of one of our weights files (raises :class:`WeightsError` if not ours)."""
    return _open(os.fspath(path))[0]


def _open(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    if not os.path.exists(path):
        raise WeightsError(f"weights file not found: {path}")
    if _starts_like_npy(path):
        raise WeightsError(
            f"{path} is not an {FORMAT_NAME} file (.npz archive written by save_model) but "
            "NumPy arrays, as in a published .eqx file: read it with "
            "oggm_glaunti.weights.read_published(path, variant), or on the command line pass "
            "--variant for the published weights")
    try:
        # our own handle: np.load leaves its file open when the archive is unreadable
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise WeightsError(
            f"{path} is not a readable {FORMAT_NAME} file ({exc}); it may be truncated. "
            "Published .eqx files are read with oggm_glaunti.weights.read_published."
        ) from None
    if "__metadata__" not in arrays:
        raise WeightsError(f"{path} has no __metadata__ entry: not an {FORMAT_NAME} file")
    meta = _metadata(path, arrays.pop("__metadata__"))
    if meta.get("format") != FORMAT_NAME:
        raise WeightsError(f"{path}: format is {meta.get('format')!r}, expected {FORMAT_NAME!r}")
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise WeightsError(
            f"{path}: format_version is {version!r}, expected a whole number (this package "
            f"writes {FORMAT_VERSION}); the file was not written by save_model - save the "
            "model again with oggm_glaunti.weights.save_model"
        )
    if version > FORMAT_VERSION:
        raise WeightsError(
            f"{path} has format version {version}, newer than this package "
            f"reads ({FORMAT_VERSION}); upgrade oggm-glaunti"
        )
    return meta, arrays


def _starts_like_npy(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(6) == b"\x93NUMPY"


def _metadata(path: str, raw: np.ndarray) -> dict:
    """The JSON metadata entry, decoded; a clear error if it is not a JSON object."""
    try:
        meta = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(
            f"{path}: the __metadata__ entry is not valid JSON ({exc}): the file is corrupted "
            "or was not written by oggm_glaunti.weights.save_model; save the model again"
        ) from None
    if not isinstance(meta, dict):
        raise WeightsError(f"{path}: the __metadata__ entry is not a JSON object; save the model again")
    return meta


def load_model(path: str | os.PathLike, variant: str | None = None) -> Model:
    """Load a model saved by :func:`save_model`; optionally insist on its variant."""
    path = os.fspath(path)
    meta, arrays = _open(path)
    found = meta.get("variant")
    if found not in ("A", "B", "C", "D"):
        raise WeightsError(f"{path}: variant {found!r} in the metadata is not one of A, B, C, D")
    if variant is not None and found != variant.upper():
        raise WeightsError(f"{path} holds variant {found}, but variant {variant.upper()} was asked for")
    if meta.get("normalisation", NORMALISATION) != NORMALISATION:
        raise WeightsError(
            f"{path} was trained with normalisation factors {meta['normalisation']}, which differ "
            f"from this package's {NORMALISATION}"
        )
    skeleton = _skeleton(found)
    expected = _leaves_by_key(skeleton)
    if set(expected) != set(arrays):
        raise WeightsError(
            f"{path}: arrays {sorted(set(arrays) ^ set(expected))[:5]} do not match variant {found}"
        )
    for key, ref in expected.items():
        if arrays[key].shape != ref.shape:
            raise WeightsError(f"{path}: {key} has shape {arrays[key].shape}, expected {ref.shape}")
    flat, treedef = jax.tree_util.tree_flatten_with_path(skeleton)
    for key, array in arrays.items():
        if not np.all(np.isfinite(array)):
            raise WeightsError(
                f"{path}: {key} contains {int((~np.isfinite(array)).sum())} NaN or infinite "
                "value(s); such weights give NaN mass balance. Use the weights of an earlier, "
                "finite epoch (e.g. best.npz of the training run) or retrain"
            )
    leaves = [np.asarray(arrays[jax.tree_util.keystr(p)], np.float32) for p, _ in flat]
    return jax.tree_util.tree_unflatten(treedef, leaves)

