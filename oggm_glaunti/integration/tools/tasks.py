"""Entity tasks of the differentiable tools; each differentiates through the glacier's one
run (its :class:`~oggm_glaunti.integration.run.glacier_run.GlacierRun`, under the adjustments the MB model uses:
the glacier's calibration if any) and writes a named file in the glacier directory.

- :func:`glaunti_offset_for_target` -> ``glaunti_offset.json``;
- :func:`glaunti_attribution` -> ``glaunti_attribution.nc``;
- :func:`glaunti_forcing_uncertainty` -> ``glaunti_forcing_uncertainty.nc``;
- :func:`glaunti_sensitivities` -> ``glaunti_sensitivities.nc``.

Years are hydrological years, labelled by the calendar year they begin in (1 October in
the northern hemisphere, 1 April in the southern), as in the rest of the package
(:mod:`oggm_glaunti.hydro_calendar`).
"""

from __future__ import annotations

import json
import logging

import numpy as np
import xarray as xr
from oggm import utils

from ...atomic import atomic_path
from ...hydro_calendar import month_of
from ..session.params import register_file_keys
from .._io import write_netcdf_atomic

log = logging.getLogger(__name__)

register_file_keys()  # before the entity tasks below document their files

#: Default length of the attribution baseline (hydrological years ending with the year).
BASELINE_YEARS = 30


def _glacier(gdir, variant, climate_filename, input_filesuffix):
    from ..run.massbalance import GlaUnTIMassBalance

    mb = GlaUnTIMassBalance(gdir, filename=climate_filename, input_filesuffix=input_filesuffix, variant=variant)
    return mb, mb.glacier_run, mb.adjustments


def _common_attrs(gdir, mb, tool: str) -> dict:
    return {"rgi_id": gdir.rgi_id, "variant": mb.variant, "temp_bias": mb.temp_bias, "prcp_fac": mb.prcp_fac,
            "melt_f": mb.melt_f, "climate_file": mb.climate_source_file, "tool": tool,
            "author": "oggm_glaunti"}


@utils.entity_task(log, writes=["glaunti_offset"])
def glaunti_offset_for_target(gdir, target_years: tuple[int, int], *, start_year: int | None = None,
                              target: float = 0.0, fit_prcp_fac: bool = False, method: str = "newton",
                              tolerance: float = 0.01, max_iterations: int | None = None,
                              learning_rate: float = 5e-2, variant: str | None = None,
                              climate_filename: str = "climate_historical", input_filesuffix: str = "",
                              filesuffix: str = "") -> dict:
    """The temperature offset, applied from ``start_year`` on, that brings the mean
    glacier-wide SMB over ``target_years`` to ``target`` (see :mod:`oggm_glaunti.tools.inverse`).

    Parameters
    ----------
    target_years : (y0, y1) hydrological years, inclusive.
    start_year : first hydrological year the offset applies to (default y0); the years
        between run with it too, the state carried.
    target : m w.e. per year (0: balance).
    fit_prcp_fac, method, tolerance, max_iterations, learning_rate : of
        :func:`~oggm_glaunti.tools.inverse.find_offset`.

    Returns
    -------
    the dict written to ``glaunti_offset{filesuffix}.json``: ``temp_offset`` (degC, on top
    of the glacier's own ``temp_bias``), ``prcp_fac_factor``, ``mean_smb`` and ``misfit``
    (m w.e. per year), ``history``, and the target years' SMB before and after.
    """
    import jax.numpy as jnp

    from ...tools.inverse import find_offset
    from .glacier_runs import TracedRun, check_years, run_stack

    mb, run, adj = _glacier(gdir, variant, climate_filename, input_filesuffix)
    years = check_years(run, target_years, "target_years")
    start = years[0] if start_year is None else int(start_year)
    if start > years[0]:
        raise ValueError(f"start_year {start} is after the first target year {years[0]}: the offset must "
                         "apply over the whole target period")
    span = check_years(run, (start, years[-1]), "start_year..last target year")
    stack = run_stack(run, span)
    traced = TracedRun(run, adj)
    run_years = np.array([y for y, _, _ in stack.runs])
    applied = jnp.asarray(run_years >= start, jnp.float32)
    scored = jnp.asarray(stack.own & np.isin(run_years, years), jnp.float32)

    def mean_smb(theta):
        totals = traced.totals(stack, offset=theta[0] * applied, factor=jnp.exp(theta[1] * applied))
        return jnp.sum(totals * scored) / jnp.sum(scored)

    result = find_offset(mean_smb, target, fit_prcp_fac=fit_prcp_fac, method=method, tolerance=tolerance,
                         max_iterations=max_iterations, learning_rate=learning_rate)
    own = np.asarray(scored) > 0
    before = np.asarray(traced.totals(stack))[own]
    after = np.asarray(traced.totals(stack, offset=result.temp_offset * applied,
                                     factor=result.prcp_fac * np.asarray(applied) + (1 - np.asarray(applied))))[own]
    out = {**_common_attrs(gdir, mb, "inverse offset"),
           "target_years": [years[0], years[-1]], "start_year": start, "target_m_we": float(target),
           "temp_offset": result.temp_offset, "prcp_fac_factor": result.prcp_fac,
           "mean_smb_m_we": result.mean_smb, "misfit_m_we": result.misfit, "method": result.method,
           "tolerance_m_we": float(tolerance), "history": result.history,
           "hydro_years": [int(y) for y in run_years[own]],
           "smb_before_m_we": [float(v) for v in before], "smb_after_m_we": [float(v) for v in after]}
    with atomic_path(gdir.get_filepath("glaunti_offset", filesuffix=filesuffix)) as tmp:
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
    return out


