"""The glacier's GlaUnTI calibration file: its one writer and its one reader.

``mb_calib_glaunti_<variant>.json`` in the glacier directory holds a calibration of one
variant: ``temp_bias``, ``prcp_fac`` and ``melt_f`` (with what was fitted, on which data,
the misfits and the uncertainty: see :mod:`.task`), and, when the TI parameters were
fitted, the weights file it goes with (``weights_file``, ``weights_sha256``).
``glaunti_calibrate``, the regional calibration and ``glaunti_mb_calibration_from_scalar_mb``
write it (:func:`write_calibration`, :func:`write_oggm_calibration`); the mass-balance
model reads it (:func:`read_calibration`). OGGM's own ``mb_calib.json`` is read as a GlaUnTI
calibration only when it names the class (``mb_model_class: GlaUnTIMassBalance``) and, if
it names one, the same variant: every preprocessed directory has one written for
``MonthlyTIModel``.

A calibration never reads the previous one: it starts from the published model and the
arguments given, and replaces the file whatever it held.
"""
from __future__ import annotations

import json
import os
from typing import NamedTuple

import numpy as np

#: The class a calibration file must name to be read as GlaUnTI's.
MODEL_CLASS = "GlaUnTIMassBalance"


def calibration_filesuffix(variant: str) -> str:
    """``_glaunti_<variant>``: the suffix of the variant's calibration file."""
    return f"_glaunti_{variant}"


class CalibrationFile(NamedTuple):
    """A calibration as read: the file's name (for messages), its values, and the
    glacier's folder and id (where the weights file it names lies)."""

    name: str
    values: dict
    folder: str
    rgi_id: str

    def get(self, name: str):
        """The calibration's value of parameter ``name``, None if it has none; for
        ``'weights'`` the path of the weights file it names (:meth:`weights_path`)."""
        return self.weights_path() if name == "weights" else self.values.get(name)

    def weights_path(self) -> str | None:
        """The weights file the calibration names (None if none), checked against the
        SHA-256 written with it: a pair from two different calibrations is refused, never
        silently combined."""
        name = self.values.get("weights_file")
        if not name:
            return None
        path = os.path.join(self.folder, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{self.rgi_id}: {self.name} names the weights file {name}, which is missing: "
                                    "run glaunti_calibrate again (it replaces the calibration)")
        expected = self.values.get("weights_sha256")
        if expected is not None:
            from ...weights.registry import sha256_of

            if sha256_of(path) != expected:
                raise ValueError(f"{self.rgi_id}: {name} is not the weights file its calibration ({self.name}) was "
                                 "written with (an interrupted calibration?): run glaunti_calibrate again (it replaces "
                                 "the calibration)")
        return path


def read_calibration(gdir, variant: str) -> CalibrationFile | None:
    """The variant's calibration of the glacier: ``mb_calib_glaunti_<variant>.json``, else
    OGGM's ``mb_calib.json`` when it was written for this class and variant, else None.

    Raises
    ------
    ValueError
        the file is not a JSON object (naming it, and how to replace it).
    """
    for suffix in (calibration_filesuffix(variant), ""):
        if not gdir.has_file("mb_calib", filesuffix=suffix):
            continue
        path = gdir.get_filepath("mb_calib", filesuffix=suffix)
        name = os.path.basename(path)
        try:
            with open(path) as f:
                values = json.load(f)
        except (ValueError, UnicodeDecodeError) as exc:
            if suffix == "":  # OGGM's file, not ours: OGGM reports it when it reads it
                continue
            raise ValueError(f"{gdir.rgi_id}: {name} is not readable JSON ({exc}): run glaunti_calibrate "
                             "again (it replaces the calibration) or remove the file") from None
        if not isinstance(values, dict):
            if suffix == "":
                continue
            raise ValueError(f"{gdir.rgi_id}: {name} holds a {type(values).__name__}, not a calibration: run "
                             "glaunti_calibrate again (it replaces the calibration) or remove the file")
        if suffix == "" and (values.get("mb_model_class") != MODEL_CLASS
                             or values.get("variant", variant) != variant):
            return None
        return CalibrationFile(name, values, gdir.dir, gdir.rgi_id)
    return None


