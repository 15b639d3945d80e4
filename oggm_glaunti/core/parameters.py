"""Parameters of the smooth temperature-index (TI) model.

Parameters are *stored* unconstrained (logs, so that gradient descent cannot leave
their physical range) and *used* constrained; :meth:`TIParameters.constrained` is the one
place converting between the two. The CNN corrector modifies the constrained values per
grid cell, so the same TI step serves variant A (scalars) and C/D (per-cell fields).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional

import equinox as eqx
import jax.numpy as jnp
from jax import Array

#: Stored-name order of the published ``.eqx`` files (alphabetical, as equinox flattens).
STORED_NAMES: tuple[str, ...] = (
    "ddf_relative_ice_minus_one_log",
    "ddf_snow_log",
    "prec_scale_log",
    "snow_depletion_centre_log",
    "snow_depletion_steepness_log",
    "snow_to_rain_centre",
    "snow_to_rain_steepness_log",
    "swe_softplus_sharpness_log",
    "t_softplus_sharpness_log",
)

#: The seven parameters the paper trains; the two softplus sharpnesses stay fixed.
TRAINABLE_NAMES: tuple[str, ...] = tuple(
    name for name in STORED_NAMES if "softplus_sharpness" not in name
)

#: Prior (initial) constrained values (Maslov et al., egusphere-2026-515).
PRIOR_CONSTRAINED: dict[str, float] = {
    "prec_scale": 1.4,
    "ddf_snow": 0.0049,
    "ddf_relative_ice": 1.5,
    "snow_to_rain_steepness": 1.5,
    "snow_to_rain_centre": 1.0,
    "snow_depletion_steepness": 3.0,
    "snow_depletion_centre": 0.03,
    "t_softplus_sharpness": 10.0,
    "swe_softplus_sharpness": 20.0,
}


class TIValues(NamedTuple):
    """Constrained TI parameters; each a scalar or a per-cell field broadcastable to (H, W).

    Attributes
    ----------
    prec_scale : precipitation factor c_p (-).
    ddf_snow : snow degree-day factor DDF_s (m w.e. degC-1 day-1).
    ddf_relative_ice : ratio r_ice of ice to snow degree-day factor (-).
    snow_to_rain_steepness : k_sr (degC-1) of the solid-fraction sigmoid.
    snow_to_rain_centre : T_c (degC), temperature of a 50 % solid fraction.
    snow_depletion_steepness : Hill exponent n of the snow-covered fraction.
    snow_depletion_centre : S_c (m w.e.), SWE of a 50 % snow-covered fraction.
    t_softplus_sharpness : beta of the smooth positive temperature.
    swe_softplus_sharpness : gamma of the smooth non-negative SWE.
    melt_temperature_shift : delta_5 (degC) added inside the positive temperature.
    """

    prec_scale: Array
    ddf_snow: Array
    ddf_relative_ice: Array
    snow_to_rain_steepness: Array
    snow_to_rain_centre: Array
    snow_depletion_steepness: Array
    snow_depletion_centre: Array
    t_softplus_sharpness: Array
    swe_softplus_sharpness: Array
    melt_temperature_shift: Array

    def corrected(self, corrections: Array) -> "TIValues":
        """Apply the corrector's five fields d1..d5, shape (5, H, W) (Maslov et al., egusphere-2026-515)."""
        d1, d2, d3, d4, d5 = corrections
        return self._replace(
            prec_scale=self.prec_scale * jnp.exp(d1),
            ddf_snow=self.ddf_snow * jnp.exp(d2),
            ddf_relative_ice=self.ddf_relative_ice * jnp.exp(d3),
            snow_to_rain_centre=self.snow_to_rain_centre + d4,
            melt_temperature_shift=self.melt_temperature_shift + d5,
        )

    def at_points(self, index: Array) -> "TIValues":
        """Pick per-cell fields at flat cell indices (scalars pass through unchanged)."""
        return TIValues(*[v if jnp.ndim(v) == 0 else jnp.ravel(v)[index] for v in self])


