"""Offline OGGM set-up and the sample glaciers (oggm_glaunti.integration.session.offline)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from oggm_glaunti.integration.session import offline


def test_prepare_salem_cache_creates_placeholder(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    path = offline.prepare_salem_cache()
    assert path.is_file() and str(path).startswith(str(tmp_path))
    assert offline.SALEM_SAMPLE_DATA_COMMIT in str(path)
    path.write_text('keep')
    assert offline.prepare_salem_cache().read_text() == 'keep'


def test_sample_data_dir_errors(tmp_path, monkeypatch, restore_oggm_cfg):
    monkeypatch.setenv(offline.SAMPLE_DATA_ENV, str(tmp_path / 'nope'))
    with pytest.raises(FileNotFoundError, match=offline.SAMPLE_DATA_ENV):
        offline.sample_data_dir()
    wrong = tmp_path / 'oggm-sample-data-wrongcommit'
    wrong.mkdir()
    monkeypatch.setenv(offline.SAMPLE_DATA_ENV, str(wrong))
    with pytest.raises(ValueError, match='must be named'):
        offline.initialize_oggm(tmp_path / 'wd')


def test_initialize_oggm_offline(oggm_sample_data, tmp_path, restore_oggm_cfg):
    cfg = offline.initialize_oggm(tmp_path / 'wd', border=20,
                                  glaunti_daily_seed=3)
    from oggm import utils

    # the local copy is linked where OGGM (and spawned pool workers) look for it
    linked = Path(cfg.CACHE_DIR) / oggm_sample_data.name
    if linked.is_symlink():
        assert linked.resolve() == oggm_sample_data.resolve()
    else:  # OGGM's own downloaded copy is left in place
        assert (linked / 'test-files').is_dir()
    assert cfg.PARAMS['has_internet'] is False
    assert cfg.PARAMS['use_multiprocessing'] is False
    assert cfg.PARAMS['border'] == 20
    assert cfg.PARAMS['glaunti_daily_seed'] == 3
    assert cfg.PARAMS['glaunti_grid_dx'] == 100.
    assert cfg.PATHS['working_dir'] == str(tmp_path / 'wd')
    assert os.path.exists(utils.get_demo_file('hef_srtm.tif'))
    with pytest.raises(ValueError, match='unknown OGGM parameter'):
        offline.initialize_oggm(tmp_path / 'wd', bordr=20)


def test_hef_gdir_runs_with_oggm(hef_gdir):
    """OGGM 1.6.3 works with this environment's pandas/xarray/numpy end to end."""
    from oggm import tasks
    from oggm.core.massbalance import MonthlyTIModel

    calib = hef_gdir.read_json('mb_calib')
    assert 2 < calib['melt_f'] < 12 and calib['prcp_fac'] == 2.5
    assert hef_gdir.has_file('model_flowlines')
    vol0 = tasks.get_inversion_volume(hef_gdir)
    assert 0.5e9 < vol0 < 1.0e9
    tasks.run_from_climate_data(hef_gdir, ys=1990, ye=2000,
                                mb_model_class=MonthlyTIModel,
                                output_filesuffix='_test_hist')
    tasks.run_random_climate(hef_gdir, nyears=20, y0=1985, seed=1,
                             mb_model_class=MonthlyTIModel,
                             output_filesuffix='_test_rand')
    for suffix in ('_test_hist', '_test_rand'):
        with xr.open_dataset(hef_gdir.get_filepath('model_diagnostics',
                                                   filesuffix=suffix)) as d:
            vol = d.volume_m3.values
        assert np.all(np.isfinite(vol)) and vol[-1] < vol[0]


def test_oetztal_subset(oggm_sample_data, tmp_path, restore_oggm_cfg):
    ids = ['RGI50-11.00787', 'RGI50-11.00648']  # WGMS glacier, regional
    gdirs = offline.oetztal_gdirs(tmp_path / 'oez', rgi_ids=ids, invert=False,
                                  init_present_time=False)
    assert [g.rgi_id for g in gdirs] == ids
    kwf, other = (g.read_json('mb_calib') for g in gdirs)
    assert kwf['reference_mb'] != other['reference_mb']
    assert -1500 < other['reference_mb'] < 0
    with pytest.raises(ValueError, match='not in rgi_oetztal'):
        offline.oetztal_gdirs(tmp_path / 'oez', rgi_ids=['RGI50-11.99999'])
    with pytest.raises(ValueError, match='needs calibrate'):
        offline.oetztal_gdirs(tmp_path / 'oez', calibrate=False)


def test_link_into_cache_repoints_an_old_link(tmp_path):
    old_copy = tmp_path / 'old' / 'oggm-sample-data-x'
    new_copy = tmp_path / 'new' / 'oggm-sample-data-x'
    old_copy.mkdir(parents=True)
    new_copy.mkdir(parents=True)
    cache = tmp_path / 'cache'
    offline._link_into_oggm_cache(old_copy, cache)
    assert (cache / 'oggm-sample-data-x').resolve() == old_copy.resolve()
    offline._link_into_oggm_cache(new_copy, cache)
    assert (cache / 'oggm-sample-data-x').resolve() == new_copy.resolve()
    downloaded = tmp_path / 'cache2' / 'oggm-sample-data-x'
    downloaded.mkdir(parents=True)
    offline._link_into_oggm_cache(new_copy, downloaded.parent)
    assert not downloaded.is_symlink()
