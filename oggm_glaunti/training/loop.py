"""The training loop of the paper (Maslov et al., egusphere-2026-515), resumable.

Full-batch protocol (default): each epoch, the gradient of every training glacier's loss
(:func:`~oggm_glaunti.training.gradients.sequence_value_and_grad`) is summed; one step of
``clip_by_global_norm(clip)`` then Adam is taken; the validation glaciers' mean data error
(point + lambda1 * glacier-wide, no regularisers) is computed for the new model, and the
model with the lowest one is kept (the starting model counts as epoch 0).

Stochastic option: several steps per epoch, each on a mini-batch of glaciers drawn without
replacement from a permutation derived from the seed and the epoch number.

Divergence: a non-finite training loss, gradient, parameter or validation error stops the
run with :class:`TrainingDiverged`; ``best.npz`` keeps the last finite best model, and no
non-finite loss, gradient or parameter reaches the checkpoint.

Checkpoints (see :mod:`~oggm_glaunti.training.checkpoints`) are written after every step
and, optionally, every few glaciers inside a step; ``resume=True`` restarts at the glacier
after the last checkpoint and reproduces the uninterrupted run.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..core.models import Model
from ..weights import save_model
from .checkpoints import BEST_NAME, TrainState, has_checkpoint, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .gradients import sequence_loss, sequence_value_and_grad
from .initialisation import initial_model, split_model
from .records import GlacierData
from .sequences import GlacierSequence, prepare_sequence

#: ``callback(event, info)``: event 'glacier' (after each glacier's gradient) or 'epoch'.
Callback = Callable[[str, dict], None]
_TERMS = ("loss", "point", "glacier_wide", "regulariser")


class TrainingDiverged(RuntimeError):
    """Training produced a non-finite loss, gradient, parameter or validation error.

    Attributes
    ----------
    epoch : the epoch (1-based) in which it happened.
    best_epoch, best_val : the last finite best model (saved as ``best.npz`` when the run
        has a checkpoint folder).
    """

    def __init__(self, what: str, epoch: int, best_epoch: int, best_val: float, config: TrainConfig):
        saved = (f"; {config.checkpoint_dir}/{BEST_NAME} keeps the best finite model (epoch "
                 f"{best_epoch}, validation error {best_val:.5g})") if config.checkpoint_dir else ""
        super().__init__(
            f"training diverged in epoch {epoch}: {what}{saved}. Lower the learning rate "
            f"(lr={config.lr:g}) or the gradient clip (clip={config.clip:g}) and train again "
            "(a fresh output folder, or --init-weights the best model)")
        self.epoch, self.best_epoch, self.best_val = epoch, best_epoch, best_val


def _all_finite(tree) -> bool:
    return all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree_util.tree_leaves(tree)
               if eqx.is_inexact_array(x))


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    model : the model of the best validation epoch.
    last_model : the model after the last epoch.
    history : one dict per epoch (train loss and terms, validation error, gradient norm).
    best_epoch, best_val : where and how good the best model was.
    """

    model: Model
    last_model: Model
    history: list
    best_epoch: int
    best_val: float


def split_glaciers(glaciers: Sequence[GlacierData], config: TrainConfig) -> tuple[list[int], list[int]]:
    """Indices of the training and validation glaciers (by names or by folds)."""
    if config.train_glaciers is not None:
        names = {g.name: i for i, g in enumerate(glaciers)}
        unknown = sorted(set(config.train_glaciers + config.val_glaciers) - set(names))
        if unknown:
            raise ValueError(f"glaciers {unknown} are not in the dataset")
        return ([names[n] for n in config.train_glaciers], [names[n] for n in config.val_glaciers])
    train = [i for i, g in enumerate(glaciers) if g.fold in config.train_folds]
    val = [i for i, g in enumerate(glaciers) if g.fold in config.val_folds]
    if not train:
        folds = sorted({g.fold for g in glaciers}, key=str)
        raise ValueError(f"no training glacier: training folds {list(config.train_folds)} were asked "
                         f"for, but the {len(glaciers)} glacier(s) given are in folds {folds} only; "
                         "choose training folds that exist in the dataset (its index.csv)")
    return train, val


