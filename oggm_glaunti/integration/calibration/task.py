"""``glaunti_calibrate``: fit GlaUnTI to a glacier's observations.

What is fitted (``parameters``):

- ``temp_bias`` (degC added to the daily temperature) and/or ``prcp_fac`` (factor on the
  daily precipitation, fitted in log space), through the full model - corrector included,
  since the corrector reacts to the shifted forcing.
- ``ti`` (variant A only): the seven trainable TI parameters, as the paper's fine-tuning,
  always starting from the published weights (repeatable), with a Gaussian prior of
  relative width ``glaunti_calib_ti_relative_sd`` about the TI prior.

**The rule for the second parameter.** ``prcp_fac`` is fitted (by default) only when at
least ``cfg.PARAMS['glaunti_calib_min_seasonal_years']`` (5) hydrological years have a
winter or summer balance or stake records: a single seasonal pair cannot separate
precipitation from melt (it would be fitted to that one year's noise). Otherwise
``prcp_fac`` stays at its prior, 1 (a factor on top of the variant's own), or at the value
the user gives with ``prcp_fac=``. Asking for it explicitly with fewer seasonal years is
an error.

**The objective** is half the chi-square of the observations - each value over its own
uncertainty, so a kind weighs by how many values it has and how good they are - plus
Gaussian priors (temp_bias 0 +- ``glaunti_calib_temp_bias_sd`` 3 degC, log prcp_fac
0 +- ``glaunti_calib_log_prcp_fac_sd`` 0.5). Default uncertainties (m w.e., per value;
``cfg.PARAMS['glaunti_calib_sigma_<kind>']``, or ``sigmas=`` per call):

====================  ======  ==================================================
kind                  sigma   why
====================  ======  ==================================================
annual (WGMS)         0.20    glaciological method (Zemp et al. 2013: 0.2-0.4)
winter (WGMS)         0.15    accumulation surveys are denser than ablation ones
summer (WGMS)         0.20    as annual
geodetic              0.10    per year; ``'oggm'``: the table's own ``err_dmdtda``;
                              ``(y0, y1, mm, err_mm)``: the given one
stakes                0.15    point measurement and point-to-cell representativeness
profile (band value)  0.30    band interpolation and representativeness
====================  ======  ==================================================

**The reference-period mean is matched** (``match_mean=True``): the mean of the annual
series over its years - else the geodetic mean - enters as a tight pseudo-observation
and, after the optimisation, Newton steps on ``temp_bias`` close it to within
``glaunti_calib_mean_tolerance`` (1 mm w.e. per year, OGGM's convention). The other data
decide how the remaining freedom is used (``prcp_fac``, the TI parameters).

**Profiles** (``use_profiles``): WGMS mass-balance profiles on the model grid's 100 m bands
(:func:`~.observations.from_wgms_profiles`). They are fitted with ``parameters=['ti']``
(variant A's fine-tuning fits profiles and glacier-wide data together) and, for the
other parameters, only scored (their misfit is reported): a temperature bias and a
precipitation factor move the whole profile, not its shape, and the many band values
would otherwise outweigh the glacier-wide series. ``use_profiles=True`` fits them
anyway; C and D's corrector cannot be refitted per glacier (see the training tools).

**What is written** (``mb_calib_glaunti_<variant>.json``): the fitted values and their
standard deviations from the curvature of the objective at the optimum (Gauss-Newton,
the Jacobian through JAX), the correlation, why each parameter was or was not fitted,
the misfit of each kind (n, RMSE, bias, sigma, chi-square), the convergence status and
warnings (a parameter the data do not identify). Refused, writing nothing: a loss that
is not finite, an optimisation that does not converge, a mean that cannot be matched,
and a temperature bias, precipitation factor or (``ti``) snow degree-day factor outside
its plausible range - the one the MB model checks (``glaunti_temp_bias_range``,
``glaunti_prcp_fac_range``, ``glaunti_melt_f_range``). Observations the daily climate does
not fully cover are dropped with a warning (WGMS values, stakes) or refused (a geodetic
mean over a longer period).

**A calibration never reads the previous one**: it starts from the published weights and
the arguments given, so a broken earlier calibration (its weights file missing or
replaced, values out of range, unreadable) is simply replaced, and nothing of it (its
``melt_f``, its weights) is carried into the new file.

For ``ti`` the fitted weights go to ``glaunti_weights_<variant>_<hash>.npz`` first, then the
JSON names it and its SHA-256 in one atomic rename: a crash in between leaves the previous
pair intact, and the MB model refuses a weights file whose hash is not the JSON's (see
:mod:`.calibration_file`, the file's one writer and reader).
"""

