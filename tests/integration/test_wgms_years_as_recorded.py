"""WGMS years on the survey's own (floating) dates, through OGGM: a WGMS table with the
Fluctuations-of-Glaciers date columns, given with ``gdir.set_ref_mb_data``, whose year 1991
ran 29 Sep 1990 .. 3 Oct 1991 (370 dates), is calibrated on and exported as recorded.
Expected values are counted here by hand from the glacier run's weighted daily steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

#: WGMS year -> (BEGIN_PERIOD, END_WINTER, END_PERIOD) as surveyed; 1991 spans 370 dates.
SURVEYS = {1990: (19891001, 19900502, 19900929), 1991: (19900929, 19910505, 19911003),
           1992: (19911003, 19920430, 19921001)}
LONG = (np.datetime64("1990-09-29"), np.datetime64("1991-05-05"), np.datetime64("1991-10-03"))


@pytest.fixture(scope="module")
def surveyed(hef_daily):
    wgms = hef_daily.get_ref_mb_data().astype({"WINTER_BALANCE": float, "SUMMER_BALANCE": float})
    for year, dates in SURVEYS.items():
        wgms.loc[year, ["BEGIN_PERIOD", "END_WINTER", "END_PERIOD"]] = dates
    wgms.loc[1991, ["WINTER_BALANCE", "SUMMER_BALANCE"]] = (1210.0, -2530.0)
    hef_daily.set_ref_mb_data(wgms)
    return hef_daily


def by_hand(run, adj, first, last) -> float:
    """Glacier-wide SMB (m w.e.) over ``first..last``, both dates in full, from the run's
    weighted steps (hydrological year Y begins on 1 October Y)."""
    outline = run.grid.outline.astype(np.float64)
    total = 0.0
    for year in range(first.astype("datetime64[Y]").astype(int) + 1969, last.astype("datetime64[Y]").astype(int) + 1971):
        _, steps = run.daily(year, adj)
        plan = run.reference_years([year]).plan
        dates = np.datetime64(f"{year}-10-01") + np.asarray(plan.day_index[0])
        inside = np.asarray(plan.active[0]) & (dates >= first) & (dates <= last)
        total += float((np.asarray(steps, np.float64)[inside].sum(0) * outline).sum() / outline.sum())
    return total


def test_calibration_scores_the_year_on_its_dates(surveyed):
    import jax.numpy as jnp

    from oggm_glaunti.integration import GlaUnTIMassBalance, glaunti_calibrate
    from oggm_glaunti.integration.calibration.objective import Objective
    from oggm_glaunti.integration.calibration.task import calibration_data

    mb = GlaUnTIMassBalance(surveyed, variant="A", temp_bias=0.0, prcp_fac=1.0)
    run, adj = mb.glacier_run, mb.adjustments
    obs, years = calibration_data(surveyed, run, ref_years=(1988, 1994))
    assert obs.windows[1990] == LONG and int((LONG[2] - LONG[0]).astype(int)) + 1 == 370
    assert 1993 not in obs.windows  # no survey dates: the calendar's year
    simulated = Objective(run, obs, years, ("temp_bias",)).simulated(jnp.zeros(1))
    begin, mid, end = LONG
    for season, (first, last) in {"annual": (begin, end), "winter": (begin, mid), "summer": (mid, end)}.items():
        assert simulated[1990][season] == pytest.approx(by_hand(run, adj, first, last), abs=1e-4)
    # the 1 October year would differ: the survey's four extra dates count
    assert abs(simulated[1990]["annual"] - simulated[1990]["total"]) > 1e-3
    assert simulated[1992]["annual"] == pytest.approx(
        by_hand(run, adj, np.datetime64("1992-10-01"), np.datetime64("1993-10-01")), abs=1e-4)

    calib = glaunti_calibrate(surveyed, variant="A", ref_years=(1988, 1994))
    assert calib["status"] == "converged" and calib["misfit_m_we"]["annual"]["n"] == 7
    assert calib["misfit_m_we"]["winter"]["n"] == 1


def test_export_writes_the_survey_dates_and_evaluate_reads_them(surveyed, tmp_path):
    from oggm_glaunti.integration.output.dataset_export import export_glaunti_dataset
    from oggm_glaunti.training.dataset import read_glacier
    from oggm_glaunti.training.evaluate import evaluate
    from oggm_glaunti.weights import load_pretrained

    export_glaunti_dataset([surveyed], tmp_path, names={surveyed.rgi_id: "hef"}, first_year=1988, last_year=1993)
    table = pd.read_csv(tmp_path / "hef" / "total_smb.csv", dtype=str, keep_default_na=False).set_index("year")
    assert tuple(table.loc["1991", ["begin_date", "midseason_date", "end_date"]]) == (
        "1990-09-29", "1991-05-05", "1991-10-03")
    assert table.loc["1990", "end_date"] == "1990-09-29" and table.loc["1992", "begin_date"] == "1991-10-03"
    assert table.loc["1993", "begin_date"] == "1992-10-01"  # not surveyed: the calendar's dates
    glacier = read_glacier(tmp_path, "hef")
    assert glacier.windows[1991].n_days == 370
    pairs = evaluate(load_pretrained("A"), [glacier], spinup_years=1).pairs
    long_year = pairs[(pairs.year == 1991) & (pairs.kind == "glacier_wide")].set_index("season")
    assert list(long_year.index) == ["annual", "winter", "summer"]
    assert (long_year.loc["annual", "begin"], long_year.loc["annual", "end"]) == ("1990-09-29", "1991-10-03")
    assert np.isfinite(long_year["modelled"]).all()
