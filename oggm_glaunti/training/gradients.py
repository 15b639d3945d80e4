"""Loss and gradient of one glacier's whole sequence, chunk by chunk.

The gradient of a glacier's loss flows back through every year's snow state. Held as one
stack, the sequence's forcing alone can exceed the machine's memory; so the reverse sweep
is done chunk by chunk (reverse-mode checkpointing at chunk boundaries):

1. forward: run the chunks in order, keeping only the state at each chunk's start
   (one (H, W) field per chunk);
2. backward: for the chunks in reverse order, rebuild the chunk's forcing, take the VJP of
   ``(trainable, start state) -> (chunk loss, end state)`` with the cotangent
   ``(1, d loss / d end state)`` carried back from the following chunk, add the parameter
   gradient and pass the start-state cotangent on.

Within a chunk of several years, :func:`~oggm_glaunti.core.sequence.run_years` recomputes
each year in the backward pass (``remat_years``), so its memory is one year's internals
plus one state per year. With one chunk this equals
``eqx.filter_value_and_grad(glacier_loss)``; with one year per chunk only a single year's
forcing and internals are alive at any time. The result is the same either way (up to
float32 summation order).
"""

from __future__ import annotations

from typing import Optional

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array

from ..core.forcing import YearForcing
from ..core.models import GRUModel, Model
from .losses import LossWeights, Terms, chunk_loss, prior_term, tree_add, zero_terms
from .sequences import GlacierSequence
from .targets import YearTargets


@eqx.filter_jit
def chunk_forward(trainable: Model, frozen: Model, state: Optional[Array], forcing: YearForcing,
                  targets: YearTargets, weights: LossWeights) -> tuple[Array, Terms, Array]:
    """(loss, terms, end state) of one chunk, no gradient."""
    model = eqx.combine(trainable, frozen)
    return chunk_loss(model, state, forcing, targets, weights, remat=False)


@eqx.filter_jit
def chunk_value_and_grad(trainable: Model, frozen: Model, state: Optional[Array],
                         forcing: YearForcing, targets: YearTargets,
                         end_cotangent: Array, weights: LossWeights,
                         remat: bool) -> tuple[Array, Terms, Model, Optional[Array]]:
    """Loss, terms, and gradients w.r.t. ``trainable`` and the start ``state`` of one chunk.

    ``end_cotangent`` is d(loss of the later chunks)/d(end state) (zeros for the last chunk);
    the start-state gradient is None when ``state`` is None (a fresh start inside).
    """

    def run(trainable, state):
        loss, terms, end = chunk_loss(eqx.combine(trainable, frozen), state, forcing, targets,
                                      weights, remat)
        return (loss, end), terms

    (loss, end), vjp, terms = jax.vjp(run, trainable, state, has_aux=True)
    grad_trainable, grad_state = vjp((jnp.ones_like(loss), end_cotangent))
    return loss, terms, grad_trainable, grad_state


@eqx.filter_jit
def _prior_value_and_grad(trainable: Model, frozen: Model, weights: LossWeights):
    return eqx.filter_value_and_grad(prior_term)(trainable, frozen, weights)


def _initial(trainable: Model, frozen: Model, cells: tuple[int, int]) -> Array:
    return eqx.combine(trainable, frozen).initial_state(cells)


@eqx.filter_jit
def _initial_state_vjp(trainable: Model, frozen: Model, cells: tuple[int, int], cotangent: Array) -> Model:
    """Gradient reaching ``trainable`` through the fresh initial state (SWE = S_c)."""
    _, vjp = jax.vjp(lambda t: _initial(t, frozen, cells), trainable)
    return vjp(cotangent)[0]


def start_state(trainable: Model, frozen: Model, cells: tuple[int, int]) -> Optional[Array]:
    """The explicit fresh state, or None where the model must start fresh inside the run.

    Passing the state explicitly lets the first chunk share compiled code with the others.
    The GRU cannot: from a fresh start it also steps the first day, which a carried state
    skips (Maslov et al., egusphere-2026-515), so its first chunk starts from None.
    """
    if isinstance(frozen, GRUModel):
        return None
    return eqx.filter_jit(_initial)(trainable, frozen, cells)


def sequence_loss(trainable: Model, frozen: Model, sequence: GlacierSequence,
                  weights: LossWeights = LossWeights(), prior: bool = False) -> tuple[Array, Terms]:
    """Loss and terms of the glacier's whole sequence, forward only (validation)."""
    state = start_state(trainable, frozen, sequence.glacier.shape)
    loss, terms = jnp.zeros((), jnp.float32), zero_terms()
    for i in range(len(sequence)):
        part, part_terms, state = chunk_forward(trainable, frozen, state, sequence.forcing(i),
                                                sequence.chunk_targets(i), weights)
        loss, terms = loss + part, terms + part_terms
    if prior:
        value = prior_term(trainable, frozen, weights)
        loss, terms = loss + value, terms + Terms(0.0, 0.0, value)
    return loss, terms


def sequence_value_and_grad(trainable: Model, frozen: Model, sequence: GlacierSequence,
                            weights: LossWeights = LossWeights(),
                            prior: bool = False) -> tuple[Array, Terms, Model]:
    """Loss, terms and gradient (w.r.t. ``trainable``) of the glacier's whole sequence.

    Parameters
    ----------
    trainable, frozen : ``eqx.partition`` of the model; gradients flow into ``trainable``.
    sequence : the glacier, from :func:`~oggm_glaunti.training.sequences.prepare_sequence`.
    weights : loss weights.
    prior : add the TI prior (when the TI parameters are trained).

    Returns
    -------
    (loss, terms, gradient shaped like ``trainable``).
    """
    n, cells = len(sequence), sequence.glacier.shape
    starts: list[Optional[Array]] = [start_state(trainable, frozen, cells)]
    for i in range(n - 1):  # forward sweep: the start state of every chunk
        starts.append(chunk_forward(trainable, frozen, starts[-1], sequence.forcing(i),
                                    sequence.chunk_targets(i), weights)[2])
    end = eqx.filter_eval_shape(_initial, trainable, frozen, cells)
    cotangent = jnp.zeros(end.shape, end.dtype)  # the loss does not see the final state
    loss, terms, grads = jnp.zeros((), jnp.float32), zero_terms(), None
    for i in reversed(range(n)):
        start, stop = sequence.chunks[i]
        part, part_terms, part_grads, cotangent = chunk_value_and_grad(
            trainable, frozen, starts[i], sequence.forcing(i), sequence.chunk_targets(i),
            cotangent, weights, stop - start > 1)
        starts[i] = None  # release the state as soon as it is used
        loss, terms = loss + part, terms + part_terms
        grads = part_grads if grads is None else tree_add(grads, part_grads)
    if cotangent is not None:  # the fresh state depends on the parameters (S_c)
        grads = tree_add(grads, _initial_state_vjp(trainable, frozen, cells, cotangent))
    if prior:
        value, prior_grads = _prior_value_and_grad(trainable, frozen, weights)
        loss, grads = loss + value, tree_add(grads, prior_grads)
        terms = terms + Terms(0.0, 0.0, value)
    return loss, terms, grads
