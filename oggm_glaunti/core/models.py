"""The four published variants as compositions of the same pieces.

- A: :class:`TIModel` - the smooth TI model with one parameter set.
- B: :class:`GRUModel` - the per-cell GRU baseline.
- C: :class:`GlaUnTIModel` with ``use_facies=False`` - A's TI corrected by the CNN.
- D: :class:`GlaUnTIModel` with ``use_facies=True`` - C with facies maps as CNN input.

Every model offers ``initial_state(cells)``,
``run_year(year, state, carried, daily, window, correction_delta)`` and
``run_cells(temperature, precipitation, plan, state, carried, corrections, ...)``. ``run_cells``
is the one implementation of a model year given its corrections: ``run_year`` runs it on a
grid (after computing the corrections there, for C and D), and it runs alone on any other
set of cells, e.g. flowline points that receive the grid's corrections.
:func:`oggm_glaunti.core.sequence.run_years` chains grid years for all of them,
:func:`~oggm_glaunti.core.sequence.run_cell_years` chains years on cells.
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
from .parameters import TIParameters, TIValues
from .plan import DayPlan
from .ti import melt_temperature, run_ti, run_ti_sensitivities, solid_fraction

VARIANTS = ("A", "B", "C", "D")

#: (row0, col0, n_rows, n_cols): the part of a grid the corrector sees (see
#: :meth:`GlaUnTIModel.corrections_from`).
Window = tuple


class ClimateSeries(NamedTuple):
    """The daily climate a model year ran on, as the model sees it: each ``(n_steps, *cells)``
    along the year's plan, unweighted (inactive steps repeat a day). What OGGM's
    hydrological output asks of a mass-balance model besides the SMB.

    Attributes
    ----------
    temperature : degC.
    melt_temperature : degC, the positive temperature melt scales with (A/C/D: the smooth
        positive temperature with the melt shift d5; B: max(T, 0)).
    precipitation : total precipitation after the model's precipitation factor, m w.e. per day.
    solid_precipitation : its solid part (A/C/D: the model's snow fraction; B: where
        T < 0 degC), m w.e. per day.
    """

    temperature: Array
    melt_temperature: Array
    precipitation: Array
    solid_precipitation: Array


class YearResult(NamedTuple):
    """One year's outputs (a leading year axis is added by ``run_years``).

    Attributes
    ----------
    period_smb : ``(2, *cells)`` SMB of each period, m w.e. (annual: the second is zero).
    daily : ``(n_steps, *cells)`` weighted daily SMB along the year's plan, or None.
    final_state : SWE ``(*cells)`` for A/C/D, hidden state ``(*cells, 16)`` for B.
    corrections : ``(5, *cells)`` d1..d5 for C/D, else None.
    sensitivities : ``(3, *cells)`` corrector channels 1-3 for C/D, else None.
    climate : the year's :class:`ClimateSeries` when asked for (``run_cells``), else None.
    """

    period_smb: Array
    daily: Optional[Array]
    final_state: Array
    corrections: Optional[Array] = None
    sensitivities: Optional[Array] = None
    climate: Optional[ClimateSeries] = None


def _ti_year(values: TIValues, temperature: Array, precipitation: Array, plan: DayPlan, state: Array,
             daily: bool, climate: bool, corrections: Optional[Array] = None) -> YearResult:
    """The TI model's year with constrained ``values`` (already corrected for C/D)."""
    res = run_ti(values, temperature, precipitation, plan, state, daily)
    series = None
    if climate:
        t, p = temperature[plan.day_index], precipitation[plan.day_index]
        # c_p applies to rain and snow alike: OGGM's hydro output takes liquid = prcp - prcpsol
        series = ClimateSeries(t, melt_temperature(values, t), values.prec_scale * p,
                               values.prec_scale * (p * solid_fraction(values, t)))
    return YearResult(res.period_smb, res.daily, res.final_state, corrections, climate=series)


def _no_corrections(variant: str, corrections: Optional[Array], name: str = "corrections") -> None:
    if corrections is not None:
        raise ValueError(f"{name} given, but variant {variant} has no corrector; pass {name}=None")


