"""The ``train``, ``finetune``, ``evaluate`` and ``pool-scores`` sub-commands of ``oggm-glaunti``.

:func:`register` adds them to the CLI's sub-parsers; each maps onto one library function
(:func:`~oggm_glaunti.training.loop.train`, :func:`~oggm_glaunti.training.finetune.finetune`,
:func:`~oggm_glaunti.training.evaluate.evaluate`). Heavy imports (JAX, the dataset reader)
happen only when a command runs, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import os

from ..atomic import atomic_path
from ..core.parameters import TI_PRIOR_WEIGHT
from ..metrics import json_safe



class _FORMATTER(argparse.HelpFormatter):
    """Shows an option's default unless it is None/False or the help already names one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train``, ``finetune``, ``evaluate`` and ``pool-scores`` to ``subparsers``."""
    _add_train(subparsers)
    _add_finetune(subparsers)
    _add_evaluate(subparsers)
    _add_pool_scores(subparsers)


def _years(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spinup-years", type=int, default=5,
                        help="unscored years run before the first scored year")
    parser.add_argument("--first-year", type=int, default=None,
                        help="first scored hydrological year (default: the first after the spin-up)")
    parser.add_argument("--last-year", type=int, default=None,
                        help="last scored hydrological year (default: the glacier's last)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True,
                        help="dataset folder (layout of docs/dataset_format.md)")
    parser.add_argument("--chunk-years", type=int, default=None,
                        help="years of forcing held at once (1 = least memory); default: the whole "
                             "sequence for small glaciers, one year for large ones")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train variant A, B, C or D on a dataset (paper protocol)",
                       description=run_train.__doc__, formatter_class=_FORMATTER)
    _common(p)
    p.add_argument("--output", required=True,
                   help="folder for checkpoint.npz, best.npz (best validation epoch, our weights "
                        "format), last.npz and history.json")
    p.add_argument("--variant", default="C", choices=list("ABCD"), help="variant to train")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: 50, B 100)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--clip", type=float, default=5.0, help="global gradient-norm clip")
    p.add_argument("--seed", type=int, default=0, help="seed of fresh weights and mini-batch order")
    p.add_argument("--train-folds", type=int, nargs="+", default=[2, 3, 4, 5], help="training folds")
    p.add_argument("--val-folds", type=int, nargs="+", default=[1], help="validation folds")
    p.add_argument("--init-weights", default=None,
                   help="weights file (our format) to start from; default the published chain "
                        "(A: prior, B: fresh, C: published A, D: published C)")
    p.add_argument("--train-ti", action="store_true", help="C/D: also train the TI parameters")
    _years(p)
    p.add_argument("--stochastic", action="store_true",
                   help="mini-batches of glaciers instead of one full-batch step per epoch")
    p.add_argument("--batch-glaciers", type=int, default=4, help="glaciers per mini-batch (--stochastic)")
    p.add_argument("--steps-per-epoch", type=int, default=None,
                   help="steps per epoch with --stochastic (default: one pass over the glaciers)")
    p.add_argument("--checkpoint-glaciers", type=int, default=0,
                   help="also checkpoint every N glaciers inside a step (0: after each step only)")
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint.npz")
    p.set_defaults(func=run_train)


