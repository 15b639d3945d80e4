"""The ``oggm-glaunti`` command line: one sub-command per library function."""

from __future__ import annotations

import argparse
import sys

import numpy as np

CORRECTION_NAMES = (
    "d1 precipitation factor (log)",
    "d2 snow degree-day factor (log)",
    "d3 ice/snow DDF ratio (log)",
    "d4 snow/rain threshold (degC)",
    "d5 melt temperature shift (degC)",
)


def run_example(args: argparse.Namespace) -> int:
    """Run a published variant on a small synthetic glacier and print SMB and corrections."""
    from .core import run_years
    from .synthetic import synthetic_years
    from .weights import load_pretrained

    model = load_pretrained(args.variant)
    years, labels = synthetic_years((args.rows, args.cols), n_years=args.years, seed=args.seed)
    out = run_years(model, years)
    outline = np.asarray(years.outline[0])
    mean = lambda field: float((np.asarray(field) * outline).sum() / outline.sum())  # noqa: E731
    print(f"GlaUnTI variant {model.variant} on a synthetic {args.rows}x{args.cols} glacier "
          f"({outline.sum():.0f} glacier cells), hydrological years 1 Oct - 1 Oct")
    print(f"{'year':>8s} {'glacier-wide SMB (m w.e.)':>27s}")
    for label, smb in zip(labels, np.asarray(out.years.period_smb).sum(1)):
        print(f"{label:>8s} {mean(smb):27.3f}")
    if out.years.corrections is not None:
        print("\nCorrector output, glacier mean [min, max] over glacier cells:")
        for label, corrections in zip(labels, np.asarray(out.years.corrections)):
            print(f"  {label}")
            for name, field in zip(CORRECTION_NAMES, corrections):
                on = field[outline > 0]
                print(f"    {name:34s} {mean(field):+.3f}  [{on.min():+.3f}, {on.max():+.3f}]")
    return 0


def run_demo_command(args: argparse.Namespace) -> int:
    """Run GlaUnTI on Hintereisferner next to OGGM's MonthlyTIModel and write a results folder.

    Builds the glacier from OGGM's demo files, makes daily climate and the GlaUnTI grid,
    calibrates GlaUnTI, compares both models with the WGMS series 1953-2002 and projects both
    to 2100 with CMIP5 CCSM4 RCP2.6. Offline, set GLAUNTI_OGGM_SAMPLE_DATA to OGGM's
    sample-data folder and GLAUNTI_WEIGHTS_DIR to the weights folder.
    """
    from .demo import run_demo

    report = run_demo(args.output, variant=args.variant, working_dir=args.working_dir,
                      progress=not args.quiet)
    print(f"\n{report.read_text()}\nResults in {report.parent.resolve()}")
    return 0


def _at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``."""
    def convert(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    convert.__name__ = "integer"  # argparse names the type in its "invalid ... value" message
    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oggm-glaunti",
        description="GlaUnTI surface mass balance for OGGM. Weights are downloaded once and "
        "cached; offline, set GLAUNTI_WEIGHTS_DIR to a folder holding a.eqx..d.eqx.",
    )
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an error instead of its message")
    sub = parser.add_subparsers(dest="command", required=True)
    example = sub.add_parser("example", help="run a published variant on a small synthetic glacier",
                             description=run_example.__doc__)
    example.add_argument("--variant", default="D", choices=list("ABCD"), help="published variant (default D)")
    example.add_argument("--rows", type=_at_least(8), default=24, help="grid rows, >= 8 (default 24)")
    example.add_argument("--cols", type=_at_least(8), default=30, help="grid columns, >= 8 (default 30)")
    example.add_argument("--years", type=_at_least(1), default=3,
                         help="hydrological years to run (default 3)")
    example.add_argument("--seed", type=int, default=0, help="seed of the synthetic forcing")
    example.set_defaults(func=run_example)

    demo = sub.add_parser("demo", help="GlaUnTI against MonthlyTIModel on Hintereisferner (results folder)",
                          description=run_demo_command.__doc__)
    demo.add_argument("--output", default="glaunti-demo", help="results folder (default ./glaunti-demo)")
    demo.add_argument("--variant", default="D", choices=list("ACD"), help="GlaUnTI variant (default D)")
    demo.add_argument("--working-dir", default=None,
                      help="OGGM working directory to keep (default: a temporary one, removed)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=run_demo_command)
    from .training.commands import register as register_training; register_training(sub)  # noqa: E702
    from .integration.calibration.skill_command import register as register_skill; register_skill(sub)  # noqa: E702
    from .integration.tools.commands import register as register_tools; register_tools(sub)  # noqa: E702
    from .integration.regions.command import register as register_region; register_region(sub)  # noqa: E702
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command. Errors in the user's input (a ``ValueError`` such as a dataset or
    weights error, a missing or unreadable file) and a diverged training are printed as one
    message, exit status 2 and 1 (a tool whose result fails its own check, e.g. an offset
    search that does not converge, exits 1 too); ``--traceback`` shows the full traceback instead."""
    from .tools.errors import ToolFailed
    from .training.loop import TrainingDiverged

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, TrainingDiverged, ToolFailed) as exc:
        if args.traceback:
            raise
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, (TrainingDiverged, ToolFailed)) else 2


if __name__ == "__main__":
    sys.exit(main())
