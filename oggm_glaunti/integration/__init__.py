"""OGGM-facing building blocks of oggm_glaunti.

Importing this package does not import OGGM: the offline helpers must run
before OGGM and salem are first imported. The entity tasks are re-exported
lazily (importing them imports OGGM).
"""
from .offline import SAMPLE_DATA_ENV, initialize_oggm, prepare_salem_cache

_LAZY = {
    'hintereisferner_gdir': 'sample_glaciers',
    'oetztal_gdirs': 'sample_glaciers',
    'process_daily_gridded_climate': 'climate_gridded',
    'process_daily_from_monthly': 'climate_daily',
    'process_daily_from_gcm': 'climate_daily',
    'write_daily_climate_file': 'daily_file',
    'glaunti_model_grid': 'model_grid',
    'set_default_params': 'params',
    'register_settings': 'params',
    'GlaUnTIMassBalance': 'massbalance',
    'glaunti_calibrate': 'calibration',
    'glaunti_export_glacier': 'dataset_export',
    'export_glaunti_dataset': 'dataset_export',
}

__all__ = ['SAMPLE_DATA_ENV', 'initialize_oggm', 'prepare_salem_cache',
           *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
