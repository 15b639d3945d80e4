"""The demo's report: a comparison table (Markdown and JSON) and a short text with the figures."""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr

from ..metrics import format_table, json_safe, skill
from .workflow import GLAUNTI, GLAUNTI_EVOLVING, HISTORICAL_YEARS, MONTHLY_TI, PROJECTION_YEARS, DemoRun

SEASON_COLUMNS = {"annual": ("observed", ""), "winter": ("observed_winter", "_winter"),
                  "summer": ("observed_summer", "_summer")}


def comparison(run: DemoRun) -> dict[str, dict[str, float]]:
    """Skill (mm w.e.) of each model against WGMS, per season: ``'<model>, <season>'`` -> scores."""
    table = run.specific_mb
    rows = {}
    for season, (observed, suffix) in SEASON_COLUMNS.items():
        for label in (GLAUNTI, MONTHLY_TI):
            column = f"{label}{suffix}"
            if observed in table and column in table:
                rows[f"{label}, {season}"] = skill(table[column], table[observed])
            else:  # no WGMS values of this season in the period: say so in the table
                rows[f"{label}, {season}"] = skill([], [])
    return rows


def projection_summary(run: DemoRun) -> dict[str, dict[str, float]]:
    """Volume and area at the start and end of each projection."""
    out = {}
    for label, path in run.projection_files.items():
        with xr.open_dataset(path) as ds:
            v0, v1 = float(ds.volume_m3[0]), float(ds.volume_m3[-1])
            a0, a1 = float(ds.area_m2[0]), float(ds.area_m2[-1])
        out[label] = {"volume_start_km3": v0 * 1e-9, "volume_end_km3": v1 * 1e-9,
                      "volume_change_percent": 100 * (v1 - v0) / v0,
                      "area_start_km2": a0 * 1e-6, "area_end_km2": a1 * 1e-6}
    return out


def calibration_text(calibration: dict) -> str:
    """What the calibration fitted, why, with what uncertainty, and its warnings."""
    sd = calibration.get("uncertainty", {})
    fitted = ", ".join(calibration.get("calibrated_parameters", []))
    lines = [f"Fitted: {fitted} ({calibration.get('status', '?')}, {calibration.get('steps', '?')} steps); "
             f"temp_bias = {calibration['temp_bias']:+.2f} ± {sd.get('temp_bias_sd', float('nan')):.2f} °C "
             f"(± {sd.get('temp_bias_sd_scaled', float('nan')):.2f} scaled by the misfit), "
             f"prcp_fac = {calibration['prcp_fac']:.2f}."]
    lines += [f"- {name}: {why}" for name, why in calibration.get("why", {}).items()]
    mean = calibration.get("matched_mean")
    if mean:
        lines.append(f"- reference-period mean ({mean['kind']}) matched to {mean['misfit_m_we'] * 1000:.2f} mm w.e./yr")
    lines += [f"- warning: {w}" for w in calibration.get("warnings", [])]
    return "\n".join(lines)


def skill_table(skill: dict) -> str:
    """The split-sample scores (m w.e.) as a Markdown table."""
    if not skill:
        return ""
    split = next(iter(skill["splits"]))
    data = skill["splits"][split]
    held = "; ".join(f"{f['held_out'][0]}-{f['held_out'][-1]}" for f in data["folds"])
    rows = [f"Blocked split-sample: each half of {skill['wgms_years'][0]}-{skill['wgms_years'][1]} held out once "
            f"({held}), the models calibrated on the other half. Held-out scores, m w.e.:", "",
            "| model | annual RMSE | annual bias | annual r | profile RMSE |", "|---|---|---|---|---|"]
    for name in ("calibrated", "uncalibrated", "MonthlyTIModel"):
        row = data["held_out_scores"].get(name, {})
        a, p = row.get("annual", {}), row.get("profile", {})
        label = f"GlaUnTI {skill['variant']} {name}" if name != "MonthlyTIModel" else name
        rows.append(f"| {label} | {a.get('rmse', float('nan')):.3f} | {a.get('bias', float('nan')):+.3f} | "
                    f"{a.get('r', float('nan')):.2f} | {p.get('rmse', float('nan')):.2f} |")
    return "\n".join(rows)