class TIParameters(eqx.Module):
    """Stored (unconstrained) TI parameters, one float32 scalar each.

    Use :meth:`constrained` for the physical values, :meth:`from_constrained` to build one
    from physical values, and :func:`~oggm_glaunti.weights.registry.load_pretrained`
    (variant ``'A'``) for the published set.
    """

    ddf_relative_ice_minus_one_log: Array
    ddf_snow_log: Array
    prec_scale_log: Array
    snow_depletion_centre_log: Array
    snow_depletion_steepness_log: Array
    snow_to_rain_centre: Array
    snow_to_rain_steepness_log: Array
    swe_softplus_sharpness_log: Array
    t_softplus_sharpness_log: Array

    def constrained(self) -> TIValues:
        """Physical parameter values (Maslov et al., egusphere-2026-515), melt-temperature shift zero."""
        return TIValues(
            prec_scale=jnp.exp(self.prec_scale_log),
            ddf_snow=jnp.exp(self.ddf_snow_log),
            ddf_relative_ice=1.0 + jnp.exp(self.ddf_relative_ice_minus_one_log),
            snow_to_rain_steepness=jnp.exp(self.snow_to_rain_steepness_log),
            snow_to_rain_centre=jnp.asarray(self.snow_to_rain_centre),
            snow_depletion_steepness=jnp.exp(self.snow_depletion_steepness_log),
            snow_depletion_centre=jnp.exp(self.snow_depletion_centre_log),
            t_softplus_sharpness=jnp.exp(self.t_softplus_sharpness_log),
            swe_softplus_sharpness=jnp.exp(self.swe_softplus_sharpness_log),
            melt_temperature_shift=jnp.zeros((), jnp.float32),
        )

    @classmethod
    def from_constrained(cls, **values: float) -> "TIParameters":
        """Build stored parameters from physical values; missing ones take the prior."""
        unknown = set(values) - set(PRIOR_CONSTRAINED)
        if unknown:
            raise ValueError(
                f"unknown TI parameter(s) {sorted(unknown)}; expected some of "
                f"{sorted(PRIOR_CONSTRAINED)}"
            )
        v = {**PRIOR_CONSTRAINED, **values}
        f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
        return cls(
            ddf_relative_ice_minus_one_log=f32(math.log(v["ddf_relative_ice"] - 1.0)),
            ddf_snow_log=f32(math.log(v["ddf_snow"])),
            prec_scale_log=f32(math.log(v["prec_scale"])),
            snow_depletion_centre_log=f32(math.log(v["snow_depletion_centre"])),
            snow_depletion_steepness_log=f32(math.log(v["snow_depletion_steepness"])),
            snow_to_rain_centre=f32(v["snow_to_rain_centre"]),
            snow_to_rain_steepness_log=f32(math.log(v["snow_to_rain_steepness"])),
            swe_softplus_sharpness_log=f32(math.log(v["swe_softplus_sharpness"])),
            t_softplus_sharpness_log=f32(math.log(v["t_softplus_sharpness"])),
        )

    @classmethod
    def from_stored(cls, stored: dict[str, float]) -> "TIParameters":
        """Build from a mapping of stored names (as in the weights files) to values."""
        missing = set(STORED_NAMES) - set(stored)
        if missing:
            raise ValueError(f"stored TI parameters lack {sorted(missing)}")
        return cls(**{k: jnp.asarray(stored[k], jnp.float32) for k in STORED_NAMES})

    def as_stored_dict(self) -> dict[str, float]:
        """Stored values as plain floats, keyed by stored name."""
        return {k: float(getattr(self, k)) for k in STORED_NAMES}


def prior_parameters() -> TIParameters:
    """The TI prior of Maslov et al., egusphere-2026-515 (the regulariser's reference, training's start)."""
    return TIParameters.from_constrained()


#: Weight of the TI prior regulariser in the published training and fine-tuning.
TI_PRIOR_WEIGHT = 0.1


def ti_prior_deviations(ti: TIParameters, prior: Optional[TIParameters] = None) -> list[Array]:
    """The relative deviations ``(theta_k - theta0_k) / theta0_k`` of the 7 trainable stored
    values from ``prior`` (default :func:`prior_parameters`), in ``TRAINABLE_NAMES`` order."""
    prior = prior_parameters() if prior is None else prior
    return [(getattr(ti, k) - getattr(prior, k)) / getattr(prior, k) for k in TRAINABLE_NAMES]


def ti_prior(ti: TIParameters, prior: Optional[TIParameters] = None) -> Array:
    """The TI prior (Maslov et al., egusphere-2026-515, without its weight): the sum of the squared
    :func:`ti_prior_deviations`. With them, the one definition used by training,
    fine-tuning and the OGGM calibrations."""
    return sum(d ** 2 for d in ti_prior_deviations(ti, prior))
