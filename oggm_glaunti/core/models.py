"""The four published variants as compositions of the same pieces.

- A: :class:`TIModel` - the smooth TI model with one parameter set.
- B: :class:`GRUModel` - the per-cell GRU baseline.
- C: :class:`GlaUnTIModel` with ``use_facies=False`` - A's TI corrected by the CNN.
- D: :class:`GlaUnTIModel` with ``use_facies=True`` - C with facies maps as CNN input.

Every model offers ``initial_state(cells)`` and ``run_year(year, state, carried, daily)``;
:func:`oggm_glaunti.core.sequence.run_years` chains years for all of them.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import Array

from .corrector import Corrector
from .forcing import YearForcing
from .gru import GRUBaseline
from .inputs import crop_output, monthly_climate, pad_inputs, sensitivity_channels, static_channels
from .parameters import TIParameters
from .ti import run_ti, run_ti_sensitivities

VARIANTS = ("A", "B", "C", "D")

#: (row0, col0, n_rows, n_cols): the part of a grid the corrector sees (see
#: :meth:`GlaUnTIModel.corrections_from`).
Window = tuple


class YearResult(NamedTuple):
    """One year's outputs (a leading year axis is added by ``run_years``).

    Attributes
    ----------
    period_smb : ``(2, *cells)`` SMB of each period, m w.e. (annual: the second is zero).
    daily : ``(n_steps, *cells)`` weighted daily SMB along the year's plan, or None.
    final_state : SWE ``(*cells)`` for A/C/D, hidden state ``(*cells, 16)`` for B.
    corrections : ``(5, *cells)`` d1..d5 for C/D, else None.
    sensitivities : ``(3, *cells)`` corrector channels 1-3 for C/D, else None.
    """

    period_smb: Array
    daily: Optional[Array]
    final_state: Array
    corrections: Optional[Array] = None
    sensitivities: Optional[Array] = None


class TIModel(eqx.Module):
    """Variant A: the smooth TI model with scalar parameters."""

    ti: TIParameters

    @property
    def variant(self) -> str:
        return "A"

    def initial_state(self, cells: tuple[int, ...]) -> Array:
        """SWE equal to the snow-depletion centre S_c in every cell (spec section 1)."""
        return jnp.full(cells, self.ti.constrained().snow_depletion_centre, jnp.float32)

    def run_year(self, year: YearForcing, state: Array, carried=True, daily: bool = False,
                 window: Optional[Window] = None) -> YearResult:
        """One year; ``window`` (the corrector's, see :class:`GlaUnTIModel`) changes nothing
        for a cell-local model."""
        res = run_ti(self.ti.constrained(), year.temperature, year.precipitation, year.plan, state, daily)
        return YearResult(res.period_smb, res.daily, res.final_state)


class GlaUnTIModel(eqx.Module):
    """Variants C (``use_facies=False``) and D (``use_facies=True``)."""

    ti: TIParameters
    corrector: Corrector
    use_facies: bool = eqx.field(static=True, default=True)

    @property
    def variant(self) -> str:
        return "D" if self.use_facies else "C"

    def initial_state(self, cells: tuple[int, ...]) -> Array:
        return jnp.full(cells, self.ti.constrained().snow_depletion_centre, jnp.float32)

    def sensitivities(self, year: YearForcing, swe: Array) -> Array:
        """The corrector's input channels 1-3 (3, H, W): the uncorrected year's SMB and its
        responses to warming and wetting, run from the SWE ``swe`` at the start of the year."""
        return sensitivity_channels(*run_ti_sensitivities(
            self.ti.constrained(), year.temperature, year.precipitation, year.plan, swe))

    def corrections_from(self, year: YearForcing, sens: Array, window: Optional[Window] = None) -> Array:
        """The corrector's fields d1..d5 (5, H, W) from the sensitivity channels ``sens``.

        ``window`` = (row0, col0, n_rows, n_cols) restricts the CNN to that part of the
        grid, the glacier's own grid inside a larger (padded) one: the CNN then sees
        exactly what it would see on the glacier's own grid (its RMS normalisations average
        over the window only), and the corrections are zero outside the window. The TI
        runs are cell-local, so the rest of the grid does not change the window's results.
        ``row0, col0`` may be traced; the window's size is static.
        """
        facies = year.facies if self.use_facies else None
        static = static_channels(year.outline, year.elevation, year.elevation_std, facies)
        climate = year.climate_monthly
        if climate is None:
            climate = monthly_climate(year.temperature, year.precipitation, year.outline,
                                      year.month_membership)
        inputs = jnp.concatenate([sens, static])
        cells = year.outline.shape
        if window is None:
            return crop_output(self.corrector(pad_inputs(inputs), climate), cells)
        row0, col0, n_rows, n_cols = window
        crop = jax.lax.dynamic_slice(inputs, (0, row0, col0), (inputs.shape[0], n_rows, n_cols))
        fields = crop_output(self.corrector(pad_inputs(crop), climate), (n_rows, n_cols))
        return jax.lax.dynamic_update_slice(jnp.zeros((fields.shape[0],) + cells, fields.dtype),
                                            fields, (0, row0, col0))

    def corrections(self, year: YearForcing, swe: Array, window: Optional[Window] = None) -> tuple[Array, Array]:
        """The year's corrections d1..d5 (5, H, W) and sensitivity channels (3, H, W).

        ``swe`` is the SWE at the start of the year: the sensitivity runs start from it.
        ``window``: see :meth:`corrections_from`.
        """
        sens = self.sensitivities(year, swe)
        return self.corrections_from(year, sens, window), sens

    def run_year(self, year: YearForcing, state: Array, carried=True, daily: bool = False,
                 window: Optional[Window] = None) -> YearResult:
        corrections, sens = self.corrections(year, state, window)
        res = self.run_corrected(year, state, corrections, daily)
        return res._replace(sensitivities=sens)

    def run_corrected(self, year: YearForcing, state: Array, corrections: Array, daily: bool = False) -> YearResult:
        """Run the TI model with given corrections (e.g. another year's, for a year cut
        short by the end of the record, too short for the corrector's inputs)."""
        values = self.ti.constrained().corrected(corrections)
        res = run_ti(values, year.temperature, year.precipitation, year.plan, state, daily)
        return YearResult(res.period_smb, res.daily, res.final_state, corrections)


class GRUModel(eqx.Module):
    """Variant B: the purely data-driven per-cell GRU."""

    gru: GRUBaseline

    @property
    def variant(self) -> str:
        return "B"

    def initial_state(self, cells: tuple[int, ...]) -> Array:
        return self.gru.initial_state(cells)

    def run_year(self, year: YearForcing, state: Array, carried=True, daily: bool = False,
                 window: Optional[Window] = None) -> YearResult:
        """One year; ``window`` changes nothing for the cell-local GRU."""
        res = self.gru.run(year.temperature, year.precipitation, year.plan, state, carried, daily)
        return YearResult(res.period_smb, res.daily, res.final_state)


Model = TIModel | GlaUnTIModel | GRUModel
