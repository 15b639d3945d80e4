"""Integration tests: silence deprecation noise raised inside OGGM/salem/rasterio."""
import pytest

_IGNORED = (
    "ignore:Use `@` matmul instead of `\\*` mul operator:PendingDeprecationWarning",
    "ignore:The 'shapely.ops.transform\\(\\)' function is deprecated:DeprecationWarning",
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration/" in item.nodeid.replace("\\", "/") or \
                item.nodeid.startswith("integration/"):
            for spec in _IGNORED:
                item.add_marker(pytest.mark.filterwarnings(spec))


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
