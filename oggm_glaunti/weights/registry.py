"""The pretrained variants A-D, pinned to the published upstream files.

Lookup order for a variant's file:

1. the folder named by the environment variable ``GLAUNTI_WEIGHTS_DIR`` (offline machines,
   tests and CI point it at a copy of the published ``params/`` folder);
2. otherwise a download, once, with :mod:`pooch` into the user cache
   (``pooch.os_cache('oggm-glaunti')``), from the pinned upstream commit.

Either way the SHA-256 is checked against the published value before the file is read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..core.models import Model
from .errors import WeightsError
from .published import read_published

WEIGHTS_DIR_ENV = "GLAUNTI_WEIGHTS_DIR"
UPSTREAM_COMMIT = "764da514d6ecbb82736ee7048c814c23eccfd9b4"
UPSTREAM_URL = f"https://github.com/konstantin-a-maslov/glaunti/raw/{UPSTREAM_COMMIT}/params/{{name}}"

SHA256 = {
    "A": "c85fe1214ffba62dd902b13d8b3f60d5c719e4d435f0d346cabcf6a367c31600",
    "B": "32fbb1d6e4362fb55b0029ad7c936a26bf2aa219716a8f54e3f1094f1ddabea8",
    "C": "fd70a9367a431b470fec549a9de2e177d2dfd297e4dcb435a725db2cfc0e5d9d",
    "D": "3a23d92ac04bec67623174e26e04d1ca7081080a4a2d85e4a55d114fb4a58774",
}


def _variant(variant: str) -> str:
    v = str(variant).upper()
    if v not in SHA256:
        raise ValueError(f"unknown variant {variant!r}; expected one of {sorted(SHA256)}")
    return v


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pretrained_path(variant: str) -> Path:
    """Local path of the verified published file of ``variant`` (downloading it if needed)."""
    v = _variant(variant)
    name = f"{v.lower()}.eqx"
    folder = os.environ.get(WEIGHTS_DIR_ENV)
    if folder:
        path = Path(folder) / name
        if not path.exists():
            raise WeightsError(
                f"{WEIGHTS_DIR_ENV}={folder} has no {name}; copy the published params/ folder "
                f"there or unset {WEIGHTS_DIR_ENV} to download it"
            )
    else:
        import pooch  # imported here: only the download path needs it

        url = UPSTREAM_URL.format(name=name)
        try:
            path = Path(pooch.retrieve(
                url, known_hash=f"sha256:{SHA256[v]}",
                fname=f"{UPSTREAM_COMMIT[:8]}-{name}", path=pooch.os_cache("oggm-glaunti"),
                progressbar=False,
            ))
        except (OSError, ValueError) as exc:  # requests' errors are OSErrors; pooch's hash check a ValueError
            raise WeightsError(
                f"could not download the published variant {v} weights from {url} ({exc}); on a "
                f"machine without network, set {WEIGHTS_DIR_ENV} to a folder holding {name}"
            ) from exc
    digest = sha256_of(path)
    if digest != SHA256[v]:
        raise WeightsError(
            f"{path} has SHA-256 {digest}, expected {SHA256[v]} for the published variant {v}: "
            "the file is corrupted or not the published one; replace it with the original"
        )
    return path


def load_pretrained(variant: str = "D") -> Model:
    """The published model of ``variant`` ('A', 'B', 'C' or 'D')."""
    v = _variant(variant)
    return read_published(pretrained_path(v), v)
