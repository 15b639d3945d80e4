"""Forcing uncertainty: first-order (delta-method) propagation of weekly forcing noise to the
cumulative glacier-wide SMB trajectory, and the Monte Carlo ensemble that checks it.

Noise model (Maslov et al., egusphere-2026-515, appendix A): the days are grouped in blocks of 7 from the first day of
the trajectory; each block j gets independent standard normal ``zT_j`` and ``zP_j``;
temperature becomes ``T + sigma_T zT_j`` and precipitation ``P exp(sigma_logP zP_j)``
on the block's days, in every cell (a glacier-scale forcing error). The first-order
variance of the cumulative SMB ``c(t)`` is ``sum_j (dc(t)/dz_j)^2`` at ``z = 0``.

How the Jacobian is computed (forward mode, bounded memory). The runs are walked in order.
In each run, the blocks whose days it reads get one Jacobian-vector product each (in
chunks of ``chunk`` tangents, ``vmap``-ed), seeded with the block's forcing tangent and the
state tangent it carries in. Blocks of earlier runs reach a run only through the state
entering it, and the derivative of a run with respect to that state is cell-local for
variants A, C and D (the TI model is cell-local, and the state reaches the corrector only
through its stop-gradient sensitivity channels): one more product, seeded with ones,
gives each cell's derivative of the run's SMB and final state, and carries every earlier
block on by elementwise products. Cost: about (blocks per year + 1) forward-mode products
of one year per year, instead of (all blocks) products of the whole trajectory; memory:
one state field per block. ``tests/tools`` checks the result against a product through
the whole trajectory and against a Monte Carlo ensemble.

First order means linear in ``z``: with the published ``sigma_logP = 0.964``, ``exp(sigma z)``
is far from linear (its standard deviation is 2.0, not 0.96), so the ensemble spreads
wider than the first-order band where precipitation matters; compare both
(:func:`monte_carlo_spread`).
"""

from __future__ import annotations

import warnings
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .checks import check_count, check_positive

#: Published forcing-noise scales (Maslov et al., egusphere-2026-515, appendix A).
SIGMA_T = 1.5889
SIGMA_LOGP = 0.9640
BLOCK_DAYS = 7
PUBLISHED = {"sigma_t (degC)": SIGMA_T, "sigma_logp": SIGMA_LOGP}
#: name: (warn above, refuse above, why). Measured (sandbox/input_sensitivity.py): the
#: first-order spread of a 3-year cumulative SMB against a 400-member Monte Carlo (variant A,
#: synthetic glacier) is in the ratio 1.01 / 0.96 / 0.83 / 0.71 / 0.63 for sigma_t 1.59 / 5 /
#: 10 / 20 / 100 degC (SMB is far from linear in temperature over tens of degrees), and
#: 0.98 / 0.84 / 0.51 / 0.18 / 0.05 / 0.001 for sigma_logp 0.1 / 0.5 / 0.964 / 1.5 / 2 / 3
#: (exp(sigma_logp z) has a heavy tail).
SIGMA_LIMITS = {
    "sigma_t (degC)": (5.0, 20.0, "the first-order spread is then 4 % (5 degC) to 29 % (20 degC) below a "
                                  "Monte Carlo's, as the SMB is far from linear in temperature over such a range"),
    "sigma_logp": (1.0, 2.0, "exp(sigma_logp z) then multiplies a week's precipitation by 2.7 (1.0) to 7.4 "
                             "(2.0) at one standard deviation, and the first-order spread falls to 1/5 (1.5) "
                             "and 1/20 (2.0) of a Monte Carlo's"),
}


class Spread(NamedTuple):
    """First-order spread of the cumulative glacier-wide SMB, one value per trajectory year.

    Attributes
    ----------
    cumulative : (Y,) the unperturbed cumulative SMB, m w.e.
    std, std_temperature, std_precipitation : (Y,) its first-order standard deviation, and
        the parts due to temperature and precipitation noise, m w.e.
    annual_std : (Y,) first-order standard deviation of each year's SMB, m w.e.
    jacobian : (Y, 2 n_blocks) derivative of each year's SMB with respect to the blocks'
        noise (temperature blocks first), m w.e. per standard deviation.
    """

    cumulative: np.ndarray
    std: np.ndarray
    std_temperature: np.ndarray
    std_precipitation: np.ndarray
    annual_std: np.ndarray
    jacobian: np.ndarray


