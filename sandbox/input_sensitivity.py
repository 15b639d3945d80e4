"""How much GlaUnTI's glacier-wide SMB moves with the inputs that the bad-input checks bound.

The numbers behind the ranges in ``docs/input_checks.md``: variant D (published weights, no
calibration, no facies map) on Hintereisferner (HISTALP disaggregated to daily), mean
glacier-wide SMB of calendar years 1991-2001, when one input changes:

- ``dx``: the model grid's cell size (the corrector was trained on ~100 m grids), for D
  and for A (the TI model alone);
- ``std``: a uniform elevation uncertainty (m; the default is 10 m);
- ``margin``: the margin of cells around the outline (the terrain the corrector sees);
- ``ref_hgt``: the climate's reference height, shifted (a wrong orography);
- ``min_cells``: padding of the grid of a small glacier (RGI50-11.00684, 0.34 km2) with
  ``margin_cells`` 0 and 4 (the padding must not move its SMB), and its margin;

Values the package now refuses are measured past its checks (:func:`beyond_the_checks`).

and, on a synthetic 10x10 glacier (variant A, 3 years), the ratio of the first-order spread
of the forcing-uncertainty tool to a 400-member Monte Carlo spread as ``sigma_t`` and
``sigma_logp`` grow (the first order holds while the SMB is near-linear in the noise).

Offline (in the repository root)::

    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params \\
    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    python sandbox/input_sensitivity.py [--only dx std margin ref_hgt min_cells sigma]

About 15 minutes on 2 CPU cores shared with other work (dx is most of it).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile

import numpy as np

YEARS = range(1991, 2002)


@contextlib.contextmanager
def beyond_the_checks():
    """Let C and D run on any cell size, the grid take any elevation uncertainty and the
    uncertainty tool any sigma (to measure what the checks refuse)."""
    from oggm_glaunti.integration.grid import model_grid, resolution
    from oggm_glaunti.tools import uncertainty

    saved = resolution.ACCEPTED_DX, model_grid.MAX_PLAUSIBLE_ELEVATION_STD, uncertainty.SIGMA_LIMITS
    resolution.ACCEPTED_DX, model_grid.MAX_PLAUSIBLE_ELEVATION_STD = (0., np.inf), np.inf
    uncertainty.SIGMA_LIMITS = {name: (np.inf, np.inf, why) for name, (_, _, why) in saved[2].items()}
    try:
        yield
    finally:
        resolution.ACCEPTED_DX, model_grid.MAX_PLAUSIBLE_ELEVATION_STD, uncertainty.SIGMA_LIMITS = saved


def mean_smb(gdir, grid_filesuffix: str = "", variant: str = "D") -> float:
    """Mean glacier-wide SMB (mm w.e. per year) over :data:`YEARS`."""
    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.integration.run.grid_cache import clear_grid_cache

    clear_grid_cache()
    mb = GlaUnTIMassBalance(gdir, variant=variant, grid_filesuffix=grid_filesuffix)
    return float(np.mean([mb.grid_specific_mb(y) for y in YEARS]))


def table(title: str, rows, reference) -> None:
    print(f"\n{title}")
    for label, value in rows:
        print(f"  {label:>12}: {value:8.0f} mm w.e./yr  ({100 * (value / reference - 1):+6.1f} %)")


def dx_sensitivity(gdir, cell_sizes=(25., 50., 75., 100., 125., 150., 200., 400., 1000.)) -> None:
    """Variant D, and variant A (the TI model alone: what the grid's hypsometry does)."""
    from oggm_glaunti.integration import glaunti_model_grid

    for margin_m in (None, 400.):
        rows = {"D": [], "A": []}
        for dx in cell_sizes:
            margin = 4 if margin_m is None else max(int(round(margin_m / dx)), 1)
            suffix = f"_dx{int(dx)}_{margin}"
            glaunti_model_grid(gdir, dx=dx, margin_cells=margin, filesuffix=suffix)
            for variant in rows:
                rows[variant].append((f"dx {dx:g} m", mean_smb(gdir, suffix, variant)))
        what = "4 cells" if margin_m is None else f"~{margin_m:g} m"
        for variant, values in rows.items():
            table(f"dx (margin {what}), variant {variant}:", values, dict(values)["dx 100 m"])


def std_sensitivity(gdir) -> None:
    from oggm_glaunti.integration import glaunti_model_grid

    rows = []
    for std in (0., 10., 30., 100., 300., 1000., 5699., 2e4, 1e6):
        suffix = f"_std{int(std)}"
        glaunti_model_grid(gdir, elevation_std_default=std, filesuffix=suffix)
        rows.append((f"std {std:g} m", mean_smb(gdir, suffix)))
    table("uniform elevation uncertainty:", rows, dict(rows)["std 10 m"])


def margin_sensitivity(gdir) -> None:
    from oggm_glaunti.integration import glaunti_model_grid

    rows = []
    for margin in (0, 2, 4, 8, 12):
        suffix = f"_margin{margin}"
        glaunti_model_grid(gdir, margin_cells=margin, size_multiple=1, filesuffix=suffix)
        rows.append((f"margin {margin}", mean_smb(gdir, suffix)))
    table("margin_cells (the terrain the corrector sees):", rows, dict(rows)["margin 4"])


def ref_hgt_sensitivity(gdir) -> None:
    """The glacier's run with the climate's reference height shifted (built directly: the
    package now refuses implausible heights when it reads them)."""
    from dataclasses import replace

    from oggm_glaunti.integration import GlaUnTIMassBalance
    from oggm_glaunti.integration.run.glacier_run import GlacierRun

    mb = GlaUnTIMassBalance(gdir, variant="D")
    base = mb.glacier_run
    true = base.climate.ref_hgt
    rows = []
    for shift in (-1000., -100., 0., 100., 1000., true * 9.80665 - true):
        run = GlacierRun(base.model, replace(base.climate, ref_hgt=true + shift), base.grid,
                         calendar=base.calendar, lapse_rate=base.lapse_rate,
                         spinup_years=base.spinup_years, segment_years=base.segment_years, cache_mb=0)
        smb = [1000 * float(run.glacier_mean(run.calendar_smb(y, mb.adjustments))) for y in YEARS]
        rows.append((f"{shift:+.0f} m", float(np.mean(smb))))
    print(f"\nref_hgt {true:.0f} m shifted (the last: geopotential read as m):")
    reference = dict(rows)["+0 m"]
    for label, value in rows:
        print(f"  {label:>12}: {value:8.0f} mm w.e./yr  ({value - reference:+6.0f} mm)")


def min_cells_effect(workdir) -> None:
    """Padding to min_cells (must change nothing), and the margin the corrector sees."""
    from oggm_glaunti.integration import glaunti_model_grid, oetztal_gdirs, process_daily_from_monthly
    from oggm_glaunti.integration.grid.glacier_data import read_model_grid

    gdir = oetztal_gdirs(workdir, rgi_ids=["RGI50-11.00684"], calibrate=False, invert=False,
                         init_present_time=False, initialize=False)[0]
    process_daily_from_monthly(gdir, y0=1990, y1=2002)

    def run(margin, min_cells):
        suffix = f"_m{margin}_c{min_cells}"
        glaunti_model_grid(gdir, margin_cells=margin, min_cells=min_cells, size_multiple=1, filesuffix=suffix)
        grid = read_model_grid(gdir, suffix)
        return f"grid {grid.shape}, window {grid.window}", mean_smb(gdir, suffix)

    print("\nsmall glacier RGI50-11.00684 (0.34 km2), variant D, size_multiple 1:")
    for margin in (0, 4):
        rows = [run(margin, min_cells) for min_cells in (8, 16, 32)]
        print(f"  margin_cells {margin}, min_cells 8 / 16 / 32:")
        for label, value in rows:
            print(f"    {label:>40}: {value:8.1f} mm w.e./yr ({100 * (value / rows[0][1] - 1):+.2f} %)")
    rows = [run(margin, 8) for margin in (0, 2, 4, 8, 12)]
    print("  margin_cells 0 / 2 / 4 / 8 / 12 (the terrain the corrector sees):")
    for label, value in rows:
        print(f"    {label:>40}: {value:8.1f} mm w.e./yr ({100 * (value / rows[2][1] - 1):+.2f} % against 4)")


def sigma_linearity() -> None:
    from oggm_glaunti.synthetic import synthetic_years
    from oggm_glaunti.tools import core_inputs as ci
    from oggm_glaunti.weights import load_pretrained

    model = load_pretrained("A")
    years = synthetic_years((10, 10), n_years=3, seed=1)[0]
    print("\nfirst-order / Monte Carlo spread of the 3-year cumulative SMB (variant A, synthetic, 400 members):")
    for sigma_t, sigma_logp in ((1.5889, 0.01), (3., 0.01), (5., 0.01), (10., 0.01), (20., 0.01), (100., 0.01),
                                (0.01, 0.1), (0.01, 0.5), (0.01, 0.964), (0.01, 1.5), (0.01, 2.), (0.01, 3.)):
        spread, ensemble = ci.trajectory_spread(model, years, sigma_t=sigma_t, sigma_logp=sigma_logp,
                                                members=400, seed=3)
        ratio = spread.std[-1] / ensemble.std(0, ddof=1)[-1]
        print(f"  sigma_t {sigma_t:7.4g} degC, sigma_logp {sigma_logp:5.3g}: first order {spread.std[-1]:8.3f}, "
              f"Monte Carlo {ensemble.std(0, ddof=1)[-1]:8.3f} m w.e. (ratio {ratio:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = ["dx", "std", "margin", "ref_hgt", "min_cells", "sigma"]
    parser.add_argument("--only", nargs="+", choices=parts, default=parts)
    args = parser.parse_args()
    from oggm_glaunti.integration import hintereisferner_gdir, process_daily_from_monthly

    with tempfile.TemporaryDirectory() as workdir:
        if {"dx", "std", "margin", "ref_hgt"} & set(args.only):
            gdir = hintereisferner_gdir(workdir, calibrate=False, invert=False, init_present_time=False)
            process_daily_from_monthly(gdir, y0=1990, y1=2002)
            from oggm_glaunti.integration import glaunti_model_grid

            glaunti_model_grid(gdir)
            print(f"Hintereisferner, variant D, uncalibrated: {mean_smb(gdir):.0f} mm w.e./yr "
                  f"(mean of calendar years {YEARS.start}-{YEARS.stop - 1})")
            with beyond_the_checks():
                if "dx" in args.only:
                    dx_sensitivity(gdir)
                if "std" in args.only:
                    std_sensitivity(gdir)
            if "margin" in args.only:
                margin_sensitivity(gdir)
            if "ref_hgt" in args.only:
                ref_hgt_sensitivity(gdir)
        if "min_cells" in args.only:
            if not {"dx", "std", "margin", "ref_hgt"} & set(args.only):
                from oggm_glaunti.integration import initialize_oggm

                initialize_oggm(workdir)
            min_cells_effect(workdir)
        if "sigma" in args.only:  # inside: JAX's compilation cache may live in workdir
            with beyond_the_checks():
                sigma_linearity()


if __name__ == "__main__":
    main()
