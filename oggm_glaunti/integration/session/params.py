"""The GlaUnTI integration's settings, in one place: ``cfg.PARAMS`` defaults and file keys.

``cfg.PARAMS`` defaults
    All keys are prefixed ``glaunti_``. OGGM's parameter file does not know them:
    :func:`set_default_params` (cheap and idempotent) adds the missing ones;
    :func:`get_param` calls it before it reads a key, so a task or model works whether
    the user called ``initialize_oggm`` or only OGGM's ``cfg.initialize()``, and in pool
    workers. Users may override any value after initialisation::

        cfg.PARAMS['glaunti_daily_temp_std_default'] = 3.5

    Entity-task arguments, when given, take precedence over ``cfg.PARAMS``.

File keys
    :data:`FILE_KEYS` lists every file this package writes in a glacier directory.
    :func:`register_file_keys` adds them to ``cfg.BASENAMES`` (where missing; OGGM's
    ``cfg.initialize()`` keeps them). ``initialize_oggm`` calls it, and so does every
    module that defines an entity task, at import: OGGM's ``entity_task`` decorator
    documents the ``writes=[...]`` files when the task is defined, so the keys must exist
    by then.

:func:`register_settings` does both. This module does not import OGGM at top level.
"""
from __future__ import annotations

from typing import Any

