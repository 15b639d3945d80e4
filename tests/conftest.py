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


# --- OGGM integration (oggm_glaunti.integration) ---------------------------------------
# salem downloads its sample data when first imported unless a placeholder exists: create
# it now, before any test module imports oggm or salem.
from oggm_glaunti.integration.session.offline import prepare_salem_cache  # noqa: E402

prepare_salem_cache()


@pytest.fixture(scope="session")
def oggm_sample_data() -> Path:
    """OGGM's sample-data folder (from $GLAUNTI_OGGM_SAMPLE_DATA); fails if missing."""
    path = Path(os.environ["GLAUNTI_OGGM_SAMPLE_DATA"])
    if not path.is_dir():
        pytest.fail(
            f"OGGM sample data not found at {path} ($GLAUNTI_OGGM_SAMPLE_DATA): the OGGM "
            "tests run offline from the project's shared/ folder beside the checkout",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def hef_gdir(oggm_sample_data, tmp_path_factory):
    """Hintereisferner, built offline once per session: calibrated (MonthlyTIModel, WGMS),
    inverted, with model flowlines (see ``hintereisferner_gdir``)."""
    from oggm_glaunti.integration.session.sample_glaciers import hintereisferner_gdir

    return hintereisferner_gdir(tmp_path_factory.mktemp("hef"))
