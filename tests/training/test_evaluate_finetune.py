"""Evaluation of the published weights, fine-tuning of variant A, and the training commands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from oggm_glaunti.cli import main
from oggm_glaunti.metrics import SCORES
from oggm_glaunti.training.evaluate import evaluate
from oggm_glaunti.training.finetune import finetune
from oggm_glaunti.weights import load_model, load_pretrained


@pytest.mark.parametrize("variant", ["A", "B", "C", "D"])
def test_published_weights_evaluate_end_to_end(synthetic_glaciers, variant, tmp_path):
    result = evaluate(load_pretrained(variant), synthetic_glaciers)
    pooled = result.pooled
    assert pooled["glacier_wide"]["annual"]["n"] == 3 * 3  # 3 glaciers x 3 scored years
    assert pooled["point"]["annual"]["n"] > 0 and pooled["point"]["winter"]["n"] > 0
    for kind in pooled.values():
        for scores in kind.values():
            if scores["n"] > 1:
                assert all(np.isfinite(scores[k]) for k in SCORES if k != "n")
    assert set(result.per_glacier) == {g.name for g in synthetic_glaciers}
    table = result.table()
    assert "glacier-wide annual" in table and "| 9 |" in table
    result.write_json(tmp_path / "metrics.json")
    assert json.loads((tmp_path / "metrics.json").read_text())["pooled"]["glacier_wide"]
    result.plot(tmp_path / "scatter.png", title=f"variant {variant}")
    assert (tmp_path / "scatter.png").stat().st_size > 10_000


def test_truth_scores_perfectly(synthetic_root, synthetic_glaciers):
    """The synthetic observations are the true model's SMB: evaluation gives zero error."""
    truth = json.loads((synthetic_root / "truth.json").read_text())
    from oggm_glaunti.core import TIModel, TIParameters

    values = {k: v for k, v in truth["constrained"].items()
              if k not in ("t_softplus_sharpness", "swe_softplus_sharpness")}
    model = TIModel(TIParameters.from_constrained(**values))
    result = evaluate(model, synthetic_glaciers, spinup_years=0)
    for kind in result.pooled.values():
        for scores in kind.values():
            if scores["n"]:
                assert scores["rmse"] < 1e-3, scores


def test_finetune_lowers_the_error_of_the_published_a(synthetic_glaciers, tmp_path):
    glacier = synthetic_glaciers[0]
    result = finetune(glacier, steps=40, train_years=(1992, 1995), val_years=(1996, 1997),
                      spinup_years=1)
    assert result.train_error < 0.2 * result.initial_train_error
    assert result.val_error < result.initial_val_error
    assert len(result.history) == 40 and result.history[-1] < result.history[0]
    assert result.val_skill["glacier_wide"]["annual"]["n"] == 2
    result.save(tmp_path / "tuned.npz")
    assert load_model(tmp_path / "tuned.npz").variant == "A"


def test_finetune_refuses_other_variants(synthetic_glaciers):
    with pytest.raises(ValueError, match="needs a variant A model; got variant C"):
        finetune(synthetic_glaciers[0], load_pretrained("C"), steps=1)


@pytest.mark.parametrize("command", ["train", "finetune", "evaluate"])
def test_every_option_is_explained(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    options = [w for w in text.split() if w.startswith("--")]
    assert "--dataset" in options and "--output" in options
    import argparse

    from oggm_glaunti.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for action in sub.choices[command]._actions:
        assert action.help, f"{command} {action.option_strings} has no help"


def test_commands_on_the_synthetic_dataset(synthetic_root, tmp_path, capsys):
    out = tmp_path / "train"
    assert main(["train", "--dataset", str(synthetic_root), "--output", str(out), "--variant", "A",
                 "--epochs", "2", "--lr", "0.02", "--train-folds", "0", "2", "--val-folds", "1",
                 "--quiet"]) == 0
    assert "best validation error" in capsys.readouterr().out
    for name in ("checkpoint.npz", "best.npz", "last.npz", "history.json"):
        assert (out / name).is_file(), name
    assert main(["train", "--dataset", str(synthetic_root), "--output", str(out), "--variant", "A",
                 "--epochs", "3", "--lr", "0.02", "--train-folds", "0", "2", "--val-folds", "1",
                 "--quiet", "--resume"]) == 0
    history = json.loads((out / "history.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [0, 1, 2, 3]

    tuned = tmp_path / "tuned.npz"
    assert main(["finetune", "--dataset", str(synthetic_root), "--glacier", "Synthetic 01",
                 "--output", str(tuned), "--steps", "5", "--train-years", "1992", "1995",
                 "--val-years", "1996", "1997", "--spinup-years", "1", "--quiet"]) == 0
    assert tuned.is_file() and tuned.with_suffix(".json").is_file()

    scores = tmp_path / "scores"
    assert main(["evaluate", "--dataset", str(synthetic_root), "--weights", str(out / "best.npz"),
                 "--output", str(scores), "--folds", "0", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "glacier-wide annual" in printed
    for name in ("metrics.json", "pairs.csv", "scatter.png"):
        assert (scores / name).is_file(), name
