"""The figure of :func:`~oggm_glaunti.integration.calibration.skill.glaunti_skill`: held-out
annual balances, modelled against observed, and the mean held-out profile against WGMS."""
from __future__ import annotations

import numpy as np

COLOURS = {"calibrated": "tab:red", "uncalibrated": "tab:orange", "MonthlyTIModel": "tab:blue"}


def plot_skill(result: dict, predicted: dict, observed: dict, path: str) -> str:
    """Write the skill figure of the first split in ``result`` to ``path`` (PNG); returns
    the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ...atomic import atomic_path

    split = next(iter(result["splits"]))
    table = result["splits"][split]["held_out_scores"]
    has_profile = "profile_bands_m" in result and "WGMS" in table
    fig, axes = plt.subplots(1, 2 if has_profile else 1, figsize=(11 if has_profile else 5.5, 5), squeeze=False)
    ax = axes[0, 0]
    lo, hi = np.inf, -np.inf
    for name, colour in COLOURS.items():
        ys = sorted(y for y in predicted[split][name]["annual"] if y in observed["annual"])
        o = np.array([observed["annual"][y] for y in ys])
        m = np.array([predicted[split][name]["annual"][y] for y in ys])
        s = table[name]["annual"]
        label = f"{name}: RMSE {s['rmse']:.2f}, bias {s['bias']:+.2f}, r {s['r']:.2f}"
        ax.scatter(o, m, s=14, color=colour, label=label, alpha=0.8)
        lo, hi = min(lo, o.min(), m.min()), max(hi, o.max(), m.max())
    ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
    ax.set_xlabel("observed annual balance (m w.e.)")
    ax.set_ylabel("modelled annual balance (m w.e.)")
    ax.set_title(f"{result['rgi_id']} variant {result['variant']}: held-out years ({split})")
    ax.legend(fontsize=8, loc="upper left")
    if has_profile:
        ax = axes[0, 1]
        z = np.asarray(result["profile_bands_m"])
        ax.plot(table["WGMS"]["profile"]["mean_profile"], z, "k-o", ms=3, label="WGMS")
        for name, colour in COLOURS.items():
            prof = table[name].get("profile")
            if prof:
                ax.plot(prof["mean_profile"], z, "-o", ms=3, color=colour,
                        label=f"{name}: RMSE {prof['rmse']:.2f}")
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_xlabel("mean held-out annual balance (m w.e.)")
        ax.set_ylabel("elevation band (m)")
        ax.set_title("profile on the model grid's 100 m bands")
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
