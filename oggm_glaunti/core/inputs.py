"""Inputs of the corrector (Maslov et al., egusphere-2026-515) and the small-grid padding policy.

2D input, 15 channels: the uncorrected year SMB and its two sensitivities (no gradient),
outline, normalised elevation and elevation uncertainty, eight facies classes and the
facies confidence (all -1 when no facies map exists). 1D input: outline-weighted glacier
means of monthly temperature and precipitation over the calendar months the year touches.

Padding policy for small glaciers
---------------------------------
The corrector max-pools three times, so it needs grids of at least 8 x 8 cells. Smaller
grids are padded symmetrically to 8 in the short direction(s): every channel repeats its
edge values, except the outline, which is 0 in the padding (those cells are off-glacier).
The corrections are computed on the padded grid and cropped back; the TI model itself
always runs on the original cells. The RMS normalisations inside the CNN then see the
padded cells too, which is the documented approximation for such glaciers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from ..hydro_calendar import months_since_epoch
from .corrector import MIN_GRID_SIZE

#: Published normalisation factors (``docs/weights.md``).
ELEVATION_SCALE = 4341.383118842848
ELEVATION_STD_SCALE = 5699.1201273232155
MONTHLY_TEMPERATURE_SCALE = 45.744850158691406
MONTHLY_PRECIPITATION_SCALE = 0.16851751506328583
SMB_CHANNEL_SCALE = 10.0

FACIES_CLASSES: tuple[str, ...] = (
    "ice", "snow", "debris", "firn", "shadow", "superimposed_ice", "cloud", "water",
)
#: Eight class channels plus the confidence channel.
N_FACIES_CHANNELS = len(FACIES_CLASSES) + 1
FACIES_PLACEHOLDER = -1.0


def static_channels(outline: Array, elevation: Array, elevation_std: Array, facies: Array | None = None) -> Array:
    """Channels 4-15: outline, elevation, elevation uncertainty and facies, (12, H, W).

    ``facies`` is (9, H, W): eight class probabilities then the confidence; None gives the
    -1 placeholder (variant C, or D in a year without a facies map).
    """
    if facies is None:
        facies = jnp.full((N_FACIES_CHANNELS,) + jnp.shape(outline), FACIES_PLACEHOLDER, jnp.float32)
    return jnp.concatenate([
        jnp.stack([outline, elevation / ELEVATION_SCALE, elevation_std / ELEVATION_STD_SCALE]),
        facies,
    ]).astype(jnp.float32)


def sensitivity_channels(smb0: Array, warming_response: Array, wetting_response: Array) -> Array:
    """Channels 1-3 (3, H, W), with gradients stopped as in the published model."""
    return jax.lax.stop_gradient(jnp.stack([smb0 / SMB_CHANNEL_SCALE, warming_response, wetting_response]))


def monthly_climate(temperature: Array, precipitation: Array, outline: Array, membership: Array) -> Array:
    """1D input (2, n_months): normalised glacier-mean monthly temperature and precipitation.

    Parameters
    ----------
    temperature, precipitation : (n_days, H, W) daily forcing, degC and m w.e. per day.
    outline : (H, W) weights of the glacier mean.
    membership : (n_days, n_months) one-hot calendar month of each day (zero rows for
        padding days), see :func:`month_ids`.
    """
    weights = outline / jnp.sum(outline)
    glacier_t = jnp.einsum("dhw,hw->d", temperature, weights)
    glacier_p = jnp.einsum("dhw,hw->d", precipitation, weights)
    days = jnp.maximum(membership.sum(0), 1.0)
    monthly_t = glacier_t @ membership / days
    monthly_p = glacier_p @ membership / days
    return jnp.stack([monthly_t / MONTHLY_TEMPERATURE_SCALE, monthly_p / MONTHLY_PRECIPITATION_SCALE])


def month_ids(begin: np.datetime64 | str, n_days: int) -> tuple[np.ndarray, int]:
    """Month index (0-based, from the begin date's month) of each of ``n_days`` dates."""
    months = months_since_epoch(np.datetime64(begin, "D") + np.arange(n_days))
    ids = (months - months[0]).astype(np.int32)
    return ids, int(ids[-1]) + 1


def padding_for(shape: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) padding bringing a grid to the corrector's minimum."""
    pads = []
    for n in shape:
        missing = max(MIN_GRID_SIZE - n, 0)
        pads.append((missing // 2, missing - missing // 2))
    return tuple(pads)


def pad_inputs(inputs_2d: Array) -> Array:
    """Pad a (15, H, W) input stack by the policy of this module (no-op for large grids)."""
    (top, bottom), (left, right) = padding_for(inputs_2d.shape[1:])
    if top + bottom + left + right == 0:
        return inputs_2d
    padded = jnp.pad(inputs_2d, ((0, 0), (top, bottom), (left, right)), mode="edge")
    outline = jnp.pad(inputs_2d[3], ((top, bottom), (left, right)), constant_values=0.0)
    return padded.at[3].set(outline)


def crop_output(fields: Array, shape: tuple[int, int]) -> Array:
    """Undo :func:`pad_inputs` on (C, H', W') corrections."""
    (top, _), (left, _) = padding_for(shape)
    return fields[:, top : top + shape[0], left : left + shape[1]]
