"""Bad weights files: ours (.npz) and the published (.eqx), through the public loaders."""
from __future__ import annotations

import io
import json
import shutil
import zipfile

import numpy as np
import pytest

from oggm_glaunti.core import TIModel
from oggm_glaunti.core.parameters import prior_parameters
from oggm_glaunti.weights import (
    WeightsError, load_model, load_pretrained, read_published, save_model,
)

from .conftest import refused

META = "__metadata__"


@pytest.fixture
def saved(tmp_path):
    """A valid variant A file of ours and its arrays."""
    path = tmp_path / "a.npz"
    save_model(TIModel(prior_parameters()), path)
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    return path, arrays


def _rewrite(path, arrays, **changes):
    """Write ``arrays`` to ``path`` with entries changed (None removes one)."""
    arrays = {**arrays, **changes}
    with open(path, "wb") as f:
        np.savez(f, **{k: v for k, v in arrays.items() if v is not None})


def _meta(arrays, **changes) -> np.ndarray:
    meta = {**json.loads(arrays[META].tobytes().decode()), **changes}
    return np.frombuffer(json.dumps(meta).encode(), np.uint8)


def _first_leaf(arrays) -> str:
    return next(k for k in arrays if k != META)


def _leaf_cases():
    return {
        "nan_leaf": (lambda a: {_first_leaf(a): np.float32(np.nan)}, ["nan or infinite", "best.npz"]),
        "inf_leaf": (lambda a: {_first_leaf(a): np.float32(np.inf)}, ["nan or infinite"]),
        "wrong_shape": (lambda a: {_first_leaf(a): np.zeros(3, np.float32)}, ["shape"]),
        "missing_leaf": (lambda a: {_first_leaf(a): None}, ["do not match variant a"]),
        "no_metadata": (lambda a: {META: None}, ["no __metadata__"]),
        "metadata_not_json": (lambda a: {META: np.frombuffer(b"{not json", np.uint8)},
                              ["not valid json", "save the model again"]),
        "metadata_not_utf8": (lambda a: {META: np.frombuffer(b"\xff\xfe", np.uint8)}, ["not valid json"]),
        "metadata_a_list": (lambda a: {META: np.frombuffer(b"[1, 2]", np.uint8)}, ["not a json object"]),
        "format_version_text": (lambda a: {META: _meta(a, format_version="2")},
                                ["format_version is '2'", "save_model"]),
        "format_version_newer": (lambda a: {META: _meta(a, format_version=99)}, ["newer", "upgrade"]),
        "format_version_zero": (lambda a: {META: _meta(a, format_version=0)}, ["format_version is 0"]),
        "other_format": (lambda a: {META: _meta(a, format="something-else")}, ["format is 'something-else'"]),
        "unknown_variant": (lambda a: {META: _meta(a, variant="E")}, ["variant 'e'", "not one of"]),
        "other_normalisation": (lambda a: {META: _meta(a, normalisation={"elevation": 1.0})},
                                ["normalisation"]),
    }


@pytest.mark.parametrize("case", list(_leaf_cases()))
def test_damaged_file_of_ours(saved, case):
    path, arrays = saved
    change, words = _leaf_cases()[case]
    _rewrite(path, arrays, **change(arrays))
    with refused(WeightsError, str(path).lower(), *words, folders=[path.parent]):
        load_model(path)


def test_missing_file(tmp_path):
    with refused(WeightsError, "not found", folders=[tmp_path]):
        load_model(tmp_path / "none.npz")


def test_truncated_file_of_ours(saved):
    path, _ = saved
    path.write_bytes(path.read_bytes()[:200])
    with refused(WeightsError, "truncated", folders=[path.parent]):
        load_model(path)


def test_not_an_archive(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are not weights")
    with refused(WeightsError, "not a readable oggm-glaunti-weights file", folders=[tmp_path]):
        load_model(path)


def test_variant_other_than_asked(saved):
    path, _ = saved
    with refused(WeightsError, "holds variant a", "variant c was asked", folders=[path.parent]):
        load_model(path, variant="C")


def test_published_file_given_to_load_model(reference_dir, tmp_path):
    path = tmp_path / "c.eqx"
    shutil.copy(reference_dir / "params" / "c.eqx", path)
    with refused(WeightsError, "c.eqx", "published .eqx file", "read_published", "--variant",
                 folders=[tmp_path]):
        load_model(path)


def test_published_c_read_as_d(reference_dir, tmp_path):
    path = tmp_path / "c.eqx"
    shutil.copy(reference_dir / "params" / "c.eqx", path)
    with refused(WeightsError, "published variant c file", "variant d was asked", folders=[tmp_path]):
        read_published(path, "D")


def test_published_a_read_as_c(reference_dir, tmp_path):
    path = tmp_path / "a.eqx"
    shutil.copy(reference_dir / "params" / "a.eqx", path)
    with refused(WeightsError, "published variant a file", "variant c was asked", folders=[tmp_path]):
        read_published(path, "C")


def _records(path) -> list[np.ndarray]:
    data, records = path.read_bytes(), []
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        records.append(np.load(stream))
    return records


def _write_records(path, records) -> None:
    with open(path, "wb") as f:
        for record in records:
            np.save(f, record)


def test_eqx_of_another_layout(reference_dir, tmp_path):
    """A file of variant A's layout (not a published one) read as C."""
    records = _records(reference_dir / "params" / "a.eqx")
    records[0] = records[0] + np.float32(0.1)
    _write_records(tmp_path / "tuned_a.eqx", records)
    with refused(WeightsError, "expected", "arrays for variant c", folders=[tmp_path]):
        read_published(tmp_path / "tuned_a.eqx", "C")


def test_published_file_truncated(reference_dir, tmp_path):
    path = tmp_path / "d.eqx"
    path.write_bytes((reference_dir / "params" / "d.eqx").read_bytes()[:1000])
    with refused(WeightsError, "truncated or corrupted", "download it again", folders=[tmp_path]):
        read_published(path, "D")


def test_published_format_with_nan(reference_dir, tmp_path):
    records = _records(reference_dir / "params" / "a.eqx")
    records[0] = np.full_like(records[0], np.nan)
    path = tmp_path / "nan.eqx"
    _write_records(path, records)
    with refused(WeightsError, "nan or infinite", folders=[tmp_path]):
        read_published(path, "A")


def test_published_unknown_variant(reference_dir):
    with refused(ValueError, "unknown variant 'e'"):
        read_published(reference_dir / "params" / "a.eqx", "E")


def test_weights_dir_without_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GLAUNTI_WEIGHTS_DIR", str(tmp_path))
    with refused(WeightsError, "has no d.eqx", "GLAUNTI_WEIGHTS_DIR", folders=[tmp_path]):
        load_pretrained("D")


def test_weights_dir_with_a_modified_file(reference_dir, tmp_path, monkeypatch):
    data = bytearray((reference_dir / "params" / "a.eqx").read_bytes())
    data[-1] ^= 1
    (tmp_path / "a.eqx").write_bytes(bytes(data))
    monkeypatch.setenv("GLAUNTI_WEIGHTS_DIR", str(tmp_path))
    with refused(WeightsError, "sha-256", "not the published one", folders=[tmp_path]):
        load_pretrained("A")


def test_an_archive_of_other_arrays(tmp_path):
    path = tmp_path / "other.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", b"")
    with refused(WeightsError, str(path).lower(), folders=[tmp_path]):
        load_model(path)
