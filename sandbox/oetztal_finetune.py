"""From OGGM glacier directories to a GlaUnTI training dataset, then fine-tuning on it.

Worked example of retraining for a region from OGGM data (docs/retraining_from_oggm.md):

1. Ötztal glaciers from OGGM's sample data (:func:`oetztal_gdirs`, no calibration or
   inversion needed), daily climate (disaggregated HISTALP) and the GlaUnTI model grid;
2. :func:`export_glaunti_dataset`: one folder per glacier in the released dataset layout,
   with the WGMS glacier-wide series OGGM ships (annual balances; season dates 1 October /
   1 May, as OGGM's WGMS tables carry no survey dates) and ``index.csv``;
3. fine-tuning of the published variant A on Hintereisferner over the training years, then
   its skill on the held-out years (the run continued from the training run's start), before
   and after, with the published scoring convention; the per-glacier evaluation JSON files
   are written as the published code writes them.

The same steps from the command line, on the exported folder::

    oggm-glaunti finetune --dataset DATASET --glacier Hintereisferner --output hef_a.npz \\
        --train-years 1995 2006 --val-years 2007 2012 --steps 60
    oggm-glaunti evaluate --dataset DATASET --weights hef_a.npz --glaciers Hintereisferner \\
        --first-year 2007 --last-year 2012 --output scores

Offline (a few minutes on 2 CPU cores)::

    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python sandbox/oetztal_finetune.py
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

#: Glaciers exported (RGI5 ids of OGGM's Ötztal sample) and their dataset names; the three
#: with WGMS series in OGGM's sample data.
GLACIERS = {"RGI50-11.00897": "Hintereisferner", "RGI50-11.00787": "Kesselwandferner",
            "RGI50-11.00746": "Langtaler Ferner"}
LAST_YEAR = 2012  # the last full hydrological year of HISTALP_oetztal.nc (1802-2013)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60, help="fine-tuning steps (default 60)")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default 1e-2)")
    parser.add_argument("--train-years", type=int, nargs=2, default=[1995, 2006], help="default 1995 2006")
    parser.add_argument("--held-out-years", type=int, nargs=2, default=[2007, LAST_YEAR],
                        help=f"default 2007 {LAST_YEAR}")
    parser.add_argument("--output", default=None, help="folder for the dataset and results (default: temporary)")
    args = parser.parse_args()

    from oggm_glaunti.integration import glaunti_model_grid, oetztal_gdirs, process_daily_from_monthly
    from oggm_glaunti.integration.output.dataset_export import export_glaunti_dataset
    from oggm_glaunti.training.dataset import read_glacier
    from oggm_glaunti.training.evaluate import evaluate
    from oggm_glaunti.training.finetune import finetune
    from oggm_glaunti.weights import load_pretrained

    output = args.output or tempfile.mkdtemp(prefix="glaunti-oetztal-")
    clock = time.perf_counter()
    gdirs = oetztal_gdirs(os.path.join(output, "oggm"), rgi_ids=list(GLACIERS), calibrate=False,
                          invert=False, init_present_time=False)
    for gdir in gdirs:
        process_daily_from_monthly(gdir)
        glaunti_model_grid(gdir)
    dataset = os.path.join(output, "dataset")
    index = export_glaunti_dataset(gdirs, dataset, names=GLACIERS, folds={"RGI50-11.00897": 0},
                                   last_year=LAST_YEAR, overwrite=True)
    print(f"exported in {time.perf_counter() - clock:.0f} s to {dataset}:\n{index.to_string(index=False)}")

    clock = time.perf_counter()
    hef = read_glacier(dataset, "Hintereisferner")
    spinup = args.train_years[0] - hef.years[0]
    first, last = args.held_out_years
    before = evaluate(load_pretrained("A"), [hef], spinup, first, last, run_from=hef.years[0])
    result = finetune(hef, lr=args.lr, steps=args.steps, train_years=tuple(args.train_years),
                      val_years=tuple(args.held_out_years), spinup_years=spinup)
    after = evaluate(result.model, [hef], spinup, first, last, run_from=hef.years[0])
    print(f"fine-tuned in {time.perf_counter() - clock:.0f} s ({args.steps} steps); training loss "
          f"{result.history[0]:.4g} -> {result.history[-1]:.4g}")
    for label, evaluation in (("published A", before), ("fine-tuned A", after)):
        print(f"\nHintereisferner, held-out years {first}-{last}, {label}:\n{evaluation.table()}")
        evaluation.write_glacier_json(os.path.join(output, "evaluation", label.replace(" ", "_")), model=label)
    print("\nfine-tuned TI parameters:")
    for name, value in result.parameters.items():
        print(f"  {name:26s} {value:.6g}")
    result.save(os.path.join(output, "hef_a.npz"), notes="fine-tuned on Hintereisferner (sandbox)")
    print(f"\nresults in {output}")


if __name__ == "__main__":
    main()
