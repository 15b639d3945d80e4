"""Figures of the differentiable tools, drawn from the files their entity tasks write.

Each function takes the task's result (the dict or dataset it returned, or read from the
glacier directory) and writes a PNG; matplotlib is imported inside (any backend, nothing
here calls ``plt.show``).
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

MONTHS = "JFMAMJJASOND"


def _save(fig, path) -> str:
    from ...atomic import atomic_path

    path = os.fspath(path)
    fig.tight_layout()
    with atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def _map(ax, fig, values, outline, title, units):
    lim = float(np.nanmax(np.abs(values))) or 1.0
    im = ax.imshow(values, cmap="RdBu", vmin=-lim, vmax=lim, origin="upper")
    ax.contour(outline, levels=[0.5], colors="k", linewidths=0.7)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(im, ax=ax, shrink=0.8, label=units)


def offset_figure(result: dict, path) -> str:
    """Search history (offset and mean SMB per iteration) and the target years' SMB before
    and after the offset."""
    fig, (a, b) = _figure(1, 2, figsize=(10, 3.8))
    h = result["history"]
    it = np.arange(len(h))
    a.plot(it, [r["temp_offset"] for r in h], "o-", color="C3", label="offset (degC)")
    a.set_xlabel(f"iteration ({result['method']})")
    a.xaxis.get_major_locator().set_params(integer=True)
    a.set_ylabel("temperature offset (degC)", color="C3")
    a2 = a.twinx()
    a2.plot(it, [r["mean_smb"] for r in h], "s--", color="C0")
    a2.axhline(result["target_m_we"], color="C0", lw=0.6)
    a2.set_ylabel("mean SMB of the target years (m w.e./yr)", color="C0")
    y0, y1 = result["target_years"]
    a.set_title(f"{result['rgi_id']} variant {result['variant']}: dT = {result['temp_offset']:+.2f} degC "
                f"from {result['start_year']}", fontsize=9)
    years = np.array(result["hydro_years"])
    b.bar(years - 0.2, result["smb_before_m_we"], 0.4, label="without offset")
    b.bar(years + 0.2, result["smb_after_m_we"], 0.4, label=f"with {result['temp_offset']:+.2f} degC")
    b.axhline(0, color="k", lw=0.6)
    b.set_xlabel("hydrological year")
    b.xaxis.get_major_locator().set_params(integer=True)
    b.set_ylabel("glacier-wide SMB (m w.e.)")
    b.set_title(f"target {result['target_m_we']:+.2f} m w.e./yr over {y0}-{y1}; misfit "
                f"{result['misfit_m_we']:+.4f}", fontsize=9)
    b.legend(fontsize=8)
    return _save(fig, path)


def attribution_figure(ds: xr.Dataset, path) -> str:
    """Maps of the temperature and precipitation attributions and their monthly sums."""
    fig, axes = _figure(1, 3, figsize=(13, 4))
    outline = ds.outline_fraction.values
    _map(axes[0], fig, ds.temperature_attribution_map.values, outline, "temperature attribution", "m w.e.")
    _map(axes[1], fig, ds.precipitation_attribution_map.values, outline, "precipitation attribution", "m w.e.")
    m = ds.month.values
    axes[2].bar(m - 0.2, ds.temperature_attribution_monthly.values, 0.4, color="C3", label="temperature")
    axes[2].bar(m + 0.2, ds.precipitation_attribution_monthly.values, 0.4, color="C0", label="precipitation")
    axes[2].axhline(0, color="k", lw=0.6)
    axes[2].set_xticks(m, list(MONTHS))
    axes[2].set_ylabel("attribution (m w.e.)")
    axes[2].legend(fontsize=8)
    a = ds.attrs
    axes[2].set_title(f"SMB {a['smb_m_we']:+.2f} vs baseline {a['baseline_smb_m_we']:+.2f} m w.e.\n"
                      f"completeness error {a['completeness_error']:.2%}", fontsize=9)
    fig.suptitle(f"{a['rgi_id']} variant {a['variant']}, hydrological year {a['hydro_year']}: integrated "
                 f"gradients ({a['steps']} steps)\nbaseline: {a['baseline']}", fontsize=9)
    return _save(fig, path)


def uncertainty_figure(ds: xr.Dataset, path) -> str:
    """The cumulative SMB trajectory with the first-order band (and the Monte Carlo band)."""
    fig, (a, b) = _figure(1, 2, figsize=(11, 4))
    y = ds.hydro_year.values
    c, s = ds.cumulative_smb.values, ds.cumulative_smb_std.values
    a.plot(y, c, "k-", label="no noise")
    a.fill_between(y, c - s, c + s, color="C1", alpha=0.35, label="first order, +-1 std")
    if "ensemble_cumulative_smb" in ds:
        e = ds.ensemble_cumulative_smb
        mean, std = e.mean("member").values, e.std("member").values
        a.plot(y, mean, "C0--", label=f"Monte Carlo mean ({e.sizes['member']} members)")
        a.fill_between(y, mean - std, mean + std, color="C0", alpha=0.2, label="Monte Carlo, +-1 std")
        b.plot(y, std, "C0--", label="Monte Carlo")
    b.plot(y, s, "C1-", label="first order")
    b.plot(y, ds.cumulative_smb_std_temperature.values, "C3:", label="first order, temperature")
    b.plot(y, ds.cumulative_smb_std_precipitation.values, "C2:", label="first order, precipitation")
    a.set_xlabel("hydrological year"), b.set_xlabel("hydrological year")
    a.set_ylabel("cumulative glacier-wide SMB (m w.e.)")
    b.set_ylabel("standard deviation (m w.e.)")
    a.legend(fontsize=7), b.legend(fontsize=7)
    at = ds.attrs
    fig.suptitle(f"{at['rgi_id']} variant {at['variant']}: weekly forcing noise sigma_T = {at['sigma_t_degC']:.4g} "
                 f"degC, sigma_logP = {at['sigma_logp']:.4g}", fontsize=9)
    return _save(fig, path)


def sensitivity_figure(ds: xr.Dataset, path) -> str:
    """The table of gradients as bars, and the maps of the correction fields' gradients."""
    has_maps = "correction_gradient" in ds
    fig, axes = _figure(1, 6 if has_maps else 1, figsize=(20 if has_maps else 6, 4))
    axes = np.atleast_1d(axes)
    names = [str(n) for n in ds.parameter.values] + ["temp_bias", "prcp_fac", "melt_f"]
    values = list(ds.ti_gradient.values) + [float(ds.temp_bias_gradient), float(ds.prcp_fac_gradient),
                                            float(ds.melt_f_gradient)]
    axes[0].barh(names, values, color=["C0"] * 9 + ["C3"] * 3)
    axes[0].axvline(0, color="k", lw=0.6)
    axes[0].tick_params(labelsize=7)
    axes[0].set_xlabel("d SMB / d parameter (m w.e./yr per unit)", fontsize=8)
    axes[0].set_title(f"{ds.attrs['rgi_id']} {ds.attrs['variant']} {ds.attrs['hydro_years']}", fontsize=9)
    if has_maps:
        outline = ds.outline_fraction.values
        for k, name in enumerate(ds.correction.values):
            _map(axes[k + 1], fig, ds.correction_gradient.values[k], outline, f"d SMB / d {name} per cell",
                 "m w.e./yr")
    return _save(fig, path)
