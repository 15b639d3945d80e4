"""The ``offset``, ``attribution``, ``uncertainty`` and ``sensitivity`` sub-commands of
``oggm-glaunti``: each runs its entity task (:mod:`oggm_glaunti.integration.tools.tasks`) on a glacier directory and
writes its figure (:mod:`oggm_glaunti.integration.tools.figures`).

The glacier is ``--rgi-id`` in the OGGM working directory ``--working-dir``, which must hold
its daily climate and model grid; ``--hintereisferner`` builds Hintereisferner there first
from OGGM's sample data (offline with ``GLAUNTI_OGGM_SAMPLE_DATA`` set).
"""

from __future__ import annotations

import argparse
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the four tool sub-commands to ``subparsers``."""
    p = _parser(subparsers, "offset", "temperature offset that brings the mean SMB over a period to a target",
                run_offset)
    p.add_argument("--target-years", type=int, nargs=2, required=True, metavar=("Y0", "Y1"),
                   help="hydrological years of the target period (inclusive)")
    p.add_argument("--start-year", type=int, default=None, help="first year the offset applies to (default Y0)")
    p.add_argument("--target", type=float, default=0.0, help="target mean SMB, m w.e./yr (default 0: balance)")
    p.add_argument("--method", choices=["newton", "adam"], default="newton",
                   help="newton (default) or adam (published: lr 5e-2, 200 iterations)")
    p.add_argument("--fit-prcp-fac", action="store_true", help="also fit a precipitation factor (adam)")
    p.add_argument("--tolerance", type=float, default=0.01, help="m w.e./yr (default 0.01)")
    p.add_argument("--max-iterations", type=int, default=None)

    p = _parser(subparsers, "attribution", "integrated gradients of a year's SMB w.r.t. daily T and P",
                run_attribution)
    p.add_argument("--year", type=int, required=True, help="hydrological year (labelled by its first calendar year)")
    p.add_argument("--baseline-years", type=int, nargs=2, default=None, metavar=("Y0", "Y1"),
                   help="climatology period of the baseline (default: the 30 years ending with --year)")
    p.add_argument("--steps", type=int, default=100, help="integration steps (default 100, as published)")

    p = _parser(subparsers, "uncertainty", "first-order spread of the cumulative SMB under weekly forcing noise",
                run_uncertainty)
    p.add_argument("--years", type=int, nargs=2, required=True, metavar=("Y0", "Y1"),
                   help="hydrological years of the horizon (inclusive)")
    p.add_argument("--sigma-t", type=float, default=None, help="degC (default 1.5889, published)")
    p.add_argument("--sigma-logp", type=float, default=None, help="(default 0.9640, published)")
    p.add_argument("--members", type=int, default=0, help="Monte Carlo members (0: none; >= 200 for a check)")
    p.add_argument("--seed", type=int, default=0)

    p = _parser(subparsers, "sensitivity", "gradients of SMB w.r.t. TI parameters, adjustments, correction fields",
                run_sensitivity)
    p.add_argument("--years", type=int, nargs=2, required=True, metavar=("Y0", "Y1"),
                   help="hydrological years whose mean SMB is differentiated")


def _parser(subparsers, name, helptext, func):
    p = subparsers.add_parser(name, help=helptext, description=func.__doc__)
    p.add_argument("--working-dir", required=True, help="OGGM working directory holding the glacier directory")
    p.add_argument("--rgi-id", default=None, help="the glacier (default Hintereisferner, RGI50-11.00897)")
    p.add_argument("--hintereisferner", action="store_true",
                   help="build Hintereisferner from OGGM's sample data in --working-dir first (daily climate "
                        "disaggregated from HISTALP, model grid)")
    p.add_argument("--variant", default=None, choices=list("ABCD"), help="default cfg.PARAMS['glaunti_variant'] (D)")
    p.add_argument("--figure", default=f"glaunti_{name}.png", help=f"figure path (default ./glaunti_{name}.png)")
    p.set_defaults(func=func)
    return p


def _gdir(args):
    from ..session.sample_glaciers import HEF_RGI_ID

    if args.hintereisferner:
        from .. import glaunti_model_grid, hintereisferner_gdir, process_daily_from_monthly

        if args.rgi_id not in (None, HEF_RGI_ID):
            raise ValueError(f"--hintereisferner builds {HEF_RGI_ID}; drop --rgi-id {args.rgi_id}")
        gdir = hintereisferner_gdir(args.working_dir, invert=False, init_present_time=False)
        process_daily_from_monthly(gdir)
        glaunti_model_grid(gdir)
        return gdir
    import os

    from .. import initialize_oggm
    from oggm import utils

    if not os.path.isdir(args.working_dir):
        raise ValueError(f"--working-dir {args.working_dir} does not exist; give an OGGM working directory, or "
                         "add --hintereisferner to build the sample glacier there")
    initialize_oggm(args.working_dir)
    rgi_id = args.rgi_id or HEF_RGI_ID
    # OGGM's workflow keeps glacier directories under per_glacier/, the sample glaciers directly
    for base in (os.path.join(args.working_dir, "per_glacier"), args.working_dir):
        gdir = utils.GlacierDirectory(rgi_id, base_dir=base) if os.path.isdir(
            os.path.join(base, rgi_id[:8], rgi_id[:11], rgi_id)) else None
        if gdir is not None:
            return gdir
    raise ValueError(f"no glacier directory of {rgi_id} in --working-dir {args.working_dir} (nor in its "
                     "per_glacier/); check --rgi-id, or add --hintereisferner to build the sample glacier")


def _done(task_name, gdir, key, figure, start):
    print(f"{task_name}: {gdir.get_filepath(key)}\nfigure: {figure}\n({time.time() - start:.1f} s)")


def run_offset(args) -> int:
    """Find the temperature offset that brings the glacier's mean SMB over the target years to
    the target, write glaunti_offset.json and a figure of the search."""
    from .figures import offset_figure
    from .tasks import glaunti_offset_for_target

    start, gdir = time.time(), _gdir(args)
    out = glaunti_offset_for_target(gdir, target_years=tuple(args.target_years), start_year=args.start_year,
                                    target=args.target, method=args.method, fit_prcp_fac=args.fit_prcp_fac,
                                    tolerance=args.tolerance, max_iterations=args.max_iterations,
                                    variant=args.variant, continue_on_error=False)
    print(f"temperature offset {out['temp_offset']:+.3f} degC (precipitation factor x{out['prcp_fac_factor']:.3f}) "
          f"gives {out['mean_smb_m_we']:+.4f} m w.e./yr over {out['target_years'][0]}-{out['target_years'][1]} "
          f"({len(out['history'])} iterations, {out['method']})")
    _done("offset", gdir, "glaunti_offset", offset_figure(out, args.figure), start)
    return 0


def run_attribution(args) -> int:
    """Attribute a year's glacier-wide SMB to daily temperature and precipitation by
    integrated gradients; write glaunti_attribution.nc and a figure (maps, monthly sums)."""
    from .figures import MONTHS, attribution_figure
    from .tasks import glaunti_attribution

    start, gdir = time.time(), _gdir(args)
    ds = glaunti_attribution(gdir, year=args.year, baseline_years=args.baseline_years, steps=args.steps,
                             variant=args.variant, continue_on_error=False)
    a = ds.attrs
    print(f"SMB {a['smb_m_we']:+.3f} m w.e., baseline {a['baseline_smb_m_we']:+.3f}; completeness error "
          f"{a['completeness_error']:.2%}")
    for var in ("temperature", "precipitation"):
        monthly = ds[f"{var}_attribution_monthly"].values
        top = abs(monthly).argsort()[::-1][:3]
        print(f"  {var}: " + ", ".join(f"{MONTHS[m]}({m + 1}) {monthly[m]:+.3f}" for m in top))
    _done("attribution", gdir, "glaunti_attribution", attribution_figure(ds, args.figure), start)
    return 0


def run_uncertainty(args) -> int:
    """Propagate weekly forcing noise to the cumulative SMB trajectory (first order, and a
    Monte Carlo ensemble with --members); write glaunti_forcing_uncertainty.nc and a figure."""
    from ...tools.uncertainty import check_sigmas
    from .figures import uncertainty_figure
    from .tasks import glaunti_forcing_uncertainty

    check_sigmas(args.sigma_t, args.sigma_logp, warn=False)  # before the glacier is read or built
    start, gdir = time.time(), _gdir(args)
    ds = glaunti_forcing_uncertainty(gdir, years=tuple(args.years), sigma_t=args.sigma_t, sigma_logp=args.sigma_logp,
                                     members=args.members, seed=args.seed, variant=args.variant,
                                     continue_on_error=False)
    line = f"cumulative SMB after {ds.sizes['hydro_year']} years: {float(ds.cumulative_smb[-1]):+.2f} m w.e., " \
           f"first-order std {float(ds.cumulative_smb_std[-1]):.2f}"
    if "ensemble_cumulative_smb" in ds:
        e = ds.ensemble_cumulative_smb[:, -1]
        line += f"; Monte Carlo mean {float(e.mean()):+.2f}, std {float(e.std()):.2f}"
    print(line)
    _done("uncertainty", gdir, "glaunti_forcing_uncertainty", uncertainty_figure(ds, args.figure), start)
    return 0


def run_sensitivity(args) -> int:
    """Gradients of the mean glacier-wide SMB of the years with respect to the TI parameters,
    the adjustments and the correction fields; write glaunti_sensitivities.nc and a figure."""
    from .figures import sensitivity_figure
    from .tasks import glaunti_sensitivities

    start, gdir = time.time(), _gdir(args)
    ds = glaunti_sensitivities(gdir, years=tuple(args.years), variant=args.variant, continue_on_error=False)
    print(f"mean SMB {float(ds.smb):+.3f} m w.e./yr; d/d temp_bias {float(ds.temp_bias_gradient):+.3f} per degC, "
          f"d/d prcp_fac {float(ds.prcp_fac_gradient):+.3f}, d/d melt_f {float(ds.melt_f_gradient):+.4f}")
    for name, value in zip(ds.parameter.values, ds.ti_gradient.values):
        print(f"  {name:34s} {value:+.4f}")
    _done("sensitivities", gdir, "glaunti_sensitivities", sensitivity_figure(ds, args.figure), start)
    return 0
