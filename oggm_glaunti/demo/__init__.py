"""``oggm-glaunti demo``: GlaUnTI on Hintereisferner next to OGGM's MonthlyTIModel.

:func:`run_demo` runs :func:`~.workflow.run_demo_workflow`, then writes the results folder:
``report.md``, ``results.json``, ``specific_mb.csv``, the PNG figures of :mod:`.figures` and
the netCDF outputs (gridded SMB, projections, the geometry the corrector saw in the evolving
projection).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from tqdm.auto import tqdm

#: Names of the progress steps (see :func:`~.workflow.run_demo_workflow`), for the bar's length.
N_STEPS = 9


def run_demo(output: str | Path, variant: str = "D", working_dir: str | Path | None = None,
             progress: bool = True) -> Path:
    """Run the demo and write its results folder.

    Parameters
    ----------
    output : path
        the results folder (created; existing files of the same names are replaced).
    variant : str
        the GlaUnTI variant ('A', 'C' or 'D'; default D, the published best).
    working_dir : path, optional
        OGGM's working directory (default: a temporary folder removed at the end).
    progress : bool
        show a progress bar.

    Returns
    -------
    pathlib.Path
        the report (``report.md``).
    """
    from .figures import draw_all
    from .report import write_report
    from .workflow import run_demo_workflow

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    temporary = None if working_dir is not None else tempfile.mkdtemp(prefix="glaunti-demo-")
    bar = tqdm(total=N_STEPS, disable=not progress, unit="step", bar_format="{l_bar}{bar:20}{r_bar}")

    steps_started = []  # a disabled tqdm keeps no description, so count here

    def step(name: str) -> None:
        if steps_started:
            bar.update(1)
        steps_started.append(name)
        bar.set_description_str(name[:90])

    try:
        run = run_demo_workflow(Path(working_dir or temporary), variant=variant, step=step)
        step("figures and report")
        run.specific_mb.to_csv(out / "specific_mb.csv", float_format="%.1f")
        for path in [run.gridded_file, *run.projection_files.values(), run.geometry_file]:
            shutil.copy2(path, out / path.name)
        figures = draw_all(run, out)
        if run.skill.get("figure"):
            figures.append(Path(shutil.copy2(Path(run.gdir.dir) / run.skill["figure"], out / "skill.png")))
        report = write_report(run, out, figures, (time.perf_counter() - started) / 60)
        bar.update(1)
    finally:
        bar.close()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    return report
