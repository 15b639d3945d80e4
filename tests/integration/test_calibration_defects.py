"""Regression tests of the calibration defects found by a hostile-user audit (issue 13)."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest


def test_oggm_calibration_task_result_is_used_by_the_run_tasks(hef_daily):
    """OGGM's own calibration of GlaUnTIMassBalance is found again without passing it."""
    from oggm_glaunti.integration import GlaUnTIMassBalance, glaunti_mb_calibration_from_scalar_mb

    ref = hef_daily.get_ref_mb_data().loc[1993:2002, "ANNUAL_BALANCE"].mean()
    calib = glaunti_mb_calibration_from_scalar_mb(hef_daily, variant="A", ref_mb=ref, ref_mb_years=(1993, 2003),
                                                  calibrate_param1="temp_bias")
    assert calib["mb_model_class"] == "GlaUnTIMassBalance" and calib["variant"] == "A"
    mb = GlaUnTIMassBalance(hef_daily, variant="A")  # as OGGM's run tasks build it: no parameters
    assert mb.temp_bias == pytest.approx(calib["temp_bias"]) and mb.prcp_fac == 1.0
    assert mb.melt_f == pytest.approx(calib["melt_f"])
    fls = hef_daily.read_pickle("model_flowlines")
    assert mb.get_specific_mb(fls=fls, year=np.arange(1993, 2003)).mean() == pytest.approx(ref, abs=1.0)
    # OGGM's MonthlyTIModel calibration in mb_calib.json is left alone
    assert hef_daily.read_json("mb_calib").get("mb_model_class") != "GlaUnTIMassBalance"
    os.remove(hef_daily.get_filepath("mb_calib", filesuffix="_glaunti_A"))


@pytest.mark.parametrize("task_name", ["mb_calibration_from_scalar_mb", "mb_calibration_to_rmsd"])
def test_oggm_calibration_task_writing_an_unlabelled_file_is_refused(hef_daily, task_name):
    """OGGM's task called directly on GlaUnTIMassBalance would write an mb_calib.json that
    does not name the class (so the run tasks would use the uncalibrated model): refused
    before any work, pointing to the wrapper, and mb_calib.json is left as it was."""
    from oggm.core import massbalance
    from oggm.exceptions import InvalidWorkflowError

    from oggm_glaunti.integration import GlaUnTIMassBalance

    path = hef_daily.get_filepath("mb_calib")
    with open(path, "rb") as f:
        before = f.read()
    ref = hef_daily.get_ref_mb_data().loc[1993:2002, ["ANNUAL_BALANCE"]]
    arguments = ({"ref_mb": float(ref.mean().iloc[0]), "ref_mb_years": (1993, 2003)}
                 if task_name == "mb_calibration_from_scalar_mb" else {"ref_df": ref})
    with pytest.raises(InvalidWorkflowError, match="without naming the model class") as error:
        getattr(massbalance, task_name)(hef_daily, mb_model_class=GlaUnTIMassBalance, overwrite_gdir=True,
                                        **arguments)
    assert "write_to_gdir=False" in str(error.value) and "glaunti_" in str(error.value)
    with open(path, "rb") as f:
        assert f.read() == before
    assert not hef_daily.has_file("mb_calib", filesuffix="_glaunti_D")


def _fitted(variant_model, scale: float):
    import equinox as eqx

    from oggm_glaunti.integration.calibration.objective import Fitted

    model = eqx.tree_at(lambda m: m.ti.ddf_snow_log, variant_model, variant_model.ti.ddf_snow_log + scale)
    return Fitted(model, 0.1 * scale, 1.0)


def test_weights_and_calibration_are_replaced_as_one_pair(hef_daily, monkeypatch):
    """A crash between the weights and the JSON leaves the previous pair; a weights file
    that is not the JSON's is refused."""
    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.integration.calibration import task
    from oggm_glaunti.integration.run.massbalance import load_variant

    published = load_variant("A")
    first = task.write_calibration(hef_daily, "A", _fitted(published, 0.05), ["ti"], ["test"], [1990, 1991],
                                   {}, [1.0], default_melt_f=np.nan)
    monkeypatch.setattr(json, "dump", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        task.write_calibration(hef_daily, "A", _fitted(published, 0.2), ["ti"], ["test"], [1990, 1991],
                               {}, [1.0], default_melt_f=np.nan)
    monkeypatch.undo()
    calib = hef_daily.read_json("mb_calib", filesuffix="_glaunti_A")
    assert calib["weights_file"] == first["weights_file"]
    mb = GlaUnTIMassBalance(hef_daily, variant="A")
    assert mb.temp_bias == pytest.approx(0.005)
    assert float(mb.glacier_run.model.ti.ddf_snow_log) == pytest.approx(float(published.ti.ddf_snow_log) + 0.05)
    # a weights file that is not the one the JSON was written with is refused
    path = os.path.join(hef_daily.dir, calib["weights_file"])
    with open(path, "ab") as f:
        f.write(b"\0")
    with pytest.raises(ValueError, match="not the weights file its calibration"):
        GlaUnTIMassBalance(hef_daily, variant="A")
    os.remove(path)
    os.remove(hef_daily.get_filepath("mb_calib", filesuffix="_glaunti_A"))
    leftovers = [f for f in os.listdir(hef_daily.dir) if f.startswith("glaunti_weights_A")]
    for f in leftovers:  # the interrupted write's weights (never named by a JSON)
        os.remove(os.path.join(hef_daily.dir, f))


def test_observations_the_climate_does_not_cover_are_dropped_or_refused():
    from oggm_glaunti.integration.calibration.observations import Observations

    stakes = pd.DataFrame({"date0": pd.to_datetime(["2000-10-01", "2002-05-01"]).values.astype("datetime64[D]"),
                           "date1": pd.to_datetime(["2001-05-01", "2003-10-01"]).values.astype("datetime64[D]"),
                           "row": [1, 1], "col": [1, 1], "balance": [1.0, -2.0], "hydro_year": [2000, 2002]})
    obs = Observations(annual={1999: -0.5, 2005: -1.0}, stakes=stakes)
    notes = obs.keep_covered({1999, 2000, 2001}, np.datetime64("1999-10-01"), np.datetime64("2002-09-30"), "G")
    assert list(obs.annual) == [1999] and len(obs.stakes) == 1
    assert any("1 WGMS annual value(s) outside" in n for n in notes)
    assert any("1 stake record(s) not inside the daily climate" in n for n in notes)
    obs = Observations(geodetic=(1999, 2018, -0.8))
    with pytest.raises(ValueError, match="not covered by the daily climate"):
        obs.keep_covered({1999, 2000, 2001}, np.datetime64("1999-10-01"), np.datetime64("2002-09-30"), "G")


def test_a_loss_that_is_not_finite_is_an_error(hef_daily):
    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.integration.calibration.objective import Objective
    from oggm_glaunti.integration.calibration.observations import Observations

    run = GlaUnTIMassBalance(hef_daily, variant="A", temp_bias=0.0, prcp_fac=1.0).glacier_run
    objective = Objective(run, Observations(annual={1995: float("nan"), 1996: -1.0}), [1995, 1996], ("temp_bias",))
    with pytest.raises(FloatingPointError, match="not finite"):
        objective.minimise(max_steps=5, tolerance=1e-3)
