"""Evaluation of the published weights, fine-tuning of variant A, and the training commands."""

from __future__ import annotations

import json
from pathlib import Path

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


def _published_values(glacier, model):
    """The published scoring convention computed here, independently of evaluate: run all
    years from a fresh state, join the weighted daily steps per date (shared dates summed),
    sum over inclusive windows; glacier-wide with the observed year's outline."""
    from oggm_glaunti.training.synthetic_dataset import _truth_run

    years, daily, _ = _truth_run(glacier, model)
    first = glacier.dates[0]
    index = lambda d: int((d - first).astype(int))  # noqa: E731
    values = {}
    for obs in glacier.glacier_wide:
        w = glacier.windows[obs.year]
        b, e = {"annual": (w.begin, w.end), "winter": (w.begin, w.midseason),
                "summer": (w.midseason, w.end)}[obs.season]
        field = daily[index(b):index(e) + 1].sum(axis=0)
        outline = glacier.outline[glacier.geometry_index(obs.year)]
        values[("glacier_wide", obs.season, obs.year, None)] = float((field * outline).sum() / outline.sum())
    run_first, run_last = glacier.windows[years[0]].begin, glacier.windows[years[-1]].end
    for s in glacier.stakes:  # stakes inside the run; index readings are not scored
        if not s.is_index and s.begin >= run_first and s.end <= run_last:
            values[("point", s.season, s.year, str(s.begin), str(s.end), s.row, s.col)] = float(
                daily[index(s.begin):index(s.end) + 1, s.row, s.col].sum())
    return values


def test_evaluation_follows_the_published_convention(synthetic_root, synthetic_glaciers):
    """evaluate's values are the published code's: boundary dates in full, each date once."""
    truth = json.loads((synthetic_root / "truth.json").read_text())
    from oggm_glaunti.core import TIModel, TIParameters

    model = TIModel(TIParameters.from_stored(truth["stored"]))
    glacier = synthetic_glaciers[1]
    result = evaluate(model, [glacier], spinup_years=0)
    expected = _published_values(glacier, model)
    got = {}
    for r in result.pairs.itertuples():
        key = ((r.kind, r.season, r.year, None) if r.kind == "glacier_wide"
               else (r.kind, r.season, r.year, r.begin, r.end, r.row, r.col))
        got[key] = r.modelled
    assert set(got) == set(expected) and len(got) == len(result.pairs)
    np.testing.assert_allclose([got[k] for k in expected], list(expected.values()), rtol=1e-5, atol=1e-6)
    # The observations (the loss's convention: ends at half weight) differ from these by the
    # two end days' half values: small but not zero.
    gap = np.abs(result.pairs["modelled"] - result.pairs["observed"])
    assert 0 < gap.max() < 0.1


def test_published_json_pools_to_the_metric_table(synthetic_glaciers, tmp_path, capsys):
    """Per-glacier JSON files with the published structure; pooling them (also files written
    as the published code does, without our extra keys) gives metrics.skill of the same pairs."""
    from oggm_glaunti.metrics import skill
    from oggm_glaunti.training.published_json import read_pairs

    result = evaluate(load_pretrained("A"), synthetic_glaciers)
    paths = result.write_glacier_json(tmp_path / "glaciers", model="A")
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == sorted(f"{g.name}.json" for g in synthetic_glaciers)
    content = json.loads(Path(paths[0]).read_text())
    for key in ("point", "glacier-wide"):
        for season in ("annual", "winter", "summer"):
            block = content["true_pred"][key]["overall"][season]
            assert len(block["true"]) == len(block["pred"])
            per_year = content["true_pred"][key]["per_year"][season]
            assert sum(len(v["true"]) for v in per_year.values()) == len(block["true"])
    published = tmp_path / "published.json"  # as the published code writes it: true_pred only
    published.write_text(json.dumps({"true_pred": content["true_pred"]}))

    assert main(["pool-scores", *paths[1:], str(published), "--output", str(tmp_path / "pooled")]) == 0
    printed = capsys.readouterr().out
    pooled = json.loads((tmp_path / "pooled" / "metrics.json").read_text())["pooled"]
    pairs = result.pairs
    for kind, key in (("point", "point"), ("glacier_wide", "glacier-wide")):
        for season in ("annual", "winter", "summer"):
            sel = pairs[(pairs["kind"] == kind) & (pairs["season"] == season)]
            expected = skill(sel["modelled"], sel["observed"])
            for score, value in expected.items():
                assert pooled[kind][season][score] == pytest.approx(value, rel=1e-12, nan_ok=True)
            assert f"| {key} {season} | {expected['n']} |" in printed
    assert (tmp_path / "pooled" / "scatter.png").stat().st_size > 10_000
    assert set(read_pairs([published])["glacier"]) == {"published"}
    (tmp_path / "bad.json").write_text(json.dumps({"scores": []}))
    with pytest.raises(ValueError, match=r"bad.json: has no 'true_pred' key"):
        read_pairs([tmp_path / "bad.json"])


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


@pytest.mark.parametrize("command", ["train", "finetune", "evaluate", "pool-scores"])
def test_every_option_is_explained(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    options = [w for w in text.split() if w.startswith("--")]
    assert "--output" in options and ("--dataset" in options or command == "pool-scores")
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
    for name in ("metrics.json", "pairs.csv", "scatter.png", "glaciers/Synthetic 01.json",
                 "glaciers/Synthetic 02.json"):
        assert (scores / name).is_file(), name