class TIModel(eqx.Module):
    """Variant A: the smooth TI model with scalar parameters."""

    ti: TIParameters

    @property
    def variant(self) -> str:
        return "A"

    def initial_state(self, cells: tuple[int, ...]) -> Array:
        """SWE equal to the snow-depletion centre S_c in every cell (Maslov et al., egusphere-2026-515)."""
        return jnp.full(cells, self.ti.constrained().snow_depletion_centre, jnp.float32)

    def run_year(self, year: YearForcing, state: Array, carried=True, daily: bool = False,
                 window: Optional[Window] = None, correction_delta: Optional[Array] = None) -> YearResult:
        """One year; ``window`` (the corrector's, see :class:`GlaUnTIModel`) changes nothing
        for a cell-local model; ``correction_delta`` must be None (no corrector)."""
        _no_corrections(self.variant, correction_delta, "correction_delta")
        return self.run_cells(year.temperature, year.precipitation, year.plan, state, carried, daily=daily)

    def run_cells(self, temperature: Array, precipitation: Array, plan: DayPlan, state: Array, carried=True,
                  corrections: Optional[Array] = None, daily: bool = False, climate: bool = False) -> YearResult:
        """The model's year on any cells (a grid, or flowline points).

        Parameters
        ----------
        temperature, precipitation : ``(n_days, *cells)`` degC and m w.e. per day.
        plan : the year's :class:`~oggm_glaunti.core.plan.DayPlan`.
        state : the SWE entering the year, ``(*cells)``.
        carried : unused by the TI model (see :class:`GRUModel`).
        corrections : must be None (variant A has no corrector).
        daily, climate : also return the daily SMB and the daily :class:`ClimateSeries`.
        """
        _no_corrections(self.variant, corrections)
        return _ti_year(self.ti.constrained(), temperature, precipitation, plan, state, daily, climate)


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
                 window: Optional[Window] = None, correction_delta: Optional[Array] = None) -> YearResult:
        """One year on the grid: the corrector's fields from the year's own forcing and
        ``state``, then the corrected TI run.

        Parameters
        ----------
        year : the year's :class:`~oggm_glaunti.core.forcing.YearForcing` on an (H, W) grid.
        state : the SWE entering the year, (H, W), m w.e.
        carried : unused (see :class:`GRUModel`).
        daily : also return the daily SMB.
        window : restricts the corrector to part of the grid, see :meth:`corrections_from`.
        correction_delta : (5, H, W) float32 or None
            added to the corrector's fields d1..d5 before the TI run, in their own units
            (d1..d3: log factors, d4 and d5: degC); the differentiable tools' change of a
            field in a cell. The corrector's own output does not see it. None (default): no
            change, and nothing is added.

        Returns
        -------
        :class:`YearResult` whose ``corrections`` are the fields the TI run used (with
        ``correction_delta``) and ``sensitivities`` the corrector's channels 1-3.
        """
        corrections, sens = self.corrections(year, state, window)
        if correction_delta is not None:
            corrections = corrections + correction_delta
        res = self.run_corrected(year, state, corrections, daily)
        return res._replace(sensitivities=sens)

    def run_corrected(self, year: YearForcing, state: Array, corrections: Array, daily: bool = False) -> YearResult:
        """Run the TI model with given corrections (e.g. another year's, for a year cut
        short by the end of the record, too short for the corrector's inputs)."""
        return self.run_cells(year.temperature, year.precipitation, year.plan, state, True, corrections, daily)

    def run_cells(self, temperature: Array, precipitation: Array, plan: DayPlan, state: Array, carried=True,
                  corrections: Optional[Array] = None, daily: bool = False, climate: bool = False) -> YearResult:
        """The model's year on any cells given the corrector's fields, which are carried
        in, not computed: on the grid from :meth:`corrections`, on flowline points from the
        grid's. Arguments as :meth:`TIModel.run_cells`; ``corrections`` ``(5, *cells)`` d1..d5
        is required.
        """
        if corrections is None:
            raise ValueError(
                f"variant {self.variant}'s year on cells needs the corrector's fields d1..d5: pass "
                "corrections (5, *cells), e.g. from GlaUnTIModel.corrections on the glacier's grid"
            )
        values = self.ti.constrained().corrected(corrections)
        return _ti_year(values, temperature, precipitation, plan, state, daily, climate, corrections)


class GRUModel(eqx.Module):
    """Variant B: the purely data-driven per-cell GRU."""

    gru: GRUBaseline

    @property
    def variant(self) -> str:
        return "B"

    def initial_state(self, cells: tuple[int, ...]) -> Array:
        return self.gru.initial_state(cells)

    def run_year(self, year: YearForcing, state: Array, carried=True, daily: bool = False,
                 window: Optional[Window] = None, correction_delta: Optional[Array] = None) -> YearResult:
        """One year; ``window`` changes nothing for the cell-local GRU; ``correction_delta``
        must be None (no corrector)."""
        _no_corrections(self.variant, correction_delta, "correction_delta")
        return self.run_cells(year.temperature, year.precipitation, year.plan, state, carried, daily=daily)

    def run_cells(self, temperature: Array, precipitation: Array, plan: DayPlan, state: Array, carried=True,
                  corrections: Optional[Array] = None, daily: bool = False, climate: bool = False) -> YearResult:
        """The GRU's year on any cells; ``state`` is the hidden state ``(*cells, 16)`` and
        ``carried`` tells that it comes from a previous period (see
        :meth:`~oggm_glaunti.core.gru.GRUBaseline.run`). ``corrections`` must be None; the
        rest as :meth:`TIModel.run_cells`. The GRU has no snow model: its climate series
        takes max(T, 0) as melt temperature and the precipitation below 0 degC as solid.
        """
        _no_corrections(self.variant, corrections)
        res = self.gru.run(temperature, precipitation, plan, state, carried, daily)
        series = None
        if climate:
            t, p = temperature[plan.day_index], precipitation[plan.day_index]
            series = ClimateSeries(t, jnp.maximum(t, 0.0), p, p * (t < 0))
        return YearResult(res.period_smb, res.daily, res.final_state, climate=series)


Model = TIModel | GlaUnTIModel | GRUModel