def _add_finetune(sub) -> None:
    p = sub.add_parser("finetune", help="fine-tune variant A on one glacier (transfer learning)",
                       description=run_finetune.__doc__, formatter_class=_FORMATTER)
    _common(p)
    p.add_argument("--glacier", required=True, help="the glacier's name (as in index.csv)")
    p.add_argument("--output", required=True,
                   help="weights file to write (our format, .npz); a summary goes beside it as .json")
    p.add_argument("--weights", default=None,
                   help="variant A weights file (our format) to start from; default the published A")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    p.add_argument("--steps", type=int, default=250, help="optimisation steps")
    p.add_argument("--clip", type=float, default=5.0, help="global gradient-norm clip")
    p.add_argument("--train-years", type=int, nargs=2, default=[1995, 2012], metavar=("FIRST", "LAST"),
                   help="scored training years")
    p.add_argument("--val-years", type=int, nargs=2, default=[2013, 2018], metavar=("FIRST", "LAST"),
                   help="validation years (the run continued after the training years)")
    p.add_argument("--no-validation", action="store_true", help="skip the validation years")
    p.add_argument("--spinup-years", type=int, default=5, help="unscored years before the training years")
    p.add_argument("--ti-prior", type=float, default=TI_PRIOR_WEIGHT,
                   help="weight of the TI prior (pulls towards the prior values; 0 = off)")
    p.set_defaults(func=run_finetune)


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="score a model against a dataset's observations",
                       description=run_evaluate.__doc__, formatter_class=_FORMATTER)
    _common(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--weights", help="weights file (our format) to evaluate")
    which.add_argument("--variant", choices=list("ABCD"), help="evaluate the published variant")
    p.add_argument("--output", required=True,
                   help="folder for metrics.json, pairs.csv, scatter.png and glaciers/<name>.json "
                        "(the published evaluation files)")
    p.add_argument("--folds", type=int, nargs="+", default=[0], help="folds to evaluate (0 = test)")
    p.add_argument("--glaciers", nargs="+", default=None, help="glacier names (instead of --folds)")
    _years(p)
    p.add_argument("--include-index", action="store_true", help="also score 'index' stake records")
    p.set_defaults(func=run_evaluate)


def _add_pool_scores(sub) -> None:
    p = sub.add_parser("pool-scores", help="pool evaluation JSON files into the paper's metric table",
                       description=run_pool_scores.__doc__, formatter_class=_FORMATTER)
    p.add_argument("files", nargs="+", help="per-glacier evaluation JSON files (ours or the published code's)")
    p.add_argument("--output", required=True, help="folder for metrics.md, metrics.json, pairs.csv and scatter.png")
    p.add_argument("--title", default="", help="title of the figure")
    p.set_defaults(func=run_pool_scores)


def run_train(args: argparse.Namespace) -> int:
    """Train a variant on the training folds, keeping the best validation epoch.

    Full batch (paper): each epoch sums the gradients of all training glaciers, clips their
    global norm and takes one Adam step. C starts from A's TI parameters (frozen), D from C.
    Resumable: rerun with --resume to continue from the last checkpoint exactly.
    """
    from ..weights import save_model
    from .config import TrainConfig
    from .dataset import check_folds, read_dataset, read_index
    from .loop import train

    config = TrainConfig(
        variant=args.variant, lr=args.lr, epochs=args.epochs, clip=args.clip, seed=args.seed,
        train_folds=tuple(args.train_folds), val_folds=tuple(args.val_folds),
        init_weights=args.init_weights, train_ti=args.train_ti, spinup_years=args.spinup_years,
        first_year=args.first_year, last_year=args.last_year, stochastic=args.stochastic,
        batch_glaciers=args.batch_glaciers, steps_per_epoch=args.steps_per_epoch,
        chunk_years=args.chunk_years, checkpoint_dir=args.output,
        checkpoint_glaciers=args.checkpoint_glaciers, resume=args.resume, progress=not args.quiet)
    check_folds(args.dataset, read_index(args.dataset), config.train_folds, "training")
    glaciers = read_dataset(args.dataset, folds=sorted(set(config.train_folds + config.val_folds)))
    result = train(config, glaciers)
    save_model(result.last_model, os.path.join(args.output, "last.npz"),
               notes=f"last epoch ({len(result.history) - 1})")
    print(f"variant {config.variant}: best validation error {result.best_val:.5g} at epoch "
          f"{result.best_epoch}; weights in {os.path.join(args.output, 'best.npz')}")
    return 0


def run_finetune(args: argparse.Namespace) -> int:
    """Fine-tune the 7 TI parameters of variant A on one glacier (paper: lr 1e-2, 250 steps,
    train 1995-2012, validate 2013-2018), then save the model and a JSON summary."""
    from ..weights import load_model
    from .dataset import read_dataset
    from .finetune import finetune
    from .losses import LossWeights

    glacier = read_dataset(args.dataset, names=[args.glacier])[0]
    model = None if args.weights is None else load_model(args.weights, variant="A")
    result = finetune(
        glacier, model, lr=args.lr, steps=args.steps, train_years=tuple(args.train_years),
        val_years=None if args.no_validation else tuple(args.val_years),
        spinup_years=args.spinup_years, clip=args.clip, weights=LossWeights(ti_prior=args.ti_prior),
        chunk_years=args.chunk_years, progress=not args.quiet)
    result.save(args.output, notes=f"fine-tuned on {args.glacier}")
    summary_path = os.path.splitext(args.output)[0] + ".json"
    with open(summary_path, "w") as f:
        json.dump(json_safe(result.summary()), f, indent=1)
    val = "-" if result.val_error is None else f"{result.initial_val_error:.4g} -> {result.val_error:.4g}"
    print(f"{args.glacier}: training error {result.initial_train_error:.4g} -> "
          f"{result.train_error:.4g}, validation error {val}")
    for name, value in result.parameters.items():
        print(f"  {name:26s} {value:.6g}")
    print(f"weights: {args.output}; summary: {summary_path}")
    return 0


def require_scored_pairs(pairs, model_name: str) -> None:
    """Refuse an evaluation that scored nothing (non-finite SMB the library refuses itself:
    :class:`~oggm_glaunti.training.evaluate.NonFiniteSMB`).

    Raises
    ------
    ValueError
        naming the model and the options to change (years or glaciers).
    """
    if len(pairs) == 0:
        raise ValueError(
            f"no observation was scored with the model ({model_name}): the chosen glaciers have no observation in the scored "
            "years; check --folds/--glaciers and --first-year/--last-year/--spinup-years")


def run_evaluate(args: argparse.Namespace) -> int:
    """Run a model over the chosen glaciers (spin-up included) and score it against their
    point and glacier-wide observations: metrics.json (pooled and per glacier), pairs.csv
    and a modelled-vs-observed scatter plot."""
    from ..weights import load_model, load_pretrained
    from .dataset import read_dataset
    from .evaluate import NonFiniteSMB, evaluate

    model = load_pretrained(args.variant) if args.variant else load_model(args.weights)
    glaciers = (read_dataset(args.dataset, names=args.glaciers) if args.glaciers
                else read_dataset(args.dataset, folds=args.folds))
    if not glaciers:
        raise SystemExit(f"no glacier of folds {args.folds} in {args.dataset}")
    model_name = args.weights or f"published variant {args.variant}"
    try:
        result = evaluate(model, glaciers, args.spinup_years, args.first_year, args.last_year,
                          args.chunk_years, args.include_index, progress=not args.quiet)
    except NonFiniteSMB as exc:
        raise ValueError(f"{model_name}: {exc}") from None
    require_scored_pairs(result.pairs, model_name)
    os.makedirs(args.output, exist_ok=True)
    result.write_json(os.path.join(args.output, "metrics.json"))
    with atomic_path(os.path.join(args.output, "pairs.csv"), suffix=".csv") as tmp:
        result.pairs.to_csv(tmp, index=False)
    label = f"variant {model.variant}" + (f" ({args.weights})" if args.weights else " (published)")
    result.plot(os.path.join(args.output, "scatter.png"), title=label)
    result.write_glacier_json(os.path.join(args.output, "glaciers"), model=label)
    print(f"{label} on {len(glaciers)} glacier(s)\n{result.table()}\nresults in {args.output}")
    return 0


def run_pool_scores(args: argparse.Namespace) -> int:
    """Pool the 'overall' pairs of per-glacier evaluation JSON files (written by 'evaluate' or
    by the published GlaUnTI code) into the metric table of the paper (per scale and season:
    n, r, RMSE, MAE, bias in m w.e.): metrics.md, metrics.json, pairs.csv and a
    modelled-vs-observed scatter.png."""
    from .plots import scatter_plot
    from .published_json import pooled_table, read_pairs, scores_of

    pairs = read_pairs(args.files)
    pooled = scores_of(pairs)
    table = pooled_table(pooled)
    os.makedirs(args.output, exist_ok=True)
    with atomic_path(os.path.join(args.output, "metrics.md"), suffix=".md") as tmp, open(tmp, "w") as f:
        f.write(table + "\n")
    with atomic_path(os.path.join(args.output, "metrics.json"), suffix=".json") as tmp, open(tmp, "w") as f:
        json.dump({"files": [os.fspath(p) for p in args.files], "pooled": json_safe(pooled)}, f, indent=1)
    with atomic_path(os.path.join(args.output, "pairs.csv"), suffix=".csv") as tmp:
        pairs.to_csv(tmp, index=False)
    scatter_plot(pairs, pooled, os.path.join(args.output, "scatter.png"), args.title)
    print(f"{len(args.files)} file(s), {pairs['glacier'].nunique()} glacier(s)\n{table}\n"
          f"results in {args.output}")
    return 0