def write_calibration(gdir, variant: str, fitted, parameters: list, sources: list, years,
                      misfit: dict, history, default_melt_f: float, notes: str = "",
                      extra: dict | None = None) -> dict:
    """Write a calibration to the glacier directory, where the MB model finds it.

    ``mb_calib_glaunti_<variant>.json`` gets the fitted temperature bias, precipitation
    factor, the data used and the misfits (and ``extra``: uncertainty, status, warnings);
    when the TI parameters were fitted (``'ti'`` in ``parameters``) the model goes first
    to ``glaunti_weights_<variant>_<hash>.npz``, then the JSON names it and its SHA-256
    (``weights_file``, ``weights_sha256``) in one atomic rename, so that the pair is
    replaced at once; :class:`~.massbalance.GlaUnTIMassBalance` loads it by default.
    The variant's weights files no longer named are removed once the new pair is in place.

    Returns
    -------
    the dict written.
    """
    from ..units import ddf_snow_log_to_melt_f

    out = {
        "rgi_id": gdir.rgi_id,
        "mb_model_class": MODEL_CLASS,
        "variant": variant,
        "temp_bias": fitted.temp_bias,
        "prcp_fac": fitted.prcp_fac,
        "melt_f": default_melt_f,
        "calibrated_parameters": list(parameters),
        "data": list(sources),
        "hydro_years": [int(years[0]), int(years[-1])],
        "misfit_m_we": misfit,
        "loss_history": [float(v) for v in history],
        **(extra or {}),
    }
    if "ti" in parameters:
        from ...weights import save_model
        from ...weights.registry import sha256_of

        staging = gdir.get_filepath("glaunti_weights", filesuffix=f"_{variant}_staging")
        save_model(fitted.model, staging, notes=notes or f"fine-tuned on {gdir.rgi_id} by glaunti_calibrate")
        digest = sha256_of(staging)
        path = gdir.get_filepath("glaunti_weights", filesuffix=f"_{variant}_{digest[:12]}")
        os.replace(staging, path)
        out["weights_file"] = os.path.basename(path)
        out["weights_sha256"] = digest
        out["melt_f"] = ddf_snow_log_to_melt_f(fitted.model.ti.ddf_snow_log)
    _replace(gdir, variant, out)
    return out


def write_oggm_calibration(gdir, variant: str, calib: dict) -> dict:
    """Write the result of OGGM's ``mb_calibration_from_scalar_mb`` as the variant's
    calibration (labelled with the class and the variant; no weights file: OGGM's task
    calibrates the published model). Returns the dict written."""
    out = {**calib, "mb_model_class": MODEL_CLASS, "variant": variant,
           "calibrated_with": "oggm.core.massbalance.mb_calibration_from_scalar_mb"}
    _replace(gdir, variant, out)
    return out


def _replace(gdir, variant: str, out: dict) -> None:
    """Write ``out`` atomically, then remove the variant's weights files it does not name."""
    from ...atomic import atomic_path

    target = gdir.get_filepath("mb_calib", filesuffix=calibration_filesuffix(variant))
    with atomic_path(target, suffix=".json") as tmp, open(tmp, "w") as f:
        json.dump(_plain(out), f, indent=1)
    for old in _weights_files(gdir, variant) - {out.get("weights_file")}:  # the new pair is in place
        os.remove(os.path.join(gdir.dir, old))


def _weights_files(gdir, variant: str) -> set[str]:
    stem = os.path.splitext(os.path.basename(gdir.get_filepath("glaunti_weights", filesuffix=f"_{variant}_")))[0]
    return {f for f in os.listdir(gdir.dir) if f.startswith(stem) and f.endswith(".npz")}


def _plain(value):
    """JSON-ready: numpy scalars and arrays as Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
