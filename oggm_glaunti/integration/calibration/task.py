"""``glaunti_calibrate``: fit GlaUnTI to a glacier's observations by gradient descent.

What is fitted (``parameters``):

- ``temp_bias`` (degC added to the daily temperature) and/or ``prcp_fac`` (factor on the
  daily precipitation, fitted in log space), through the full model - corrector included,
  since the corrector reacts to the shifted forcing. Default: both when winter or summer
  balances or stakes exist, else ``temp_bias`` alone (an annual series cannot separate them).
- ``ti`` (variant A only): the seven trainable TI parameters, as the paper's fine-tuning,
  with the paper's prior regulariser.

Objective: the mean squared misfit (m w.e.) of each data kind - WGMS annual, winter and
summer balances, the geodetic mean, stakes - each weighted (``weights``), plus weak priors
(temp_bias ~ 0 +- 3 degC, log prcp_fac ~ 0 +- 1). The simulated years are the MB model's own
(same function, same state rule: :mod:`.glacier_run`); the gradient is computed in
forward mode (few parameters, no stored trajectories); optax's L-BFGS gives the search
directions and a backtracking (Armijo) line search the step lengths. Glaciers whose grids
share a shape bucket and whose runs span as many years share one compilation.
Results go to ``mb_calib_glaunti_<variant>.json`` (and, for ``ti``, the fitted weights to
``glaunti_weights_<variant>.npz``), which :class:`~.massbalance.GlaUnTIMassBalance` reads by
default.
"""

from __future__ import annotations

import logging
import os

import numpy as np
from oggm import cfg, utils

from .observations import Observations, from_geodetic, from_stakes, from_wgms
from ..session.params import get_param, register_file_keys
from ..units import ddf_snow_log_to_melt_f

log = logging.getLogger(__name__)

register_file_keys()  # before the entity tasks below document their files

#: Default weights of the data kinds in the calibration objective.
DEFAULT_WEIGHTS = {"annual": 1.0, "winter": 1.0, "summer": 1.0, "geodetic": 1.0, "stakes": 0.1}


def calibration_data(gdir, run, use_wgms: bool = True, ref_years: tuple[int, int] | None = None,
                     geodetic=None, stakes_csv=None):
    """The glacier's observations and the hydrological years they score.

    Arguments as in :func:`glaunti_calibrate`; ``run`` is the model's
    :class:`~.glacier_run.GlacierRun`. Raises ``ValueError`` when there are no data or none
    inside the daily climate.

    Returns
    -------
    (Observations, list of int)
    """
    obs = Observations()
    in_wgms = use_wgms and from_wgms(gdir, obs, ref_years)
    if geodetic is not None:
        from_geodetic(gdir, obs, geodetic)
    if stakes_csv is not None:
        from_stakes(gdir, obs, stakes_csv, run.grid, run.start_month)
    if obs.count() == 0:
        why = " (it is not one of OGGM's WGMS reference glaciers)" if use_wgms and not in_wgms else ""
        raise ValueError(f"{gdir.rgi_id}: no calibration data (WGMS, geodetic or stakes) was found or "
                         f"given{why}; pass geodetic=(y0, y1, mm w.e. per yr) or stakes_csv=...")
    years = sorted(y for y in obs.years() if y in run.years and y != run.partial_year)
    if not years:
        have = sorted(obs.years())
        raise ValueError(
            f"{gdir.rgi_id}: the calibration data ({have[0] + 1}-{have[-1] + 1}) does not overlap the "
            f"daily climate's hydrological years {run.years[0]}-{run.years[-1]}"
        )
    return obs, years