def _attribution_inputs(run, adj, year: int, baseline_years: list[int]):
    """The year's reference climate, its days' calendar months (0 for padding), and the
    baseline reference series: each day's calendar-month mean over ``baseline_years``."""
    from ...tools.attribution import month_climatology
    from .glacier_runs import day_range

    ref = run.reference_years([year])
    t, p, plan, membership = ref.at(0)
    day_index, active = np.asarray(plan.day_index), np.asarray(plan.active)
    n_read = int(day_index[active].max()) + 1
    dates = ref.begin[0].astype("datetime64[D]") + np.arange(len(t))
    months = np.where(np.arange(len(t)) < n_read, month_of(dates), 0)
    c = run.climate
    first, last = day_range(run, baseline_years)
    record_months = month_of(c.dates)
    valid = (np.arange(len(c.dates)) >= first) & (np.arange(len(c.dates)) < last)
    base = []
    for series in (c.temperature, c.precipitation):
        clim = month_climatology(series, record_months, valid)
        base.append(np.where(months > 0, clim[np.maximum(months, 1) - 1], series[first:first + 1].mean()))
    return (t, p, plan, membership), months, dates, tuple(np.asarray(b, np.float32) for b in base)


@utils.entity_task(log, writes=["glaunti_attribution"])
def glaunti_attribution(gdir, year: int, *, baseline_years: tuple[int, int] | None = None, steps: int = 100,
                        bound: float = 0.02, variant: str | None = None,
                        climate_filename: str = "climate_historical", input_filesuffix: str = "",
                        filesuffix: str = "") -> xr.Dataset:
    """Integrated gradients of hydrological year ``year``'s glacier-wide SMB with respect
    to its daily temperature and precipitation in every cell of the model grid (see
    :mod:`oggm_glaunti.tools.attribution`).

    The baseline is the per-cell calendar-month climatology over ``baseline_years`` (default
    the 30 hydrological years ending with ``year``, fewer where the record starts later):
    each day gets its calendar month's mean, at each cell's elevation as the model's own
    forcing. The year starts from the state the glacier run gives it, in both.

    Raises :class:`~oggm_glaunti.tools.errors.AttributionIncomplete` when the attributions
    do not add up to the change of the SMB within ``bound`` (use more ``steps``).

    Returns
    -------
    the dataset written to ``glaunti_attribution{filesuffix}.nc``.
    """
    import jax.numpy as jnp

    from ...tools.attribution import integrated_gradients, monthly_sums
    from ..run.glacier_year import grid_forcing
    from ...tools.core_inputs import glacier_wide
    from .glacier_runs import TracedRun, check_years

    mb, run, adj = _glacier(gdir, variant, climate_filename, input_filesuffix)
    year = check_years(run, (year, year), "year")[0]
    if baseline_years is None:
        first = max(year - BASELINE_YEARS + 1, int(run.years[0]))
        baseline_years = (first, year)
    base_years = check_years(run, baseline_years, "baseline_years")
    reference, months, dates, (t_base, p_base) = _attribution_inputs(run, adj, year, base_years)
    traced = TracedRun(run, adj)
    state = jnp.asarray(run.year(year, adj).start_state)
    sequence, n_spin = run.run_sequence(run.segment_of(year))
    carried = jnp.asarray(sequence.index(year, n_spin) > 0)
    bias, fac = np.float32(adj.temp_bias), np.float32(adj.prcp_fac)
    actual = grid_forcing(reference, bias, fac, traced.grid)
    baseline = grid_forcing((t_base, p_base) + tuple(reference[2:]), bias, fac, traced.grid)
    zeros = jnp.zeros(len(months), jnp.float32)

    def f(temperature, precipitation):
        smb, _ = traced.year(reference, state, carried, zeros, zeros,
                             cell_delta=(temperature - actual.temperature, precipitation - actual.precipitation))
        return glacier_wide(smb, traced.outline)

    res = integrated_gradients(f, (actual.temperature, actual.precipitation),
                               (baseline.temperature, baseline.precipitation), steps, bound)
    days = months > 0
    grid = run.grid
    ds = xr.Dataset(
        {"temperature_attribution_map": (("y", "x"), res.temperature.sum(0), {
            "units": "m w.e.", "long_name": "attribution of the glacier-wide SMB to each cell's daily temperature, summed over the year"}),
         "precipitation_attribution_map": (("y", "x"), res.precipitation.sum(0), {
             "units": "m w.e.", "long_name": "attribution of the glacier-wide SMB to each cell's daily precipitation, summed over the year"}),
         "temperature_attribution_monthly": (("month",), monthly_sums(res.temperature, months), {
             "units": "m w.e.", "long_name": "temperature attribution summed over the cells and the days of each calendar month"}),
         "precipitation_attribution_monthly": (("month",), monthly_sums(res.precipitation, months), {
             "units": "m w.e.", "long_name": "precipitation attribution summed over the cells and the days of each calendar month"}),
         "temperature_attribution_daily": (("time",), res.temperature[days].reshape(days.sum(), -1).sum(1), {
             "units": "m w.e.", "long_name": "temperature attribution of each day, summed over the cells"}),
         "precipitation_attribution_daily": (("time",), res.precipitation[days].reshape(days.sum(), -1).sum(1), {
             "units": "m w.e.", "long_name": "precipitation attribution of each day, summed over the cells"}),
         "outline_fraction": (("y", "x"), grid.outline, {"units": "1"})},
        coords={"month": np.arange(1, 13), "time": dates[days]},
        attrs={**_common_attrs(gdir, mb, "integrated gradients"), "hydro_year": year,
               "baseline": f"per-cell calendar-month climatology of hydrological years {base_years[0]}-{base_years[-1]}",
               "smb_m_we": res.value, "baseline_smb_m_we": res.baseline_value,
               "completeness_error": res.completeness_error, "completeness_bound": float(bound), "steps": res.steps})
    write_netcdf_atomic(ds, gdir.get_filepath("glaunti_attribution", filesuffix=filesuffix))
    return ds


