"""OGGM's own calibration tasks run on ``GlaUnTIMassBalance``, with the result found again.

OGGM's ``mb_calibration_from_scalar_mb(..., mb_model_class=GlaUnTIMassBalance)`` writes
``mb_calib.json`` without naming the class: the file is then indistinguishable from a
``MonthlyTIModel`` calibration (OGGM's preprocessed directories all have one), so
``GlaUnTIMassBalance`` cannot take it as its own, and OGGM's run tasks used the default
``melt_f``. :func:`glaunti_mb_calibration_from_scalar_mb` runs OGGM's task unchanged but
writes to GlaUnTI's own calibration file of the variant (``mb_calib_glaunti_<variant>.json``,
which the MB model reads first), names the class and the variant in it, and passes the
variant's own ``melt_f`` and ``prcp_fac = 1`` unless told otherwise (OGGM's task would pass
``cfg.PARAMS['melt_f']`` and ``cfg.PARAMS['prcp_fac']``, tuned for ``MonthlyTIModel``).
The glacier's ``MonthlyTIModel`` calibration in ``mb_calib.json`` is left as it is.
"""
from __future__ import annotations

import logging

from oggm import cfg, utils

from ..session.params import get_param, register_file_keys

log = logging.getLogger(__name__)

register_file_keys()


@utils.entity_task(log, writes=["mb_calib"])
def glaunti_mb_calibration_from_scalar_mb(gdir, *, variant: str | None = None, **kwargs) -> dict:
    """OGGM's ``mb_calibration_from_scalar_mb`` on ``GlaUnTIMassBalance`` of ``variant``.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
    variant : str
        'A', 'C' or 'D' (default ``cfg.PARAMS['glaunti_variant']``).
    **kwargs
        OGGM's arguments (``ref_mb``, ``ref_mb_years``, ``calibrate_param1``, ...);
        ``mb_model_class``, ``filesuffix`` and ``write_to_gdir`` are set here.

    Returns
    -------
    the calibration dict written to ``mb_calib_glaunti_<variant>.json``.
    """
    from oggm.core.massbalance import mb_calibration_from_scalar_mb

    from ..run.massbalance import GlaUnTIMassBalance, calibration_filesuffix, load_variant
    from ..units import ddf_snow_log_to_melt_f

    variant = str(get_param("glaunti_variant", variant)).upper()
    fixed = {"mb_model_class", "filesuffix", "write_to_gdir"} & set(kwargs)
    if fixed:
        raise ValueError(f"glaunti_mb_calibration_from_scalar_mb sets {sorted(fixed)} itself; remove them")
    model = load_variant(variant)
    if hasattr(model, "ti"):
        kwargs.setdefault("melt_f", ddf_snow_log_to_melt_f(model.ti.ddf_snow_log))
    kwargs.setdefault("prcp_fac", 1.0)
    kwargs.setdefault("overwrite_gdir", True)
    suffix = calibration_filesuffix(variant)
    previous = cfg.PARAMS.get("glaunti_variant")
    cfg.PARAMS["glaunti_variant"] = variant  # OGGM builds the class without a variant
    try:
        calib = mb_calibration_from_scalar_mb(gdir, mb_model_class=GlaUnTIMassBalance, filesuffix=suffix,
                                              write_to_gdir=False, **kwargs)
    finally:
        cfg.PARAMS["glaunti_variant"] = previous
    calib = {**calib, "mb_model_class": "GlaUnTIMassBalance", "variant": variant,
             "calibrated_with": "oggm.core.massbalance.mb_calibration_from_scalar_mb"}
    # the MB model OGGM's task built ran on the weights the variant's file names, if any
    if gdir.has_file("mb_calib", filesuffix=suffix):
        before = gdir.read_json("mb_calib", filesuffix=suffix)
        calib.update({k: before[k] for k in ("weights_file", "weights_sha256") if k in before})
    gdir.write_json(calib, "mb_calib", filesuffix=suffix)
    return calib