from __future__ import annotations

import logging

from typing import NamedTuple

import numpy as np
from oggm import utils

from .calibration_file import write_calibration
from .observations import Observations, from_geodetic, from_stakes, from_wgms, from_wgms_profiles
from ..run.arguments import range_problem
from ..session.params import get_param, register_file_keys

log = logging.getLogger(__name__)

register_file_keys()  # before the entity tasks below document their files

#: A parameter is flagged as not identifiable when the data reduce its prior variance by
#: less than half (data information below the prior's).
IDENTIFIABLE_DATA_SHARE = 0.5
#: The optimisation has converged when a Gauss-Newton step would lower the loss (half a
#: chi-square) by less than this: the parameters are within ~0.15 standard deviations of
#: the optimum.
MAX_NEWTON_DECREMENT = 1e-2


def calibration_data(gdir, run, use_wgms: bool = True, ref_years: tuple[int, int] | None = None,
                     geodetic=None, stakes_csv=None, use_profiles: bool = False,
                     profile_dz: float = 100.0, only_years=None):
    """The glacier's observations and the hydrological years they score.

    Arguments as in :func:`glaunti_calibrate`; ``run`` is the model's
    :class:`~.glacier_run.GlacierRun`. Observations the daily climate does not fully cover
    are dropped with a warning (a partly covered geodetic period is refused). Raises
    ``ValueError`` when there are no data or none inside the daily climate.

    Returns
    -------
    (Observations, list of int)
    """
    obs = Observations()
    in_wgms = use_wgms and from_wgms(gdir, obs, ref_years)
    if use_profiles:
        from_wgms_profiles(gdir, obs, run.grid, ref_years, dz=profile_dz)
    if only_years is not None:
        obs.keep_wgms_years(only_years, run.calendar)
    if geodetic is not None:
        from_geodetic(gdir, obs, geodetic)
    if stakes_csv is not None:
        from_stakes(gdir, obs, stakes_csv, run.grid)
    if obs.count() == 0:
        why = " (it is not one of OGGM's WGMS reference glaciers)" if use_wgms and not in_wgms else ""
        raise ValueError(f"{gdir.rgi_id}: no calibration data (WGMS, geodetic or stakes) was found or "
                         f"given{why}; pass geodetic=(y0, y1, mm w.e. per yr) or stakes_csv=...")
    have = sorted(obs.years())
    covered = [int(y) for y in run.full_years]
    if not set(have) & set(covered):
        wgms = run.calendar.wgms_year_of
        raise ValueError(
            f"{gdir.rgi_id}: the calibration data ({wgms(have[0])}-{wgms(have[-1])}) does not overlap the "
            f"daily climate's hydrological years {covered[0]}-{covered[-1]}: extend the daily climate "
            "or choose ref_years inside it"
        )
    first_day = run.calendar.begin(covered[0])
    last_day = run.calendar.end(covered[-1]) - np.timedelta64(1, "D")
    for note in obs.keep_covered(set(covered), first_day, last_day, gdir.rgi_id):
        obs.sources.append(note)
    years = sorted(y for y in obs.years() if y in covered)
    if obs.count() == 0 or not years:
        raise ValueError(f"{gdir.rgi_id}: no calibration data left inside the daily climate's hydrological "
                         f"years {covered[0]}-{covered[-1]}")
    return obs, years


