"""The GlaUnTI corrector: a shallow CNN mapping glacier inputs to five TI corrections.

Architecture of Maslov et al., egusphere-2026-515 (94,549 parameters). Convolutions are cross-correlations
with "SAME" zero padding and no bias (except the output convolution); ``Norm`` is a
per-channel RMS normalisation over all positions. Arrays are channel-first, unbatched:
2D maps (C, H, W), 1D series (C, T).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array, lax

N_INPUT_CHANNELS_2D = 15
N_INPUT_CHANNELS_1D = 2
N_CORRECTIONS = 5
N_FEATURES_2D = 32
N_FEATURES_1D = 8
N_DOWNSAMPLINGS = 3
#: Smallest grid the three 2x2 max-pools accept (see :mod:`oggm_glaunti.core.inputs` for padding).
MIN_GRID_SIZE = 2**N_DOWNSAMPLINGS
OUTPUT_SCALE = 0.1
_NORM_EPS = 1e-6


def _conv(x: Array, weight: Array) -> Array:
    """SAME cross-correlation of a channel-first map (C, *spatial) with (O, C, *kernel)."""
    spatial = "HW"[: x.ndim - 1]
    dims = ("NC" + spatial, "OI" + spatial, "NC" + spatial)
    out = lax.conv_general_dilated(
        x[None], weight, (1,) * (x.ndim - 1), "SAME", dimension_numbers=dims,
        precision=lax.Precision.HIGHEST,
    )
    return out[0]


def check_input_shapes(shape_2d: tuple[int, ...], shape_1d: tuple[int, ...]) -> None:
    """Refuse inputs the CNN cannot take, naming what was found and what is expected."""
    if len(shape_2d) != 3 or shape_2d[0] != N_INPUT_CHANNELS_2D:
        raise ValueError(
            f"corrector 2D input has shape {tuple(shape_2d)}; expected ({N_INPUT_CHANNELS_2D}, H, W)"
        )
    if min(shape_2d[1:]) < MIN_GRID_SIZE:
        raise ValueError(
            f"corrector 2D input is {shape_2d[1]}x{shape_2d[2]} cells; it needs at least "
            f"{MIN_GRID_SIZE}x{MIN_GRID_SIZE} (pad with oggm_glaunti.core.inputs.pad_inputs)"
        )
    if len(shape_1d) != 2 or shape_1d[0] != N_INPUT_CHANNELS_1D or shape_1d[1] < 4:
        raise ValueError(
            f"corrector 1D input has shape {tuple(shape_1d)}; expected ({N_INPUT_CHANNELS_1D}, "
            "n_months) with n_months >= 4 (monthly glacier-mean temperature and precipitation)"
        )


class Block(eqx.Module):
    """Convolution (kernel 3) -> RMS norm -> swish, in 1D or 2D."""

    conv: Array
    norm_weight: Array
    norm_bias: Array

    def __call__(self, x: Array) -> Array:
        y = _conv(x, self.conv)
        axes = tuple(range(1, y.ndim))
        rms = jnp.sqrt(jnp.mean(y * y, axis=axes, keepdims=True) + _NORM_EPS)
        return jax.nn.swish(y / rms * self.norm_weight + self.norm_bias)


class Double(eqx.Module):
    """Two :class:`Block` in a row."""

    first: Block
    second: Block

    def __call__(self, x: Array) -> Array:
        return self.second(self.first(x))


def _max_pool_2x2(x: Array) -> Array:
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2), (1, 2, 2), "VALID")


def _avg_pool_2(x: Array) -> Array:
    return lax.reduce_window(x, 0.0, lax.add, (1, 2), (1, 2), "VALID") / 2.0


class Corrector(eqx.Module):
    """The CNN corrector.

    Call with ``inputs_2d`` (15, H, W), H and W >= 8, and ``inputs_1d`` (2, n_months);
    returns the corrections d1..d5 as (5, H, W).
    """

    in_conv_2d: Array
    down_stages: tuple[Double, ...]
    bottleneck: Double
    in_conv_1d: Array
    stages_1d: tuple[Double, ...]
    reprojection: Array
    fusion: Double
    out_weight: Array
    out_bias: Array

    def __call__(self, inputs_2d: Array, inputs_1d: Array) -> Array:
        check_input_shapes(inputs_2d.shape, inputs_1d.shape)
        x = _conv(inputs_2d, self.in_conv_2d)
        for stage in self.down_stages:
            x = _max_pool_2x2(stage(x))
        x = self.bottleneck(x)

        s = _conv(inputs_1d, self.in_conv_1d)
        for stage in self.stages_1d:
            s = _avg_pool_2(stage(s))
        s = jnp.mean(s, axis=1, keepdims=True)
        climate = _conv(s, self.reprojection)  # (32, 1)

        x = self.fusion(x + climate[:, :, None])
        out = (_conv(x, self.out_weight) + self.out_bias) * OUTPUT_SCALE
        shape = (N_CORRECTIONS,) + inputs_2d.shape[1:]
        return jax.image.resize(out, shape, "bilinear", antialias=False)

    @staticmethod
    def from_arrays(arrays: list[Array]) -> "Corrector":
        """Build from the 47 corrector arrays in the published order (``docs/weights.md``)."""
        if len(arrays) != 47:
            raise ValueError(f"a corrector has 47 arrays; got {len(arrays)}")
        it = iter(jnp.asarray(a, jnp.float32) for a in arrays)

        def double() -> Double:
            return Double(Block(next(it), next(it), next(it)), Block(next(it), next(it), next(it)))

        in_conv_2d = next(it)
        down = tuple(double() for _ in range(N_DOWNSAMPLINGS))
        bottleneck = double()
        in_conv_1d = next(it)
        stages_1d = (double(), double())
        reprojection = next(it)
        fusion = double()
        return Corrector(in_conv_2d, down, bottleneck, in_conv_1d, stages_1d, reprojection,
                         fusion, next(it), next(it))

    def to_arrays(self) -> list[Array]:
        """The 47 arrays in the published order (inverse of :meth:`from_arrays`)."""
        return jax.tree_util.tree_leaves(self)

    @staticmethod
    def layout() -> list[tuple[str, tuple[int, ...]]]:
        """(role, shape) of the 47 arrays, in the published order (validates weights files).

        Roles: ``conv``, ``norm_weight``, ``norm_bias``, ``out_weight``, ``out_bias``.
        """
        f2, f1 = N_FEATURES_2D, N_FEATURES_1D

        def double(c, k):
            ones = (1,) * len(k)
            block = [("conv", (c, c) + k), ("norm_weight", (c,) + ones), ("norm_bias", (c,) + ones)]
            return block * 2

        layout = [("conv", (f2, N_INPUT_CHANNELS_2D, 1, 1))]
        layout += double(f2, (3, 3)) * (N_DOWNSAMPLINGS + 1)
        layout += [("conv", (f1, N_INPUT_CHANNELS_1D, 1))] + double(f1, (3,)) * 2
        layout += [("conv", (f2, f1, 1))] + double(f2, (3, 3))
        layout += [("out_weight", (N_CORRECTIONS, f2, 1, 1)), ("out_bias", (N_CORRECTIONS, 1, 1))]
        return layout

    @staticmethod
    def initialise(key: Array) -> "Corrector":
        """A fresh corrector: He-normal convolutions, unit norms, zero output (identity model)."""
        layout = Corrector.layout()
        keys = jax.random.split(key, len(layout))
        arrays = []
        for (role, shape), k in zip(layout, keys):
            if role == "conv":
                fan_in = 1
                for n in shape[1:]:
                    fan_in *= n
                arrays.append(jax.random.normal(k, shape, jnp.float32) * (2.0 / fan_in) ** 0.5)
            else:
                fill = 1.0 if role == "norm_weight" else 0.0
                arrays.append(jnp.full(shape, fill, jnp.float32))
        return Corrector.from_arrays(arrays)
