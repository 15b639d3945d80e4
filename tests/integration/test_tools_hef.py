"""The differentiable tools' entity tasks on Hintereisferner (few years): they run through
the glacier's one run, write their files, and refuse bad input clearly."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import xarray as xr

from oggm_glaunti.integration.tools import tasks
from oggm_glaunti.integration.tools.glacier_runs import TracedRun, run_stack


def _mb(gdir, variant):
    from oggm_glaunti.integration import GlaUnTIMassBalance

    return GlaUnTIMassBalance(gdir, variant=variant)


@pytest.mark.parametrize("variant", ["A", "D"])
def test_attribution_completeness_hintereisferner(hef_daily, variant):
    ds = tasks.glaunti_attribution(hef_daily, year=2000, steps=25, variant=variant, continue_on_error=False)
    assert ds.attrs["completeness_error"] <= 0.02
    change = ds.attrs["smb_m_we"] - ds.attrs["baseline_smb_m_we"]
    total = float(ds.temperature_attribution_monthly.sum() + ds.precipitation_attribution_monthly.sum())
    assert abs(total - change) <= 0.02 * max(abs(change), 0.01)
    # the year's SMB is the glacier run's own
    mb = _mb(hef_daily, variant)
    own = mb.glacier_run.glacier_mean(mb.glacier_run.year(2000, mb.adjustments).period_smb.sum(0))
    assert ds.attrs["smb_m_we"] == pytest.approx(own, abs=1e-5)
    with xr.open_dataset(hef_daily.get_filepath("glaunti_attribution")) as f:
        assert f.temperature_attribution_map.attrs["units"] == "m w.e."


def test_traced_run_equals_glacier_run(hef_daily):
    """The tools' traced run gives the MB model's years (same function, same state rule)."""
    mb = _mb(hef_daily, "A")
    run, adj = mb.glacier_run, mb.adjustments
    stack = run_stack(run, [1999, 2000])
    totals = np.asarray(TracedRun(run, adj).totals(stack))
    for k, (year, _, _) in enumerate(stack.runs):
        if stack.own[k]:
            assert totals[k] == pytest.approx(run.glacier_mean(run.year(year, adj).period_smb.sum(0)), abs=1e-5)


def test_offset_task_writes_its_file(hef_daily):
    out = tasks.glaunti_offset_for_target(hef_daily, target_years=(1999, 2000), variant="A", continue_on_error=False)
    assert abs(out["misfit_m_we"]) <= 0.01 and abs(np.mean(out["smb_after_m_we"])) <= 0.01
    with open(hef_daily.get_filepath("glaunti_offset")) as f:
        assert json.load(f)["temp_offset"] == out["temp_offset"]


def test_uncertainty_and_sensitivity_tasks_write_their_files(hef_daily):
    ds = tasks.glaunti_forcing_uncertainty(hef_daily, years=(2000, 2001), variant="A", members=2,
                                           continue_on_error=False)
    assert list(ds.hydro_year.values) == [2000, 2001]
    assert np.all(np.diff(ds.cumulative_smb_std.values) > 0) and ds.ensemble_cumulative_smb.shape == (2, 2)
    ds = tasks.glaunti_sensitivities(hef_daily, years=(2000, 2000), variant="A", continue_on_error=False)
    assert float(ds.temp_bias_gradient) < 0 < float(ds.prcp_fac_gradient)
    assert "correction_gradient" not in ds
    assert os.path.exists(hef_daily.get_filepath("glaunti_sensitivities"))


def _sensitivities_as_before(mb, year):
    """The task's numbers as its old copy of the year computed them (commit 74871a2): the
    glacier's forcing, the corrector's fields on the glacier's own window, the change added,
    then the corrected TI run - differentiated here, beside the task."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from oggm_glaunti.integration.run.glacier_year import grid_forcing
    from oggm_glaunti.tools.core_inputs import glacier_wide

    run, adj = mb.glacier_run, mb.adjustments
    traced = TracedRun(run, adj)
    model, grid = traced.model, traced.grid
    reference, state = run.reference_years([year]).at(0), jnp.asarray(run.year(year, adj).start_state)
    window = (grid.window_origin[0], grid.window_origin[1], *run.window_size)

    def smb(ti, temp_bias, prcp_fac, delta):
        m = eqx.tree_at(lambda x: x.ti, model, ti)
        forcing = grid_forcing(reference, adj.temp_bias + temp_bias, adj.prcp_fac * prcp_fac, grid)
        fields = m.corrections(forcing, state, window)[0] + delta
        return glacier_wide(m.run_corrected(forcing, state, fields).period_smb.sum(0), traced.outline)

    value, (_, temp_bias, prcp_fac, corrections) = jax.jit(jax.value_and_grad(smb, argnums=(0, 1, 2, 3)))(
        model.ti, jnp.float32(0.0), jnp.float32(1.0), jnp.zeros((5,) + traced.outline.shape, jnp.float32))
    return float(value), float(temp_bias), float(prcp_fac), np.asarray(corrections)