def epoch_batches(key: jax.Array, epoch: int, train: list[int], config: TrainConfig) -> list[list[int]]:
    """The glaciers of each step of ``epoch`` (a pure function of key, epoch and config)."""
    if not config.stochastic:
        return [list(train)]
    size = min(config.batch_glaciers, len(train))
    steps = config.steps_per_epoch or math.ceil(len(train) / size)
    epoch_key = jax.random.fold_in(key, epoch)
    order: list[int] = []
    for k in range(math.ceil(steps * size / len(train))):  # fresh permutations as needed
        perm = np.asarray(jax.random.permutation(jax.random.fold_in(epoch_key, k), len(train)))
        order += [train[i] for i in perm]
    return [order[s * size:(s + 1) * size] for s in range(steps)]


def validation_error(trainable, frozen, sequences: list[GlacierSequence], config: TrainConfig) -> float:
    """Mean over glaciers of the data error (point + lambda1 * glacier-wide)."""
    if not sequences:
        return float("nan")
    errors = [float(sequence_loss(trainable, frozen, s, config.weights)[1].data(config.weights))
              for s in sequences]
    return float(np.mean(errors))


def _finite_or_none(x: float) -> Optional[float]:
    return float(x) if np.isfinite(x) else None


def _global_norm(tree) -> float:
    return float(jnp.sqrt(sum(jnp.sum(x**2) for x in jax.tree_util.tree_leaves(tree))))


def _zeros(tree):
    return jax.tree_util.tree_map(jnp.zeros_like, tree)


def _start(config: TrainConfig):
    """Fresh state (before any epoch), frozen part and optimiser."""
    key = jax.random.PRNGKey(config.seed)
    init_key, data_key = jax.random.split(key)
    model = initial_model(config.variant, init_key, config.init_weights)
    trainable, frozen = split_model(model, config.trains_ti)
    optimiser = optax.chain(optax.clip_by_global_norm(config.clip), optax.adam(config.lr))
    state = TrainState(trainable, optimiser.init(trainable), trainable, _zeros(trainable), data_key,
                       partial=_empty_partial())
    return state, frozen, optimiser


def _empty_partial() -> dict:
    return {**{k: 0.0 for k in _TERMS}, **{f"epoch_{k}": 0.0 for k in _TERMS}, "epoch_count": 0}


def train(config: TrainConfig, glaciers: Sequence[GlacierData],
          callback: Optional[Callback] = None) -> TrainResult:
    """Train ``config.variant`` on ``glaciers`` (see the module docstring).

    Parameters
    ----------
    config : the run's settings.
    glaciers : all glaciers; training and validation ones are picked by fold or name.
    callback : called as ``callback(event, info)`` after each glacier ('glacier') and each
        epoch ('epoch'); an exception raised there stops the run (the checkpoint stays).

    Returns
    -------
    :class:`TrainResult`.
    """
    train_ids, val_ids = split_glaciers(glaciers, config)
    prepare = lambda i: prepare_sequence(  # noqa: E731
        glaciers[i], config.spinup_years, config.first_year, config.last_year,
        config.chunk_years, tau=config.weights.tau)
    sequences = {i: prepare(i) for i in sorted(set(train_ids) | set(val_ids))}
    val = [sequences[i] for i in val_ids]
    state, frozen, optimiser = _start(config)
    folder = config.checkpoint_dir
    if config.resume and has_checkpoint(folder):
        state = load_checkpoint(folder, state, config)
    else:  # epoch 0: the starting model is the first candidate for the best
        error = validation_error(state.trainable, frozen, val, config)
        if val and not np.isfinite(error):
            raise ValueError(
                f"the starting model of variant {config.variant} has a non-finite validation "
                f"error ({error}): check the initial weights ({config.init_weights or 'published'}) "
                "and the validation glaciers' forcing")
        state.history.append({"epoch": 0, "val_error": _finite_or_none(error)})
        state.best_val = error if np.isfinite(error) else float("inf")
        if folder:
            os.makedirs(folder, exist_ok=True)
            save_model(eqx.combine(state.best, frozen), f"{folder}/{BEST_NAME}", notes="epoch 0")
            save_checkpoint(folder, state, config)

    epochs = tqdm(range(state.epoch, config.n_epochs), desc=f"train {config.variant}",
                  disable=not config.progress, initial=state.epoch, total=config.n_epochs)
    for epoch in epochs:
        started = time.perf_counter()
        batches = epoch_batches(state.key, epoch, train_ids, config)
        for step in range(state.step, len(batches)):
            state = _run_step(state, frozen, optimiser, [sequences[i] for i in batches[step]],
                              config, callback, epoch)
        _finish_epoch(state, frozen, val, config, epoch, time.perf_counter() - started)
        last = state.history[-1]
        epochs.set_postfix(train=f"{last['train_loss']:.4g}", best=state.best_epoch,
                           val="-" if last["val_error"] is None else f"{last['val_error']:.4g}")
        if folder:
            save_checkpoint(folder, state, config)
        if callback:
            callback("epoch", dict(state.history[-1]))
    return TrainResult(eqx.combine(state.best, frozen), eqx.combine(state.trainable, frozen),
                       state.history, state.best_epoch, state.best_val)


