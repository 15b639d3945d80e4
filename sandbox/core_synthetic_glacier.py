"""Run all four published variants on a synthetic glacier and plot their SMB maps.

Offline: ``GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params python sandbox/core_synthetic_glacier.py``
Writes ``core_synthetic_glacier.png`` in the current folder.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from oggm_glaunti.core import run_years  # noqa: E402
from oggm_glaunti.synthetic import synthetic_years  # noqa: E402
from oggm_glaunti.weights import load_pretrained  # noqa: E402

years, labels = synthetic_years((32, 40), n_years=5, seasonal=True)
outline = np.asarray(years.outline[0])
fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), constrained_layout=True)
for ax, variant in zip(axes, "ABCD"):
    out = run_years(load_pretrained(variant), years)
    mean_smb = np.asarray(out.years.period_smb).sum(1).mean(0)
    glacier_wide = (mean_smb * outline).sum() / outline.sum()
    im = ax.imshow(np.where(outline > 0, mean_smb, np.nan), cmap="RdBu", vmin=-3, vmax=3)
    ax.set_title(f"variant {variant}: {glacier_wide:+.2f} m w.e./yr")
    ax.set_xticks([]), ax.set_yticks([])
    print(f"variant {variant}: mean glacier-wide SMB {glacier_wide:+.3f} m w.e./yr over {labels[0]}-{labels[-1]}")
fig.colorbar(im, ax=axes, label="mean annual SMB (m w.e.)")
fig.savefig("core_synthetic_glacier.png", dpi=110)