def write_report(run: DemoRun, out: Path, figures: list[Path], minutes: float) -> Path:
    """Write ``report.md`` and ``results.json`` in ``out``; returns the report's path."""
    scores = comparison(run)
    projections = projection_summary(run)
    (out / "results.json").write_text(json.dumps(json_safe({
        "glacier": run.gdir.rgi_id, "variant": run.variant, "historical_years": HISTORICAL_YEARS,
        "projection_years": PROJECTION_YEARS, "units": "mm w.e. per year",
        "calibration": {k: v for k, v in run.calibration.items() if isinstance(v, (int, float, str))},
        "comparison": scores, "projection": projections,
        "calibration_details": run.calibration, "skill": run.skill,
    }), indent=2))
    seasonal_note = ""
    if all(scores[f"{GLAUNTI}, {s}"]["n"] == 0 for s in ("winter", "summer")):
        seasonal_note = ("\nWGMS has no winter or summer balances of this glacier within "
                         f"{HISTORICAL_YEARS[0]}-{HISTORICAL_YEARS[1]} (they begin after the demo "
                         "climate ends), so those rows are empty.\n")
    proj_lines = "\n".join(
        f"| {label} | {p['volume_start_km3']:.3f} | {p['volume_end_km3']:.3f} | "
        f"{p['volume_change_percent']:+.0f} % | {p['area_start_km2']:.2f} | {p['area_end_km2']:.2f} |"
        for label, p in projections.items())
    calib = ", ".join(f"{k} = {v:.3g}" for k, v in run.calibration.items()
                      if k in ("temp_bias", "prcp_fac", "melt_f") and isinstance(v, (int, float)))
    figure_lines = "\n\n".join(f"![{p.stem}]({p.name})" for p in figures)
    geometry_name = run.geometry_file.name if run.geometry_file is not None else "glaunti_geometry.nc"
    text = f"""# GlaUnTI {run.variant} and OGGM's MonthlyTIModel on {run.gdir.name} ({run.gdir.rgi_id})

Daily GlaUnTI {run.variant} (calibrated: {calib}) and OGGM's monthly temperature-index
model (its own calibration of the melt factor) against the WGMS glacier-wide series
{HISTORICAL_YEARS[0]}-{HISTORICAL_YEARS[1]}, on the initial flowline geometry. Both models are
calibrated on the same WGMS series. Each model is scored on WGMS's hydrological years
(October-September, summed from its monthly balances). Units: mm w.e. per year
(bias = modelled - observed).

{format_table(scores, "model, season", digits=2)}
{seasonal_note}
## Calibration

{calibration_text(run.calibration)}

## Skill on held-out years

{skill_table(run.skill)}

## Projection {PROJECTION_YEARS[0]}-{PROJECTION_YEARS[1]} (CMIP5 CCSM4 RCP2.6, OGGM dynamics)

| model | volume start (km³) | volume end (km³) | change | area start (km²) | area end (km²) |
|---|---|---|---|---|---|
{proj_lines}

"{GLAUNTI_EVOLVING}" is the same GlaUnTI projection with the corrector on the glacier of
each year (`geometry='evolving'`: the flowlines' outline and surface laid onto its grid)
instead of the present-day one; `evolving_geometry.png` shows the glacier it saw and what
that changes, `{geometry_name}` holds it year by year.

## Figures

{figure_lines}

The MB-elevation figure and the skill figure's profile panel show where the models depart
from the WGMS profiles: GlaUnTI's balance gradient on the tongue is too shallow, and the
calibrated temperature bias, which matches the glacier-wide mean, cannot fix it (see the
documentation's Limitations page).

Files: `glaunti_gridded_smb.nc` (SMB and corrections on the GlaUnTI grid),
`model_diagnostics_*.nc` (the projections), `{geometry_name}` (the glacier the corrector
saw in the evolving projection), `specific_mb.csv` (the yearly comparison),
`results.json` (every number above). Run time: {minutes:.1f} minutes.
"""
    path = out / "report.md"
    path.write_text(text)
    return path
