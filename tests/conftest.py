"""Shared test set-up: point the package at the offline reference data in ../shared.

CI clones the repository with ``shared/`` beside it; developers have the same layout. The
environment variables are only set when the user has not set them already. A missing
folder fails loudly: these tests never skip for lack of data.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("GLAUNTI_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))
REFERENCE = SHARED / "glaunti-reference"
SAMPLE_DATA = SHARED / "oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94"

os.environ.setdefault("GLAUNTI_WEIGHTS_DIR", str(REFERENCE / "params"))
os.environ.setdefault("GLAUNTI_OGGM_SAMPLE_DATA", str(SAMPLE_DATA))


def _require(path: Path) -> Path:
    if not path.exists():
        raise RuntimeError(
            f"test data folder {path} is missing: the tests need the project's shared/ folder "
            "beside the checkout (or GLAUNTI_SHARED_DIR pointing at it)"
        )
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The GlaUnTI reference folder (published weights, golden vectors)."""
    return _require(REFERENCE)


@pytest.fixture(scope="session")
def golden_dir(reference_dir: Path) -> Path:
    return _require(reference_dir / "golden")
