"""Bad input gives a ValueError naming the argument, what was found and what is expected."""

from __future__ import annotations


import numpy as np
import pytest

from oggm_glaunti.core import Corrector, year_forcing
from oggm_glaunti.weights import WeightsError, load_model, load_pretrained, read_published, save_model
from oggm_glaunti.weights.registry import WEIGHTS_DIR_ENV

T = np.zeros((40, 9, 10), np.float32)
P = np.full((40, 9, 10), 0.002, np.float32)


def with_value(a, value, index=(3, 2, 1)):
    a = a.copy()
    a[index] = value
    return a


@pytest.mark.parametrize("bad,match", [
    (dict(temperature=with_value(T, np.nan)), r"temperature has 1 NaN or infinite value.*\(3, 2, 1\)"),
    (dict(precipitation=with_value(P, np.inf)), r"precipitation has 1 NaN or infinite"),
    (dict(precipitation=with_value(P, -0.001)), r"precipitation has negative values"),
    (dict(temperature=T + 273.15), r"temperature reaches 273.1.*looks like kelvin.*degC"),
    (dict(precipitation=P * 1000 + 2), r"precipitation reaches .*looks like mm per day.*m w.e. per day"),
    (dict(precipitation=P[:, :, :5]), r"precipitation has shape \(40, 9, 5\); expected \(40, 9, 10\)"),
    (dict(outline=np.ones((9, 11))), r"outline has shape \(9, 11\); expected \(9, 10\)"),
    (dict(elevation=np.ones((8, 10))), r"elevation has shape \(8, 10\); expected \(9, 10\)"),
    (dict(elevation_std=with_value(np.ones((9, 10)), np.nan, (0, 0))), r"elevation_std has 1 NaN"),
    (dict(facies=np.zeros((8, 9, 10))), r"facies has shape \(8, 9, 10\); expected \(9, 9, 10\)"),
    (dict(outline=np.zeros((9, 10))), r"outline is zero everywhere"),
    (dict(outline=np.full((9, 10), 2.0)), r"outline must be a glacier fraction in 0..1"),
    (dict(split=0), r"split=0 must lie strictly inside the year"),
])
def test_year_forcing_refuses(bad, match):
    kwargs = dict(temperature=T, precipitation=P, begin="2001-01-01")
    kwargs.update(bad)
    with pytest.raises(ValueError, match=match):
        year_forcing(**kwargs)


def test_climate_monthly_shape_checked():
    with pytest.raises(ValueError, match=r"climate_monthly has shape \(2, 12\); expected \(2, 2\)"):
        year_forcing(T, P, "2001-01-01", climate_monthly=np.zeros((2, 12)))


def test_corrector_refuses_wrong_channels():
    corrector = Corrector.initialise(np.random.default_rng(0).integers(0, 2**31, 2, dtype=np.uint32))
    with pytest.raises(ValueError, match=r"2D input has shape \(14, 16, 16\); expected \(15, H, W\)"):
        corrector(np.zeros((14, 16, 16), np.float32), np.zeros((2, 13), np.float32))
    with pytest.raises(ValueError, match=r"1D input has shape \(3, 13\)"):
        corrector(np.zeros((15, 16, 16), np.float32), np.zeros((3, 13), np.float32))


def test_unknown_variant():
    with pytest.raises(ValueError, match=r"unknown variant 'E'; expected one of"):
        load_pretrained("E")


def test_corrupted_published_file_refused(tmp_path, reference_dir, monkeypatch):
    src = reference_dir / "params" / "c.eqx"
    truncated = tmp_path / "c.eqx"
    truncated.write_bytes(src.read_bytes()[:200_000])
    with pytest.raises(WeightsError, match=r"truncated or corrupted: record \d+ at byte"):
        read_published(truncated, "C")
    # Through the registry the checksum refuses it before it is even parsed.
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    with pytest.raises(WeightsError, match=r"has SHA-256 .* expected fd70a936"):
        load_pretrained("C")


def test_flipped_byte_refused_by_checksum(tmp_path, reference_dir, monkeypatch):
    data = bytearray((reference_dir / "params" / "a.eqx").read_bytes())
    data[-3] ^= 0xFF
    (tmp_path / "a.eqx").write_bytes(bytes(data))
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    with pytest.raises(WeightsError, match="corrupted or not the published one"):
        load_pretrained("A")


def test_missing_file_in_weights_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    with pytest.raises(WeightsError, match=r"has no d.eqx"):
        load_pretrained("D")


def test_failed_download_names_the_offline_variable(monkeypatch):
    import pooch

    def no_network(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'github.com'")

    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    monkeypatch.setattr(pooch, "retrieve", no_network)
    with pytest.raises(WeightsError, match=rf"could not download .* set {WEIGHTS_DIR_ENV}"):
        load_pretrained("B")


def test_wrong_variant_for_file(reference_dir):
    with pytest.raises(WeightsError, match=r"published variant C file, but variant A was asked"):
        read_published(reference_dir / "params" / "c.eqx", "A")


def test_native_format_truncated_refused(tmp_path):
    path = tmp_path / "model.npz"
    save_model(load_pretrained("D"), path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(WeightsError, match="not a readable oggm-glaunti-weights file"):
        load_model(path)


def test_native_format_wrong_variant(tmp_path):
    path = tmp_path / "model.npz"
    save_model(load_pretrained("A"), path)
    with pytest.raises(WeightsError, match="holds variant A, but variant D was asked for"):
        load_model(path, variant="D")


def test_native_round_trip_is_exact(tmp_path):
    import jax

    for variant in "ABCD":
        model = load_pretrained(variant)
        save_model(model, tmp_path / f"{variant}.npz", notes="test")
        back = load_model(tmp_path / f"{variant}.npz")
        assert back.variant == variant
        for a, b in zip(jax.tree_util.tree_leaves(model), jax.tree_util.tree_leaves(back)):
            np.testing.assert_array_equal(a, b)
    assert not list(tmp_path.glob(".tmp-*")), "temporary files left behind"
