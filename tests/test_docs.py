"""The documentation builds with Sphinx, warnings as errors and every cross-reference checked
(the command of docs/conf.py), offline, into a temporary folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

pytestmark = pytest.mark.slow  # a full build takes ~20-30 s


def test_docs_build_without_warnings(tmp_path):
    out = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
               "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=DOCS.parent)
    if proc.returncode != 0:
        warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
        pytest.fail(f"sphinx exited with {proc.returncode}; {len(warnings)} warning(s):\n"
                    + "\n".join(warnings or proc.stderr.splitlines()[-40:])
                    + f"\n\ncommand: {' '.join(command)}", pytrace=False)

    for page in ("index", "getting_started", "concepts", "oggm_workflow", "training", "weights",
                 "limitations", "api/index", "api/core", "api/integration", "api/training"):
        assert (out / f"{page}.html").is_file(), page
    # generated at build time: the settings table, the commands' help, the module pages
    concepts = (out / "concepts.html").read_text()
    assert "glaunti_daily_seed" in concepts and "glaunti_band_dz" in concepts
    assert "--checkpoint-glaciers" in (out / "training.html").read_text()
    integration = (out / "api" / "integration.html").read_text()
    assert 'id="oggm_glaunti.integration.run.massbalance.GlaUnTIMassBalance"' in integration
    assert 'id="oggm_glaunti.integration.climate.climate_daily.process_daily_from_monthly"' in integration
