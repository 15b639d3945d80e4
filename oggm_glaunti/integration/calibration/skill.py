"""Per-glacier skill: cross-validating the calibration on the glacier's own WGMS series.

``glaunti_skill`` splits the WGMS years into folds - **blocked** temporal splits
(``n_blocks`` contiguous blocks, each held out once) and/or **leave-k-years-out**
(consecutive groups of ``k`` years, each held out once) - and for each fold calibrates on
the other years and predicts the held-out ones, for

- the chosen GlaUnTI variant calibrated by :func:`~.task.fit_calibration` (the rules of
  ``glaunti_calibrate``: mean matched, prcp_fac only with seasonal data);
- the same variant uncalibrated (temp_bias 0, prcp_fac 1, the published weights);
- OGGM's ``MonthlyTIModel``, its ``melt_f`` calibrated on the same training years with
  OGGM's own ``mb_calibration_from_scalar_mb`` (``prcp_fac`` and ``temp_bias`` as in the
  glacier's ``mb_calib.json``, else OGGM's defaults). OGGM's task takes one contiguous
  period; for training years that are not contiguous (leave-k-years-out inside the
  series) the same root search (``scipy.optimize.brentq`` on ``melt_f`` within OGGM's
  bounds) runs on the mean of the training years. Its predictions are summed over the
  months of the WGMS years in the glacier's hemisphere
  (:mod:`oggm_glaunti.integration.run.wgms_year`), as GlaUnTI's are over the same
  hydrological years: scored on OGGM's calendar years it would lose correlation to a
  season's accumulation put in the wrong year.

Scores, pooled over the held-out predictions (each year once per split kind): RMSE, bias
and Pearson r of the annual (and, where observed, winter and summer) balances, and the
RMSE of the WGMS profiles on the model grid's 100 m bands. ``MonthlyTIModel``'s profile
is its MB over the WGMS year at each band's mean cell elevation. Written:
``glaunti_skill_<variant>.json`` and a figure ``glaunti_skill_<variant>.png`` (modelled against observed; profile against
WGMS) in the glacier directory.
"""
from __future__ import annotations

import json
import logging
import os

import numpy as np
from oggm import cfg, utils

from ...metrics import json_safe, skill
from ...observation_operators import band_weights
from ..session.params import register_file_keys

log = logging.getLogger(__name__)

register_file_keys()

MODELS = ("calibrated", "uncalibrated", "MonthlyTIModel")


def folds(years, split: str, n_blocks: int = 2, k: int = 5) -> list[list[int]]:
    """Held-out year groups of ``split`` ('blocked' or 'leave_k_out') over ``years``."""
    years = sorted(int(y) for y in years)
    if split == "blocked":
        if not 2 <= n_blocks <= len(years):
            raise ValueError(f"n_blocks must be 2..{len(years)} (the number of WGMS years); got {n_blocks}")
        return [list(b) for b in np.array_split(years, n_blocks)]
    if split == "leave_k_out":
        if not 1 <= k < len(years):
            raise ValueError(f"k must be 1..{len(years) - 1} (fewer than the WGMS years); got {k}")
        return [years[i:i + k] for i in range(0, len(years), k)]
    raise ValueError(f"split must be 'blocked' or 'leave_k_out'; got {split!r}")


def scores(model: np.ndarray, observed: np.ndarray) -> dict:
    """{'n', 'rmse', 'bias', 'r'} of model against observed (finite pairs), m w.e.: those of
    :func:`oggm_glaunti.metrics.skill`, r NaN with fewer than 3 pairs (and only 'n' with none)."""
    result = skill(model, observed, min_pairs_for_r=3)
    if result["n"] == 0:
        return {"n": 0}
    return {key: result[key] for key in ("n", "rmse", "bias", "r")}


