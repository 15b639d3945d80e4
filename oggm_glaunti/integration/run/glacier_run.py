"""One glacier's GlaUnTI run: its inputs, the state rule, and its years.

:class:`GlacierRun` is the only place that runs a glacier's years on its model grid, each
through the year function of :mod:`.glacier_year`. The MB model, ``glaunti_calibrate``
(which runs :func:`~.glacier_year.run_glacier_year` over :meth:`GlacierRun.runs_for`,
traced in the adjustments), the gridded output and the regional calibration all ask it for
years, so they agree to float32 round-off.

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

Flowline points (:mod:`.flowline_run`) take their state from this rule, through the
grid: a calendar year's run at the points starts at the hydrological year that opens it,
from the grid's state entering that year (band means at the points' heights), and carries
the points' own state into the next hydrological year, whose corrections are the grid's.
So a point's state, too, depends only on the year and the parameters. With ``start_month
= 1`` the calendar year is the hydrological year and the points start from the grid's
state every year; otherwise hydrological year y's first months (in calendar year y) run
on from the state the points carried through y - 1, and its last months (in calendar
year y + 1) from the grid's state entering y.

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

from ...core import MAX_DAYS_PER_YEAR, year_forcing
from ...core.inputs import FACIES_PLACEHOLDER, N_FACIES_CHANNELS
from ...core.models import GlaUnTIModel, Model
from ...core.validation import check_year_inputs
from ...hydro_calendar import HydroCalendar, first_of_month_after
from ..grid.glacier_data import DailyClimate, ModelGrid
from ..grid.resolution import check_corrector_dx
from .glacier_year import Adjustments, GridArrays, ReferenceYears, adjusted_model, run_compiled_year
from .grid_cache import GRID_SEGMENTS, fingerprint


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
    calendar : the glacier's hydrological years and seasons (its hemisphere's;
        :func:`~oggm_glaunti.integration.grid.glacier_data.glacier_calendar`).
    lapse_rate : degC m-1.
    spinup_years, segment_years : the state rule.
    cache_mb : bound of the process-wide cache of grid results (0: no caching).
    """

    def __init__(self, model: Model, climate: DailyClimate, grid: ModelGrid, *, calendar: HydroCalendar,
                 lapse_rate: float, spinup_years: int, segment_years: int, cache_mb: float = 1024):
        if isinstance(model, GlaUnTIModel):
            check_corrector_dx(grid.dx, grid.path)
        self.model = model
        self.climate = climate
        self.grid = grid
        self.calendar = calendar
        self.lapse_rate = float(lapse_rate)
        self.spinup_years = int(spinup_years)
        self.segment_years = int(segment_years)
        if self.spinup_years < 0 or self.segment_years < 1:
            raise ValueError(f"need spinup_years >= 0 and segment_years >= 1; got {spinup_years}, {segment_years}")
        self.cache_bytes = int(float(cache_mb) * 2**20)
        self._models: dict = {}
        full = calendar.full_years(climate.dates[0], climate.dates[-1])
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
        if self.start_month != 1 and climate.dates[-1] >= self._calendar_year_end(full[-1] + 1):
            self.partial_year = int(full[-1] + 1)
        self.years = np.append(full, [] if self.partial_year is None else [self.partial_year]).astype(int)
        window = grid.window if grid.window is not None else (0, 0) + tuple(grid.shape)
        #: the glacier's own grid inside the model grid, (n_rows, n_cols): the corrector's
        self.window_size = (int(window[2]), int(window[3]))
        self.arrays = self.arrays_for(grid.outline, grid.elevation, grid.facies)
        static = self.arrays.static
        no_forcing = np.zeros((1,) + grid.shape, np.float32)
        check_year_inputs(no_forcing, no_forcing, *static)
        self._identity = fingerprint(
            *jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array)), model.variant,
            climate.dates.astype(np.int64), climate.temperature, climate.precipitation, climate.ref_hgt,
            *static, window, self.calendar.start_month, self.lapse_rate, self.spinup_years, self.segment_years,
        )

    @property
    def start_month(self) -> int:
        """First month of the hydrological year."""
        return self.calendar.start_month

    @property
    def full_years(self) -> np.ndarray:
        """The hydrological years the daily climate holds in full (``years`` without the
        partial final year): what calibration, skill and gridded output can use."""
        return self.years[self.years != self.partial_year] if self.partial_year is not None else self.years

    def _calendar_year_end(self, year: int) -> np.datetime64:
        """31 December inside hydrological year ``year`` (which begins before 1 January)."""
        return first_of_month_after(self.calendar.begin(year), 1) - np.timedelta64(1, "D")

    # --- inputs -----------------------------------------------------------------------
    def offset(self, elevation: np.ndarray) -> np.ndarray:
        """The temperature offset (degC, float32) from the reference height to
        ``elevation`` (m): the lapse rate's part of
        :func:`~.glacier_year.adjusted_forcing`, for the grid's cells and flowline points."""
        return (self.lapse_rate * (elevation - self.climate.ref_hgt)).astype(np.float32)

    def arrays_for(self, outline: np.ndarray, elevation: np.ndarray, facies: np.ndarray | None) -> GridArrays:
        """The year's grid arrays for a glacier of this outline, surface elevation and facies
        (None: no facies map) on the model grid: the lapse-rate offset follows the surface;
        ``elevation_std`` is the grid's (the evolving geometry of :mod:`.geometry` passes
        its own outline and surface)."""
        grid = self.grid
        offset = self.offset(elevation)
        if facies is None:
            facies = np.full((N_FACIES_CHANNELS,) + grid.shape, FACIES_PLACEHOLDER, np.float32)
        static = tuple(np.asarray(a, np.float32) for a in (outline, elevation, grid.elevation_std, facies))
        window = grid.window if grid.window is not None else (0, 0) + tuple(grid.shape)
        return GridArrays(offset, static, np.asarray(window[:2], np.int32))

    def model_for(self, adj: Adjustments) -> Model:
        """The model under the adjustments' ``melt_f`` (memoised: building it costs)."""
        if adj.melt_f not in self._models:
            self._models[adj.melt_f] = adjusted_model(self.model, adj.melt_f)
        return self._models[adj.melt_f]

    def window(self, year: int) -> YearWindow:
        """Where hydrological year ``year`` sits in the daily record."""
        begin = self.calendar.begin(year)
        if year == self.partial_year:
            n_days = int((self._calendar_year_end(year) - begin).astype(int)) + 1
            return YearWindow(self.climate.index_of(begin), n_days, None, begin, open_end=True)
        n_days = self.calendar.n_days(year)
        split = None
        if self.start_month != 1:
            split = int((first_of_month_after(begin, 1) - begin).astype(int))
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
        members = [y for y in range(anchor, anchor + self.segment_years) if y in self.full_years]
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
        res = run_compiled_year(self.model_for(adj), self.reference_years([year]).at(0), out.start_state,
                                segment.sequence.index(year, segment.n_spinup) > 0, *self._adj_arrays(adj),
                                self.arrays, self.window_size, True, out.corrections)
        return out, np.asarray(res[3])

    def calendar_smb(self, year: int, adj: Adjustments) -> np.ndarray:
        """Grid SMB (H, W) of calendar year ``year`` in m w.e."""
        first, *second = self.calendar.overlapping(year)  # [Y - 1, Y]; [Y] for years starting in January
        if not second:
            return self.year(first, adj).period_smb[0]
        return self.year(first, adj).period_smb[1] + self.year(second[0], adj).period_smb[0]

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
            final, corrections, period, days = run_compiled_year(model, ref.at(k), state, slot > 0, bias, fac,
                                                                 self.arrays, self.window_size, daily)
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
        res = run_compiled_year(self.model_for(adj), self.reference_years([self.partial_year]).at(0),
                                segment.state, True, *self._adj_arrays(adj), self.arrays, self.window_size,
                                daily, previous.corrections)
        out = YearOutputs(np.asarray(segment.state), previous.corrections, np.asarray(res[2]))
        segment.outputs[self.partial_year] = out
        return out, (None if res[3] is None else np.asarray(res[3]))