#: Default values, with the documentation of each key.
GLAUNTI_DEFAULTS: dict[str, tuple[Any, str]] = {
    # --- daily disaggregation of monthly climate (climate_daily.py) ---
    'glaunti_daily_seed': (
        0, 'Seed of the stochastic disaggregation (combined with the RGI '
           'id).'),
    'glaunti_daily_temp_std_default': (
        3.0, 'Within-month standard deviation of daily temperature (degC) '
             'used when the monthly file has no `temp_std` variable.'),
    'glaunti_daily_temp_ar1': (
        0.7, 'Lag-1 autocorrelation of the daily temperature anomalies.'),
    'glaunti_daily_p_wet_after_dry': (
        0.25, 'Markov chain: probability that a day is wet after a dry day.'),
    'glaunti_daily_p_wet_after_wet': (
        0.65, 'Markov chain: probability that a day is wet after a wet day.'),
    'glaunti_daily_prcp_gamma_shape': (
        0.75, 'Shape of the gamma distribution of wet-day amounts (before '
              'rescaling to the monthly total).'),
    # --- model grid (model_grid.py) ---
    'glaunti_grid_dx': (
        100., 'Cell size of the GlaUnTI model grid (m).'),
    'glaunti_grid_margin_cells': (
        4, 'Cells added around the outline bounding box.'),
    'glaunti_grid_min_cells': (
        8, 'Minimum number of cells along each axis of the model grid (never fewer than the '
           "corrector's 8: it pools three times by 2). Cells added to reach it lie outside the "
           "glacier's own grid, which the corrector sees, and change no SMB."),
    'glaunti_grid_size_multiple': (
        16, 'Cells per axis of the model grid are rounded up to a multiple of this '
            '(a wider margin), so that glaciers of similar size share compiled code.'),
    'glaunti_grid_elevation_std_default': (
        10., 'Elevation uncertainty (m) used when no DEM uncertainty is '
             'available.'),
    # --- the mass-balance model (massbalance.py, glacier_run.py, flowline_run.py) ---
    'glaunti_variant': (
        'D', 'GlaUnTI variant used by GlaUnTIMassBalance: A, B, C or D.'),
    'glaunti_lapse_rate': (
        -0.0060, 'Temperature lapse rate (degC m-1) from the climate reference height '
                 'to each cell or point, as in the published model.'),
    'glaunti_hydro_start_month_nh': (
        10, 'First month of the hydrological year (northern hemisphere); the corrector '
            'runs once per hydrological year.'),
    'glaunti_hydro_start_month_sh': (
        4, 'First month of the hydrological year (southern hemisphere).'),
    'glaunti_spinup_years': (
        5, 'Years of spin-up from a fresh snow state before each segment of years.'),
    'glaunti_segment_years': (
        30, 'Length of the fixed segments (anchored at multiples of it) over which the '
            'snow state is carried, as the published runs carried it 30 years.'),
    'glaunti_winter_end_month': (
        5, 'Month whose first day ends winter and begins summer (northern hemisphere; '
           'shifted by 6 months in the south), for seasonal balances.'),
    'glaunti_grid_cache_mb': (
        1024., 'Size bound (MiB) of the per-process cache of model-grid results shared by '
               'GlaUnTIMassBalance instances on the same glacier and parameters; 0 disables it.'),
    'glaunti_compilation_cache': (
        True, "Keep JAX's compiled code in <working_dir>/glaunti_jax_cache, so that pool "
              'workers and later runs load it instead of compiling again (see '
              'oggm_glaunti.integration.session.compilation_cache).'),
    'glaunti_compilation_cache_min_seconds': (
        0.1, 'Compilations that took longer than this (s) are kept in the compilation cache '
             "(JAX's own threshold, 1 s, would leave out most of GlaUnTI's functions); "
             "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS, if set, wins."),
    # --- calibration (calibration/task.py, calibration/objective.py) ---
    'glaunti_calib_sigma_annual': (
        0.20, 'Uncertainty (m w.e.) of one WGMS glacier-wide annual balance in the '
              'calibration objective (glaciological method: Zemp et al. 2013 give 0.2-0.4).'),
    'glaunti_calib_sigma_winter': (
        0.15, 'Uncertainty (m w.e.) of one WGMS glacier-wide winter balance.'),
    'glaunti_calib_sigma_summer': (
        0.20, 'Uncertainty (m w.e.) of one WGMS glacier-wide summer balance.'),
    'glaunti_calib_sigma_geodetic': (
        0.10, 'Uncertainty (m w.e. per year) of a user-given geodetic mean when none is given '
              "with it ('oggm' uses the table's own err_dmdtda)."),
    'glaunti_calib_sigma_stakes': (
        0.15, 'Uncertainty (m w.e.) of one stake record, measurement and point-to-cell '
              'representativeness together.'),
    'glaunti_calib_sigma_profile': (
        0.30, 'Uncertainty (m w.e.) of one elevation-band value of a WGMS mass-balance profile '
              'on the model grid (band interpolation and representativeness).'),
    'glaunti_calib_mean_tolerance': (
        0.001, 'The reference-period mean (annual series, else geodetic) is matched to within '
               'this (m w.e. per year), as OGGM matches its reference mean.'),
    'glaunti_calib_min_seasonal_years': (
        5, 'prcp_fac is fitted only when at least this many hydrological years have winter '
           'balances or stake records (winter or summer); else it stays at its prior (1).'),
    'glaunti_calib_temp_bias_sd': (
        3.0, 'Prior standard deviation of temp_bias (degC, prior mean 0).'),
    'glaunti_calib_log_prcp_fac_sd': (
        0.5, 'Prior standard deviation of log(prcp_fac) (prior mean 0: prcp_fac 1).'),
    'glaunti_calib_ti_relative_sd': (
        0.3, "Prior relative standard deviation of each TI parameter about the variant's "
             "prior values (parameters=['ti'])."),
    'glaunti_temp_bias_range': (
        [-5.0, 5.0], 'Plausible temp_bias (degC): a value outside, given to GlaUnTIMassBalance, read from a '
                     'calibration file or fitted by a calibration, is refused.'),
    'glaunti_prcp_fac_range': (
        [0.2, 5.0], 'Plausible prcp_fac (on top of the variant\'s own): outside it, refused wherever it '
                    'comes from (as glaunti_temp_bias_range).'),
    'glaunti_melt_f_range': (
        [0.5, 20.0], 'Plausible melt_f (mm w.e. degC-1 day-1): around OGGM\'s own 1.5..17, with room for '
                     'a fine-tuned variant A (parameters=[\'ti\'] gives 1.5-1.7 on Hintereisferner); outside '
                     'it, refused wherever it comes from (as glaunti_temp_bias_range).'),
    'glaunti_band_dz': (
        50., 'Elevation band width (m) used to carry grid fields to flowline points.'),
    # --- the glacier the corrector sees in dynamical runs (run/geometry.py, run/evolving_run.py) ---
    'glaunti_geometry': (
        'static', "What the corrector sees in OGGM's dynamical runs: 'static' (the present-day "
                  "outline and surface of glaunti_grid.nc every year) or 'evolving' (the "
                  'flowline glacier of each year laid onto the model grid; see the concepts page).'),
    'glaunti_geometry_update_years': (
        1, "With glaunti_geometry='evolving': the corrector's geometry is updated from the "
           'flowlines every this many years of a run (1: every year).'),
    # --- regions on Dask (regions/) ---
    'glaunti_scheduler': (
        None, "Where oggm_glaunti's execute_entity_task and run_region run when no client is "
              "passed: a Dask scheduler address, 'local' (a LocalCluster on this machine) or "
              "'serial'; None: a current Dask client, else OGGM's own function (execute_entity_task) "
              "or a LocalCluster (run_region)."),
}


