"""Per-glacier fine-tuning of variant A (transfer learning, Maslov et al., egusphere-2026-515).

Start from a variant A model (default: the published one), train all 7 TI parameters on
one glacier's training years with Adam (lr 1e-2, 250 full-sequence steps, gradient norm
clipped at 5), and report the data error (point + lambda1 * glacier-wide) and skill on the
training years and on the validation years that follow them (the same run continued).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Optional

import equinox as eqx
import numpy as np
import optax
from tqdm.auto import tqdm

from ..core.models import TIModel
from ..weights import load_pretrained, save_model
from .evaluate import evaluate
from .gradients import sequence_loss, sequence_value_and_grad
from .initialisation import split_model
from .losses import LossWeights
from .records import GlacierData
from .sequences import prepare_sequence


@dataclass
class FinetuneResult:
    """What :func:`finetune` returns.

    Attributes
    ----------
    model : the fine-tuned variant A model.
    parameters : its constrained TI values (``TIValues`` names, floats).
    stored : its stored (unconstrained) values, by stored name.
    history : training loss of each step (before that step's update).
    train_error, val_error : data error (point + lambda1 * glacier-wide) of the final model
        on the training and validation years (val None without validation years).
    initial_train_error, initial_val_error : the same for the starting model.
    train_skill, val_skill : pooled scores (:func:`~oggm_glaunti.training.evaluate.evaluate`)
        of the final model.
    """

    model: TIModel
    parameters: dict[str, float]
    stored: dict[str, float]
    history: list[float]
    train_error: float
    val_error: Optional[float]
    initial_train_error: float
    initial_val_error: Optional[float]
    train_skill: dict = field(default_factory=dict)
    val_skill: dict = field(default_factory=dict)

    def save(self, path: str | os.PathLike, notes: str = "") -> None:
        """Save the model in our weights format (:func:`oggm_glaunti.weights.save_model`)."""
        save_model(self.model, path, notes=notes or "fine-tuned variant A")

    def summary(self) -> dict:
        """JSON-ready summary (parameters and errors)."""
        return {"parameters": self.parameters, "stored": self.stored,
                "train_error": self.train_error, "val_error": self.val_error,
                "initial_train_error": self.initial_train_error,
                "initial_val_error": self.initial_val_error,
                "train_skill": self.train_skill, "val_skill": self.val_skill}


def finetune(
    glacier: GlacierData,
    model: Optional[TIModel] = None,
    lr: float = 1e-2,
    steps: int = 250,
    train_years: tuple[int, int] = (1995, 2012),
    val_years: Optional[tuple[int, int]] = (2013, 2018),
    spinup_years: int = 5,
    clip: float = 5.0,
    weights: LossWeights = LossWeights(),
    chunk_years: Optional[int] = None,
    progress: bool = False,
    callback: Optional[Callable[[int, float], None]] = None,
) -> FinetuneResult:
    """Fine-tune variant A on one glacier.

    Parameters
    ----------
    glacier : the glacier.
    model : the starting variant A model; default the published one.
    lr, steps, clip : Adam learning rate, number of steps, global-norm clip.
    train_years : inclusive range of the scored training years (clipped to the data).
    val_years : inclusive range of validation years, scored on the run continued from the
        training run's start; None for no validation.
    spinup_years : unscored years before the first training year.
    weights : loss weights (the TI prior, weight ``weights.ti_prior``, pulls towards the
        prior of Maslov et al., egusphere-2026-515, as in the regional calibration; 0 turns it off).
    chunk_years : memory control (see :func:`~oggm_glaunti.training.sequences.prepare_sequence`).
    progress : show a progress bar with the current loss.
    callback : ``callback(step, loss)`` after each step.

    Raises
    ------
    ValueError
        If the model is not variant A, ``steps`` < 0, or a year range has nothing to score.
    """
    model = load_pretrained("A") if model is None else model
    if not isinstance(model, TIModel):
        raise ValueError(f"fine-tuning needs a variant A model; got variant {model.variant}")
    if steps < 0 or not lr > 0:
        raise ValueError(f"need steps >= 0 and lr > 0; got steps={steps}, lr={lr}")
    train_seq = prepare_sequence(glacier, spinup_years, train_years[0], train_years[1], chunk_years,
                                 tau=weights.tau)
    val_seq = None
    if val_years is not None:
        val_seq = prepare_sequence(glacier, spinup_years, val_years[0], val_years[1], chunk_years,
                                   run_from=train_seq.years[0], tau=weights.tau)

    trainable, frozen = split_model(model, train_ti=True)
    optimiser = optax.chain(optax.clip_by_global_norm(clip), optax.adam(lr))
    opt_state = optimiser.init(trainable)

    def error(t, sequence):
        return None if sequence is None else float(
            sequence_loss(t, frozen, sequence, weights)[1].data(weights))

    initial = (error(trainable, train_seq), error(trainable, val_seq))
    history = []
    bar = tqdm(range(steps), desc=f"fine-tune {glacier.name}", disable=not progress)
    for step in bar:
        loss, _, grads = sequence_value_and_grad(trainable, frozen, train_seq, weights, prior=True)
        updates, opt_state = optimiser.update(grads, opt_state, trainable)
        trainable = eqx.apply_updates(trainable, updates)
        history.append(float(loss))
        bar.set_postfix(loss=f"{history[-1]:.4g}")
        if callback:
            callback(step, history[-1])

    tuned = eqx.combine(trainable, frozen)
    skill = lambda first, last: evaluate(  # noqa: E731
        tuned, [glacier], spinup_years, first, last, chunk_years, run_from=train_seq.years[0]).pooled
    values = tuned.ti.constrained()
    return FinetuneResult(
        model=tuned,
        parameters={k: float(np.asarray(getattr(values, k))) for k in values._fields},
        stored=tuned.ti.as_stored_dict(),
        history=history,
        train_error=error(trainable, train_seq), val_error=error(trainable, val_seq),
        initial_train_error=initial[0], initial_val_error=initial[1],
        train_skill=skill(train_seq.selection.scored[0], train_seq.selection.scored[-1]),
        val_skill={} if val_seq is None else skill(val_seq.selection.scored[0],
                                                   val_seq.selection.scored[-1]),
    )
