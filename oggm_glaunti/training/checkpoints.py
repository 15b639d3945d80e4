"""Training checkpoints: everything needed to continue a run exactly, in one atomic file.

``checkpoint.npz`` holds two entries:

- ``tree``: ``eqx.tree_serialise_leaves`` bytes of the array state - the trainable part of
  the model, the optimiser state, the best trainable part so far, the partial gradient sum
  of an unfinished step and the RNG key;
- ``state``: UTF-8 JSON of the counters (epochs done, step within the epoch, glaciers
  done within the step, partial loss sums), the best validation error and its epoch, the
  history, and the run's :class:`~oggm_glaunti.training.config.TrainConfig`.

It is written to a temporary file in the same folder and renamed with :func:`os.replace`,
so an interruption leaves either the previous or the new checkpoint, never half of one.
Reading needs a *like* tree of the same structure (the run's freshly initialised state),
as ``eqx.tree_deserialise_leaves`` does.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field, replace
from typing import Any, Optional

import equinox as eqx
import numpy as np

from ..atomic import atomic_path
from .config import TrainConfig

CHECKPOINT_NAME = "checkpoint.npz"
BEST_NAME = "best.npz"
HISTORY_NAME = "history.json"
CHECKPOINT_FORMAT = "oggm-glaunti-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass
class TrainState:
    """The whole mutable state of a training run.

    Attributes
    ----------
    trainable : the trainable part of the model (``eqx.partition``).
    opt_state : the optimiser's state.
    best : the trainable part with the best validation error so far.
    partial_grads : gradient summed over the glaciers done in the current step.
    key : the run's RNG key (uint32[2]); epochs derive theirs with ``fold_in``.
    epoch : epochs completed.
    step : steps completed within the current epoch.
    position : glaciers done within the current step.
    partial : loss sums over those glaciers (``loss``, ``point``, ``glacier_wide``,
        ``regulariser``) and over the epoch's finished steps (``epoch_*``).
    best_val : best validation error (inf before any).
    best_epoch : the epoch it was reached (0 = the starting model).
    history : one dict per finished epoch.
    """

    trainable: Any
    opt_state: Any
    best: Any
    partial_grads: Any
    key: Any
    epoch: int = 0
    step: int = 0
    position: int = 0
    partial: dict = field(default_factory=dict)
    best_val: float = float("inf")
    best_epoch: int = 0
    history: list = field(default_factory=list)

    def arrays(self) -> tuple:
        return (self.trainable, self.opt_state, self.best, self.partial_grads, self.key)

    def counters(self) -> dict:
        return {
            "epoch": self.epoch, "step": self.step, "position": self.position,
            "partial": self.partial, "best_val": _json_float(self.best_val),
            "best_epoch": self.best_epoch, "history": self.history,
        }


def _json_float(x: float) -> Optional[float]:
    return None if not np.isfinite(x) else float(x)


def checkpoint_path(folder: str | os.PathLike) -> str:
    return os.path.join(os.fspath(folder), CHECKPOINT_NAME)


def _write_atomically(path: str, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def save_checkpoint(folder: str | os.PathLike, state: TrainState, config: TrainConfig) -> str:
    """Write ``state`` (and ``config``) atomically to ``folder/checkpoint.npz``; also
    rewrite ``history.json``. Returns the checkpoint's path."""
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, state.arrays())
    meta = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
            "config": config.to_dict(), **state.counters()}
    tree = np.frombuffer(buffer.getvalue(), np.uint8)
    text = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    path = checkpoint_path(folder)
    _write_atomically(path, lambda f: np.savez(f, tree=tree, state=text))
    history = json.dumps({"best_epoch": state.best_epoch, "best_val": _json_float(state.best_val),
                          "history": state.history}, indent=1).encode()
    _write_atomically(os.path.join(os.fspath(folder), HISTORY_NAME), lambda f: f.write(history))
    return path


def load_checkpoint(folder: str | os.PathLike, like: TrainState, config: TrainConfig) -> TrainState:
    """Read the checkpoint in ``folder`` into a state shaped like ``like``.

    Raises
    ------
    ValueError
        If the file is not a checkpoint, or was written by a run whose configuration differs
        from ``config`` in a field that changes the computation (the epoch count may differ).
    """
    path = checkpoint_path(folder)
    try:
        with np.load(path, allow_pickle=False) as archive:
            tree, text = archive["tree"].tobytes(), archive["state"].tobytes()
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable training checkpoint ({exc})") from None
    meta = json.loads(text.decode())
    if meta.get("format") != CHECKPOINT_FORMAT or meta.get("version", 0) > CHECKPOINT_VERSION:
        raise ValueError(f"{path}: not an {CHECKPOINT_FORMAT} version <= {CHECKPOINT_VERSION} file")
    saved = TrainConfig.from_dict(meta["config"])
    changed = config.differences(saved)
    if changed:
        raise ValueError(
            f"{path} was written by a run with a different configuration ({', '.join(changed)}: "
            f"{[getattr(saved, k) for k in changed]} there, {[getattr(config, k) for k in changed]} "
            "now); resume with the same settings or use another checkpoint_dir"
        )
    trainable, opt_state, best, partial_grads, key = eqx.tree_deserialise_leaves(
        io.BytesIO(tree), like.arrays())
    best_val = meta["best_val"]
    return replace(
        like, trainable=trainable, opt_state=opt_state, best=best, partial_grads=partial_grads,
        key=key, epoch=meta["epoch"], step=meta["step"], position=meta["position"],
        partial=meta["partial"], best_val=float("inf") if best_val is None else best_val,
        best_epoch=meta["best_epoch"], history=meta["history"],
    )


def has_checkpoint(folder: Optional[str | os.PathLike]) -> bool:
    return folder is not None and os.path.exists(checkpoint_path(folder))