def _monthly_ti(gdir, train_years, observed_annual: dict, test_years, band_heights):
    """MonthlyTIModel calibrated on ``train_years`` (WGMS years) with OGGM's task (on
    OGGM's calendar years, its convention); its balances (m w.e.) over the WGMS years
    ``test_years`` and its band profiles there."""
    from oggm.core.massbalance import MonthlyTIModel, mb_calibration_from_scalar_mb
    from scipy import optimize

    from ..run.wgms_year import months_mb, months_specific_mb, wgms_months

    calib = gdir.read_json("mb_calib") if gdir.has_file("mb_calib") else {}
    prcp_fac = calib.get("prcp_fac", cfg.PARAMS["prcp_fac"] or 2.5)
    temp_bias = calib.get("temp_bias", 0.0)
    ref = float(np.mean([observed_annual[y] for y in train_years])) * 1000.0
    fls = gdir.read_pickle("inversion_flowlines")
    train = sorted(train_years)
    if train == list(range(train[0], train[-1] + 1)):
        out = mb_calibration_from_scalar_mb(gdir, ref_mb=ref, ref_mb_years=(train[0], train[-1] + 1),
                                            calibrate_param1="melt_f", prcp_fac=prcp_fac, temp_bias=temp_bias,
                                            write_to_gdir=False)
        melt_f = out["melt_f"]
    else:
        def misfit(melt_f):
            mb = MonthlyTIModel(gdir, melt_f=melt_f, prcp_fac=prcp_fac, temp_bias=temp_bias, check_calib_params=False)
            return mb.get_specific_mb(fls=fls, year=np.asarray(train)).mean() - ref
        melt_f = optimize.brentq(misfit, cfg.PARAMS["melt_f_min"], cfg.PARAMS["melt_f_max"])
    mb = MonthlyTIModel(gdir, melt_f=melt_f, prcp_fac=prcp_fac, temp_bias=temp_bias, check_calib_params=False)
    # scored on WGMS's own years, as GlaUnTI is (not on OGGM's calendar years)
    annual = {y: months_specific_mb(mb, fls, wgms_months(mb, y)) / 1000.0 for y in test_years}
    profiles = ({y: months_mb(mb, band_heights, wgms_months(mb, y)) / 1000.0 for y in test_years}
                if len(band_heights) else {})
    return annual, profiles, float(melt_f)


