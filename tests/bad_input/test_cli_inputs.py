"""Bad command lines: argparse refuses malformed ones (exit 2); the library's errors reach the
user as one clear line on stderr, exit status 2, no traceback and no output written."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from oggm_glaunti.cli import main
from oggm_glaunti.training.commands import require_scored_pairs
from oggm_glaunti.weights import load_pretrained, save_model

from .conftest import refused, unchanged


@pytest.mark.parametrize("argv, words", [
    ([], ["required"]),
    (["calibrate"], ["invalid choice"]),
    (["train", "--dataset", "x", "--output", "y", "--variant", "E"], ["invalid choice: 'e'"]),
    (["train", "--dataset", "x", "--output", "y", "--epochs", "ten"], ["invalid int value"]),
    (["train", "--dataset", "x"], ["--output"]),
    (["evaluate", "--dataset", "x", "--output", "y"], ["--weights", "--variant"]),
    (["evaluate", "--dataset", "x", "--output", "y", "--variant", "A", "--weights", "w.npz"],
     ["not allowed with"]),
    (["example", "--rows", "0"], ["--rows", "at least 8"]),
    (["example", "--years", "0"], ["--years", "at least 1"]),
], ids=["no_command", "unknown_command", "unknown_variant", "epochs_text", "no_output",
        "no_model", "two_models", "rows_zero", "years_zero"])
def test_malformed_command_line(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with refused(SystemExit, folders=[tmp_path]) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.lower()
    assert all(w.lower() in err for w in words), err


def _exits_2(argv, capsys, *words, folders=()):
    """``main(argv)`` returns 2, prints one error line holding ``words``, writes nothing."""
    with unchanged(folders):
        code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert err.count("\n") == 1 and "error:" in err, err
    missing = [w for w in words if w.lower() not in err.lower()]
    assert not missing, err


@pytest.fixture
def variant_c_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("c") / "c.npz"
    save_model(load_pretrained("C"), path)
    return path


def _cases(data, tmp, published, exploding, variant_c):
    out = str(tmp / "out")
    common = ["--dataset", str(data), "--quiet"]
    return {
        "evaluate_eqx_weights": (["evaluate", *common, "--weights", str(published), "--output", out],
                                 ["c.eqx", "read_published", "--variant"]),
        "evaluate_missing_weights": (["evaluate", *common, "--weights", str(tmp / "w.npz"),
                                      "--output", out], ["not found", "w.npz"]),
        "evaluate_weights_giving_nan": (["evaluate", *common, "--weights", str(exploding),
                                         "--output", out], ["nan or infinite smb", "exploding_a.npz"]),
        "evaluate_empty_years": (["evaluate", *common, "--variant", "A", "--first-year", "1997",
                                  "--last-year", "1996", "--output", out], ["1997..1996"]),
        "evaluate_missing_dataset": (["evaluate", "--dataset", str(tmp / "none"), "--variant", "A",
                                      "--output", out], [str(tmp / "none")]),
        "finetune_variant_c_weights": (["finetune", *common, "--glacier", "Synthetic 01",
                                        "--weights", str(variant_c), "--output", out + ".npz"],
                                       ["holds variant c", "variant a was asked"]),
        "train_nan_init_weights": (["train", *common, "--variant", "A", "--init-weights",
                                    str(exploding), "--output", out, "--epochs", "1"],
                                   ["non-finite validation error", "exploding_a.npz"]),
        "train_negative_lr": (["train", *common, "--lr", "-1", "--output", out], ["lr", "positive"]),
        "train_zero_clip": (["train", *common, "--clip", "0", "--output", out], ["clip", "positive"]),
        "train_negative_epochs": (["train", *common, "--epochs", "-1", "--output", out], ["epochs"]),
        "train_zero_batch": (["train", *common, "--stochastic", "--batch-glaciers", "0",
                              "--output", out], ["batch_glaciers"]),
        "train_negative_checkpoint_glaciers": (
            ["train", *common, "--variant", "A", "--checkpoint-glaciers", "-1", "--output", out],
            ["checkpoint_glaciers"]),
    }


from pathlib import Path  # noqa: E402

CASES = list(_cases(*[Path("x")] * 5))


@pytest.mark.parametrize("case", CASES)
def test_user_error_is_one_line_and_exit_2(case, synthetic_dataset, tmp_path, reference_dir,
                                           exploding_weights, variant_c_file, capsys):
    published = tmp_path / "c.eqx"
    shutil.copy(reference_dir / "params" / "c.eqx", published)
    argv, words = _cases(synthetic_dataset, tmp_path, published, exploding_weights,
                         variant_c_file)[case]
    _exits_2(argv, capsys, *words, folders=[tmp_path, synthetic_dataset])


def test_traceback_option_shows_the_error(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        main(["--traceback", "evaluate", "--dataset", str(tmp_path), "--weights",
              str(tmp_path / "w.npz"), "--output", str(tmp_path / "out")])


def test_evaluation_that_scored_nothing_is_refused():
    with refused(ValueError, "no observation was scored", "--first-year"):
        require_scored_pairs(pd.DataFrame(columns=["modelled", "observed"]), "published variant A")