def choose_parameters(obs, variant: str, parameters) -> tuple[tuple[str, ...], dict]:
    """The parameters to fit and why (the rule of the module docstring)."""
    n_min = int(get_param("glaunti_calib_min_seasonal_years"))
    n_seasonal = len(obs.seasonal_years())
    why = {}
    if parameters is None:
        if n_seasonal >= n_min:
            parameters = ("temp_bias", "prcp_fac")
            why["prcp_fac"] = f"fitted: {n_seasonal} years with seasonal data (rule: at least {n_min})"
        else:
            parameters = ("temp_bias",)
            why["prcp_fac"] = (f"not fitted, kept at its prior: {n_seasonal} year(s) with seasonal data, the rule "
                               f"needs at least {n_min} (cfg.PARAMS['glaunti_calib_min_seasonal_years'])")
    parameters = tuple(parameters)
    unknown = set(parameters) - {"temp_bias", "prcp_fac", "ti"}
    if unknown or not parameters or len(set(parameters)) != len(parameters):
        raise ValueError(f"parameters must be some of 'temp_bias', 'prcp_fac', 'ti'; got {parameters}")
    if "ti" in parameters and variant != "A":
        raise ValueError("parameters='ti' fine-tunes variant A's TI parameters; variant "
                         f"{variant} would need its corrector retrained (see the training tools)")
    if "prcp_fac" in parameters and "prcp_fac" not in why:
        if n_seasonal < n_min:
            raise ValueError(
                f"too few data to fit prcp_fac: {n_seasonal} hydrological year(s) with winter/summer balances or "
                f"stakes, the rule needs at least {n_min}. Fit parameters=['temp_bias'] (prcp_fac stays at its "
                "prior or your prcp_fac=), add seasonal data, or lower "
                "cfg.PARAMS['glaunti_calib_min_seasonal_years'] knowingly")
        why["prcp_fac"] = f"fitted (asked for): {n_seasonal} years with seasonal data"
    if "temp_bias" in parameters:
        why["temp_bias"] = "fitted: matches the reference-period mean"
    if "ti" in parameters:
        why["ti"] = "fitted (asked for): variant A's fine-tuning, from the published weights"
    n_params = sum(7 if p == "ti" else 1 for p in parameters)
    if obs.count() < n_params:
        raise ValueError(f"too few data for the requested parameters: {obs.count()} observation(s) for "
                         f"{n_params} parameter values {parameters}; fit fewer parameters or add data")
    return parameters, why


@utils.entity_task(log, writes=["mb_calib"])
def glaunti_calibrate(gdir, *, variant: str | None = None, parameters=None, use_wgms: bool = True,
                      ref_years: tuple[int, int] | None = None, geodetic=None, stakes_csv=None,
                      use_profiles: bool | None = None, sigmas: dict | None = None,
                      prcp_fac: float = 1.0, match_mean: bool = True, max_steps: int = 40,
                      tolerance: float = 1e-3, climate_filename: str = "climate_historical",
                      input_filesuffix: str = "", progress: bool = False) -> dict:
    """Calibrate GlaUnTI on one glacier (see the module docstring).

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        with daily climate and model grid.
    variant : str
        'A', 'C' or 'D' (default ``cfg.PARAMS['glaunti_variant']``).
    parameters : sequence of str
        any of 'temp_bias', 'prcp_fac', 'ti' (A only); default: the module's rule.
    use_wgms : bool
        fit the WGMS glacier-wide series (``gdir.get_ref_mb_data()``).
    ref_years : (int, int), optional
        first and last WGMS year to use (balances and profiles).
    geodetic : (y0, y1, mm w.e. per yr[, uncertainty mm w.e. per yr]) or 'oggm', optional
        a geodetic mean over 1 Jan y0 .. 1 Jan y1.
    stakes_csv : path, optional
        stake records: date0, date1, lat, lon, balance (m w.e.), one row per record.
    use_profiles : bool, optional
        read the WGMS mass-balance profiles (default: when fitting 'ti'); fitted with
        'ti', else scored only (see the module docstring); True with other parameters
        scores them; to fit them with temp_bias/prcp_fac give ``sigmas={'profile': ...}``.
    sigmas : dict, optional
        uncertainty of one value of each kind, m w.e. (defaults: module docstring).
    prcp_fac : float
        the precipitation factor kept when it is not fitted (default 1, the prior).
    match_mean : bool
        hold the reference-period mean to within 1 mm w.e. per year (default).
    max_steps : int
        Levenberg-Marquardt steps at most.
    tolerance : float
        stop when a Gauss-Newton step would lower the loss (half a chi-square) by less
        than this.

    Returns
    -------
    the dict written to ``mb_calib_glaunti_<variant>.json``.
    """
    out, _ = fit_calibration(
        gdir, variant=variant, parameters=parameters, use_wgms=use_wgms, ref_years=ref_years,
        geodetic=geodetic, stakes_csv=stakes_csv, use_profiles=use_profiles, sigmas=sigmas,
        prcp_fac=prcp_fac, match_mean=match_mean, max_steps=max_steps, tolerance=tolerance,
        climate_filename=climate_filename, input_filesuffix=input_filesuffix, progress=progress)
    fitted, parameters, sources, years, misfit, history, melt_f, summary = out
    return write_calibration(gdir, str(get_param("glaunti_variant", variant)).upper(), fitted, list(parameters), sources, years, misfit,
                             history, default_melt_f=melt_f, extra=summary)


class Fit(NamedTuple):
    """A calibration's result, before it is written (see :func:`fit_calibration`)."""

    fitted: object
    parameters: tuple
    sources: list
    years: list
    misfit: dict
    history: list
    melt_f: float
    summary: dict


