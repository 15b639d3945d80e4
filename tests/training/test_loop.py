"""The training loop on the synthetic dataset: it learns, it recovers a known truth, it resumes."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from oggm_glaunti.training.checkpoints import BEST_NAME, HISTORY_NAME
from oggm_glaunti.training.config import TrainConfig
from oggm_glaunti.training.loop import epoch_batches, split_glaciers, train
from oggm_glaunti.training.losses import LossWeights
from oggm_glaunti.training.synthetic_dataset import DEFAULT_TRUE_PARAMETERS
from oggm_glaunti.weights import load_model

TRAIN = ("Synthetic 01", "Synthetic 03")
VAL = ("Synthetic 02",)


def test_training_c_lowers_the_validation_error(synthetic_glaciers, tmp_path):
    config = TrainConfig(variant="C", epochs=3, lr=1e-3, train_glaciers=TRAIN, val_glaciers=VAL,
                         checkpoint_dir=str(tmp_path), progress=False)
    result = train(config, synthetic_glaciers)
    errors = [h["val_error"] for h in result.history]
    assert [h["epoch"] for h in result.history] == [0, 1, 2, 3]
    assert all(np.isfinite(errors))
    assert errors[-1] < errors[0]
    assert result.best_epoch > 0 and result.best_val == pytest.approx(min(errors))
    train_losses = [h["train_loss"] for h in result.history[1:]]
    assert train_losses[-1] < train_losses[0]
    best = load_model(tmp_path / BEST_NAME)
    assert best.variant == "C"
    saved = json.loads((tmp_path / HISTORY_NAME).read_text())
    assert saved["best_epoch"] == result.best_epoch


#: Tolerance of the recovery test: after 150 epochs from the prior, the three parameters the
#: observations pin down (how much it snows, how fast snow and ice melt) lie within 8 % of
#: the truth. The four shape parameters of the rain-snow and snow-depletion transitions are
#: not identifiable from three glaciers' SMB: they end 10-40 % off while the observations
#: are matched to < 0.1 % of the starting error, so only the fit is checked for them.
RECOVERY_TOLERANCE = {"prec_scale": 0.08, "ddf_snow": 0.08, "ddf_relative_ice": 0.08}


@pytest.mark.slow
def test_training_a_recovers_the_true_parameters(synthetic_glaciers):
    config = TrainConfig(variant="A", epochs=150, lr=2e-2, train_glaciers=TRAIN + VAL,
                         val_glaciers=VAL, weights=LossWeights(ti_prior=0.0), progress=False)
    result = train(config, synthetic_glaciers)
    found = result.model.ti.constrained()
    report = {k: (round(float(getattr(found, k)), 5), v) for k, v in DEFAULT_TRUE_PARAMETERS.items()}
    for name, tolerance in RECOVERY_TOLERANCE.items():
        truth = DEFAULT_TRUE_PARAMETERS[name]
        assert float(getattr(found, name)) == pytest.approx(truth, rel=tolerance), report
    assert result.best_val < 1e-3 * result.history[0]["val_error"], report


def _leaves(model):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(model)]


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("stochastic", [False, True], ids=["full-batch", "stochastic"])
def test_interrupted_run_resumes_exactly(synthetic_glaciers, tmp_path, stochastic):
    settings = dict(variant="C", epochs=2, lr=3e-3, train_glaciers=TRAIN, val_glaciers=VAL,
                    progress=False, stochastic=stochastic, batch_glaciers=1, steps_per_epoch=2,
                    seed=7)
    reference = train(TrainConfig(**settings), synthetic_glaciers)

    seen = []

    def stop_mid_epoch(event, info):
        seen.append(event)
        if seen.count("glacier") == 3:  # second epoch, after its first glacier
            raise Interrupt

    folder = str(tmp_path / "run")
    first = TrainConfig(**settings, checkpoint_dir=folder, checkpoint_glaciers=1)
    with pytest.raises(Interrupt):
        train(first, synthetic_glaciers, callback=stop_mid_epoch)
    assert "epoch" in seen  # the first epoch finished, the second did not

    resumed = train(TrainConfig(**settings, checkpoint_dir=folder, checkpoint_glaciers=1,
                                resume=True), synthetic_glaciers)
    for got, want in zip(_leaves(resumed.last_model), _leaves(reference.last_model)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    assert len(resumed.history) == len(reference.history) == 3
    for got, want in zip(resumed.history, reference.history):
        got, want = ({k: v for k, v in h.items() if k != "seconds"} for h in (got, want))
        assert got == pytest.approx(want, rel=1e-5)
    assert resumed.best_epoch == reference.best_epoch


def test_resume_refuses_a_different_configuration(synthetic_glaciers, tmp_path):
    settings = dict(variant="A", epochs=1, train_glaciers=TRAIN, val_glaciers=VAL, progress=False,
                    checkpoint_dir=str(tmp_path))
    train(TrainConfig(**settings), synthetic_glaciers)
    with pytest.raises(ValueError, match=r"different configuration \(lr"):
        train(TrainConfig(**settings, lr=0.5, resume=True), synthetic_glaciers)
    # more epochs is allowed: the run continues
    longer = train(TrainConfig(**{**settings, "epochs": 2}, resume=True), synthetic_glaciers)
    assert [h["epoch"] for h in longer.history] == [0, 1, 2]


def test_stochastic_batches_are_seeded_and_visit_every_glacier():
    config = TrainConfig(variant="A", stochastic=True, batch_glaciers=2, seed=1)
    key = jax.random.PRNGKey(1)
    batches = epoch_batches(key, 0, [10, 11, 12, 13, 14], config)
    assert len(batches) == 3 and all(len(b) == 2 for b in batches)
    assert set(sum(batches, [])) == {10, 11, 12, 13, 14}  # one pass covers all five
    assert epoch_batches(key, 0, [10, 11, 12, 13, 14], config) == batches
    assert epoch_batches(key, 1, [10, 11, 12, 13, 14], config) != batches
    full = TrainConfig(variant="A")
    assert epoch_batches(key, 0, [1, 2, 3], full) == [[1, 2, 3]]


def test_no_training_glacier_says_what_was_asked_and_what_exists(glacier_factory):
    glaciers = [glacier_factory("v", fold=1)]
    with pytest.raises(ValueError, match=r"training folds \[2, 3\] were asked for, but the 1 glacier\(s\) "
                                         r"given are in folds \[1\] only"):
        split_glaciers(glaciers, TrainConfig(variant="A", train_folds=(2, 3), val_folds=(1,)))


def test_config_errors():
    with pytest.raises(ValueError, match="unknown variant 'E'"):
        TrainConfig(variant="E")
    with pytest.raises(ValueError, match="both train_glaciers and val_glaciers"):
        TrainConfig(train_glaciers=("a",))
    with pytest.raises(ValueError, match="resume=True needs a checkpoint_dir"):
        TrainConfig(resume=True)
    with pytest.raises(ValueError, match="not in the dataset"):
        from oggm_glaunti.training.loop import split_glaciers

        split_glaciers([], TrainConfig(train_glaciers=("x",), val_glaciers=()))
