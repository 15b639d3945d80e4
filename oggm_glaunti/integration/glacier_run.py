"""One glacier's GlaUnTI run: its inputs, the state rule, the forcing, and its years.

:class:`GlacierRun` is the only place that runs a year of the model on a glacier's model
grid. The MB model, ``glaunti_calibrate`` (through :func:`run_glacier_year`, traced in the
adjustments), the gridded output and the regional calibration all ask it for years, so
they agree to float32 round-off.

The year
--------
:func:`run_glacier_year` builds a year's forcing on the grid from the daily series at the
climate's reference height - the temperature plus ``temp_bias`` follows each cell's
elevation with the lapse rate, the precipitation times ``prcp_fac`` is uniform - and runs
the core's year (:meth:`~oggm_glaunti.core.models.GlaUnTIModel.run_year`). The corrector
sees only the glacier's own grid (``ModelGrid.window``: the layout before size bucketing),
so a glacier's SMB does not depend on the bucket its grid falls in; the TI runs, which are
cell-local, run on the whole bucketed grid and share compiled code across its glaciers.

Each hydrological year is split into two periods at 1 January (unless it starts then), so
calendar-year SMB is the second period of one hydrological year plus the first of the next.

State rule
----------
Hydrological years are grouped in fixed segments of ``segment_years`` (default 30),
anchored at multiples of ``segment_years`` (1950-1979, 1980-2009, ...). A segment's run
starts from a fresh state (SWE = S_c) ``spinup_years`` (5) before its first year - the
published protocol: a 5-year spin-up, then the state carried year to year (the published
runs carried it 30 years, 1995-2024) - and carries the state through its years. Where the
record starts later, its first year is repeated as spin-up. The state entering a year
therefore depends only on the year and the parameters, never on which years were asked
for before.

A segment is run lazily, only as far as the latest year asked, and each year's entering
state and outputs are kept, so every year of a segment is computed once. Segments are
cached process-wide (:mod:`.grid_cache`) under a fingerprint of the weights, the climate,
the grid, the adjustments and the state rule, so new MB model instances on the same
glacier reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..core import MAX_DAYS_PER_YEAR, DayPlan, GlaUnTIModel, TIModel, YearForcing, YearResult, year_forcing
from ..core.inputs import FACIES_PLACEHOLDER, N_FACIES_CHANNELS
from ..core.models import Model
from ..core.validation import check_year_inputs
from .glacier_data import DailyClimate, ModelGrid, hydro_year_begin, hydro_years_covered
from .grid_cache import GRID_SEGMENTS, fingerprint
from .units import melt_f_to_ddf_snow_log


@dataclass(frozen=True)
class Adjustments:
    """Calibration knobs on top of a variant: forcing offsets and the snow DDF.

    Attributes
    ----------
    temp_bias : float
        degC added to the daily temperature.
    prcp_fac : float
        factor on the daily precipitation (on top of the variant's own c_p).
    melt_f : float or None
        snow degree-day factor DDF_s in mm w.e. degC-1 day-1 (OGGM's unit), or None for
        the variant's own (4.96 for the published A/C/D). Ignored by variant B.
    """

    temp_bias: float = 0.0
    prcp_fac: float = 1.0
    melt_f: float | None = None


def adjusted_model(model: Model, melt_f: float | None) -> Model:
    """The model with its snow DDF set to ``melt_f`` (mm w.e. degC-1 day-1) if given."""
    if melt_f is None or not isinstance(model, (TIModel, GlaUnTIModel)):
        return model
    return eqx.tree_at(lambda m: m.ti.ddf_snow_log, model, jnp.float32(melt_f_to_ddf_snow_log(melt_f)))


class YearOutputs(NamedTuple):
    """One hydrological year on the grid (NumPy).

    start_state : state entering the year (SWE (H, W), or GRU hidden state (H, W, 16)).
    corrections : (5, H, W) or None (A, B).
    period_smb : (2, H, W) m w.e., split at 1 January (second zero if none).
    """

    start_state: np.ndarray
    corrections: np.ndarray | None
    period_smb: np.ndarray


class YearWindow(NamedTuple):
    """Where a hydrological year sits in the daily record.

    ``open_end``: the record ends before the year does (see :class:`GlacierRun`).
    """

    first_index: int
    n_days: int
    split: int | None
    begin: np.datetime64
    open_end: bool = False


class ReferenceYears(NamedTuple):
    """Years of climate at the reference height, padded to a common length and stacked.

    Attributes
    ----------
    temperature, precipitation : (n_years, MAX_DAYS_PER_YEAR) float32
        degC and m w.e. per day, without adjustments.
    plan : DayPlan
        the years' day plans, stacked.
    membership : (n_years, MAX_DAYS_PER_YEAR, n_months)
        one-hot calendar month of each day.
    begin : (n_years,) datetime64
        first date of each year.
    """

    temperature: np.ndarray
    precipitation: np.ndarray
    plan: DayPlan
    membership: np.ndarray
    begin: np.ndarray

    def at(self, i: int) -> tuple:
        """Year ``i``'s (temperature, precipitation, plan, membership): the ``reference``
        of :func:`run_glacier_year`."""
        return (self.temperature[i], self.precipitation[i],
                jax.tree_util.tree_map(lambda a: a[i], self.plan), self.membership[i])

    def step_dates(self) -> np.ndarray:
        """(n_years, n_steps) the date of each step."""
        return self.begin[:, None].astype("datetime64[D]") + np.asarray(self.plan.day_index)


class GridArrays(NamedTuple):
    """What a year needs of the model grid, as arrays.

    offset : (H, W) degC, lapse rate times (cell elevation - reference height).
    static : (outline, elevation, elevation_std, facies), the corrector's static inputs.
    window_origin : (2,) int32, the first row and column of the glacier's own grid.
    """

    offset: np.ndarray
    static: tuple
    window_origin: np.ndarray


def grid_forcing(reference, temp_bias, prcp_fac, grid: GridArrays) -> YearForcing:
    """One year's forcing on the grid from reference-height series (traceable in the
    adjustments): the temperature plus ``temp_bias`` follows each cell's elevation through
    ``grid.offset``, the precipitation times ``prcp_fac`` is uniform."""
    temperature, precipitation, plan, membership = reference
    t = (jnp.asarray(temperature) + temp_bias)[:, None, None] + grid.offset
    p = jnp.broadcast_to((jnp.asarray(precipitation) * prcp_fac)[:, None, None], t.shape)
    return YearForcing(t, p, plan, membership, *grid.static)


def _window(grid: GridArrays, size: tuple[int, int] | None):
    return None if size is None else (grid.window_origin[0], grid.window_origin[1], *size)


def run_glacier_year(model: Model, reference, state, carried, temp_bias, prcp_fac, grid: GridArrays,
                     window_size: tuple[int, int] | None, daily: bool = False) -> YearResult:
    """The model's year on a glacier's grid: :func:`grid_forcing`, then the core's year,
    the corrector restricted to the glacier's own grid (``window_size`` at
    ``grid.window_origin``). Traceable in every array argument."""
    year = grid_forcing(reference, temp_bias, prcp_fac, grid)
    return model.run_year(year, state, carried, daily, window=_window(grid, window_size))


# The MB model's driver runs the same year in compiled pieces, so that glaciers of one
# grid bucket share the TI runs whatever their own grid: only the corrector is compiled
# per window size. (Not a scan over years: XLA on CPU ran the daily scans 1.3x slower
# nested in an outer loop.)
@eqx.filter_jit
def _whole_year(model, reference, state, carried, temp_bias, prcp_fac, grid, daily):
    res = run_glacier_year(model, reference, state, carried, temp_bias, prcp_fac, grid, None, daily)
    return res.final_state, res.corrections, res.period_smb, res.daily


@eqx.filter_jit
def _sensitivities(model, reference, state, temp_bias, prcp_fac, grid):
    return model.sensitivities(grid_forcing(reference, temp_bias, prcp_fac, grid), state)


@eqx.filter_jit
def _corrections(model, reference, sens, temp_bias, prcp_fac, grid, window_size):
    year = grid_forcing(reference, temp_bias, prcp_fac, grid)
    return model.corrections_from(year, sens, _window(grid, window_size))


@eqx.filter_jit
def _corrected(model, reference, state, corrections, temp_bias, prcp_fac, grid, daily):
    res = model.run_corrected(grid_forcing(reference, temp_bias, prcp_fac, grid), state, corrections, daily)
    return res.final_state, res.corrections, res.period_smb, res.daily


@dataclass
class _Segment:
    """A segment's run so far: the years to run (spin-up first), the state entering the
    next one, and the outputs of the years run."""

    sequence: list
    n_spinup: int
    state: object = None
    done: int = 0
    outputs: dict = field(default_factory=dict)
    nbytes: int = 0
    last_daily: object = None


class GlacierRun:
    """A variant on a glacier's model grid, year by year, under the state rule (see the
    module docstring).

    Parameters
    ----------
    model : the variant's model.
    climate : the daily climate at the reference height.
    grid : the model grid.
    start_month : first month of the hydrological year.
    lapse_rate : degC m-1.
    spinup_years, segment_years : the state rule.
    cache_mb : bound of the process-wide cache of grid results (0: no caching).
    """

    def __init__(self, model: Model, climate: DailyClimate, grid: ModelGrid, *, start_month: int,
                 lapse_rate: float, spinup_years: int, segment_years: int, cache_mb: float = 1024):
        self.model = model
        self.climate = climate
        self.grid = grid
        self.start_month = int(start_month)
        self.lapse_rate = float(lapse_rate)
        self.spinup_years = int(spinup_years)
        self.segment_years = int(segment_years)
        if self.spinup_years < 0 or self.segment_years < 1:
            raise ValueError(f"need spinup_years >= 0 and segment_years >= 1; got {spinup_years}, {segment_years}")
        self.cache_bytes = int(float(cache_mb) * 2**20)
        self._models: dict = {}
        full = hydro_years_covered(climate, self.start_month)
        if len(full) == 0:
            raise ValueError(
                f"the daily climate ({climate.dates[0]} to {climate.dates[-1]}) covers no full "
                f"hydrological year starting in month {self.start_month}"
            )
        # A record ending on 31 December after the last full hydrological year (e.g. a
        # monthly file ending in December) leaves that year's first months: keep them so
        # that the last calendar year is complete. They run with the previous year's
        # corrections: a few months are no valid corrector input.
        self.partial_year = None
        last_day = np.datetime64(f"{full[-1] + 1:04d}-12-31")
        if self.start_month != 1 and climate.dates[-1] >= last_day:
            self.partial_year = int(full[-1] + 1)
        self.years = np.append(full, [] if self.partial_year is None else [self.partial_year]).astype(int)
        offset = (self.lapse_rate * (grid.elevation - climate.ref_hgt)).astype(np.float32)
        facies = grid.facies if grid.facies is not None else np.full(
            (N_FACIES_CHANNELS,) + grid.shape, FACIES_PLACEHOLDER, np.float32)
        static = tuple(np.asarray(a, np.float32) for a in (grid.outline, grid.elevation, grid.elevation_std, facies))
        no_forcing = np.zeros((1,) + grid.shape, np.float32)
        check_year_inputs(no_forcing, no_forcing, *static)
        window = grid.window if grid.window is not None else (0, 0) + tuple(grid.shape)
        #: the glacier's own grid inside the model grid, (n_rows, n_cols): the corrector's
        self.window_size = (int(window[2]), int(window[3]))
        self.arrays = GridArrays(offset, static, np.asarray(window[:2], np.int32))
        self._identity = fingerprint(
            *jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array)), model.variant,
            climate.dates.astype(np.int64), climate.temperature, climate.precipitation, climate.ref_hgt,
            *static, window, self.start_month, self.lapse_rate, self.spinup_years, self.segment_years,
        )

    # --- inputs -----------------------------------------------------------------------
    def model_for(self, adj: Adjustments) -> Model:
        """The model under the adjustments' ``melt_f`` (memoised: building it costs)."""
        if adj.melt_f not in self._models:
            self._models[adj.melt_f] = adjusted_model(self.model, adj.melt_f)
        return self._models[adj.melt_f]

    def window(self, year: int) -> YearWindow:
        """Where hydrological year ``year`` sits in the daily record."""
        begin = hydro_year_begin(year, self.start_month)
        if year == self.partial_year:
            n_days = int((np.datetime64(f"{year:04d}-12-31") - begin).astype(int)) + 1
            return YearWindow(self.climate.index_of(begin), n_days, None, begin, open_end=True)
        end = hydro_year_begin(year + 1, self.start_month)
        n_days = int((end - begin).astype(int)) + 1
        split = None
        if self.start_month != 1:
            split = int((np.datetime64(f"{year + 1:04d}-01-01") - begin).astype(int))
        return YearWindow(self.climate.index_of(begin), n_days, split, begin)

    def check_year(self, year: int) -> None:
        if year not in self.years:
            raise ValueError(
                f"hydrological year {year}/{year + 1} is outside the daily climate "
                f"({self.climate.dates[0]} to {self.climate.dates[-1]}); available: "
                f"{self.years[0]}..{self.years[-1]}"
            )

    def reference_years(self, years) -> ReferenceYears:
        """The climate of ``years`` at the reference height, stacked (see :class:`ReferenceYears`)."""
        parts = []
        for y in years:
            w = self.window(y)
            sl = slice(w.first_index, w.first_index + w.n_days)
            one = year_forcing(self.climate.temperature[sl, None], self.climate.precipitation[sl, None], w.begin,
                               split=w.split, n_days=MAX_DAYS_PER_YEAR, open_end=w.open_end)
            parts.append((one.temperature[:, 0], one.precipitation[:, 0], one.plan, one.month_membership, w.begin))
        t, p, plans, membership, begin = zip(*parts)
        return ReferenceYears(np.stack(t), np.stack(p), jax.tree_util.tree_map(lambda *a: np.stack(a), *plans),
                              np.stack(membership), np.array(begin))

    # --- the state rule ---------------------------------------------------------------
    def segment_of(self, year: int) -> int:
        """First year of the segment holding hydrological year ``year``."""
        return (int(year) // self.segment_years) * self.segment_years

    def run_sequence(self, anchor: int) -> tuple[list[int], int]:
        """The hydrological years the segment ``anchor`` runs, in order (its spin-up
        first, then its full years), and the number of spin-up years."""
        members = [y for y in range(anchor, anchor + self.segment_years)
                   if y in self.years and y != self.partial_year]
        if not members:
            return [], 0
        spinup = [y for y in range(members[0] - self.spinup_years, members[0]) if y in self.years]
        spinup = [members[0]] * (self.spinup_years - len(spinup)) + spinup
        return spinup + members, len(spinup)

    def runs_for(self, years) -> list[tuple[int, bool, bool]]:
        """The runs that give ``years`` under the state rule, in order: (hydrological year,
        starts fresh, is the year's own run - not a spin-up). The years' segments, each
        run as far as its last year in ``years``: a calibration runs exactly these."""
        out = []
        for anchor in sorted({self.segment_of(y) for y in years}):
            sequence, n_spin = self.run_sequence(anchor)
            last = max(i for i, y in enumerate(sequence) if i >= n_spin and y in years)
            out += [(y, i == 0, i >= n_spin) for i, y in enumerate(sequence[:last + 1])]
        return out

    # --- years ------------------------------------------------------------------------
    def year(self, year: int, adj: Adjustments) -> YearOutputs:
        """Outputs of hydrological year ``year`` under the adjustments (cached)."""
        self.check_year(year)
        if year == self.partial_year:
            return self._partial(adj)[0]
        segment = self._segment(self.segment_of(year), adj)
        if year not in segment.outputs:
            self._advance(segment, adj, until=year)
        return segment.outputs[year]

    def daily(self, year: int, adj: Adjustments) -> tuple[YearOutputs, np.ndarray]:
        """Outputs and weighted daily SMB along the plan (n_steps, H, W) of hydrological
        year ``year``. A year not run before is run once, with daily output; a year run
        before is run again from its cached state and corrections (one TI run)."""
        self.check_year(year)
        if year == self.partial_year:
            return self._partial(adj, daily=True)
        segment = self._segment(self.segment_of(year), adj)
        if year not in segment.outputs:
            self._advance(segment, adj, until=year, daily_last=True)
            return segment.outputs[year], segment.last_daily
        out = segment.outputs[year]
        ref = self.reference_years([year]).at(0)
        model = self.model_for(adj)
        bias, fac = self._adj_arrays(adj)
        if out.corrections is not None:
            res = _corrected(model, ref, out.start_state, out.corrections, bias, fac, self.arrays, True)
        else:
            carried = jnp.asarray(segment.sequence.index(year, segment.n_spinup) > 0)
            res = _whole_year(model, ref, out.start_state, carried, bias, fac, self.arrays, True)
        return out, np.asarray(res[3])

    def calendar_smb(self, year: int, adj: Adjustments) -> np.ndarray:
        """Grid SMB (H, W) of calendar year ``year`` in m w.e."""
        if self.start_month == 1:
            return self.year(year, adj).period_smb[0]
        return self.year(year - 1, adj).period_smb[1] + self.year(year, adj).period_smb[0]

    def glacier_mean(self, field: np.ndarray) -> float:
        o = self.grid.outline
        return float((field * o).sum() / o.sum())

    # --- internals --------------------------------------------------------------------
    @staticmethod
    def _adj_arrays(adj: Adjustments):
        # arrays, not Python floats: traced, so new adjustments compile nothing
        return jnp.float32(adj.temp_bias), jnp.float32(adj.prcp_fac)

    def _segment(self, anchor: int, adj: Adjustments) -> _Segment:
        def fresh():
            sequence, n_spin = self.run_sequence(anchor)
            return _Segment(sequence, n_spin)

        return GRID_SEGMENTS.get_or_create((self._identity, adj, anchor), fresh, self.cache_bytes)

    def _run_one(self, model, ref, state, carried: bool, bias, fac, daily: bool):
        """One year through the compiled pieces: (final state, corrections, period SMB, daily)."""
        if not isinstance(model, GlaUnTIModel):
            return _whole_year(model, ref, state, jnp.asarray(carried), bias, fac, self.arrays, daily)
        sens = _sensitivities(model, ref, state, bias, fac, self.arrays)
        corrections = _corrections(model, ref, sens, bias, fac, self.arrays, self.window_size)
        return _corrected(model, ref, state, corrections, bias, fac, self.arrays, daily)

    def _advance(self, segment: _Segment, adj: Adjustments, until: int, daily_last: bool = False) -> None:
        """Run the segment on to hydrological year ``until`` (one of its full years)."""
        model = self.model_for(adj)
        bias, fac = self._adj_arrays(adj)
        stop = segment.sequence.index(until, segment.n_spinup) + 1
        slots = range(segment.done, stop)
        ref = self.reference_years([segment.sequence[i] for i in slots])
        state = segment.state if segment.done else model.initial_state(self.grid.shape)
        ran = []
        for k, slot in enumerate(slots):
            daily = daily_last and slot == stop - 1
            final, corrections, period, days = self._run_one(model, ref.at(k), state, slot > 0, bias, fac, daily)
            ran.append((slot, state, corrections, period))
            state = final
            if daily:
                segment.last_daily = np.asarray(days)
        # converted once at the end, so that the years' dispatches are not serialised
        for slot, start, corrections, period in ran:
            if slot >= segment.n_spinup:
                out = YearOutputs(*(None if a is None else np.asarray(a) for a in (start, corrections, period)))
                segment.outputs[segment.sequence[slot]] = out
                segment.nbytes += sum(a.nbytes for a in out if a is not None)
        segment.state, segment.done = state, stop
        GRID_SEGMENTS.resize((self._identity, adj, self.segment_of(until)), segment.nbytes, self.cache_bytes)

    def _partial(self, adj: Adjustments, daily: bool = False):
        """The partial final year: from the state after the last full year, with that
        year's corrections (a few months are no valid corrector input). Kept with the
        last full year's segment."""
        last = int(self.years[-2]) if len(self.years) > 1 else None
        if last is None:
            raise ValueError("the daily climate holds no full hydrological year before the partial one")
        segment = self._segment(self.segment_of(last), adj)
        if last not in segment.outputs:
            self._advance(segment, adj, until=last)
        # the record's last full year ends its segment: the segment's state follows it
        previous = segment.outputs[last]
        if self.partial_year in segment.outputs and not daily:
            return segment.outputs[self.partial_year], None
        model = self.model_for(adj)
        bias, fac = self._adj_arrays(adj)
        ref = self.reference_years([self.partial_year]).at(0)
        if previous.corrections is not None:
            res = _corrected(model, ref, segment.state, previous.corrections, bias, fac, self.arrays, daily)
        else:
            res = _whole_year(model, ref, segment.state, jnp.asarray(True), bias, fac, self.arrays, daily)
        out = YearOutputs(np.asarray(segment.state), previous.corrections, np.asarray(res[2]))
        segment.outputs[self.partial_year] = out
        return out, (None if res[3] is None else np.asarray(res[3]))
