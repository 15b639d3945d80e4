"""Everything a training run needs, in one dataclass (defaults: the published protocol)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

from ..core.models import VARIANTS
from .losses import LossWeights

#: Published epochs per variant (Maslov et al., egusphere-2026-515); B was trained twice as long.
DEFAULT_EPOCHS = {"A": 50, "B": 100, "C": 50, "D": 50}

#: Fields that may differ when a run is resumed (they do not change what was computed so far).
RESUMABLE_CHANGES = frozenset({"epochs", "resume", "checkpoint_dir", "progress"})


@dataclass(frozen=True)
class TrainConfig:
    """One training run.

    Attributes
    ----------
    variant : 'A', 'B', 'C' or 'D'.
    lr : Adam learning rate.
    epochs : number of epochs; None = the published count (50, B 100).
    clip : global gradient-norm clip applied before Adam.
    seed : seeds the fresh weights (corrector, GRU) and the mini-batch order.
    train_folds, val_folds : folds of the training and validation glaciers (published:
        training 2-5, validation 1, test 0 never touched).
    train_glaciers, val_glaciers : explicit glacier names instead of folds (both or neither).
    init_weights : weights file (our format) to start from. A: its TI parameters; B: its
        GRU; C: the TI parameters of an A (or C) file, plus its corrector if it is a C or D
        file; D: TI and corrector of a C (or D) file. None: the published chain (A from the
        prior, B fresh, C from the published A, D from the published C).
    train_ti : also train the TI parameters of C/D (published: frozen). Always on for A.
    spinup_years : unscored years run before the first scored year.
    first_year, last_year : inclusive range of scored years (None: all after the spin-up).
    stochastic : mini-batch mode: each step uses the summed gradient of ``batch_glaciers``
        glaciers drawn without replacement; ``steps_per_epoch`` steps (None: enough to
        visit every training glacier once). Off: the published full-batch protocol, one
        step per epoch on the gradient summed over all training glaciers.
    batch_glaciers, steps_per_epoch : see ``stochastic``.
    chunk_years : years per forcing chunk (memory, see
        :func:`~oggm_glaunti.training.sequences.prepare_sequence`); None chooses by size.
    checkpoint_dir : folder of the checkpoint (``checkpoint.npz``), the best model
        (``best.npz``, our weights format) and the history (``history.json``); None keeps
        nothing on disk.
    checkpoint_glaciers : also checkpoint inside a step after every this many glaciers
        (their partial gradient sum included); 0 checkpoints after each step only.
    resume : continue from the checkpoint in ``checkpoint_dir`` if there is one.
    weights : loss weights.
    progress : show tqdm progress bars.
    """

    variant: str = "C"
    lr: float = 1e-3
    epochs: Optional[int] = None
    clip: float = 5.0
    seed: int = 0
    train_folds: tuple[int, ...] = (2, 3, 4, 5)
    val_folds: tuple[int, ...] = (1,)
    train_glaciers: Optional[tuple[str, ...]] = None
    val_glaciers: Optional[tuple[str, ...]] = None
    init_weights: Optional[str] = None
    train_ti: bool = False
    spinup_years: int = 5
    first_year: Optional[int] = None
    last_year: Optional[int] = None
    stochastic: bool = False
    batch_glaciers: int = 4
    steps_per_epoch: Optional[int] = None
    chunk_years: Optional[int] = None
    checkpoint_dir: Optional[str] = None
    checkpoint_glaciers: int = 0
    resume: bool = False
    weights: LossWeights = field(default_factory=LossWeights)
    progress: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "variant", str(self.variant).upper())
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; expected one of {VARIANTS}")
        for name in ("lr", "clip"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.epochs is not None and self.epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {self.epochs}")
        if self.batch_glaciers < 1:
            raise ValueError(f"batch_glaciers must be >= 1, got {self.batch_glaciers}")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1, got {self.steps_per_epoch}")
        if (self.train_glaciers is None) != (self.val_glaciers is None):
            raise ValueError("give both train_glaciers and val_glaciers, or neither (folds are used)")
        if self.resume and not self.checkpoint_dir:
            raise ValueError("resume=True needs a checkpoint_dir")
        if self.checkpoint_glaciers < 0:
            raise ValueError(f"checkpoint_glaciers must be >= 0, got {self.checkpoint_glaciers}")
        for name in ("train_folds", "val_folds", "train_glaciers", "val_glaciers"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))

    @property
    def n_epochs(self) -> int:
        return DEFAULT_EPOCHS[self.variant] if self.epochs is None else int(self.epochs)

    @property
    def trains_ti(self) -> bool:
        """Whether the TI parameters are trained (and the TI prior applies)."""
        return self.variant == "A" or (self.variant in "CD" and self.train_ti)

    def to_dict(self) -> dict:
        """JSON-ready form (stored in checkpoints)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        data = dict(data)
        data["weights"] = LossWeights(**data.get("weights", {}))
        return cls(**data)

    def differences(self, other: "TrainConfig") -> list[str]:
        """Names of fields that differ and would change the computation (resume check)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return sorted(k for k in mine if k not in RESUMABLE_CHANGES and mine[k] != theirs[k])