def weekly_blocks(day_numbers: np.ndarray, valid: np.ndarray, first_day: int, last_day: int,
                  block_days: int = BLOCK_DAYS) -> tuple[np.ndarray, int]:
    """Block of each run's day: (N, n_days) int, -1 for days outside ``first_day..last_day``
    (record day numbers, inclusive) or not ``valid``; and the number of blocks."""
    block_days = check_count("block_days", block_days)
    inside = valid & (day_numbers >= first_day) & (day_numbers <= last_day)
    blocks = np.where(inside, (day_numbers - first_day) // block_days, -1).astype(np.int32)
    return blocks, int((last_day - first_day) // block_days + 1)


def check_sigmas(sigma_t, sigma_logp, warn: bool = True) -> tuple[float, float]:
    """``(sigma_t, sigma_logp)`` as floats (None: the published ``SIGMA_T``,
    ``SIGMA_LOGP``), checked against plausible forcing errors.

    Each must be a finite number > 0. Beyond :data:`SIGMA_LIMITS` (``refuse``) a
    ``ValueError``: no forcing is that wrong, and a value that large is likely a unit
    mistake (a variance, a percentage). Beyond ``warn``, with ``warn=True``, a
    ``UserWarning``: the first-order spread is then well below the Monte Carlo's (see
    :data:`SIGMA_LIMITS` for the numbers).
    """
    values = (check_positive("sigma_t (degC)", SIGMA_T if sigma_t is None else sigma_t),
              check_positive("sigma_logp", SIGMA_LOGP if sigma_logp is None else sigma_logp))
    for (name, (soft, hard, why)), value in zip(SIGMA_LIMITS.items(), values):
        if value > hard:
            raise ValueError(f"{name} = {value:g} is implausible for a forcing error (at most {hard:g}; "
                             f"the published value is {PUBLISHED[name]:g}): {why}. If it is a variance or a "
                             "percentage, give the standard deviation itself.")
        if warn and value > soft:
            warnings.warn(f"{name} = {value:g} is above {soft:g} (the published value is {PUBLISHED[name]:g}): {why}; "
                          "compare the first-order spread with a Monte Carlo ensemble (members >= 200)",
                          UserWarning)
    return values


def _block_noise(block_of_day, z):
    """Per-day noise (…, N, n_days) from per-block noise z (…, n_blocks); 0 outside blocks."""
    idx = np.maximum(block_of_day, 0)
    return jnp.where(block_of_day >= 0, jnp.take(z, idx, axis=-1), 0.0)


def first_order_spread(year_fn: Callable, inputs, fresh, own, block_of_day, n_blocks: int, outline,
                       initial_state, sigma_t: float = SIGMA_T, sigma_logp: float = SIGMA_LOGP,
                       chunk: int = 64) -> Spread:
    """Delta-method spread of the cumulative SMB over the runs (see the module docstring).

    Parameters
    ----------
    year_fn : function
        ``year_fn(inputs_k, state, carried, dT_days, dlogP_days)`` returning the run's cell
        SMB (H, W) and final state (H, W), traceable, with the temperature ``T + dT`` and
        precipitation ``P exp(dlogP)`` on the run's days (n_days,).
    inputs : the runs' inputs, a pytree with a leading run axis (N).
    fresh, own : (N,) bool: the run starts from ``initial_state``; the run is a year of the
        trajectory (not a spin-up).
    block_of_day : (N, n_days) block of each day (:func:`weekly_blocks`), -1 for none.
    outline : (H, W) weights of the glacier-wide mean.
    chunk : tangents per vectorised product (memory: chunk x one year's tangents).
    """
    sigma_t, sigma_logp = check_sigmas(sigma_t, sigma_logp)
    chunk = check_count("chunk", chunk)
    outline = jnp.asarray(outline, jnp.float32)
    weights = outline / outline.sum()
    n_days = block_of_day.shape[1]
    zeros = jnp.zeros(n_days, jnp.float32)

    @jax.jit
    def diagonal(inp, state, carried):
        f = lambda s: year_fn(inp, s, carried, zeros, zeros)  # noqa: E731
        (smb, final), (dsmb, dfinal) = jax.jvp(f, (state,), (jnp.ones_like(state),))
        return jnp.sum(smb * weights), final, dsmb * weights, dfinal

    @jax.jit
    def directions(inp, state, carried, state_tangents, t_tangents, p_tangents):
        f = lambda s, a, b: year_fn(inp, s, carried, a, b)  # noqa: E731
        one = lambda ts, tt, tp: jax.jvp(f, (state, zeros, zeros), (ts, tt, tp))[1]  # noqa: E731
        dsmb, dfinal = jax.vmap(one)(state_tangents, t_tangents, p_tangents)
        return jnp.einsum("khw,hw->k", dsmb, weights), dfinal

    cells = outline.shape
    pool = np.zeros((2 * n_blocks,) + cells, np.float32)  # state tangent of each direction
    rows, values = [], []
    state = initial_state
    for k in range(len(fresh)):
        inp = jax.tree_util.tree_map(lambda a: a[k], inputs)
        if fresh[k]:
            pool[:] = 0.0
            state = initial_state
        carried = jnp.asarray(not fresh[k])
        value, final, dsmb_w, dfinal = diagonal(inp, state, carried)
        before = pool
        gradient = before.reshape(len(pool), -1) @ np.asarray(dsmb_w, np.float32).ravel()
        pool = before * np.asarray(dfinal)
        blocks = np.unique(block_of_day[k][block_of_day[k] >= 0])
        dirs = np.concatenate([blocks, n_blocks + blocks])
        for start in range(0, len(dirs), chunk):
            part = dirs[start:start + chunk]
            pad = chunk - len(part)
            block = np.where(part < n_blocks, part, part - n_blocks)
            on_day = (block_of_day[k][None, :] == block[:, None]).astype(np.float32)
            is_t = (part < n_blocks)[:, None]
            t_tan = np.pad(on_day * is_t * sigma_t, ((0, pad), (0, 0)))
            p_tan = np.pad(on_day * ~is_t * sigma_logp, ((0, pad), (0, 0)))
            s_tan = np.pad(before[part], ((0, pad),) + ((0, 0),) * len(cells))
            dg, ds = directions(inp, state, carried, s_tan, t_tan, p_tan)
            gradient[part] = np.asarray(dg)[:len(part)]
            pool[part] = np.asarray(ds)[:len(part)]
        if own[k]:
            rows.append(gradient.astype(np.float64))
            values.append(float(value))
        state = final
    jac = np.cumsum(np.array(rows), axis=0)  # (Y, 2 n_blocks): cumulative SMB
    var_t = (jac[:, :n_blocks] ** 2).sum(1)
    var_p = (jac[:, n_blocks:] ** 2).sum(1)
    annual = np.array(rows)
    return Spread(np.cumsum(values), np.sqrt(var_t + var_p), np.sqrt(var_t), np.sqrt(var_p),
                  np.sqrt((annual ** 2).sum(1)), annual)


def monte_carlo_spread(trajectory: Callable, block_of_day, n_blocks: int, members: int = 200,
                       sigma_t: float = SIGMA_T, sigma_logp: float = SIGMA_LOGP, seed: int = 0,
                       batch: int = 8) -> np.ndarray:
    """Cumulative SMB of ``members`` perturbed trajectories: (members, Y), m w.e.

    ``trajectory(dT_days, dlogP_days)`` (each (N, n_days)) returns the trajectory years'
    glacier-wide SMB (Y,); it is ``vmap``-ed over ``batch`` members at a time.
    """
    sigma_t, sigma_logp = check_sigmas(sigma_t, sigma_logp)
    members = check_count("members", members, 2)
    batch = min(check_count("batch", batch), members)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((members, 2, n_blocks)).astype(np.float32)
    run = jax.jit(jax.vmap(lambda zt, zp: trajectory(sigma_t * _block_noise(block_of_day, zt),
                                                     sigma_logp * _block_noise(block_of_day, zp))))
    out = []
    for start in range(0, members, batch):
        part = z[start:start + batch]
        pad = batch - len(part)
        part = np.pad(part, ((0, pad), (0, 0), (0, 0)))
        out.append(np.asarray(run(part[:, 0], part[:, 1]))[:batch - pad])
    return np.cumsum(np.concatenate(out), axis=1)
