"""The calibration skill's scores are metrics.skill's with its own edge cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from oggm_glaunti.integration.calibration.skill import scores
from oggm_glaunti.metrics import skill


def test_scores_keys_and_edge_cases():
    assert scores([], []) == {"n": 0}
    assert scores([np.nan, 1.0], [2.0, np.nan]) == {"n": 0}
    two = scores([1.0, 2.0], [1.0, 3.0])
    assert set(two) == {"n", "rmse", "bias", "r"} and two["n"] == 2 and math.isnan(two["r"])
    assert two["rmse"] == pytest.approx(math.sqrt(0.5)) and two["bias"] == pytest.approx(-0.5)
    assert math.isnan(scores([1.0, 1.0, 1.0], [0.0, 1.0, 2.0])["r"])  # no spread
    m, o = np.array([0.1, -0.4, 0.3, np.nan, -1.0]), np.array([0.0, -0.5, 0.5, 0.2, -0.8])
    full = scores(m, o)
    ok = np.isfinite(m)
    assert full["n"] == 4 and full["r"] == pytest.approx(np.corrcoef(m[ok], o[ok])[0, 1], rel=1e-12)
    assert full["bias"] == pytest.approx(np.mean(m[ok] - o[ok]), rel=1e-12)


def test_metrics_skill_keeps_r_of_two_pairs_by_default():
    assert skill([1.0, 2.0], [1.0, 3.0])["r"] == pytest.approx(1.0)
    assert math.isnan(skill([1.0, 2.0], [1.0, 3.0], min_pairs_for_r=3)["r"])

