"""The model grid's cell size against the corrector's training grids.

The corrector of variants C and D was trained on grids of about 100 m (Maslov et al.,
egusphere-2026-515; ``docs/input_checks.md``). Its 3x3 convolutions and 2x2
pools see terrain at the scale of the cells, so its corrections - and the SMB -
move with the cell size, while the TI model alone hardly does. Measured on
Hintereisferner (``sandbox/input_sensitivity.py``: uncalibrated, HISTALP disaggregated
to daily, mean glacier-wide SMB of 1991-2001, 4-cell margin), the change against
dx = 100 m at dx = 25, 50, 75, 125, 150, 200, 400 and 1000 m:

- variant D: +26, +9.3, +0.7, -1.9, -3.4, -6.1, -17.5 and -48 %;
- variant A (the TI model alone): +0.1, +0.1, +0.1, -0.1, -0.2, -0.4, -1.8 and -10 %.

So C and D run quietly on cells of :data:`QUIET_DX` (D within 4 % of its 100 m value),
with a warning up to :data:`ACCEPTED_DX`, and refuse beyond; A and B (cell-local) take any
cell size. The model grid itself serves every variant:
:func:`~.model_grid.glaunti_model_grid` only warns.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

#: Cell sizes (m) on which C and D run without a word.
QUIET_DX = (75., 150.)
#: Cell sizes (m) on which C and D run at all (with a warning outside :data:`QUIET_DX`).
ACCEPTED_DX = (50., 200.)

_EFFECT = ('the corrector of variants C and D was trained on grids of about 100 m, and their '
           'SMB moves with the cell size (Hintereisferner, variant D against 100 m: +9 % at '
           '50 m, +26 % at 25 m, -6 % at 200 m, -48 % at 1000 m; the TI model alone: less than '
           '0.5 % within 25..200 m)')


def check_corrector_dx(dx: float, where: str) -> None:
    """Refuse (ValueError) a cell size ``dx`` (m) outside :data:`ACCEPTED_DX` for the
    corrector, and warn outside :data:`QUIET_DX`; ``where`` names the grid."""
    lo, hi = ACCEPTED_DX
    if not lo <= dx <= hi:
        raise ValueError(f"{where}: the model grid's cell size dx = {dx:g} m is outside {lo:g}..{hi:g} m: "
                         f"{_EFFECT}. Write the grid again with glaunti_model_grid(dx=100) "
                         "(cfg.PARAMS['glaunti_grid_dx']), or run variant A or B.")
    warn_outside_quiet_dx(dx, where)


_warned: set[tuple[str, float]] = set()  # one warning per grid and process, not per MB model


def warn_outside_quiet_dx(dx: float, where: str) -> None:
    """Log a warning (once per ``where`` and ``dx`` in this process) if ``dx`` (m) is
    outside :data:`QUIET_DX`."""
    if not QUIET_DX[0] <= dx <= QUIET_DX[1] and (where, dx) not in _warned:
        _warned.add((where, dx))
        log.warning("%s: the model grid's cell size dx = %g m is outside %g..%g m: %s. Variants C "
                    "and D refuse cells outside %g..%g m; dx = 100 m is what they were trained on.",
                    where, dx, *QUIET_DX, _EFFECT, *ACCEPTED_DX)
