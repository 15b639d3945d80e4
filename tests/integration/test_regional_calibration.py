"""Regional calibration of variant A over OGGM glacier directories with WGMS data."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

pytestmark = pytest.mark.slow

RGI_IDS = ['RGI50-11.00897', 'RGI50-11.00787', 'RGI50-11.00648']  # HEF, KWF (WGMS), one without


def test_regional_calibration_of_variant_a(oggm_sample_data, tmp_path, restore_oggm_cfg):
    from oggm import workflow

    from oggm_glaunti.integration import (GlaUnTIMassBalance, glaunti_model_grid, oetztal_gdirs,
                                          process_daily_from_monthly)
    from oggm_glaunti.training.regional import calibrate_regional
    from oggm_glaunti.weights import load_model

    gdirs = oetztal_gdirs(tmp_path / 'wd', rgi_ids=RGI_IDS, calibrate=False, invert=False,
                          init_present_time=False)
    workflow.execute_entity_task(process_daily_from_monthly, gdirs, y0=1985, y1=2001)
    workflow.execute_entity_task(glaunti_model_grid, gdirs)

    output = tmp_path / 'oetztal_a.npz'
    result = calibrate_regional(gdirs, steps=6, ref_years=(1991, 2000), output=output,
                                progress=False)
    assert result.glaciers == RGI_IDS[:2]
    assert list(result.skipped) == [RGI_IDS[2]] and 'no calibration data' in result.skipped[RGI_IDS[2]]
    assert min(result.history) < result.history[0]
    for rgi in result.glaciers:
        before, after = result.misfit_before[rgi]['annual'], result.misfit_after[rgi]['annual']
        assert before['n'] == after['n'] == 10
    mean_rmse = lambda m: np.mean([m[r]['annual']['rmse'] for r in result.glaciers])  # noqa: E731
    assert mean_rmse(result.misfit_after) < mean_rmse(result.misfit_before)

    assert load_model(output).variant == 'A'
    summary = json.loads(output.with_suffix('.json').read_text())
    assert summary['glaciers'] == RGI_IDS[:2] and summary['parameters']['ddf_snow'] > 0
    # the glacier directories now use the regional parameters by default
    mb = GlaUnTIMassBalance(gdirs[0], variant='A')
    assert mb.weights_file is not None and re.fullmatch(r'glaunti_weights_A_[0-9a-f]{12}\.npz', os.path.basename(mb.weights_file))
    assert mb.melt_f == pytest.approx(summary['parameters']['ddf_snow'] * 1000, rel=1e-5)
    assert GlaUnTIMassBalance(gdirs[2], variant='A').weights_file is None

    with pytest.raises(ValueError, match='none of the glacier directories has observations'):
        calibrate_regional(gdirs[2:], steps=1, progress=False)
