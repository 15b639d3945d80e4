"""Starting models and which of their leaves train (freezing by ``eqx.partition``).

The published chain: A starts from the TI prior; C takes A's TI parameters, frozen, with
a fresh corrector; D starts from C (TI frozen, corrector trained further); B is a fresh
GRU. Freezing is a boolean filter tree over the model: ``eqx.partition(model, spec)``
splits it into the trainable part (gradients, optimiser state) and the frozen rest;
``eqx.combine`` rebuilds the model inside the loss.
"""

from __future__ import annotations

from typing import Optional

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array

from ..core.corrector import Corrector
from ..core.gru import N_HIDDEN, GRUBaseline
from ..core.models import GlaUnTIModel, GRUModel, Model, TIModel
from ..core.parameters import TRAINABLE_NAMES, prior_parameters
from ..weights import load_model, load_pretrained


def fresh_gru(key: Array) -> GRUBaseline:
    """A GRU initialised as PyTorch does: uniform(+-1/sqrt(16)); zero initial state."""
    bound = 1.0 / N_HIDDEN**0.5
    shapes = [(3 * N_HIDDEN, 2), (3 * N_HIDDEN, N_HIDDEN), (3 * N_HIDDEN,), (N_HIDDEN,),
              (1, N_HIDDEN), (1,)]
    keys = jax.random.split(key, len(shapes))
    arrays = [jax.random.uniform(k, s, jnp.float32, -bound, bound) for k, s in zip(keys, shapes)]
    return GRUBaseline(*arrays, jnp.zeros(N_HIDDEN, jnp.float32))


def _base(variant: str, init_weights: Optional[str]) -> Optional[Model]:
    if init_weights is not None:
        return load_model(init_weights)
    parent = {"C": "A", "D": "C"}.get(variant)  # A starts from the prior, B fresh
    return None if parent is None else load_pretrained(parent)


def initial_model(variant: str, key: Array, init_weights: Optional[str] = None) -> Model:
    """The model a training run of ``variant`` starts from (see the module docstring).

    Raises
    ------
    ValueError
        If ``init_weights`` holds a model that cannot seed ``variant`` (e.g. B for C).
    """
    base = _base(variant, init_weights)
    if variant == "A":
        return TIModel(prior_parameters() if base is None else _ti_of(base, variant))
    if variant == "B":
        if base is not None and not isinstance(base, GRUModel):
            raise ValueError(f"variant B cannot start from a variant {base.variant} model")
        return GRUModel(fresh_gru(key)) if base is None else base
    ti = _ti_of(base, variant)
    corrector = base.corrector if isinstance(base, GlaUnTIModel) else Corrector.initialise(key)
    return GlaUnTIModel(ti, corrector, use_facies=variant == "D")


def _ti_of(base: Model, variant: str):
    if not isinstance(base, (TIModel, GlaUnTIModel)):
        raise ValueError(f"variant {variant} needs TI parameters, but the initial weights are "
                         f"variant {base.variant}")
    return base.ti


def trainable_spec(model: Model, train_ti: bool) -> Model:
    """Boolean filter tree: True for leaves that train.

    A: the 7 trainable TI parameters (the two softplus sharpnesses stay fixed); B: every
    GRU array; C/D: the corrector, plus the 7 TI parameters when ``train_ti``.
    """
    spec = jax.tree_util.tree_map(lambda _: False, model)
    if isinstance(model, GRUModel):
        return jax.tree_util.tree_map(lambda _: True, model)
    if isinstance(model, GlaUnTIModel):
        spec = eqx.tree_at(lambda s: s.corrector, spec,
                           jax.tree_util.tree_map(lambda _: True, model.corrector))
    if isinstance(model, TIModel) or train_ti:
        for name in TRAINABLE_NAMES:
            spec = eqx.tree_at(lambda s, n=name: getattr(s.ti, n), spec, True)
    return spec


def split_model(model: Model, train_ti: bool) -> tuple[Model, Model]:
    """``(trainable, frozen)`` parts of ``model``; ``eqx.combine`` joins them again."""
    return eqx.partition(model, trainable_spec(model, train_ti))
