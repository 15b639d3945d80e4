"""``oggm-glaunti skill``: :func:`~.skill.glaunti_skill` from the command line."""
from __future__ import annotations

import argparse
import json
import os


def run_skill(args: argparse.Namespace) -> int:
    """Cross-validate GlaUnTI's calibration on a glacier's own WGMS series next to OGGM's
    MonthlyTIModel, and write glaunti_skill_<variant>.json and .png in its glacier directory.

    The glacier directory must exist in the working directory (per_glacier/ layout, or the
    working directory itself as base) with daily climate, the GlaUnTI grid and inversion
    flowlines; --hintereisferner builds Hintereisferner there from OGGM's sample data first.
    """
    from oggm import cfg
    from oggm.utils import GlacierDirectory

    from .. import glaunti_model_grid, hintereisferner_gdir, initialize_oggm, process_daily_from_monthly
    from .skill import glaunti_skill

    if args.hintereisferner:
        gdir = hintereisferner_gdir(args.working_dir)
        process_daily_from_monthly(gdir)
        glaunti_model_grid(gdir)
    else:
        if not args.rgi_id:
            raise ValueError("give --rgi-id (or --hintereisferner)")
        initialize_oggm()
        cfg.PATHS["working_dir"] = args.working_dir
        bases = [os.path.join(args.working_dir, "per_glacier"), args.working_dir]
        base = next((b for b in bases if os.path.isdir(os.path.join(b, args.rgi_id[:8], args.rgi_id[:11],
                                                                      args.rgi_id))), None)
        if base is None:
            raise FileNotFoundError(f"no glacier directory {args.rgi_id} in {args.working_dir} (looked in "
                                    f"{bases}); prepare it with OGGM first")
        gdir = GlacierDirectory(args.rgi_id, base_dir=base)
    result = glaunti_skill(gdir, variant=args.variant, splits=args.split or ["blocked"], n_blocks=args.blocks,
                           k=args.k, ref_years=tuple(args.ref_years) if args.ref_years else None)
    for split, data in result["splits"].items():
        print(f"{gdir.rgi_id}, variant {result['variant']}, {split}: held-out scores (m w.e.)")
        for name, row in data["held_out_scores"].items():
            parts = [f"{kind} " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                            for k, v in s.items() if k != "mean_profile")
                     for kind, s in row.items() if s and any(k != "mean_profile" for k in s)]
            if parts:
                print(f"  {name:15s} " + " | ".join(parts))
    print(json.dumps({"json": os.path.join(gdir.dir, f"glaunti_skill_{result['variant']}.json"),
                      "figure": os.path.join(gdir.dir, result.get("figure") or "")}))
    return 0


def register(sub) -> None:
    """Add the ``skill`` sub-command to the parser's sub-parsers ``sub``."""
    p = sub.add_parser("skill", help="cross-validate GlaUnTI's calibration on a glacier's WGMS series",
                       description=run_skill.__doc__)
    p.add_argument("--working-dir", required=True, help="OGGM working directory")
    p.add_argument("--rgi-id", default=None, help="the glacier's RGI id")
    p.add_argument("--hintereisferner", action="store_true",
                   help="build Hintereisferner from OGGM's sample data in the working directory first")
    p.add_argument("--variant", default="D", choices=list("ACD"), help="GlaUnTI variant (default D)")
    p.add_argument("--split", action="append", choices=["blocked", "leave_k_out"],
                   help="split kind, may be repeated (default blocked)")
    p.add_argument("--blocks", type=int, default=2, help="blocks of the blocked split (default 2)")
    p.add_argument("--k", type=int, default=5, help="years per held-out group of leave_k_out (default 5)")
    p.add_argument("--ref-years", type=int, nargs=2, default=None, metavar=("Y0", "Y1"),
                   help="first and last WGMS year")
    p.set_defaults(func=run_skill)