@utils.entity_task(log, writes=["mb_calib"])
def glaunti_calibrate(gdir, *, variant: str | None = None, parameters=None, use_wgms: bool = True,
                      ref_years: tuple[int, int] | None = None, geodetic=None, stakes_csv=None,
                      weights: dict | None = None, max_steps: int = 30, tolerance: float = 1e-7,
                      climate_filename: str = "climate_historical", input_filesuffix: str = "",
                      progress: bool = False) -> dict:
    """Calibrate GlaUnTI on one glacier (see the module docstring).

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        with daily climate and model grid.
    variant : str
        'A', 'C' or 'D' (default ``cfg.PARAMS['glaunti_variant']``).
    parameters : sequence of str
        any of 'temp_bias', 'prcp_fac', 'ti' (A only); default: see module docstring.
    use_wgms : bool
        fit the WGMS glacier-wide series (``gdir.get_ref_mb_data()``).
    ref_years : (int, int), optional
        first and last WGMS year to use.
    geodetic : (y0, y1, mm w.e. per yr) or 'oggm', optional
        a geodetic mean over 1 Jan y0 .. 1 Jan y1.
    stakes_csv : path, optional
        stake records: date0, date1, lat, lon, balance (m w.e.), one row per record.
    weights : dict, optional
        weights of the data kinds (default :data:`DEFAULT_WEIGHTS`).
    max_steps : int
        L-BFGS iterations at most.
    tolerance : float
        stop when the loss improves by less than this (m w.e. squared).

    Returns
    -------
    the dict written to ``mb_calib_glaunti_<variant>.json``.
    """
    from .objective import Objective, apply_parameters
    from ..run.massbalance import GlaUnTIMassBalance

    variant = str(get_param("glaunti_variant", variant)).upper()
    if variant == "B":
        raise ValueError("variant B (the GRU baseline) has no physical parameters to calibrate; use A, C or D")
    mb = GlaUnTIMassBalance(gdir, filename=climate_filename, input_filesuffix=input_filesuffix,
                            variant=variant, temp_bias=0.0, prcp_fac=1.0)
    run = mb.glacier_run
    obs, years = calibration_data(gdir, run, use_wgms, ref_years, geodetic, stakes_csv)
    seasonal = bool(obs.winter or obs.summer or (obs.stakes is not None and len(obs.stakes)))
    if parameters is None:
        parameters = ("temp_bias", "prcp_fac") if seasonal else ("temp_bias",)
    parameters = tuple(parameters)
    unknown = set(parameters) - {"temp_bias", "prcp_fac", "ti"}
    if unknown or not parameters:
        raise ValueError(f"parameters must be some of 'temp_bias', 'prcp_fac', 'ti'; got {parameters}")
    if "ti" in parameters and variant != "A":
        raise ValueError("parameters='ti' fine-tunes variant A's TI parameters; variant "
                         f"{variant} would need its corrector retrained (see the training tools)")

    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    objective = Objective(run, obs, years, parameters, weights, hemisphere=gdir.hemisphere)
    theta, history = objective.minimise(max_steps=max_steps, tolerance=tolerance, progress=progress)
    fitted = apply_parameters(run.model, parameters, theta)
    misfit = objective.misfit(theta)

    return write_calibration(gdir, variant, fitted, list(parameters), obs.sources, years, misfit,
                             history, default_melt_f=mb.melt_f)


def write_calibration(gdir, variant: str, fitted, parameters: list, sources: list, years,
                      misfit: dict, history, default_melt_f: float, notes: str = "") -> dict:
    """Write a calibration to the glacier directory, where the MB model finds it.

    ``mb_calib_glaunti_<variant>.json`` gets the fitted temperature bias, precipitation
    factor, the data used and the misfits; when the TI parameters were fitted (``'ti'`` in
    ``parameters``) the model goes to ``glaunti_weights_<variant>.npz`` and the JSON names
    it (``weights_file``), so :class:`~.massbalance.GlaUnTIMassBalance` loads it by default.

    Returns
    -------
    the dict written.
    """
    from ..run.massbalance import calibration_filesuffix

    out = {
        "rgi_id": gdir.rgi_id,
        "mb_model_class": "GlaUnTIMassBalance",
        "variant": variant,
        "temp_bias": fitted.temp_bias,
        "prcp_fac": fitted.prcp_fac,
        "melt_f": default_melt_f,
        "calibrated_parameters": list(parameters),
        "data": list(sources),
        "hydro_years": [int(years[0]), int(years[-1])],
        "misfit_m_we": misfit,
        "loss_history": [float(v) for v in history],
    }
    if "ti" in parameters:
        from ...weights import save_model

        path = gdir.get_filepath("glaunti_weights", filesuffix=f"_{variant}")
        save_model(fitted.model, path, notes=notes or f"fine-tuned on {gdir.rgi_id} by glaunti_calibrate")
        out["weights_file"] = os.path.basename(path)
        out["melt_f"] = ddf_snow_log_to_melt_f(fitted.model.ti.ddf_snow_log)
    gdir.write_json(out, "mb_calib", filesuffix=calibration_filesuffix(variant))
    return out
