"""Train, fine-tune and evaluate GlaUnTI on a synthetic dataset with a known truth.

A worked example of :mod:`oggm_glaunti.training` that needs no real data: it writes a small
dataset folder in the documented layout (six glaciers; folds 0 = test, 1 = validation,
2-5 = training; observations made by variant A with known parameters), then

1. scores the published variant D on the test glacier;
2. trains variant A from the TI prior and compares the fitted parameters with the truth;
3. trains variant C (a fresh corrector on the published A, as the paper) for a few epochs;
4. fine-tunes the published A on the test glacier (train / validation years);
5. scores the trained C and the fine-tuned A on the test glacier,

printing the tables and writing scatter plots and the training curves to ``--output``.
The same steps run on a real dataset with ``oggm-glaunti train / finetune / evaluate``.

Offline::

    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python sandbox/train_synthetic.py

About 3 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from oggm_glaunti.training.config import TrainConfig  # noqa: E402
from oggm_glaunti.training.dataset import read_dataset  # noqa: E402
from oggm_glaunti.training.evaluate import evaluate  # noqa: E402
from oggm_glaunti.training.finetune import finetune  # noqa: E402
from oggm_glaunti.training.loop import train  # noqa: E402
from oggm_glaunti.training.losses import LossWeights  # noqa: E402
from oggm_glaunti.training.synthetic_dataset import write_synthetic_dataset  # noqa: E402
from oggm_glaunti.weights import load_pretrained  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default="train_synthetic_output", help="results folder")
    parser.add_argument("--epochs-a", type=int, default=80, help="epochs of variant A")
    parser.add_argument("--epochs-c", type=int, default=6, help="epochs of variant C")
    args = parser.parse_args()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    root = out / "dataset"
    if not root.exists():
        write_synthetic_dataset(root, n_glaciers=6, shape=(16, 20), years=(1990, 2003), seed=1)
    truth = json.loads((root / "truth.json").read_text())["constrained"]
    glaciers = read_dataset(root)
    test = [g for g in glaciers if g.fold == 0]
    print(f"dataset: {root} ({len(glaciers)} glaciers, folds {[g.fold for g in glaciers]})")

    print("\n1. the published variant D on the test glacier")
    published = evaluate(load_pretrained("D"), test)
    print(published.table())
    published.plot(out / "scatter_published_D.png", title="published D, synthetic test glacier")

    print("\n2. variant A from the TI prior (no prior pull: the truth is off the prior)")
    a_dir = out / "train_A"
    result_a = train(TrainConfig(variant="A", epochs=args.epochs_a, lr=2e-2, checkpoint_dir=str(a_dir),
                                 weights=LossWeights(ti_prior=0.0), resume=(a_dir / "checkpoint.npz").exists()),
                     glaciers)
    fitted = result_a.model.ti.constrained()
    print(f"best epoch {result_a.best_epoch}, validation error {result_a.best_val:.3g} (m w.e.)^2")
    print(f"  {'parameter':26s} {'fitted':>10s} {'truth':>10s}")
    for name in ("prec_scale", "ddf_snow", "ddf_relative_ice", "snow_to_rain_steepness",
                 "snow_to_rain_centre", "snow_depletion_steepness", "snow_depletion_centre"):
        print(f"  {name:26s} {float(getattr(fitted, name)):10.4g} {truth[name]:10.4g}")

    # The published chain: C's TI parameters are the published A's, frozen, 15-25 % off this
    # dataset's truth, so the corrector has something to correct. (On top of the A trained
    # in step 2, which already fits, a fresh corrector could only add noise.)
    print("\n3. variant C: a fresh corrector on top of the published A (TI frozen)")
    c_dir = out / "train_C"
    result_c = train(TrainConfig(variant="C", epochs=args.epochs_c, lr=3e-3, checkpoint_dir=str(c_dir),
                                 resume=(c_dir / "checkpoint.npz").exists()), glaciers)
    print("validation error per epoch:", [round(h["val_error"], 5) for h in result_c.history],
          f"(best: epoch {result_c.best_epoch})")

    print("\n4. fine-tuning the published A on the test glacier")
    tuned = finetune(test[0], steps=100, train_years=(1995, 2000), val_years=(2001, 2003))
    print(f"training error {tuned.initial_train_error:.4g} -> {tuned.train_error:.4g}, "
          f"validation error {tuned.initial_val_error:.4g} -> {tuned.val_error:.4g}")

    print("\n5. the trained C and the fine-tuned A on the test glacier")
    for label, model in (("trained C", result_c.model), ("fine-tuned A", tuned.model)):
        scores = evaluate(model, test)
        print(f"{label}:\n{scores.table()}")
        scores.plot(out / f"scatter_{label.replace(' ', '_')}.png", title=f"{label}, synthetic test glacier")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), constrained_layout=True)
    for ax, (label, result) in zip(axes, (("A", result_a), ("C", result_c))):
        epochs = [h["epoch"] for h in result.history[1:]]
        ax.semilogy(epochs, [h["train_loss"] for h in result.history[1:]], label="training loss")
        ax.semilogy([h["epoch"] for h in result.history], [h["val_error"] for h in result.history],
                    label="validation error")
        ax.axvline(result.best_epoch, color="k", lw=0.6, ls=":")
        ax.set(title=f"variant {label}", xlabel="epoch", ylabel="(m w.e.)$^2$")
        ax.legend()
    fig.savefig(out / "training_curves.png", dpi=110)
    print(f"\nfigures and runs in {out} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
