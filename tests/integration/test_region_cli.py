"""``oggm-glaunti region``: two small Ötztal glaciers, the cheap chain, serial (this process),
GlaUnTI A next to MonthlyTIModel; then started again (everything skipped)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from oggm_glaunti.cli import main

pytestmark = pytest.mark.slow

RGI_IDS = ["RGI50-11.00684", "RGI50-11.00674"]


def test_region_command(oggm_sample_data, tmp_path, capsys, restore_oggm_cfg):
    args = ["region", "--oetztal", "--rgi-ids", *RGI_IDS, "--chain", "cheap", "--scheduler", "serial",
            "--variant", "A", "--working-dir", str(tmp_path), "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "figure:" in out and "MonthlyTIModel" in out and "GlaUnTI A" in out
    figure = tmp_path / "region_volume_area.png"
    assert figure.stat().st_size > 10_000
    volumes = {}
    for folder in ("MonthlyTIModel", "GlaUnTI_A"):
        summary = pd.read_csv(tmp_path / folder / "glaunti_region_summary.csv")
        assert set(summary.status) == {"done"} and sorted(summary.rgi_id) == sorted(RGI_IDS)
        with xr.open_dataset(tmp_path / folder / "run_output_historical.nc") as ds:
            assert sorted(ds.rgi_id.values) == sorted(RGI_IDS)
            volumes[folder] = ds.volume.sum("rgi_id").values
    # both calibrated on the same mean over the run's years: similar volume change, not the same
    change = {k: v[-1] - v[0] for k, v in volumes.items()}
    assert change["GlaUnTI_A"] < 0 and change["MonthlyTIModel"] < 0
    assert abs(change["GlaUnTI_A"] / change["MonthlyTIModel"] - 1) < 0.25
    assert (volumes["GlaUnTI_A"] != volumes["MonthlyTIModel"]).any()

    assert main(args) == 0  # started again: nothing left to do
    for folder in ("MonthlyTIModel", "GlaUnTI_A"):
        summary = pd.read_csv(tmp_path / folder / "glaunti_region_summary.csv")
        assert set(summary.status) == {"done before"}


def test_region_command_needs_prepared_glaciers(tmp_path, capsys, restore_oggm_cfg):
    assert main(["region", "--rgi-ids", "RGI60-11.00001", "--working-dir", str(tmp_path)]) == 2
    assert "no glacier directory for ['RGI60-11.00001']" in capsys.readouterr().err
    assert not Path(tmp_path, "region_volume_area.png").exists()
