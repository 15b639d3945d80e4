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

    packed, cache_dir = cfg.pack_config(), cfg.CACHE_DIR
    yield
    cfg.unpack_config(packed)
    cfg.CACHE_DIR = cache_dir