#: Files this package writes in a glacier directory: key -> (file name, description).
FILE_KEYS: dict[str, tuple[str, str]] = {
    'gcm_data_daily': (
        'gcm_data_daily.nc',
        'Daily climate projection (temp degC, prcp kg m-2 day-1) disaggregated from gcm_data '
        'by oggm_glaunti.'),
    'glaunti_grid': (
        'glaunti_grid.nc',
        "GlaUnTI's ~100 m model grid (elevation, outline fraction, elevation uncertainty, "
        'facies) written by oggm_glaunti.'),
    'glaunti_gridded_smb': (
        'glaunti_gridded_smb.nc',
        'GlaUnTI surface mass balance (annual, winter, summer, optionally daily; m w.e.) and '
        'the corrector fields on the GlaUnTI model grid, per hydrological year, written by '
        'oggm_glaunti.'),
    'glaunti_skill': (
        'glaunti_skill.json',
        'Cross-validated skill of the GlaUnTI calibration on the glacier\'s WGMS series, next to '
        "OGGM's MonthlyTIModel (glaunti_skill; suffix _<variant>)."),
    'glaunti_skill_figure': (
        'glaunti_skill.png',
        'Figure of glaunti_skill: held-out balances modelled against observed, profile against WGMS.'),
    'glaunti_weights': (
        'glaunti_weights.npz',
        'GlaUnTI weights fitted to this glacier (oggm-glaunti-weights format).'),
    # --- the differentiable tools (integration/tools) ---
    'glaunti_offset': (
        'glaunti_offset.json',
        'GlaUnTI inverse offset: the temperature offset (degC) that brings the mean SMB over a '
        'target period to a target, with its search history, written by oggm_glaunti.'),
    'glaunti_attribution': (
        'glaunti_attribution.nc',
        "GlaUnTI integrated-gradients attribution of a year's glacier-wide SMB to daily "
        'temperature and precipitation (maps, monthly sums), written by oggm_glaunti.'),
    'glaunti_forcing_uncertainty': (
        'glaunti_forcing_uncertainty.nc',
        'GlaUnTI first-order (and Monte Carlo) spread of the cumulative glacier-wide SMB under '
        'weekly forcing noise, written by oggm_glaunti.'),
    'glaunti_sensitivities': (
        'glaunti_sensitivities.nc',
        'GlaUnTI gradients of glacier-wide SMB with respect to the TI parameters, the '
        'adjustments and the correction fields, written by oggm_glaunti.'),
    'glaunti_geometry': (
        'glaunti_geometry.nc',
        "The glacier GlaUnTI's corrector saw in each hydrological year of a dynamical run with "
        "geometry='evolving' (outline fraction and surface elevation on the model grid), "
        'written by oggm_glaunti (glaunti_geometry_history).'),
    # --- regions on Dask (regions/) ---
    'glaunti_region_run': (
        'glaunti_region_run.pkl',
        "Record of the last region run of this glacier's chain (each step's status and time, the "
        'last output), written by oggm_glaunti.integration.regions.'),
}


#: Settings of earlier versions that no longer act, with what replaced them: a script that
#: still sets one would otherwise run with a range it did not ask for.
REPLACED_KEYS: dict[str, str] = {
    'glaunti_calib_max_abs_temp_bias': "glaunti_temp_bias_range (e.g. [-3.0, 3.0] for the former 3.0)",
    'glaunti_calib_prcp_fac_range': 'glaunti_prcp_fac_range (same meaning)',
}


def register_file_keys() -> None:
    """Add :data:`FILE_KEYS` to ``cfg.BASENAMES`` where missing (idempotent).

    OGGM's own ``climate_historical_daily`` key is used as OGGM defines it.
    """
    from oggm import cfg

    for key, (filename, doc) in FILE_KEYS.items():
        if key not in cfg.BASENAMES:
            cfg.add_to_basenames(key, filename, doc)


def register_settings() -> None:
    """Register the file keys and add the ``glaunti_*`` defaults (both idempotent)."""
    register_file_keys()
    set_default_params()


def set_default_params() -> None:
    """Add the ``glaunti_*`` defaults to ``cfg.PARAMS`` where missing.

    Existing values (set by the user) are never changed. Safe to call many
    times, in the main process and in pool workers.
    """
    from oggm import cfg

    replaced = [key for key in REPLACED_KEYS if key in cfg.PARAMS]
    if replaced:
        raise ValueError("cfg.PARAMS sets " + "; ".join(
            f"{key!r}, which oggm_glaunti no longer reads: set {REPLACED_KEYS[key]} instead"
            for key in replaced) + ", and delete the old key.")
    prev = cfg.PARAMS.do_log
    cfg.PARAMS.do_log = False  # avoid "adding an unknown parameter" spam
    try:
        for key, (value, _doc) in GLAUNTI_DEFAULTS.items():
            if key not in cfg.PARAMS:
                cfg.PARAMS[key] = value
    finally:
        cfg.PARAMS.do_log = prev


def get_param(key: str, value: Any = None) -> Any:
    """Return ``value`` if it is not None, else ``cfg.PARAMS[key]``.

    Parameters
    ----------
    key : str
        a ``glaunti_*`` key of :data:`GLAUNTI_DEFAULTS`.
    value : object, optional
        an explicit value (e.g. a task argument) that wins when given.
    """
    if value is not None:
        return value
    from oggm import cfg

    set_default_params()
    return cfg.PARAMS[key]