@utils.entity_task(log, writes=["glaunti_forcing_uncertainty"])
def glaunti_forcing_uncertainty(gdir, years: tuple[int, int], *, sigma_t: float | None = None,
                                sigma_logp: float | None = None, members: int = 0, seed: int = 0,
                                chunk: int = 64, variant: str | None = None,
                                climate_filename: str = "climate_historical", input_filesuffix: str = "",
                                filesuffix: str = "") -> xr.Dataset:
    """First-order spread of the cumulative glacier-wide SMB over hydrological years
    ``years`` (y0, y1) under weekly forcing noise (see :mod:`oggm_glaunti.tools.uncertainty`;
    defaults: the published sigma_T = 1.5889 degC, sigma_logP = 0.9640), and with
    ``members`` > 0 (at least 200 for a check) a Monte Carlo ensemble of the same noise.
    The glacier run's state rule is kept: spin-up runs whose days fall in the period read
    the same noise. ``sigma_t`` above 20 degC or ``sigma_logp`` above 2 is refused, above
    5 degC or 1 warned of (:data:`oggm_glaunti.tools.uncertainty.SIGMA_LIMITS` gives why).

    Returns
    -------
    the dataset written to ``glaunti_forcing_uncertainty{filesuffix}.nc``.
    """
    import jax.numpy as jnp

    from ...tools.checks import check_count
    from ...tools.uncertainty import check_sigmas, first_order_spread, monte_carlo_spread, weekly_blocks
    from .glacier_runs import TracedRun, check_years, day_range, run_stack

    # refused here, before any work; the propagation itself warns of large values
    sigma_t, sigma_logp = check_sigmas(sigma_t, sigma_logp, warn=False)
    members = check_count("members", members, 0)
    if members == 1:
        raise ValueError("members must be 0 (no Monte Carlo) or at least 2 (200 or more for a check)")
    mb, run, adj = _glacier(gdir, variant, climate_filename, input_filesuffix)
    if mb.variant == "B":
        raise ValueError("the forcing-uncertainty propagation needs a snow state (variants A, C, D); "
                         "variant B's GRU state is not supported")
    y0, y1 = (int(y) for y in years)
    full = [int(y) for y in run.full_years]
    if y1 - y0 + 1 > len(full):
        raise ValueError(f"the horizon {y0}-{y1} ({y1 - y0 + 1} years) is longer than the daily climate "
                         f"{mb.climate_source_file}, which holds {len(full)} full hydrological years "
                         f"({full[0]}-{full[-1]}); shorten the horizon or extend the climate")
    span = check_years(run, (y0, y1), "the horizon")
    stack = run_stack(run, span)
    blocks, n_blocks = weekly_blocks(stack.day_numbers, stack.valid, *day_range(run, span))
    traced = TracedRun(run, adj)
    spread = first_order_spread(traced.year, stack.reference, stack.fresh, stack.own, blocks, n_blocks,
                                traced.outline, traced.model.initial_state(run.grid.shape), sigma_t, sigma_logp,
                                chunk)
    own = np.flatnonzero(stack.own)
    hydro_years = [stack.runs[k][0] for k in own]
    data = {
        "cumulative_smb": (("hydro_year",), spread.cumulative, {"units": "m w.e.", "long_name": "cumulative glacier-wide SMB without noise"}),
        "cumulative_smb_std": (("hydro_year",), spread.std, {"units": "m w.e.", "long_name": "first-order standard deviation of the cumulative SMB"}),
        "cumulative_smb_std_temperature": (("hydro_year",), spread.std_temperature, {"units": "m w.e.", "long_name": "first-order standard deviation due to temperature noise"}),
        "cumulative_smb_std_precipitation": (("hydro_year",), spread.std_precipitation, {"units": "m w.e.", "long_name": "first-order standard deviation due to precipitation noise"}),
        "annual_smb_std": (("hydro_year",), spread.annual_std, {"units": "m w.e.", "long_name": "first-order standard deviation of each year's SMB"}),
    }
    if members:
        trajectory = lambda d_t, d_logp: traced.totals(stack, d_t=d_t, d_logp=d_logp)[jnp.asarray(own)]  # noqa: E731
        ensemble = monte_carlo_spread(trajectory, blocks, n_blocks, members, sigma_t, sigma_logp, seed)
        data["ensemble_cumulative_smb"] = (("member", "hydro_year"), ensemble, {"units": "m w.e.", "long_name": "cumulative glacier-wide SMB of each Monte Carlo member"})
    ds = xr.Dataset(data, coords={"hydro_year": hydro_years},
                    attrs={**_common_attrs(gdir, mb, "forcing uncertainty"), "sigma_t_degC": sigma_t,
                           "sigma_logp": sigma_logp, "block_days": 7, "members": members, "seed": seed,
                           "noise": "weekly blocks from the first day of the horizon: T + sigma_t z_T, P exp(sigma_logp z_P), uniform over the grid"})
    write_netcdf_atomic(ds, gdir.get_filepath("glaunti_forcing_uncertainty", filesuffix=filesuffix))
    return ds


