"""Differentiable tools on the core model (Maslov et al., egusphere-2026-515, appendix A): pure JAX, no OGGM, no files.

- :mod:`.inverse`: the temperature offset (optionally with a precipitation factor) that
  brings a glacier's mean SMB over a target period to a target;
- :mod:`.attribution`: integrated gradients of a year's glacier-wide SMB with respect to
  the daily temperature and precipitation, against a monthly-climatology baseline;
- :mod:`.uncertainty`: first-order (delta-method) propagation of weekly forcing noise to
  the cumulative SMB trajectory, and the Monte Carlo ensemble that checks it;
- :mod:`.sensitivity`: gradients of glacier-wide SMB with respect to the TI parameters,
  the forcing adjustments and the corrector's fields;
- :mod:`.core_inputs`: the four tools on the core's own inputs (a model and stacked
  :class:`~oggm_glaunti.core.YearForcing`).

The algorithms take the model's year or trajectory as a function, so the OGGM layer
(:mod:`oggm_glaunti.integration.tools`) runs them through a glacier's one run.
"""

from .errors import AttributionIncomplete, OffsetNotConverged, ToolFailed

__all__ = ["AttributionIncomplete", "OffsetNotConverged", "ToolFailed"]
