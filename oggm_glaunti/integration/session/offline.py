"""OGGM initialisation that also works without a network.

OGGM 1.6.3 needs its sample-data repository (``oggm-sample-data-<commit>``)
for ``cfg.initialize()`` and for the demo files, and salem downloads its own
sample data when it is first imported. Machines without a network (CI, test
runners) get both from a local copy:

- set the environment variable :data:`SAMPLE_DATA_ENV`
  (``GLAUNTI_OGGM_SAMPLE_DATA``) to the ``oggm-sample-data-<commit>`` folder;
- call :func:`initialize_oggm` instead of ``cfg.initialize()``.

Users with a network need neither: :func:`initialize_oggm` then falls back to
OGGM's normal download paths.

This module must not import OGGM or salem at top level, because
:func:`prepare_salem_cache` has to run before their first import.

Offline, the local copy is linked into OGGM's own cache folder
(``~/.oggm/oggm-sample-data-<commit>``, where OGGM would have downloaded it)
rather than pointing ``cfg.CACHE_DIR`` elsewhere: ``cfg.CACHE_DIR`` is a module
global that OGGM does not pass to pool workers started with
``cfg.PARAMS['use_mp_spawn'] = True``, whereas the link is seen by every
process. An existing folder of that name (a real download) is used as it is.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Environment variable naming the local ``oggm-sample-data-<commit>`` folder.
SAMPLE_DATA_ENV = 'GLAUNTI_OGGM_SAMPLE_DATA'

#: salem 0.3.11 looks for this sample-data commit at import time.
SALEM_SAMPLE_DATA_COMMIT = '454bf696324000d198f574a1bf5bc56e3e489051'

# cfg.CACHE_DIR as OGGM set it at import, restored for online runs
_ORIGINAL_CACHE_DIR: str | None = None


def prepare_salem_cache() -> Path:
    """Create salem's world-borders placeholder so that importing salem
    does not try to download its sample data.

    salem (0.3.11) downloads a sample-data archive at import time when
    ``~/.salem_cache/salem-sample-data-<commit>/shapes/world_borders/
    world_borders.shp`` is missing. An empty placeholder file is enough (the
    shapes are only used by salem's plotting helpers). Existing files are
    left untouched.

    Returns
    -------
    pathlib.Path
        the path of the (placeholder) shapefile.
    """
    path = (Path.home() / '.salem_cache'
            / f'salem-sample-data-{SALEM_SAMPLE_DATA_COMMIT}'
            / 'shapes' / 'world_borders' / 'world_borders.shp')
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return path


def sample_data_dir() -> Path | None:
    """The sample-data folder named by :data:`SAMPLE_DATA_ENV`, or None.

    Raises
    ------
    FileNotFoundError
        if the variable is set but the folder does not exist.
    """
    value = os.environ.get(SAMPLE_DATA_ENV, '').strip()
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(
            f'${SAMPLE_DATA_ENV} points to {path}, which is not a folder. '
            'Set it to the oggm-sample-data-<commit> folder (a copy of '
            'github.com/OGGM/oggm-sample-data at the commit OGGM expects), '
            'or unset it to let OGGM download the data.')
    return path


def _check_sample_folder(path: Path) -> None:
    """Check that ``path`` is named as OGGM expects it."""
    from oggm.utils._downloads import SAMPLE_DATA_COMMIT

    expected = f'oggm-sample-data-{SAMPLE_DATA_COMMIT}'
    if path.name != expected:
        raise ValueError(
            f'The sample-data folder {path} (from ${SAMPLE_DATA_ENV}) must be '
            f'named {expected!r}: this OGGM version looks for exactly this '
            'name. Rename the folder or point the variable at the right '
            'commit.')

def _link_into_oggm_cache(sample_dir: Path, cache_dir: Path) -> None:
    """Make ``sample_dir`` visible at ``cache_dir/<its name>``, where OGGM looks.

    A symbolic link is created when nothing is there; an existing link is
    re-pointed when it leads elsewhere (the variable named a copy that has
    moved, or another checkout); a real folder (OGGM's own download) is left
    alone.
    """
    target = cache_dir / sample_dir.name
    if target.is_symlink():
        if target.exists() and target.resolve() == sample_dir.resolve():
            return
    elif target.exists():
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = cache_dir / f'.{sample_dir.name}.{os.getpid()}.link'
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(sample_dir, target_is_directory=True)
    os.replace(temporary, target)  # atomic: parallel processes may race here


def initialize_oggm(working_dir: str | os.PathLike | None = None,
                    offline: bool | None = None,
                    logging_level: str = 'WARNING',
                    **params: Any):
    """Initialise OGGM (``cfg.initialize``) for online or offline use.

    Parameters
    ----------
    working_dir : path-like, optional
        OGGM's working directory (``cfg.PATHS['working_dir']``), created if
        needed. None leaves it unset (OGGM's default).
    offline : bool, optional
        None (default): offline if :data:`SAMPLE_DATA_ENV` is set. True:
        offline; the sample data come from :data:`SAMPLE_DATA_ENV` or, if it
        is unset, from OGGM's cache folder (``~/.oggm``). False: normal OGGM
        initialisation, downloads allowed.
        Offline means: the sample folder is linked into OGGM's cache folder
        (see the module docstring), salem's placeholder is created and ``cfg.PARAMS['has_internet'] = False``,
        so that a missing file fails at once instead of hanging.
    logging_level : str
        passed to ``cfg.initialize`` (default 'WARNING': quiet).
    **params
        ``cfg.PARAMS`` overrides applied after initialisation, e.g.
        ``border=40``. ``use_multiprocessing`` defaults to False.

    Returns
    -------
    module
        ``oggm.cfg``, for convenience.
    """
    global _ORIGINAL_CACHE_DIR

    sample_dir = sample_data_dir()
    if offline is None:
        offline = sample_dir is not None
    # salem downloads at first import when this file is missing
    prepare_salem_cache()

    from oggm import cfg
    from oggm.utils._downloads import SAMPLE_DATA_COMMIT

    if _ORIGINAL_CACHE_DIR is None:
        _ORIGINAL_CACHE_DIR = cfg.CACHE_DIR

    if offline:
        if sample_dir is None:
            sample_dir = (Path(_ORIGINAL_CACHE_DIR)
                          / f'oggm-sample-data-{SAMPLE_DATA_COMMIT}')
            if not sample_dir.is_dir():
                raise FileNotFoundError(
                    'Offline OGGM needs its sample data, but '
                    f'${SAMPLE_DATA_ENV} is not set and {sample_dir} does '
                    f'not exist. Set ${SAMPLE_DATA_ENV} to your '
                    'oggm-sample-data-'
                    f'{SAMPLE_DATA_COMMIT} folder, or use offline=False.')
        _check_sample_folder(sample_dir)
        _link_into_oggm_cache(sample_dir, Path(_ORIGINAL_CACHE_DIR))
    cfg.CACHE_DIR = _ORIGINAL_CACHE_DIR

    cfg.initialize(logging_level=logging_level)
    if offline:
        cfg.PARAMS['has_internet'] = False
    cfg.PARAMS['use_multiprocessing'] = False
    if working_dir is not None:
        working_dir = Path(working_dir)
        working_dir.mkdir(parents=True, exist_ok=True)
        cfg.PATHS['working_dir'] = str(working_dir)
    from .params import register_settings

    register_settings()
    for key, value in params.items():
        if key not in cfg.PARAMS:
            raise ValueError(
                f'initialize_oggm: unknown OGGM parameter {key!r}. Check the '
                'spelling against oggm/params.cfg, or set new keys directly '
                'in cfg.PARAMS after initialisation.')
        cfg.PARAMS[key] = value
    return cfg


def __getattr__(name: str):
    # The sample-glacier helpers live in sample_glaciers.py; they are also
    # reachable from here (lazily, so that importing this module stays free
    # of OGGM imports).
    if name in ('hintereisferner_gdir', 'oetztal_gdirs'):
        from . import sample_glaciers

        return getattr(sample_glaciers, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
