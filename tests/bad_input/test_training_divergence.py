"""A diverging training run (issue 16): it stops with a clear message, keeps the last finite
best model, and never saves non-finite weights."""
from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from oggm_glaunti.cli import main
from oggm_glaunti.training.checkpoints import BEST_NAME, HISTORY_NAME
from oggm_glaunti.training.config import TrainConfig
from oggm_glaunti.training.dataset import read_dataset
from oggm_glaunti.training.loop import TrainingDiverged, train
from oggm_glaunti.training.initialisation import initial_model
from oggm_glaunti.weights import load_model

from .conftest import refused

#: The audit's reproduction: variant A, a learning rate of 100 and no effective clip.
DIVERGING = ["--variant", "A", "--epochs", "4", "--lr", "100", "--clip", "1e9",
             "--train-folds", "2", "--val-folds", "1", "--quiet"]


def _strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} in JSON")
    return json.loads(text, parse_constant=refuse)


def _leaves(model):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(model)]


def test_diverging_cli_run_stops_and_keeps_the_finite_best(synthetic_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--dataset", str(synthetic_dataset), "--output", str(out), *DIVERGING])
    err = capsys.readouterr().err
    assert code == 1
    assert "training diverged in epoch 1" in err and "Lower the learning rate (lr=100)" in err
    assert "best.npz keeps the best finite model (epoch 0" in err
    assert not (out / "last.npz").exists()
    best = load_model(out / BEST_NAME)  # refuses non-finite weights: this one is finite
    start = initial_model("A", jax.random.PRNGKey(0), None)  # epoch 0: variant A's prior
    for got, expected in zip(_leaves(best), _leaves(start)):
        np.testing.assert_array_equal(got, expected)
    history = _strict_json((out / HISTORY_NAME).read_text())
    assert history["best_epoch"] == 0 and np.isfinite(history["best_val"])


def test_diverging_library_run_raises(synthetic_dataset, tmp_path):
    glaciers = read_dataset(synthetic_dataset)
    config = TrainConfig(variant="A", epochs=4, lr=100., clip=1e9, train_folds=(2,), val_folds=(1,),
                         checkpoint_dir=str(tmp_path), progress=False)
    with pytest.raises(TrainingDiverged) as info:
        train(config, glaciers)
    assert info.value.epoch == 1 and info.value.best_epoch == 0 and np.isfinite(info.value.best_val)
    assert all(np.all(np.isfinite(x)) for x in _leaves(load_model(tmp_path / BEST_NAME)))


def test_diverging_run_without_validation_glaciers(synthetic_dataset):
    """Without validation glaciers a NaN loss is still caught (it was taken for 'no data')."""
    glaciers = read_dataset(synthetic_dataset)
    config = TrainConfig(variant="A", epochs=4, lr=100., clip=1e9, train_folds=(2,), val_folds=(7,),
                         progress=False)
    with refused(TrainingDiverged, "training diverged", "non-finite", "lower the learning rate"):
        train(config, glaciers)


def test_non_finite_starting_model(synthetic_dataset, exploding_weights, tmp_path):
    glaciers = read_dataset(synthetic_dataset)
    config = TrainConfig(variant="A", epochs=1, train_folds=(2,), val_folds=(1,),
                         init_weights=str(exploding_weights), checkpoint_dir=str(tmp_path / "run"),
                         progress=False)
    with refused(ValueError, "starting model", "non-finite validation error", folders=[tmp_path]):
        train(config, glaciers)
    assert not (tmp_path / "run").exists()
