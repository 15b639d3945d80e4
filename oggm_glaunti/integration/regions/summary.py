"""The per-glacier summary of a region: one row per glacier, the status and time of every step.

Columns: ``rgi_id``, ``area_km2``, ``status`` (``done``, ``done before`` — every step
``SUCCESS`` in the glacier's task log before this run — or ``failed``), ``failed_step``,
``error`` (the failed step's message, or what stopped the glacier outside its steps, e.g.
``KilledWorker``), ``seconds`` (the whole chain on its worker), ``worker`` (host:pid),
``reused`` (finished by an earlier attempt whose worker died before reporting it), then per
step ``<step>`` (``SUCCESS``, ``done before``, ``skipped`` after a failed step, or the
error) and ``<step>_s`` (seconds; for ``done before`` the time logged when it ran). The
step names are those of OGGM's task log (task name + file suffix).
"""
from __future__ import annotations

import dataclasses
import os

import pandas as pd

from ...atomic import atomic_path
from .worker import GlacierRecord

#: File name of the summary in the working directory.
SUMMARY_FILE = "glaunti_region_summary.csv"


@dataclasses.dataclass
class RegionResult:
    """What a region run gives back: one record per glacier (input order) and the table."""

    records: list[GlacierRecord]
    summary: pd.DataFrame
    summary_path: str | None
    wall_seconds: float
    workers: int  # worker processes (1 in serial mode)

    @property
    def failed(self) -> list[str]:
        """RGI ids of the glaciers whose chain failed."""
        return [r.rgi_id for r in self.records if r.status == "failed"]

    @property
    def outputs(self) -> list:
        """What the last step returned on each glacier (input order; None unless
        ``run_region(..., outputs=True)``)."""
        return [r.output for r in self.records]


def summary_frame(records: list[GlacierRecord]) -> pd.DataFrame:
    """The summary table of ``records`` (see the module docstring)."""
    rows = []
    for record in records:
        failed = record.failed_step
        row = {"rgi_id": record.rgi_id, "area_km2": record.area_km2, "status": record.status,
               "failed_step": failed.name if failed is not None else "",
               "error": failed.status if failed is not None else (record.error or ""),
               "seconds": record.seconds, "worker": record.worker, "reused": record.reused}
        for step in record.steps:
            row[step.name] = step.status
            row[f"{step.name}_s"] = step.seconds
        rows.append(row)
    return pd.DataFrame(rows)


def write_summary(frame: pd.DataFrame, path: str | os.PathLike) -> str:
    """Write the table as CSV, atomically (a reader never sees half a table)."""
    path = os.fspath(path)
    with atomic_path(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False, float_format="%.3f")
    return path
