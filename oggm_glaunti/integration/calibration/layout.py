"""The calibration's parameter vector: what it holds and in which order, written once.

A calibration fits named blocks in the order they are asked for: ``temp_bias`` (degC
added to the daily temperature), ``prcp_fac`` (fitted as its log) and ``ti`` (variant A's
seven trainable TI values, in :data:`~oggm_glaunti.core.parameters.TRAINABLE_NAMES` order, the paper's
fine-tuning). ``jax.flatten_util.ravel_pytree`` flattens the blocks into the vector the
optimiser moves and unflattens it again, traced or not: :class:`ParameterLayout` is the
only place that knows where a value sits in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ...core import TRAINABLE_NAMES

#: What a calibration can fit.
FITTABLE = ("temp_bias", "prcp_fac", "ti")


class Fitted(NamedTuple):
    """A fitted model and its forcing adjustments."""

    model: object
    temp_bias: float
    prcp_fac: float


def with_ti(model, ti_values):
    """``model`` with its seven trainable TI values replaced (``TRAINABLE_NAMES`` order)."""
    for k, name in enumerate(TRAINABLE_NAMES):
        model = eqx.tree_at(lambda m, n=name: getattr(m.ti, n), model, ti_values[k])
    return model


@dataclass(frozen=True)
class ParameterLayout:
    """The parameter vector of a calibration fitting ``parameters`` (see the module
    docstring). Hashable: compiled functions take it as a static argument."""

    parameters: tuple[str, ...]

    def __post_init__(self):
        unknown = set(self.parameters) - set(FITTABLE)
        if unknown or len(set(self.parameters)) != len(self.parameters):
            raise ValueError(f"parameters must be distinct names among {FITTABLE}; got {self.parameters}")

    @cached_property
    def _unravel(self):
        blocks = [jnp.zeros(len(TRAINABLE_NAMES) if p == "ti" else (), jnp.float32) for p in self.parameters]
        return ravel_pytree(blocks)[1]

    def split(self, theta) -> dict:
        """{name: value} of the vector ``theta`` (traced or not): scalars, ``ti`` a (7,) array."""
        return dict(zip(self.parameters, self._unravel(jnp.asarray(theta, jnp.float32))))

    def initial(self, model) -> np.ndarray:
        """The starting vector: temperature bias 0, precipitation factor 1 (log 0), the
        model's own TI values."""
        blocks = [jnp.asarray([getattr(model.ti, n) for n in TRAINABLE_NAMES], jnp.float32) if p == "ti"
                  else jnp.float32(0.0) for p in self.parameters]
        return np.array(ravel_pytree(blocks)[0], np.float32)

    @property
    def coordinate_names(self) -> list[str]:
        """A name for each coordinate of the vector: 'temp_bias', 'log_prcp_fac', 'ti.<name>'."""
        names = []
        for p in self.parameters:
            names += [f"ti.{n}" for n in TRAINABLE_NAMES] if p == "ti" else ["log_prcp_fac" if p == "prcp_fac" else p]
        return names

    def index(self, name: str) -> int:
        """The coordinate of the scalar parameter ``name`` ('temp_bias' or 'prcp_fac')."""
        return self.coordinate_names.index("log_prcp_fac" if name == "prcp_fac" else name)

    def max_step(self, theta) -> np.ndarray:
        """The most one line-search step may move each coordinate: 1 degC, 1 in log
        prcp_fac, half of each TI value."""
        blocks = self.split(theta)
        steps = [0.5 * np.maximum(np.abs(np.asarray(blocks[p], np.float64)), 1e-3) if p == "ti"
                 else np.ones(()) for p in self.parameters]
        return np.concatenate([np.atleast_1d(s) for s in steps]).astype(np.float64)

    def adjusted(self, model, theta, log_prcp_fac):
        """(model, temp_bias, prcp_fac) the vector ``theta`` stands for (traceable);
        ``log_prcp_fac``: the log factor used when it is not fitted."""
        p = self.split(theta)
        if "ti" in p:
            model = with_ti(model, p["ti"])
        return model, p.get("temp_bias", 0.0), jnp.exp(p.get("prcp_fac", log_prcp_fac))

    def fitted(self, model, theta, prcp_fac: float = 1.0) -> Fitted:
        """The fitted model and forcing adjustments (``prcp_fac``: the factor kept when it
        is not fitted)."""
        p = {k: np.asarray(v, np.float64) for k, v in self.split(np.asarray(theta, np.float32)).items()}
        if "ti" in p:
            model = with_ti(model, jnp.asarray(p["ti"], jnp.float32))
        fitted_prcp = float(np.exp(p["prcp_fac"])) if "prcp_fac" in p else float(prcp_fac)
        return Fitted(model, float(p.get("temp_bias", 0.0)), fitted_prcp)


def apply_parameters(model, parameters, theta, prcp_fac: float = 1.0) -> Fitted:
    """The fitted model and forcing adjustments of ``theta`` (see :meth:`ParameterLayout.fitted`)."""
    return ParameterLayout(tuple(parameters)).fitted(model, theta, prcp_fac)


def initial_theta(model, parameters) -> np.ndarray:
    """The starting vector of a calibration fitting ``parameters`` (see :meth:`ParameterLayout.initial`)."""
    return ParameterLayout(tuple(parameters)).initial(model)
