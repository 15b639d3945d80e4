"""Evaluation outputs: a model giving non-finite SMB is refused by the library itself (not only
by the CLI), and the metric files are written atomically (a failed write loses nothing)."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from oggm_glaunti.training import commands
from oggm_glaunti.training import evaluate as evaluate_module
from oggm_glaunti.training.evaluate import Evaluation, NonFiniteSMB, evaluate, require_finite_modelled
from oggm_glaunti.training.published_json import scores_of, write_glacier_json

from .conftest import refused, unchanged


def _pairs(modelled) -> pd.DataFrame:
    n = len(modelled)
    return pd.DataFrame({"glacier": "Synthetic 01", "kind": "glacier_wide", "season": "annual",
                         "year": np.arange(1991, 1991 + n), "modelled": modelled,
                         "observed": np.linspace(-1.0, 0.5, n)})


def test_library_evaluate_refuses_non_finite_smb(synthetic_dataset, exploding_weights):
    from oggm_glaunti.training.dataset import read_dataset
    from oggm_glaunti.weights import load_model

    glaciers = read_dataset(synthetic_dataset, folds=[0])
    assert issubclass(NonFiniteSMB, ValueError)  # callers catching ValueError keep working
    with refused(NonFiniteSMB, "nan or infinite smb", repr(glaciers[0].name), "years",
                 "earlier, finite model", folders=[synthetic_dataset]):
        evaluate(load_model(exploding_weights), glaciers)


def test_partly_non_finite_pairs_name_the_glacier_and_years():
    table = _pairs([0.1, np.nan, 0.2, np.inf, -0.3])
    with refused(NonFiniteSMB, "2 of 5 observations", "'synthetic 01'", "years 1992-1994"):
        require_finite_modelled(table, "Synthetic 01")
    require_finite_modelled(_pairs([0.1, 0.2, -0.3]), "Synthetic 01")  # finite: accepted


def _failing_dump(obj, f, **kwargs):
    f.write('{"half": ')  # part of a file, then the write fails
    raise OSError("disk full")


def test_evaluation_metrics_json_is_written_atomically(tmp_path, monkeypatch):
    pairs = _pairs([0.1, 0.2, -0.3])
    result = Evaluation(pairs, scores_of(pairs), {"Synthetic 01": scores_of(pairs)})
    path = tmp_path / "metrics.json"
    result.write_json(path)
    assert json.loads(path.read_text())["pooled"]["glacier_wide"]["annual"]["n"] == 3
    monkeypatch.setattr(evaluate_module.json, "dump", _failing_dump)
    with unchanged([tmp_path]), pytest.raises(OSError, match="disk full"):
        result.write_json(path)


def test_pool_scores_metric_files_are_written_atomically(tmp_path, monkeypatch):
    files = write_glacier_json(_pairs([0.1, 0.2, -0.3]), tmp_path / "glaciers")
    out = tmp_path / "pooled"
    args = argparse.Namespace(files=files, output=str(out), title="")
    assert commands.run_pool_scores(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "metrics.md", "pairs.csv", "scatter.png"]
    names, before = sorted(p.name for p in out.iterdir()), (out / "metrics.json").read_bytes()
    monkeypatch.setattr(commands.json, "dump", _failing_dump)
    with pytest.raises(OSError, match="disk full"):
        commands.run_pool_scores(args)
    # metrics.md was rewritten whole before the failure; metrics.json is as before, no temporary left
    assert sorted(p.name for p in out.iterdir()) == names
    assert (out / "metrics.json").read_bytes() == before