@utils.entity_task(log, writes=["glaunti_skill", "glaunti_skill_figure"])
def glaunti_skill(gdir, *, variant: str | None = None, splits=("blocked",), n_blocks: int = 2, k: int = 5,
                  ref_years: tuple[int, int] | None = None, parameters=None, with_profiles: bool = True,
                  figure: bool = True, climate_filename: str = "climate_historical",
                  input_filesuffix: str = "") -> dict:
    """Cross-validate the calibration of ``variant`` on the glacier's WGMS series (see the
    module docstring).

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        a WGMS reference glacier with daily climate, model grid and inversion flowlines.
    variant : str
        'A', 'C' or 'D' (default ``cfg.PARAMS['glaunti_variant']``).
    splits : sequence of str
        'blocked' and/or 'leave_k_out'.
    n_blocks, k : int
        blocks of the blocked split; years per held-out group of leave-k-years-out.
    ref_years : (int, int), optional
        first and last WGMS year used.
    parameters : sequence of str, optional
        what the calibration fits (default: ``glaunti_calibrate``'s rule).
    with_profiles : bool
        score the WGMS profiles too (held-out years).
    figure : bool
        write the figure.

    Returns
    -------
    the dict written to ``glaunti_skill_<variant>.json``.
    """
    from .objective import Objective
    from .observations import Observations, from_wgms, from_wgms_profiles
    from .task import fit_calibration
    from .task import refuse_variant_b
    from ..run.massbalance import glacier_run_of, load_variant
    from ..session.params import get_param

    variant = str(get_param("glaunti_variant", variant)).upper()
    refuse_variant_b(variant)
    # the published model, as every calibration: never the glacier's previous calibration
    run = glacier_run_of(gdir, load_variant(variant), climate_filename, input_filesuffix)
    covered = set(run.full_years)
    hydro_year_of, wgms_year_of = run.calendar.hydro_year_of, run.calendar.wgms_year_of
    obs = Observations()
    if not from_wgms(gdir, obs, ref_years):
        raise ValueError(f"{gdir.rgi_id}: glaunti_skill cross-validates on the glacier's own WGMS series, and it "
                         "is not one of OGGM's WGMS reference glaciers")
    if with_profiles:
        try:
            from_wgms_profiles(gdir, obs, run.grid, ref_years)
        except ValueError as exc:
            log.warning("%s: profiles not scored (%s)", gdir.rgi_id, exc)
    wgms_years = sorted(wgms_year_of(y) for y in obs.annual if y in covered)
    if len(wgms_years) < 4:
        raise ValueError(f"{gdir.rgi_id}: {len(wgms_years)} WGMS annual balance(s) inside the daily climate; "
                         "cross-validation needs at least 4")
    years = sorted(hydro_year_of(y) for y in wgms_years)
    # the evaluation: every WGMS year and profile, scored only, at any parameters
    evaluation_obs = Observations(annual={y: obs.annual[y] for y in years},
                                  winter={y: v for y, v in obs.winter.items() if y in years},
                                  summer={y: v for y, v in obs.summer.items() if y in years},
                                  profiles=obs.profiles, windows=obs.windows)
    observed = {kind: getattr(evaluation_obs, kind) for kind in ("annual", "winter", "summer")}

    edges = None if obs.profiles is None else obs.profiles.band_edges
    if edges is not None:
        w = band_weights(run.grid.elevation, run.grid.outline, edges)
        band_heights = np.einsum("bhw,hw->b", w, run.grid.elevation)
        band_heights = np.where(w.sum((1, 2)) > 0, band_heights, 0.5 * (edges[:-1] + edges[1:]))
    else:
        band_heights = None

    result = {"rgi_id": gdir.rgi_id, "variant": variant, "wgms_years": [wgms_years[0], wgms_years[-1]],
              "n_years": len(wgms_years), "splits": {}}
    figure_data = {}
    for split in splits:
        groups = folds(wgms_years, split, n_blocks, k)
        predicted = {m: {"annual": {}, "winter": {}, "summer": {}, "profile": {}} for m in MODELS}
        fold_info = []
        for held_out in groups:
            train = [y for y in wgms_years if y not in held_out]
            fit, (objective, theta) = fit_calibration(
                gdir, variant=variant, parameters=parameters, ref_years=ref_years, use_profiles=with_profiles
                and obs.profiles is not None and parameters is not None and "ti" in parameters,
                only_years=train, climate_filename=climate_filename, input_filesuffix=input_filesuffix)
            for name, (params, th, model, prcp) in {
                "calibrated": (fit.parameters, theta, objective.model, fit.fitted.prcp_fac),
                "uncalibrated": (("temp_bias",), np.zeros(1, np.float32), objective.model, 1.0),
            }.items():
                ev = Objective(run, evaluation_obs, years, params, model=model,
                               score_only=tuple(evaluation_obs.kinds()), log_prcp_fac=float(np.log(prcp)))
                sim = ev.simulated(th)
                prof = ev.profiles(th) if evaluation_obs.profiles is not None else None
                for y in held_out:
                    h = hydro_year_of(y)
                    for kind in ("annual", "winter", "summer"):
                        predicted[name][kind][h] = sim[h][kind]
                    if prof is not None and h in evaluation_obs.profiles.values:
                        predicted[name]["profile"][h] = prof[years.index(h)]
            annual, profiles, melt_f = _monthly_ti(gdir, train, {y: observed["annual"][hydro_year_of(y)] for y in train},
                                                   held_out, band_heights if band_heights is not None else np.zeros(0))
            for y in held_out:
                h = hydro_year_of(y)
                predicted["MonthlyTIModel"]["annual"][h] = annual[y]
                if band_heights is not None and h in evaluation_obs.profiles.values:
                    predicted["MonthlyTIModel"]["profile"][h] = profiles[y]
            fold_info.append({"held_out": [held_out[0], held_out[-1]] if split == "blocked" else held_out,
                              "temp_bias": fit.fitted.temp_bias, "prcp_fac": fit.fitted.prcp_fac,
                              "calibrated_parameters": list(fit.parameters), "monthly_ti_melt_f": melt_f})
        table = {}
        for name in MODELS:
            row = {}
            for kind in ("annual", "winter", "summer"):
                ys = sorted(y for y in predicted[name][kind] if y in observed[kind])
                if ys:
                    row[kind] = scores([predicted[name][kind][y] for y in ys], [observed[kind][y] for y in ys])
            if predicted[name]["profile"]:
                ys = sorted(predicted[name]["profile"])
                m = np.stack([predicted[name]["profile"][y] for y in ys])
                o = np.stack([evaluation_obs.profiles.values[y] for y in ys])
                row["profile"] = {k: v for k, v in scores(m.ravel(), o.ravel()).items() if k != "r"}
                row["profile"]["mean_profile"] = np.nanmean(np.where(np.isfinite(o), m, np.nan), 0).tolist()
            table[name] = row
        if obs.profiles is not None and predicted["calibrated"]["profile"]:
            ys = sorted(predicted["calibrated"]["profile"])
            table["WGMS"] = {"profile": {"mean_profile": np.nanmean(
                np.stack([evaluation_obs.profiles.values[y] for y in ys]), 0).tolist()}}
        result["splits"][split] = {"folds": fold_info, "held_out_scores": table}
        figure_data[split] = predicted
    if obs.profiles is not None:
        result["profile_bands_m"] = (0.5 * (edges[:-1] + edges[1:])).tolist()
    from ...atomic import atomic_path

    result = json_safe(result)
    if figure:
        from ..output.skill_figure import plot_skill

        result["figure"] = os.path.basename(plot_skill(
            result, figure_data, observed, gdir.get_filepath("glaunti_skill_figure", filesuffix=f"_{variant}")))
    with atomic_path(gdir.get_filepath("glaunti_skill", filesuffix=f"_{variant}"), suffix=".json") as tmp, \
            open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    return result

