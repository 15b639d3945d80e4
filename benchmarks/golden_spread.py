"""How far the golden cases' numbers move across XLA configurations (the measured spread
behind the tolerances of ``tests/core/test_golden.py``).

Runs every golden case (``tests/core/golden_cases.py``) in a fresh process per
configuration - XLA's default, one intra-op thread, lower instruction sets (AVX2, SSE4.2),
jitted and, with ``--modes jit eager``, op by op (``jax.disable_jit``: minutes of CPU per
configuration) - then prints, per quantity, the worst deviation from the published code's
stored numbers, the largest fraction of ``test_golden.py``'s bound it uses, and the worst
difference between two configurations (absolute and per unit of the quantity's L2 norm).
Every gradient leaf of the corrector is included, compared with the first configuration.
Run::

    GLAUNTI_SHARED_DIR=../shared python benchmarks/golden_spread.py [--keep FOLDER]

Prints figures only; nothing here asserts.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GLAUNTI_SHARED_DIR", ROOT.parent / "shared"))
GOLDEN = SHARED / "glaunti-reference" / "golden"
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
CONFIGS = {
    "default": "",
    "1thread": ONE_THREAD,
    "avx2": "--xla_cpu_max_isa=AVX2",
    "sse4.2": "--xla_cpu_max_isa=SSE4_2",
    "sse4.2+1thread": f"--xla_cpu_max_isa=SSE4_2 {ONE_THREAD}",
}


def worker(out: Path, eager: bool) -> None:
    """Run every case in this process and save the computed arrays to ``out``."""
    import contextlib

    import jax

    sys.path.insert(0, str(ROOT / "tests" / "core"))
    from golden_cases import CASES, run_case

    saved = {}
    with jax.disable_jit() if eager else contextlib.nullcontext():
        for name in CASES:
            _, computed = run_case(GOLDEN, name)
            saved.update({f"{name}:{k}": v for k, v in computed.items()})
    np.savez(out, **saved)


def run_configs(folder: Path, configs: dict, modes: list[str]) -> dict:
    env = {**os.environ, "GLAUNTI_WEIGHTS_DIR": str(SHARED / "glaunti-reference" / "params")}
    results = {}
    for (label, flags), mode in itertools.product(configs.items(), modes):
        out = folder / f"{label}-{mode}.npz"
        if out.exists():
            print(f"{label} ({mode}): kept from {out}", flush=True)
        else:
            cmd = [sys.executable, __file__, "--worker", str(out)] + (["--eager"] if mode == "eager" else [])
            print(f"running {label} ({mode}): XLA_FLAGS='{flags}'", flush=True)
            subprocess.run(cmd, env={**env, "XLA_FLAGS": flags}, check=True)
        with np.load(out) as f:
            results[f"{label}/{mode}"] = {k: f[k] for k in f.files}
    return results


def used(got: np.ndarray, want: np.ndarray, tol: dict) -> float:
    """The largest fraction of ``assert_allclose``'s bound that ``got`` uses."""
    bound = tol["atol"] + tol["rtol"] * np.abs(want)
    excess = np.abs(got - want)
    return float(np.max(np.where(bound > 0, excess / np.where(bound > 0, bound, 1), np.where(excess > 0, np.inf, 0))))


def report(results: dict) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "core"))
    from golden_cases import FILES, load, stored_key
    from test_golden import tolerance

    labels = list(results)
    keys = [k for k in results[labels[0]] if all(k in r for r in results.values())]
    print("\nper quantity, worst over the configurations: max|computed - stored| (absolute, and per unit of the"
          "\nstored value's L2 norm), the largest fraction of test_golden.py's bound used, and the largest"
          "\ndifference between two configurations (absolute, per unit of the L2 norm; which pair)."
          "\nQuantities without a stored value (leaf/...) are compared with the first configuration.")
    print(f"{'case:quantity':58s} {'L2 norm':>9s} {'vs stored':>9s} {'/norm':>9s} {'bound':>6s} "
          f"{'spread':>9s} {'/norm':>9s}  pair")
    for key in keys:
        case, quantity = key.split(":", 1)
        values = {label: results[label][key] for label in labels}
        name = stored_key(quantity)
        if name is None:  # e.g. a corrector leaf without a stored value
            name, base = "grad_" + quantity, values[labels[0]]
        else:
            base = np.asarray(load(GOLDEN, FILES[case])[name], np.float64)
        norm = float(np.linalg.norm(base)) or 1.0
        dev = max(float(np.abs(v - base).max()) for v in values.values())
        frac = max(used(v, base, tolerance(name, base)) for v in values.values())
        spread, pair = 0.0, ("", "")
        for a, b in itertools.combinations(labels, 2):
            d = float(np.abs(values[a] - values[b]).max())
            if d > spread:
                spread, pair = d, (a, b)
        print(f"{key:58s} {norm:9.2e} {dev:9.2e} {dev / norm:9.2e} {frac:6.1%} {spread:9.2e} {spread / norm:9.2e}  "
              f"{pair[0]} {'vs' if spread else ''} {pair[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--eager", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--modes", nargs="*", default=["jit"], choices=["jit", "eager"],
                        help="eager (op by op) runs take minutes of CPU per configuration")
    parser.add_argument("--keep", type=Path, help="keep each configuration's numbers in this folder (and "
                                                  "reuse those already there) instead of a temporary one")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.eager)
        return
    configs = {k: CONFIGS[k] for k in args.configs}
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        report(run_configs(args.keep, configs, args.modes))
        return
    with tempfile.TemporaryDirectory() as folder:
        report(run_configs(Path(folder), configs, args.modes))


if __name__ == "__main__":
    main()
