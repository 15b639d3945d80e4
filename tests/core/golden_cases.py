"""The published code's golden cases, run through the public API: one function per golden
file, returning what it computes under the stored key it is compared with.

Shared by ``test_golden.py`` (which compares) and ``benchmarks/golden_spread.py`` (which
measures how far the numbers move across XLA configurations). Keys that the golden file
does not hold (every gradient leaf of ``glaunti_c_grad``, under ``leaf/<path>``) are
computed for the spread measurement only.
"""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from oggm_glaunti.core import STORED_NAMES, TRAINABLE_NAMES, TIModel, TIParameters, run_year, year_forcing
from oggm_glaunti.core.inputs import ELEVATION_SCALE, ELEVATION_STD_SCALE
from oggm_glaunti.weights import load_pretrained


def load(golden_dir: Path, name: str) -> dict:
    with np.load(Path(golden_dir) / f"{name}.npz") as f:
        return {k: f[k] for k in f.files}


def glacier_year(g, split=None):
    fields = g["corrector_fields"]
    return year_forcing(
        g["temperature"], g["precipitation"], begin="2001-01-01", split=split,
        outline=fields[0], elevation=g.get("elevation"), elevation_std=g.get("elevation_std"),
        facies=fields[3:], climate_monthly=g["climate_monthly"],
    )


def outline_mean_loss(model, year, outline, target):
    smb = run_year(model, year).period_smb.sum(0)
    return (jnp.sum(smb * outline) / jnp.sum(outline) - target) ** 2


def ti_a_parameters(g):
    values = load_pretrained("A").ti.constrained()
    return {key: getattr(values, key[6:]) for key in g if key.startswith("param_")}


def ti_a_annual(g):
    model = load_pretrained("A")
    year = year_forcing(g["temperature"], g["precipitation"], begin="2001-01-01")
    res = run_year(model, year, state=g["initial_swe"], daily=True)
    return {"smb_series": res.daily, "smb_sum": res.period_smb[0], "final_swe": res.final_state,
            "smb_sum_default_initial_swe": run_year(model, year).period_smb[0]}


def ti_a_seasons(g):
    model = load_pretrained("A")
    split = int(g["split_day"])
    t, p = g["temperature"], g["precipitation"]
    res = run_year(model, year_forcing(t, p, "2001-01-01", split=split))
    winter = run_year(model, year_forcing(t[: split + 1], p[: split + 1], "2001-01-01"))
    return {"smb_winter": res.period_smb[0], "smb_summer": res.period_smb[1],
            "swe_after_summer": res.final_state, "swe_after_winter": winter.final_state}


def ti_a_grad(g):
    model = TIModel(TIParameters.from_stored({k: g[f"stored_{k}"] for k in STORED_NAMES}))
    year = year_forcing(g["temperature"], g["precipitation"], "2001-01-01", outline=g["outlines"])
    loss, grads = eqx.filter_value_and_grad(outline_mean_loss)(model, year, g["outlines"], g["target"])
    return {"loss": loss, **{f"grad_{name}": getattr(grads.ti, name) for name in TRAINABLE_NAMES}}


def _glaunti_annual(g, variant):
    res = run_year(load_pretrained(variant), glacier_year(g), state=g["initial_swe"], daily=True)
    return {"extra_fields": res.sensitivities, "corrections": res.corrections, "smb_series": res.daily,
            "final_swe": res.final_state}


def glaunti_c_annual(g):
    return _glaunti_annual(g, "C")


def glaunti_d_annual(g):
    return _glaunti_annual(g, "D")


def glaunti_c_seasons(g):
    res = run_year(load_pretrained("C"), glacier_year(g, split=int(g["split_day"])), state=g["initial_swe"])
    return {"extra_fields": res.sensitivities, "corrections": res.corrections, "smb_winter": res.period_smb[0],
            "smb_summer": res.period_smb[1], "swe_after_summer": res.final_state}


def glaunti_c_grad(g):
    model = load_pretrained("C")
    outline = g["corrector_fields"][0]
    # elevation channels are given normalised: undo the scaling so the model can redo it
    g = {**g, "elevation": g["corrector_fields"][1] * ELEVATION_SCALE,
         "elevation_std": g["corrector_fields"][2] * ELEVATION_STD_SCALE}
    year = glacier_year(g)

    def loss_fn(corrector):
        return outline_mean_loss(eqx.tree_at(lambda m: m.corrector, model, corrector), year, outline, g["target"])

    loss, grads = jax.value_and_grad(loss_fn)(model.corrector)
    leaves = jax.tree_util.tree_leaves_with_path(grads)
    return {"loss": loss, "grad_global_norm": jnp.sqrt(sum(jnp.sum(x**2) for _, x in leaves)),
            "grad_out_conv_weight": grads.out_weight, "grad_out_conv_bias": grads.out_bias,
            "grad_branch_2d_in_conv_weight": grads.in_conv_2d,
            **{f"leaf/{jax.tree_util.keystr(path)}": x for path, x in leaves}}


def gru_b_seasons(g):
    model = load_pretrained("B")
    split = int(g["split_day"])
    t, p = g["temperature"], g["precipitation"]
    first = run_year(model, year_forcing(t[: split + 1], p[: split + 1], "2001-01-01"), daily=True)
    second = run_year(model, year_forcing(t[split:], p[split:], "2001-01-01"), state=first.final_state, daily=True)
    both = run_year(model, year_forcing(t, p, "2001-01-01", split=split))
    return {"smb_series_1": first.daily, "smb_sum_1": first.period_smb[0], "state_1": first.final_state,
            "smb_series_2": second.daily, "smb_sum_2": second.period_smb[0], "state_2": second.final_state,
            "both/smb_sum_1": both.period_smb[0], "both/smb_sum_2": both.period_smb[1]}


CASES = {f.__name__: f for f in (ti_a_parameters, ti_a_annual, ti_a_seasons, ti_a_grad, glaunti_c_annual, glaunti_d_annual,
                                 glaunti_c_seasons, glaunti_c_grad, gru_b_seasons)}


#: The golden file each case reads (ti_a_parameters: the parameters stored with ti_a_annual).
FILES = {**{name: name for name in CASES}, "ti_a_parameters": "ti_a_annual"}


def run_case(golden_dir: Path, name: str) -> tuple[dict, dict]:
    """(stored golden arrays, computed arrays as float64 NumPy) of the case ``name``."""
    g = load(golden_dir, FILES[name])
    return g, {k: np.asarray(v, np.float64) for k, v in CASES[name](g).items()}


def stored_key(key: str) -> str | None:
    """The golden file's key a computed quantity is compared with (None: none stored)."""
    if key.startswith("leaf/"):
        return None
    return key[len("both/"):] if key.startswith("both/") else key
