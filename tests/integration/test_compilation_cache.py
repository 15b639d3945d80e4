"""Where JAX's persistent compilation cache goes (policy only: JAX keeps the folder it
first used for the rest of the process, so the global setting is restored after each test)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def jax_cache_unset():
    import jax

    previous = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", None)
    yield jax
    jax.config.update("jax_compilation_cache_dir", previous)


@pytest.fixture
def oggm_paths(tmp_path, restore_oggm_cfg):
    from oggm import cfg

    cfg.initialize(logging_level="WARNING")
    cfg.PATHS["working_dir"] = str(tmp_path)
    return cfg


def test_cache_goes_to_the_working_directory(jax_cache_unset, oggm_paths, tmp_path):
    from oggm_glaunti.integration.session.compilation_cache import use_working_dir_compilation_cache

    expected = os.path.join(str(tmp_path), "glaunti_jax_cache")
    assert use_working_dir_compilation_cache() == expected
    assert jax_cache_unset.config.jax_compilation_cache_dir == expected


def test_a_folder_the_user_chose_is_kept(jax_cache_unset, oggm_paths, tmp_path):
    from oggm_glaunti.integration.session.compilation_cache import use_working_dir_compilation_cache

    jax_cache_unset.config.update("jax_compilation_cache_dir", str(tmp_path / "mine"))
    assert use_working_dir_compilation_cache() == str(tmp_path / "mine")
    assert jax_cache_unset.config.jax_compilation_cache_dir == str(tmp_path / "mine")


def test_the_cache_can_be_switched_off(jax_cache_unset, oggm_paths):
    from oggm_glaunti.integration.session.compilation_cache import use_working_dir_compilation_cache

    oggm_paths.PARAMS["glaunti_compilation_cache"] = False
    assert use_working_dir_compilation_cache() is None
    assert jax_cache_unset.config.jax_compilation_cache_dir is None


@pytest.fixture
def jax_min_seconds(jax_cache_unset, monkeypatch):
    previous = jax_cache_unset.config.jax_persistent_cache_min_compile_time_secs
    monkeypatch.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", raising=False)
    jax_cache_unset.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)  # JAX's default
    yield jax_cache_unset
    jax_cache_unset.config.update("jax_persistent_cache_min_compile_time_secs", previous)


def test_short_compilations_are_kept(jax_min_seconds, oggm_paths):
    """GlaUnTI's functions mostly compile in 0.1-1 s: JAX's 1-s threshold would keep none."""
    from oggm_glaunti.integration.session.compilation_cache import use_working_dir_compilation_cache

    oggm_paths.PARAMS["glaunti_compilation_cache_min_seconds"] = 0.25
    use_working_dir_compilation_cache()
    assert jax_min_seconds.config.jax_persistent_cache_min_compile_time_secs == 0.25


@pytest.mark.parametrize("how", ["environment", "config"])
def test_a_threshold_the_user_chose_is_kept(jax_min_seconds, oggm_paths, monkeypatch, how):
    from oggm_glaunti.integration.session.compilation_cache import use_working_dir_compilation_cache

    if how == "environment":
        monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "1")  # even JAX's default
        expected = 1.0
    else:
        jax_min_seconds.config.update("jax_persistent_cache_min_compile_time_secs", 2.0)
        expected = 2.0
    use_working_dir_compilation_cache()
    assert jax_min_seconds.config.jax_persistent_cache_min_compile_time_secs == expected


@pytest.mark.parametrize("value", [float("nan"), -1.0, "fast", None])
def test_a_threshold_that_is_not_seconds_is_refused(jax_min_seconds, oggm_paths, value):
    from oggm_glaunti.integration.session.compilation_cache import use_working_dir_compilation_cache

    oggm_paths.PARAMS["glaunti_compilation_cache_min_seconds"] = value
    with pytest.raises(ValueError, match="glaunti_compilation_cache_min_seconds.*seconds >= 0"):
        use_working_dir_compilation_cache()
    assert jax_min_seconds.config.jax_persistent_cache_min_compile_time_secs == 1.0  # untouched