def test_sensitivity_task_corrections_through_the_glacier_year(hef_daily):
    """Variant C: the correction fields' gradients come from the glacier's year with a
    ``correction_delta``. d1, d2 and d4 add to the stored ``prec_scale_log``, ``ddf_snow_log``
    and ``snow_to_rain_centre`` in each cell, so their maps sum to those parameters' gradients;
    the SMB is the glacier run's own; and the numbers are those of the task's old copy of the
    year, computed beside it (the same operations: a few float32 ulps at most)."""
    ds = tasks.glaunti_sensitivities(hef_daily, years=(2000, 2000), variant="C", filesuffix="_c",
                                     continue_on_error=False)
    sums = ds.correction_gradient.values.astype(np.float64).sum((1, 2))
    ti = dict(zip(ds.parameter.values, ds.ti_gradient.values))
    np.testing.assert_allclose(sums[[0, 1, 3]], [ti["prec_scale_log"], ti["ddf_snow_log"], ti["snow_to_rain_centre"]],
                               rtol=1e-5)
    mb = _mb(hef_daily, "C")
    own = mb.glacier_run.glacier_mean(mb.glacier_run.year(2000, mb.adjustments).period_smb.sum(0))
    assert float(ds.smb) == pytest.approx(own, abs=1e-5)
    value, temp_bias, prcp_fac, corrections = _sensitivities_as_before(mb, 2000)
    np.testing.assert_allclose([float(ds.smb), float(ds.temp_bias_gradient), float(ds.prcp_fac_gradient)],
                               [value, temp_bias, prcp_fac], rtol=1e-6, atol=1e-7)
    scale = float(np.abs(corrections).max())
    assert scale > 0
    np.testing.assert_allclose(ds.correction_gradient.values, corrections, rtol=1e-6, atol=1e-6 * scale)


# --- bad input ----------------------------------------------------------------------------
def test_target_period_outside_climate(hef_daily):
    with pytest.raises(ValueError, match=r"target_years 2001-2010 .* outside the daily climate .* gives full "
                                         r"hydrological years \d+-2001"):
        tasks.glaunti_offset_for_target(hef_daily, target_years=(2001, 2010), continue_on_error=False)
    assert not os.path.exists(hef_daily.get_filepath("glaunti_offset", filesuffix="_never"))


def test_offset_not_converged(hef_daily):
    from oggm_glaunti.tools import OffsetNotConverged

    with pytest.raises(OffsetNotConverged, match="Raise max_iterations"):
        tasks.glaunti_offset_for_target(hef_daily, target_years=(2000, 2000), variant="A", max_iterations=1,
                                        filesuffix="_unconverged", continue_on_error=False)
    assert not os.path.exists(hef_daily.get_filepath("glaunti_offset", filesuffix="_unconverged"))


def test_attribution_incomplete(hef_daily):
    from oggm_glaunti.tools import AttributionIncomplete

    with pytest.raises(AttributionIncomplete, match="use more steps"):
        tasks.glaunti_attribution(hef_daily, year=2000, steps=1, bound=1e-6, variant="A",
                                  filesuffix="_incomplete", continue_on_error=False)
    assert not os.path.exists(hef_daily.get_filepath("glaunti_attribution", filesuffix="_incomplete"))


@pytest.mark.parametrize("kwargs, message", [
    (dict(sigma_t=0.0), r"sigma_t \(degC\) must be a finite number > 0; got 0.0"),
    (dict(sigma_logp=-1.0), "sigma_logp must be a finite number > 0; got -1.0"),
    (dict(years=(1700, 2001)), r"the horizon 1700-2001 \(302 years\) is longer than the daily climate"),
    (dict(years=(1995, 2005)), "the horizon 1995-2005 .* is outside the daily climate"),
])
def test_uncertainty_bad_input(hef_daily, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tasks.glaunti_forcing_uncertainty(hef_daily, **{"years": (2000, 2001), "variant": "A", **kwargs},
                                          continue_on_error=False)


# --- command line -------------------------------------------------------------------------
def _working_dir(gdir) -> str:
    return str(os.path.dirname(os.path.dirname(os.path.dirname(gdir.dir))))


def test_cli_tool_writes_file_and_figure(hef_daily, tmp_path, capsys, restore_oggm_cfg):
    from oggm_glaunti.cli import main

    figure = tmp_path / "sensitivity.png"
    argv = ["sensitivity", "--working-dir", _working_dir(hef_daily), "--years", "2000", "2000", "--variant", "A",
            "--figure", str(figure)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "d/d temp_bias" in out and "ddf_snow_log" in out
    assert figure.stat().st_size > 10_000


def test_cli_tool_errors_are_one_line(hef_daily, tmp_path, capsys, restore_oggm_cfg):
    from oggm_glaunti.cli import main

    wd = _working_dir(hef_daily)
    assert main(["offset", "--working-dir", wd, "--target-years", "2000", "2000", "--variant", "A",
                 "--max-iterations", "1", "--figure", str(tmp_path / "o.png")]) == 1
    err = capsys.readouterr().err
    assert "oggm-glaunti offset: error:" in err and "Raise max_iterations" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()
    assert main(["uncertainty", "--working-dir", wd, "--years", "2000", "2001", "--sigma-t", "0",
                 "--figure", str(tmp_path / "u.png")]) == 2
    assert "sigma_t (degC) must be a finite number > 0" in capsys.readouterr().err
    assert main(["attribution", "--working-dir", str(tmp_path / "nowhere"), "--year", "2000"]) == 2
    assert "does not exist" in capsys.readouterr().err