def _run_step(state: TrainState, frozen, optimiser, batch: list[GlacierSequence],
              config: TrainConfig, callback: Optional[Callback], epoch: int) -> TrainState:
    """Accumulate the batch's gradients from ``state.position`` on, then take one step."""
    grads = state.partial_grads
    bar = tqdm(batch, desc=f"epoch {epoch + 1}", disable=not config.progress, leave=False,
               initial=state.position, total=len(batch))
    for pos in range(state.position, len(batch)):
        sequence = batch[pos]
        loss, terms, g = sequence_value_and_grad(state.trainable, frozen, sequence, config.weights,
                                                 prior=config.trains_ti)
        if not (np.isfinite(float(loss)) and _all_finite(g)):
            raise TrainingDiverged(
                f"glacier {sequence.name} gave a non-finite loss ({float(loss):.4g}) or gradient",
                epoch + 1, state.best_epoch, state.best_val, config)
        grads = jax.tree_util.tree_map(jnp.add, grads, g)
        values = dict(loss=float(loss), point=float(terms.point),
                      glacier_wide=float(terms.glacier_wide), regulariser=float(terms.regulariser))
        for k, v in values.items():
            state.partial[k] += v
        state.position = pos + 1
        state.partial_grads = grads
        bar.update(1)
        bar.set_postfix(glacier=sequence.name, loss=f"{values['loss']:.4g}")
        if config.checkpoint_dir and config.checkpoint_glaciers and state.position < len(batch) \
                and state.position % config.checkpoint_glaciers == 0:
            save_checkpoint(config.checkpoint_dir, state, config)
        if callback:
            callback("glacier", {"epoch": epoch, "glacier": sequence.name, **values})
    bar.close()
    state.partial["grad_norm"] = _global_norm(grads)
    updates, opt_state = optimiser.update(grads, state.opt_state, state.trainable)
    stepped = eqx.apply_updates(state.trainable, updates)
    if not _all_finite(stepped):
        raise TrainingDiverged("the optimiser step made parameters non-finite", epoch + 1,
                               state.best_epoch, state.best_val, config)
    state.trainable, state.opt_state = stepped, opt_state
    for k in _TERMS:
        state.partial[f"epoch_{k}"] += state.partial[k]
        state.partial[k] = 0.0
    state.partial["epoch_count"] += len(batch)
    state.partial_grads, state.position, state.step = _zeros(grads), 0, state.step + 1
    if config.checkpoint_dir:
        save_checkpoint(config.checkpoint_dir, state, config)
    return state


def _finish_epoch(state: TrainState, frozen, val: list[GlacierSequence], config: TrainConfig,
                  epoch: int, seconds: float) -> None:
    """Validate, record the epoch, keep the best model, reset the step counters."""
    count = max(state.partial["epoch_count"], 1)
    val_error = validation_error(state.trainable, frozen, val, config)
    if val and not np.isfinite(val_error):
        raise TrainingDiverged(f"the validation error is {val_error}", epoch + 1,
                               state.best_epoch, state.best_val, config)
    record = {"epoch": epoch + 1, "seconds": round(seconds, 3),
              "grad_norm": state.partial.get("grad_norm"), "val_error": _finite_or_none(val_error)}
    names = {"loss": "train_loss", "point": "train_point", "glacier_wide": "train_glacier_wide",
             "regulariser": "train_regulariser"}
    record.update({names[k]: state.partial[f"epoch_{k}"] / count for k in _TERMS})
    state.history.append(record)
    # Without validation glaciers the latest model is kept as the best.
    if not val or val_error < state.best_val:
        state.best_val = val_error if np.isfinite(val_error) else state.best_val
        state.best, state.best_epoch = state.trainable, epoch + 1
        if config.checkpoint_dir:
            save_model(eqx.combine(state.best, frozen), f"{config.checkpoint_dir}/{BEST_NAME}",
                       notes=f"epoch {epoch + 1}, validation error {val_error:.6g}")
    state.epoch, state.step, state.partial = epoch + 1, 0, _empty_partial()
