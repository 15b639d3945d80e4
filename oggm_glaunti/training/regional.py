"""Regional calibration of variant A over OGGM glacier directories (transfer learning).

The seven trainable TI parameters of variant A are fitted *jointly* to the observations of
several glaciers - one parameter set for the region, as the published A was fitted to all
its training glaciers - starting from the published A. Each glacier contributes the
objective of :func:`~oggm_glaunti.integration.calibration.task.glaunti_calibrate` (WGMS
annual/winter/summer balances, optionally a geodetic mean; mean squared misfits, m w.e.,
with the paper's TI prior), built on its own daily climate and model grid; the regional
loss is their mean over glaciers. Adam (lr 1e-2, global gradient norm clipped at 5, as the
paper's fine-tuning) takes ``steps`` steps; the step with the lowest loss is kept.

The result is a variant A model in this package's weights format. With ``write_to_gdirs``
every glacier directory also gets it as ``glaunti_weights_A_<hash>.npz`` with a
``mb_calib_glaunti_A.json`` naming it, so ``GlaUnTIMassBalance(gdir, variant='A')`` uses the
regional parameters by default.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..atomic import atomic_path
from ..integration.calibration.calibration_file import write_calibration
from ..integration.calibration.task import calibration_data
from ..integration.calibration.objective import Objective, apply_parameters, initial_theta
from ..integration.run.massbalance import glacier_run_of, load_variant
from ..weights import save_model

log = logging.getLogger(__name__)

PARAMETERS = ("ti",)


@dataclass
class RegionalResult:
    """What :func:`calibrate_regional` returns.

    Attributes
    ----------
    model : the fitted variant A model.
    parameters : its constrained TI values, by name.
    glaciers : RGI ids of the glaciers that were fitted.
    skipped : ``{rgi_id: reason}`` of glaciers left out (no data in the climate's years).
    misfit_before, misfit_after : ``{rgi_id: {kind: {n, rmse, bias}}}`` (m w.e.).
    history : regional loss at each step (before that step's update).
    best_step : the step whose parameters were kept.
    """

    model: object
    parameters: dict
    glaciers: list
    skipped: dict
    misfit_before: dict
    misfit_after: dict
    history: list = field(default_factory=list)
    best_step: int = 0

    def summary(self) -> dict:
        """JSON-ready summary."""
        return {"parameters": self.parameters, "glaciers": self.glaciers, "skipped": self.skipped,
                "misfit_before": self.misfit_before, "misfit_after": self.misfit_after,
                "loss_history": self.history, "best_step": self.best_step}


def calibrate_regional(
    gdirs: Sequence,
    *,
    steps: int = 100,
    lr: float = 1e-2,
    clip: float = 5.0,
    use_wgms: bool = True,
    ref_years: Optional[tuple[int, int]] = None,
    geodetic=None,
    sigmas: Optional[dict] = None,
    start_weights: Optional[str | os.PathLike] = None,
    output: Optional[str | os.PathLike] = None,
    write_to_gdirs: bool = True,
    climate_filename: str = "climate_historical",
    input_filesuffix: str = "",
    progress: bool = True,
) -> RegionalResult:
    """Fit variant A's TI parameters jointly to the observations of ``gdirs``.

    Parameters
    ----------
    gdirs : sequence of oggm.GlacierDirectory
        glaciers with daily climate and model grid; those without observations inside the
        daily climate's years are skipped (logged, listed in the result).
    steps, lr, clip : Adam steps, learning rate and global gradient-norm clip.
    use_wgms, ref_years, geodetic, sigmas :
        the data of each glacier, as in
        :func:`~oggm_glaunti.integration.calibration.task.glaunti_calibrate` (``geodetic`` is
        applied to every glacier: ``'oggm'`` reads each glacier's own value).
    start_weights : path, optional
        a variant A weights file to start from; default the published A.
    output : path, optional
        weights file (``.npz``) to write; a JSON summary is written beside it.
    write_to_gdirs : bool
        also write the fitted model and its calibration file into every fitted glacier
        directory (see the module docstring).
    climate_filename, input_filesuffix : str
        the daily climate to use (``<climate_filename>_daily<input_filesuffix>.nc``).
    progress : bool
        show a progress bar with the current loss.

    Returns
    -------
    :class:`RegionalResult`

    Raises
    ------
    ValueError
        If no glacier has usable observations, or ``steps``/``lr`` are not positive.
    """
    if steps < 1 or not lr > 0 or not clip > 0:
        raise ValueError(f"need steps >= 1, lr > 0 and clip > 0; got steps={steps}, lr={lr}, clip={clip}")
    start = load_variant("A", start_weights)
    objectives, skipped = {}, {}
    for gdir in tqdm(gdirs, desc="regional data", disable=not progress, leave=False):
        run = glacier_run_of(gdir, start, climate_filename, input_filesuffix)  # never the previous calibration
        try:
            obs, years = calibration_data(gdir, run, use_wgms, ref_years, geodetic)
        except ValueError as exc:
            skipped[gdir.rgi_id] = str(exc)
            log.warning("regional calibration: %s skipped (%s)", gdir.rgi_id, exc)
            continue
        objectives[gdir.rgi_id] = (gdir, obs, years, Objective(run, obs, years, PARAMETERS, sigmas))
    if not objectives:
        raise ValueError("regional calibration: none of the glacier directories has observations "
                         f"inside its daily climate ({skipped})")

    theta = jnp.asarray(initial_theta(start, PARAMETERS))
    before = {rgi: o[3].misfit(theta) for rgi, o in objectives.items()}
    optimiser = optax.chain(optax.clip_by_global_norm(clip), optax.adam(lr))
    state = optimiser.init(theta)
    history, best = [], (np.inf, theta, 0)
    bar = tqdm(range(steps + 1), desc="regional calibration", disable=not progress)
    for step in bar:
        values, grads = zip(*(o[3].value_and_grad(theta) for o in objectives.values()))
        loss = float(np.mean([float(v) for v in values]))
        history.append(loss)
        if loss < best[0]:
            best = (loss, theta, step)
        bar.set_postfix(loss=f"{loss:.4g}", best=best[2])
        if step == steps:  # the last evaluation only scores the final update
            break
        grad = jax.tree_util.tree_map(lambda *g: sum(g) / len(g), *grads)
        updates, state = optimiser.update(grad, state, theta)
        theta = optax.apply_updates(theta, updates)

    theta = best[1]
    fitted = apply_parameters(start, PARAMETERS, theta)
    after = {rgi: o[3].misfit(theta) for rgi, o in objectives.items()}
    values = fitted.model.ti.constrained()
    result = RegionalResult(
        model=fitted.model,
        parameters={k: float(np.asarray(getattr(values, k))) for k in values._fields},
        glaciers=list(objectives), skipped=skipped, misfit_before=before, misfit_after=after,
        history=history, best_step=best[2])
    notes = f"variant A calibrated regionally on {len(objectives)} glaciers"
    if write_to_gdirs:
        for rgi, (gdir, obs, years, _) in objectives.items():
            write_calibration(gdir, "A", fitted, list(PARAMETERS), obs.sources, years, after[rgi],
                              history, default_melt_f=float(np.nan), notes=notes)
    if output is not None:
        save_model(fitted.model, output, notes=notes)
        summary = os.path.splitext(os.fspath(output))[0] + ".json"
        with atomic_path(summary) as tmp, open(tmp, "w") as f:
            json.dump(result.summary(), f, indent=1)
    return result
