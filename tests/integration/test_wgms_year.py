"""Balances over WGMS years from any OGGM model's monthly balances (the demo and the skill score on them)."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("model_name", ["GlaUnTI", "MonthlyTIModel"])
def test_twelve_months_add_up_to_oggms_specific_mb(hef_daily, model_name):
    """Months summed on the flowline points with ice, each over OGGM's month length, give
    OGGM's own calendar-year specific MB: no point beyond the tongue counts and no month
    is stretched to its calendar length."""
    from oggm.core.massbalance import MonthlyTIModel

    from oggm_glaunti.integration.run.wgms_year import months_specific_mb
    from oggm_glaunti.integration import GlaUnTIMassBalance

    mb = GlaUnTIMassBalance(hef_daily, variant="A") if model_name == "GlaUnTI" else MonthlyTIModel(hef_daily)
    fls = hef_daily.read_pickle("model_flowlines")
    assert any(np.any(fl.thick == 0) for fl in fls)  # the check needs points without ice
    calendar = months_specific_mb(mb, fls, [(1991, m) for m in range(1, 13)])
    assert calendar == pytest.approx(float(mb.get_specific_mb(fls=fls, year=1991)), abs=0.5)



def test_months_at_heights_add_up_to_the_annual_mb(hef_daily):
    from oggm import cfg
    from oggm.core.massbalance import MonthlyTIModel

    from oggm_glaunti.integration.run.wgms_year import months_mb

    mb = MonthlyTIModel(hef_daily)
    heights = np.array([2500.0, 3000.0, 3500.0])
    calendar = months_mb(mb, heights, [(1991, m) for m in range(1, 13)])
    annual = mb.get_annual_mb(heights, year=1991) * cfg.SEC_IN_YEAR * cfg.PARAMS["ice_density"]
    np.testing.assert_allclose(calendar, annual, atol=0.5)
