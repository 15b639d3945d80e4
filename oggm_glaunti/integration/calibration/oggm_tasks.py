"""OGGM's own calibration tasks run on ``GlaUnTIMassBalance``, with the result found again.

OGGM's ``mb_calibration_from_scalar_mb(..., mb_model_class=GlaUnTIMassBalance)`` writes
``mb_calib.json`` without naming the class: the file is then indistinguishable from a
``MonthlyTIModel`` calibration (OGGM's preprocessed directories all have one), so
``GlaUnTIMassBalance`` cannot take it as its own, and OGGM's run tasks used the default
``melt_f``. :func:`glaunti_mb_calibration_from_scalar_mb` runs OGGM's task unchanged but
writes to GlaUnTI's own calibration file of the variant (``mb_calib_glaunti_<variant>.json``,
which the MB model reads first; :func:`.calibration_file.write_oggm_calibration`), names
the class and the variant in it, and passes the variant's own ``melt_f`` and
``prcp_fac = 1`` unless told otherwise (OGGM's task would pass ``cfg.PARAMS['melt_f']`` and
``cfg.PARAMS['prcp_fac']``, tuned for ``MonthlyTIModel``). As every GlaUnTI calibration, it
starts from the published weights and the arguments given, never from the glacier's
previous calibration, and its result must lie in the plausible ranges the MB model checks.
The glacier's ``MonthlyTIModel`` calibration in ``mb_calib.json`` is left as it is.
"""
from __future__ import annotations

import logging

from oggm import utils

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
    from functools import partial

    from oggm.core.massbalance import mb_calibration_from_scalar_mb

    from .calibration_file import write_oggm_calibration
    from .task import refuse_variant_b
    from ..run.arguments import range_problem
    from ..run.massbalance import GlaUnTIMassBalance, load_variant, variant_melt_f

    variant = str(get_param("glaunti_variant", variant)).upper()
    refuse_variant_b(variant)
    fixed = {"mb_model_class", "filesuffix", "write_to_gdir"} & set(kwargs)
    if fixed:
        raise ValueError(f"glaunti_mb_calibration_from_scalar_mb sets {sorted(fixed)} itself; remove them")
    kwargs.setdefault("melt_f", variant_melt_f(load_variant(variant)))
    kwargs.setdefault("prcp_fac", 1.0)
    kwargs.setdefault("overwrite_gdir", True)
    # the published model under OGGM's values: never the glacier's previous calibration
    model_class = partial(GlaUnTIMassBalance, variant=variant, use_calibration=False)
    calib = mb_calibration_from_scalar_mb(gdir, mb_model_class=model_class, write_to_gdir=False, **kwargs)
    implausible = [p for p in (range_problem(k, float(calib[k])) for k in ("temp_bias", "prcp_fac", "melt_f"))
                   if p is not None]
    if implausible:
        raise RuntimeError(f"{gdir.rgi_id}: OGGM's mb_calibration_from_scalar_mb found an implausible calibration "
                           f"({'; '.join(implausible)}); nothing was written. Check ref_mb (mm w.e. per year) and "
                           "the daily climate, or calibrate another parameter")
    return write_oggm_calibration(gdir, variant, calib)
