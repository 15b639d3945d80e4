"""Integration tests: OGGM configuration and a Hintereisferner directory per module.

(Third-party deprecation warnings are filtered for the whole suite in setup.cfg.)"""
import pytest


@pytest.fixture
def restore_oggm_cfg():
    """Give OGGM's configuration back as it was after a test that re-initialises it."""
    from oggm import cfg

    from oggm_glaunti.integration.session.params import register_file_keys

    register_file_keys()  # the keys must be in the snapshot restored below

    packed, cache_dir = cfg.pack_config(), cfg.CACHE_DIR
    yield
    cfg.unpack_config(packed)
    cfg.CACHE_DIR = cache_dir


@pytest.fixture(scope="module")
def hef_daily(oggm_sample_data, tmp_path_factory):
    """Hintereisferner with daily climate and the model grid, one per test module (tests
    write calibrations into it)."""
    from oggm_glaunti.integration import glaunti_model_grid, hintereisferner_gdir, process_daily_from_monthly

    gdir = hintereisferner_gdir(tmp_path_factory.mktemp("hef_daily"))
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)
    return gdir
