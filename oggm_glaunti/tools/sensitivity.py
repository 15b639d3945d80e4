"""Sensitivities: gradients of glacier-wide SMB with respect to every TI parameter, the
forcing adjustments and each correction field (variants C and D).

TI parameters are the stored (unconstrained) values of Maslov et al., egusphere-2026-515: for a ``*_log``
parameter the gradient is the response to a relative change (d SMB / d ln x). A
correction field's gradient is a map: the response of the glacier-wide SMB to a change
of that field in one cell (d1..d3 are log factors, d4 and d5 in degC).
It is the gradient, at zero, of the core's year with a ``correction_delta``
(:meth:`oggm_glaunti.core.GlaUnTIModel.run_year`): the corrector's fields of the year plus
the change, then the corrected TI run.

For variants C and D these are the model's gradients as published: the corrector's first
three inputs (the uncorrected year's SMB and its responses to +0.5 degC and +5 %
precipitation) carry no gradient, so the corrector's reaction through them is left out;
its reaction through the monthly climate is in. A finite difference of the whole model
includes both (on a small synthetic glacier it gave twice the gradient of ``temp_bias``).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from ..core.parameters import STORED_NAMES


class Sensitivities(NamedTuple):
    """Gradients of the glacier-wide SMB (m w.e.) of a year or a mean of years.

    value : the SMB itself.
    ti : {stored TI parameter name: gradient}.
    temp_bias : per degC; prcp_fac : per unit of the precipitation factor (at 1).
    corrections : (5, H, W) per unit change of d1..d5 in a cell, or None (A, B).
    """

    value: float
    ti: dict
    temp_bias: float
    prcp_fac: float
    corrections: Optional[np.ndarray]


def gradient_function(smb: Callable) -> Callable:
    """The compiled value and gradients of ``smb(ti, temp_bias, prcp_fac, correction_delta,
    *inputs)``, a traceable scalar, with respect to its first four arguments."""
    return jax.jit(jax.value_and_grad(smb, argnums=(0, 1, 2, 3)))


def year_sensitivities(value_and_grad: Callable, ti, corrections=None, *inputs) -> Sensitivities:
    """Gradients from ``value_and_grad`` (:func:`gradient_function`) at ``ti`` (the model's
    :class:`~oggm_glaunti.core.TIParameters`), ``temp_bias = 0``, ``prcp_fac = 1`` and
    ``correction_delta = 0`` (shaped as ``corrections``, or None), for ``inputs``."""
    delta = None if corrections is None else jnp.zeros_like(jnp.asarray(corrections))
    value, grads = value_and_grad(ti, jnp.float32(0.0), jnp.float32(1.0), delta, *inputs)
    g_ti, g_bias, g_fac, g_corr = grads
    return Sensitivities(float(value), {n: float(getattr(g_ti, n)) for n in STORED_NAMES}, float(g_bias),
                         float(g_fac), None if g_corr is None else np.asarray(g_corr))


def mean_sensitivities(parts: list[Sensitivities]) -> Sensitivities:
    """The mean of several years' sensitivities (the sensitivities of their mean SMB)."""
    if not parts:
        raise ValueError("no years to average the sensitivities over")
    n = len(parts)
    corr = None if parts[0].corrections is None else sum(p.corrections for p in parts) / n
    return Sensitivities(sum(p.value for p in parts) / n,
                         {k: sum(p.ti[k] for p in parts) / n for k in parts[0].ti},
                         sum(p.temp_bias for p in parts) / n, sum(p.prcp_fac for p in parts) / n, corr)