def fit_calibration(gdir, *, variant: str | None = None, parameters=None, use_wgms: bool = True,
                    ref_years: tuple[int, int] | None = None, geodetic=None, stakes_csv=None,
                    use_profiles: bool | None = None, sigmas: dict | None = None, prcp_fac: float = 1.0,
                    match_mean: bool = True, max_steps: int = 40, tolerance: float = 1e-3,
                    climate_filename: str = "climate_historical", input_filesuffix: str = "",
                    progress: bool = False, only_years=None):
    """:func:`glaunti_calibrate` without writing anything (arguments as there;
    ``only_years``: keep the WGMS values and profiles of these WGMS years only, e.g. a
    cross-validation's training years).

    Returns
    -------
    (:class:`Fit`, (objective, theta))
    """
    from .objective import Objective, apply_parameters
    from ..run.massbalance import glacier_run_of, load_variant, variant_melt_f

    variant = str(get_param("glaunti_variant", variant)).upper()
    refuse_variant_b(variant)
    if not (np.isfinite(prcp_fac) and prcp_fac > 0):
        raise ValueError(f"prcp_fac must be a positive factor; got {prcp_fac}")
    # always from the published weights, never from the glacier's previous calibration
    # (its values or its files): a fit never depends on an earlier one, and replaces a broken one
    model = load_variant(variant)
    run = glacier_run_of(gdir, model, climate_filename, input_filesuffix)
    fit_ti = parameters is not None and "ti" in tuple(parameters)
    if use_profiles is None:
        use_profiles = fit_ti
    obs, years = calibration_data(gdir, run, use_wgms, ref_years, geodetic, stakes_csv,
                                  use_profiles=use_profiles, only_years=only_years)
    parameters, why = choose_parameters(obs, variant, parameters)
    if "prcp_fac" not in parameters:
        why.setdefault("prcp_fac", "not fitted (not asked for)")
        why["prcp_fac"] += f"; prcp_fac = {prcp_fac:g}"
    score_only = () if (fit_ti or "profile" in (sigmas or {})) else ("profile",)
    mean_kind = None
    if match_mean:
        mean_kind = "annual" if obs.annual else ("geodetic" if obs.geodetic is not None else None)
    if mean_kind is not None and "temp_bias" not in parameters and not fit_ti:
        mean_kind = None  # prcp_fac alone: the mean is whatever the data make it
    objective = Objective(run, obs, years, parameters, sigmas, match_mean=mean_kind, model=model, score_only=score_only,
                          log_prcp_fac=float(np.log(prcp_fac)))
    theta, history = objective.minimise(max_steps=max_steps, tolerance=tolerance, progress=progress)
    mean_misfit = None
    if mean_kind is not None:
        theta, mean_misfit = objective.match_mean(theta, get_param("glaunti_calib_mean_tolerance"))
    posterior = objective.laplace(theta)
    fitted = apply_parameters(model, parameters, theta, prcp_fac=prcp_fac)
    misfit = objective.misfit(theta)
    summary = judge(gdir.rgi_id, parameters, theta, fitted, posterior, history, max_steps, mean_kind,
                    mean_misfit, why, misfit, objective.spec.score_only)
    fit = Fit(fitted, tuple(parameters), list(obs.sources), list(years), misfit, list(history),
              variant_melt_f(model), summary)
    return fit, (objective, theta)


def refuse_variant_b(variant: str) -> None:
    """Variant B (the GRU baseline) cannot be calibrated: raise at once, before any work."""
    if variant == "B":
        raise ValueError("variant B (the GRU baseline) has no physical parameters to calibrate (no TI melt factor, "
                         "no TI parameters); use A, C or D")


def fitted_range_problems(fitted) -> list[str]:
    """Why a fit's temperature bias, precipitation factor or (TI fitted) snow degree-day
    factor lies outside its plausible range (:data:`~oggm_glaunti.integration.run.arguments.RANGES`: the same
    ranges the MB model checks); empty if none does."""
    from ..units import ddf_snow_log_to_melt_f

    values = {"temp_bias": fitted.temp_bias, "prcp_fac": fitted.prcp_fac}
    if hasattr(fitted.model, "ti"):
        values["melt_f"] = ddf_snow_log_to_melt_f(fitted.model.ti.ddf_snow_log)
    return [p for p in (range_problem(name, float(v)) for name, v in values.items()) if p is not None]


