"""The integration's settings live in one place (params.py) and survive OGGM's own
initialisation."""
from __future__ import annotations

import logging

import pytest


def test_initialize_oggm_registers_everything(oggm_sample_data, tmp_path, restore_oggm_cfg):
    from oggm import cfg

    from oggm_glaunti.integration.session.offline import initialize_oggm
    from oggm_glaunti.integration.session.params import FILE_KEYS, GLAUNTI_DEFAULTS

    initialize_oggm(tmp_path / 'wd')
    for key, (filename, _doc) in FILE_KEYS.items():
        assert cfg.BASENAMES[key] == filename
    for key, (value, _doc) in GLAUNTI_DEFAULTS.items():
        assert cfg.PARAMS[key] == value


def test_plain_cfg_initialize_is_enough(oggm_sample_data, tmp_path, restore_oggm_cfg):
    """A user who calls OGGM's cfg.initialize() and never initialize_oggm (a process with
    none of our PARAMS) gets the defaults at the first read; their own values are kept;
    registering twice changes nothing."""
    from oggm import cfg

    from oggm_glaunti.integration.session.offline import initialize_oggm
    from oggm_glaunti.integration.session.params import get_param, register_settings

    initialize_oggm(tmp_path / 'wd')
    cfg.initialize(logging_level='WARNING')
    for key in [k for k in cfg.PARAMS if k.startswith('glaunti_')]:
        del cfg.PARAMS[key]  # as in a fresh process
    cfg.PARAMS['glaunti_band_dz'] = 25.0
    assert get_param('glaunti_variant') == 'D'
    assert cfg.PARAMS['glaunti_band_dz'] == 25.0
    before = (dict(cfg.BASENAMES), dict(cfg.PARAMS))
    register_settings()
    register_settings()
    assert (dict(cfg.BASENAMES), dict(cfg.PARAMS)) == before


def test_reading_a_file_key_needs_no_import_order(hef_daily):
    """Reading the model grid registers the keys itself (no 'import this module first')."""
    from oggm_glaunti.integration.grid.glacier_data import read_model_grid

    assert read_model_grid(hef_daily).shape[0] > 8


def test_constructor_changes_only_documented_settings(hef_daily, restore_oggm_cfg, caplog):
    """Building the MB model changes no cfg.PARAMS but use_mp_spawn, and says so."""
    from oggm import cfg

    from oggm_glaunti.integration import GlaUnTIMassBalance

    cfg.PARAMS['use_mp_spawn'] = False
    before = dict(cfg.PARAMS)
    logger = logging.getLogger('oggm_glaunti.integration.session.mp_safety')
    logger.addHandler(caplog.handler)
    try:
        GlaUnTIMassBalance(hef_daily, variant='A')
    finally:
        logger.removeHandler(caplog.handler)
    after = dict(cfg.PARAMS)
    changed = {k for k in set(before) | set(after)
               if before.get(k) is not after.get(k) and before.get(k) != after.get(k)}
    assert changed == {'use_mp_spawn'}
    assert "use_mp_spawn'] = True" in caplog.text


def test_a_replaced_setting_is_refused(oggm_sample_data, tmp_path, restore_oggm_cfg):
    """A script of an earlier version that sets a range we no longer read is told the new key."""
    from oggm import cfg

    from oggm_glaunti.integration.session.offline import initialize_oggm
    from oggm_glaunti.integration.session.params import get_param

    initialize_oggm(tmp_path / 'wd')
    cfg.PARAMS.do_log = False
    cfg.PARAMS['glaunti_calib_max_abs_temp_bias'] = 3.0
    with pytest.raises(ValueError, match=r"'glaunti_calib_max_abs_temp_bias'.*glaunti_temp_bias_range"):
        get_param('glaunti_temp_bias_range')
    del cfg.PARAMS['glaunti_calib_max_abs_temp_bias']
    assert get_param('glaunti_temp_bias_range') == [-5.0, 5.0]
