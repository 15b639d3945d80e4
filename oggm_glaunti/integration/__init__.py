"""OGGM-facing building blocks of oggm_glaunti, one sub-package per job:

- ``session``: offline initialisation, the settings (``cfg.PARAMS`` defaults and file
  keys), JAX in OGGM's processes, the sample glaciers;
- ``climate``: daily climate in a glacier directory;
- ``grid``: GlaUnTI's own model grid, and reading a glacier's inputs as arrays;
- ``run``: the one glacier run and the OGGM ``MassBalanceModel``;
- ``calibration``: fitting a glacier's adjustments to its observations;
- ``output``: gridded SMB files, plots, the export as a training dataset;
- ``tools``: the differentiable tools (inverse offset, attribution, forcing uncertainty,
  sensitivities) as entity tasks, figures and sub-commands.

Dependencies point down this list (``run`` reads ``grid`` and ``climate``, ``calibration``
and ``output`` and ``tools`` use ``run``); ``session`` and the shared ``units`` and ``_io`` serve all.
Importing this package does not import OGGM: the offline helpers must run before OGGM
and salem are first imported. The entity tasks and the MB model are re-exported lazily
(importing them imports OGGM).
"""
from .session.offline import SAMPLE_DATA_ENV, initialize_oggm, prepare_salem_cache

_LAZY = {
    'hintereisferner_gdir': 'session.sample_glaciers',
    'oetztal_gdirs': 'session.sample_glaciers',
    'process_daily_gridded_climate': 'climate.climate_gridded',
    'process_daily_from_monthly': 'climate.climate_daily',
    'process_daily_from_gcm': 'climate.climate_daily',
    'write_daily_climate_file': 'climate.daily_file',
    'glaunti_model_grid': 'grid.model_grid',
    'set_default_params': 'session.params',
    'register_settings': 'session.params',
    'GlaUnTIMassBalance': 'run.massbalance',
    'glaunti_calibrate': 'calibration.task',
    'glaunti_mb_calibration_from_scalar_mb': 'calibration.oggm_tasks',
    'glaunti_skill': 'calibration.skill',
    'glaunti_export_glacier': 'output.dataset_export',
    'export_glaunti_dataset': 'output.dataset_export',
    'glaunti_geometry_history': 'output.geometry_history',
    'glaunti_offset_for_target': 'tools.tasks',
    'glaunti_attribution': 'tools.tasks',
    'glaunti_forcing_uncertainty': 'tools.tasks',
    'glaunti_sensitivities': 'tools.tasks',
}

__all__ = ['SAMPLE_DATA_ENV', 'initialize_oggm', 'prepare_salem_cache',
           *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
