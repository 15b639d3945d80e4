"""The README's main command: ``oggm-glaunti demo`` writes every promised output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

OUTPUTS = ("report.md", "results.json", "specific_mb.csv", "glaunti_gridded_smb.nc",
           "smb_map.png", "correction_maps.png", "annual_mb.png", "mb_profile.png", "volume_area.png",
           "evolving_geometry.png", "glaunti_geometry_GlaUnTI_evolving_CCSM4_rcp26.nc")


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "results"
    # the installed console script, as a newcomer runs it (the environment points offline)
    command = [sys.executable, "-c", "import sys; from oggm_glaunti.cli import main; sys.exit(main())",
               "demo", "--output", str(out), "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return out, done.stdout


@pytest.mark.slow
def test_demo_writes_every_output(demo_output):
    out, stdout = demo_output
    for name in OUTPUTS:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    projections = sorted(p.name for p in out.glob("model_diagnostics_*.nc"))
    assert projections == ["model_diagnostics_GlaUnTI_CCSM4_rcp26.nc",
                           "model_diagnostics_GlaUnTI_evolving_CCSM4_rcp26.nc",
                           "model_diagnostics_MonthlyTIModel_CCSM4_rcp26.nc"]
    assert "| GlaUnTI, annual |" in stdout  # the report is printed


@pytest.mark.slow
def test_demo_comparison_has_numbers(demo_output):
    out, _ = demo_output
    results = json.loads((out / "results.json").read_text())
    for model in ("GlaUnTI", "MonthlyTIModel"):
        annual = results["comparison"][f"{model}, annual"]
        assert annual["n"] == 50  # WGMS 1953-2002
        for score in ("r", "rmse", "mae", "bias"):
            assert np.isfinite(annual[score]), (model, score)
        # both are calibrated on this series: small bias, clear correlation
        assert abs(annual["bias"]) < 100 and annual["r"] > 0.5, annual
        projection = results["projection"][model]
        assert 0 < projection["volume_end_km3"] < projection["volume_start_km3"]
    static, evolving = results["projection"]["GlaUnTI"], results["projection"]["GlaUnTI evolving"]
    assert evolving["volume_start_km3"] == static["volume_start_km3"]  # the same glacier in 2004
    assert 0 <= evolving["volume_end_km3"] < evolving["volume_start_km3"]
    assert evolving["volume_end_km3"] != static["volume_end_km3"]  # the corrector saw another glacier
    report = (out / "report.md").read_text()
    table = [line for line in report.splitlines() if line.startswith("| GlaUnTI, annual")]
    assert len(table) == 1 and all(cell.strip() not in ("", "–") for cell in table[0].split("|")[1:-1])
