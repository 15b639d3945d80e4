"""The per-cell GRU baseline (variant B, Maslov et al., egusphere-2026-515)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array

from .inputs import MONTHLY_PRECIPITATION_SCALE, MONTHLY_TEMPERATURE_SCALE
from .plan import DayPlan, PlanResult, scan_plan

N_HIDDEN = 16


class GRUBaseline(eqx.Module):
    """A GRU cell (gates reset, update, new) with a linear daily-SMB read-out.

    Shapes: ``weight_ih`` (48, 2), ``weight_hh`` (48, 16), ``bias`` (48,), ``bias_n`` (16,),
    ``readout_weight`` (1, 16), ``readout_bias`` (1,), ``init_h`` (16,).
    """

    weight_ih: Array
    weight_hh: Array
    bias: Array
    bias_n: Array
    readout_weight: Array
    readout_bias: Array
    init_h: Array

    def step(self, x: Array, h: Array) -> Array:
        """One GRU update; x (..., 2) normalised [P, T], h (..., 16)."""
        gi = x @ self.weight_ih.T + self.bias
        gh = h @ self.weight_hh.T
        i_r, i_z, i_n = jnp.split(gi, 3, axis=-1)
        h_r, h_z, h_n = jnp.split(gh, 3, axis=-1)
        r = jax.nn.sigmoid(i_r + h_r)
        z = jax.nn.sigmoid(i_z + h_z)
        n = jnp.tanh(i_n + r * (h_n + self.bias_n))
        return n + z * (h - n)

    def readout(self, h: Array) -> Array:
        """Daily SMB (m w.e.) from the hidden state, (...)."""
        return (h @ self.readout_weight.T + self.readout_bias)[..., 0]

    def initial_state(self, shape: tuple[int, ...]) -> Array:
        """The learned fresh-start state in every cell, shape + (16,)."""
        return jnp.broadcast_to(self.init_h, tuple(shape) + (N_HIDDEN,))

    def run(self, temperature: Array, precipitation: Array, plan: DayPlan, h: Array,
            carried: Array, daily: bool = False) -> PlanResult:
        """Run over a year's plan from hidden state ``h``.

        ``carried`` (bool): the state comes from a previous period, so the first day of the
        first period is not stepped again (its half-weighted output still counts). The
        summer period always continues from winter, so its first day is never re-stepped.
        """
        t = temperature[plan.day_index] / MONTHLY_TEMPERATURE_SCALE
        p = precipitation[plan.day_index] / MONTHLY_PRECIPITATION_SCALE
        x = jnp.stack([p, t], axis=-1)
        skip = jnp.asarray(plan.period_start) & (jnp.asarray(carried) | (jnp.asarray(plan.period) == 1))

        def step(state, inputs, weight, _start):
            x_t, skip_t = inputs
            state = jnp.where(skip_t, state, self.step(x_t, state))
            return state, weight * self.readout(state)

        return scan_plan(step, h, (x, skip), plan, daily)
