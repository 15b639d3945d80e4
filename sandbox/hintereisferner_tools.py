"""The four differentiable tools on Hintereisferner, next to what OGGM's MonthlyTIModel says.

This script

1. builds Hintereisferner from OGGM's demo files (HISTALP monthly climate disaggregated to
   daily, the GlaUnTI model grid; MonthlyTIModel calibrated on the WGMS balances) and
   calibrates GlaUnTI's temperature bias on the same balances (``glaunti_calibrate``);
2. **inverse offset**: the temperature offset that brings GlaUnTI's mean SMB over
   hydrological years ``--target-years`` to zero, and the same question asked of OGGM's
   MonthlyTIModel (``mb_calibration_from_scalar_mb`` searching ``temp_bias`` for a zero mean
   SMB over the same months, calendar years Y0+1..Y1+1);
3. **attribution** of hydrological year ``--year`` (integrated gradients, 100 steps);
4. **uncertainty**: the first-order spread of the cumulative SMB over ``--horizon`` years
   ending with the last full year (published sigmas), with ``--members`` Monte Carlo members;
5. **sensitivities** over the target years;
6. writes the four figures and ``summary.txt`` to ``--output`` and prints the timings.

Offline (in the repository root)::

    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params \\
    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    python sandbox/hintereisferner_tools.py --members 200

About 20-25 minutes on 2 CPU cores with 200 members (the Monte Carlo is most of it;
without ``--members`` about 6 minutes).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def monthly_ti_offset(gdir, years: tuple[int, int]) -> float:
    """OGGM's own answer: MonthlyTIModel's temp_bias (on top of its calibration) for a zero
    mean SMB over the calendar years after the hydrological years' starts."""
    from oggm.core.massbalance import mb_calibration_from_scalar_mb

    calib = gdir.read_json("mb_calib")
    out = mb_calibration_from_scalar_mb(
        gdir, ref_mb=0.0, ref_period=f"{years[0] + 1}-01-01_{years[1] + 2}-01-01", calibrate_param1="temp_bias",
        melt_f=calib["melt_f"], prcp_fac=calib["prcp_fac"], write_to_gdir=False)
    return out["temp_bias"] - calib["temp_bias"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="hef_tools", help="results folder")
    parser.add_argument("--variant", default="D", choices=list("ACD"))
    parser.add_argument("--target-years", type=int, nargs=2, default=(1982, 2001))
    parser.add_argument("--year", type=int, default=2000)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--members", type=int, default=0)
    args = parser.parse_args()

    from oggm_glaunti.integration import (glaunti_calibrate, glaunti_model_grid, hintereisferner_gdir,
                                          process_daily_from_monthly)
    from oggm_glaunti.integration.tools import figures, tasks

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    gdir = hintereisferner_gdir(tempfile.mkdtemp(prefix="hef_tools_"), invert=False, init_present_time=False)
    process_daily_from_monthly(gdir)
    glaunti_model_grid(gdir)
    timings, lines = {}, []

    def timed(name, func, **kwargs):
        start = time.time()
        result = func(gdir, variant=args.variant, continue_on_error=False, **kwargs)
        timings[name] = time.time() - start
        return result

    calib = timed("calibration", glaunti_calibrate)
    lines.append(f"GlaUnTI {args.variant} calibrated on WGMS: temp_bias {calib['temp_bias']:+.3f} degC")

    y0, y1 = args.target_years
    offset = timed("offset", tasks.glaunti_offset_for_target, target_years=(y0, y1))
    figures.offset_figure(offset, out / "offset.png")
    oggm_dt = monthly_ti_offset(gdir, (y0, y1))
    lines.append(f"offset for balance over hydrological years {y0}-{y1}: GlaUnTI {offset['temp_offset']:+.2f} degC "
                 f"(misfit {offset['misfit_m_we']:+.4f} m w.e./yr, {len(offset['history'])} Newton steps); "
                 f"MonthlyTIModel {oggm_dt:+.2f} degC")

    ds = timed("attribution", tasks.glaunti_attribution, year=args.year)
    figures.attribution_figure(ds, out / "attribution.png")
    for var in ("temperature", "precipitation"):
        monthly = ds[f"{var}_attribution_monthly"].values
        top = abs(monthly).argsort()[::-1][:3]
        lines.append(f"attribution {args.year}, {var}: " + ", ".join(
            f"month {m + 1} {monthly[m]:+.3f}" for m in top) + " m w.e.")
    lines.append(f"  SMB {ds.attrs['smb_m_we']:+.3f}, baseline {ds.attrs['baseline_smb_m_we']:+.3f} m w.e., "
                 f"completeness error {ds.attrs['completeness_error']:.2%}")

    last = int(offset["hydro_years"][-1])
    ds = timed("uncertainty", tasks.glaunti_forcing_uncertainty, years=(last - args.horizon + 1, last),
               members=args.members)
    figures.uncertainty_figure(ds, out / "uncertainty.png")
    line = (f"{args.horizon}-year cumulative SMB {float(ds.cumulative_smb[-1]):+.2f} m w.e., first-order std "
            f"{float(ds.cumulative_smb_std[-1]):.2f} (temperature {float(ds.cumulative_smb_std_temperature[-1]):.2f}, "
            f"precipitation {float(ds.cumulative_smb_std_precipitation[-1]):.2f})")
    if args.members:
        e = ds.ensemble_cumulative_smb[:, -1]
        line += f"; Monte Carlo ({args.members}) mean {float(e.mean()):+.2f}, std {float(e.std()):.2f}"
    lines.append(line)

    ds = timed("sensitivity", tasks.glaunti_sensitivities, years=(y0, y1))
    figures.sensitivity_figure(ds, out / "sensitivity.png")
    lines.append(f"sensitivities {y0}-{y1}: d/d temp_bias {float(ds.temp_bias_gradient):+.3f} m w.e./yr/degC, "
                 f"d/d prcp_fac {float(ds.prcp_fac_gradient):+.3f}, d/d melt_f {float(ds.melt_f_gradient):+.4f}")
    lines.append("timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    text = "\n".join(lines)
    (out / "summary.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