def judge(rgi_id: str, parameters, theta, fitted, posterior: dict, history, max_steps: int,
          mean_kind, mean_misfit, why: dict, misfit: dict, score_only=()) -> dict:
    """Check a fit and describe it: raises ``RuntimeError`` (nothing written) when it did
    not converge, misses the mean, or is implausible; returns the uncertainty, the
    reasons and the warnings to write beside the fitted values."""
    decrement = posterior["newton_decrement"]
    status = "converged" if decrement < MAX_NEWTON_DECREMENT else "not converged"
    if status != "converged":
        raise RuntimeError(
            f"{rgi_id}: the calibration did not converge in {len(history)} steps (a Newton step would still "
            f"lower the loss by {decrement:.3g}); nothing was written. Raise max_steps, or check that the "
            "observations are consistent with each other and with the climate")
    tolerance = get_param("glaunti_calib_mean_tolerance")
    if mean_misfit is not None and not mean_misfit <= tolerance:
        raise RuntimeError(
            f"{rgi_id}: the {mean_kind} reference mean could not be matched (off by {mean_misfit * 1000:.1f} mm "
            f"w.e./yr, tolerance {tolerance * 1000:g}); nothing was written. Check the observations' units and "
            "years, or pass match_mean=False knowingly")
    implausible = fitted_range_problems(fitted)
    if implausible:
        raise RuntimeError(
            f"{rgi_id}: implausible calibration ({'; '.join(implausible)}); nothing was written. Check the "
            "observations (units: mm w.e. for WGMS series and geodetic means, m w.e. for stakes) and the daily "
            "climate")
    names = _coordinate_names(parameters)
    sd = posterior["sd"]
    uncertainty, warnings = {}, []
    for k, name in enumerate(names):
        uncertainty[name] = float(sd[k])
        data_i, prior_i = posterior["data_information"][k], posterior["prior_information"][k]
        if name in ("temp_bias", "log_prcp_fac") and data_i < prior_i * IDENTIFIABLE_DATA_SHARE / (
                1 - IDENTIFIABLE_DATA_SHARE):
            warnings.append(f"{name} is not identifiable from these data (they reduce its prior variance by "
                            f"less than half): it stays near its prior")
    cov = posterior["covariance"]
    correlation = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)) + 1e-30)
    if "temp_bias" in names and "log_prcp_fac" in names:
        rho = float(correlation[names.index("temp_bias"), names.index("log_prcp_fac")])
        if abs(rho) > 0.95:
            warnings.append(f"temp_bias and prcp_fac are almost interchangeable for these data (correlation "
                            f"{rho:+.2f}): only their combination is determined")
    fitted_kinds = [k for k in misfit if k not in score_only]
    n_obs = sum(misfit[k]["n"] for k in fitted_kinds)
    dof = max(n_obs - len(names), 1)
    reduced_chi2 = sum(misfit[k]["chi2"] for k in fitted_kinds) / dof
    scale = float(np.sqrt(max(reduced_chi2, 1.0)))
    if reduced_chi2 > 2.0:
        warnings.append(f"the misfit is {reduced_chi2:.1f} times what the stated uncertainties allow (reduced "
                        "chi-square): the model error exceeds the observation uncertainties, so the standard "
                        "deviations are too small; *_sd_scaled multiplies them by its square root")
    for w in warnings:
        log.warning("%s: %s", rgi_id, w)
    out = {
        "status": status, "steps": len(history), "newton_decrement": decrement,
        "why": why, "uncertainty": {
            "method": "Gauss-Newton (Laplace) at the optimum, 1 standard deviation",
            **{f"{n}_sd": v for n, v in uncertainty.items() if not n.startswith("ti.")},
            **{f"{n}_sd_scaled": v * scale for n, v in uncertainty.items() if not n.startswith("ti.")},
            "reduced_chi2": reduced_chi2,
        },
        "warnings": warnings,
        "matched_mean": None if mean_kind is None else {"kind": mean_kind, "misfit_m_we": float(mean_misfit)},
    }
    if "log_prcp_fac" in names:
        s = uncertainty["log_prcp_fac"]
        out["uncertainty"]["prcp_fac_range_1sd"] = [fitted.prcp_fac * float(np.exp(-s)), fitted.prcp_fac * float(np.exp(s))]
    if len(names) > 1:
        out["uncertainty"]["correlation"] = {"names": names, "matrix": np.round(correlation, 4).tolist()}
    if "ti" in parameters:
        from ...core import TRAINABLE_NAMES

        out["uncertainty"]["ti_sd"] = {n: uncertainty[f"ti.{n}"] for n in TRAINABLE_NAMES}
    return out


def _coordinate_names(parameters) -> list[str]:
    from .layout import ParameterLayout

    return ParameterLayout(tuple(parameters)).coordinate_names