@utils.entity_task(log, writes=["glaunti_sensitivities"])
def glaunti_sensitivities(gdir, years: tuple[int, int], *, variant: str | None = None,
                          climate_filename: str = "climate_historical", input_filesuffix: str = "",
                          filesuffix: str = "") -> xr.Dataset:
    """Gradients of the mean glacier-wide SMB of hydrological years ``years`` (y0, y1) with
    respect to every stored TI parameter, ``temp_bias``, ``prcp_fac``, ``melt_f`` and (C, D)
    each correction field d1..d5 in each cell (see :mod:`oggm_glaunti.tools.sensitivity`).
    Each year starts from the state the glacier run gives it, held fixed: the response of
    the years themselves, not of the snow carried between them.

    Returns
    -------
    the dataset written to ``glaunti_sensitivities{filesuffix}.nc``.
    """
    import equinox as eqx
    import jax.numpy as jnp

    from ...core import GlaUnTIModel, STORED_NAMES
    from ...tools.sensitivity import gradient_function, mean_sensitivities, year_sensitivities
    from ..run.glacier_year import run_glacier_year
    from ...tools.core_inputs import glacier_wide
    from .glacier_runs import TracedRun, check_years

    mb, run, adj = _glacier(gdir, variant, climate_filename, input_filesuffix)
    if mb.variant == "B":
        raise ValueError("variant B (the GRU baseline) has no TI parameters or correction fields to differentiate")
    span = check_years(run, years, "years")
    traced = TracedRun(run, adj)
    model, grid = traced.model, traced.grid
    corrected = isinstance(model, GlaUnTIModel)

    def smb(ti, temp_bias, prcp_fac, delta, reference, state):
        m = eqx.tree_at(lambda x: x.ti, model, ti)
        res = run_glacier_year(m, reference, state, True, adj.temp_bias + temp_bias, adj.prcp_fac * prcp_fac, grid,
                               run.window_size, correction_delta=delta)
        return glacier_wide(res.period_smb.sum(0), traced.outline)

    value_and_grad = gradient_function(smb)
    parts = []
    for year in span:
        outputs = run.year(year, adj)
        parts.append(year_sensitivities(value_and_grad, model.ti, outputs.corrections if corrected else None,
                                        run.reference_years([year]).at(0), jnp.asarray(outputs.start_state)))
    sens = mean_sensitivities(parts)
    data = {
        "smb": ((), sens.value, {"units": "m w.e. yr-1", "long_name": "mean glacier-wide SMB of the years"}),
        "ti_gradient": (("parameter",), [sens.ti[n] for n in STORED_NAMES], {
            "units": "m w.e. yr-1 per unit of the stored parameter",
            "long_name": "gradient with respect to the stored (unconstrained) TI parameters; *_log: per relative change"}),
        "temp_bias_gradient": ((), sens.temp_bias, {"units": "m w.e. yr-1 degC-1"}),
        "prcp_fac_gradient": ((), sens.prcp_fac, {"units": "m w.e. yr-1", "long_name": "per unit of a factor on the precipitation (at 1)"}),
        "melt_f_gradient": ((), sens.ti["ddf_snow_log"] / mb.melt_f if np.isfinite(mb.melt_f) else np.nan,
                            {"units": "m w.e. yr-1 per mm w.e. degC-1 day-1"}),
        "outline_fraction": (("y", "x"), run.grid.outline, {"units": "1"}),
    }
    if sens.corrections is not None:
        data["correction_gradient"] = (("correction", "y", "x"), sens.corrections, {
            "units": "m w.e. yr-1 per unit change of the field in one cell",
            "long_name": "gradient of the glacier-wide SMB with respect to each correction field d1..d5"})
    ds = xr.Dataset(data, coords={"parameter": list(STORED_NAMES), "correction": ["d1", "d2", "d3", "d4", "d5"]},
                    attrs={**_common_attrs(gdir, mb, "sensitivities"), "hydro_years": f"{span[0]}-{span[-1]}"})
    write_netcdf_atomic(ds, gdir.get_filepath("glaunti_sensitivities", filesuffix=filesuffix))
    return ds
