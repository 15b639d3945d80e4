"""GlaUnTI on its model grid, hydrological year by hydrological year, deterministically.

State rule
----------
Hydrological years are grouped in fixed segments of ``segment_years`` (anchored at
multiples of ``segment_years``, e.g. 1950-1959). Each segment starts from a fresh state
(SWE = S_c) ``spinup_years`` before its first year (the published protocol's 5-year
spin-up; where the record starts later, its first year is repeated) and carries the state
through its years. The state entering any year therefore depends only on the year and the
parameters - never on which years were asked for before - while within a segment it is
carried exactly.

A segment runs year by year through one compiled year function (compiled once per model
and grid shape; the forcing is built inside it from reference-height series). Its
results are cached process-wide (:mod:`.grid_cache`) under a fingerprint of the weights,
the climate, the grid, the adjustments and the state rule, so new MB model instances on
the same glacier reuse them.

Each hydrological year is split into two periods at 1 January (unless it starts then), so
calendar-year SMB is the second period of one hydrological year plus the first of the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..core import MAX_DAYS_PER_YEAR, DayPlan, TIModel, GlaUnTIModel, YearForcing, run_year, year_forcing
from ..core.inputs import FACIES_PLACEHOLDER, N_FACIES_CHANNELS
from ..core.models import Model
from ..core.validation import check_year_inputs
from .glacier_data import DailyClimate, ModelGrid, hydro_year_begin, hydro_years_covered
from .grid_cache import GRID_SEGMENTS, fingerprint


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
    if not melt_f > 0:
        raise ValueError(f"melt_f must be positive (mm w.e. degC-1 day-1); got {melt_f}")
    return eqx.tree_at(lambda m: m.ti.ddf_snow_log, model, jnp.float32(math.log(melt_f / 1000.0)))


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

    ``open_end``: the record ends before the year does (see :class:`GridRun`).
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
        degC and m w.e. per day.
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
        """Year ``i``'s (temperature, precipitation, plan, membership): :func:`grid_year`'s inputs."""
        return (self.temperature[i], self.precipitation[i],
                jax.tree_util.tree_map(lambda a: a[i], self.plan), self.membership[i])


def grid_year(temperature, precipitation, plan, membership, offset, static) -> YearForcing:
    """One year's forcing on the grid from reference-height series: the temperature
    follows each cell's elevation through ``offset`` (degC), precipitation is uniform."""
    t = jnp.asarray(temperature)[:, None, None] + offset
    p = jnp.broadcast_to(jnp.asarray(precipitation)[:, None, None], t.shape)
    return YearForcing(t, p, plan, membership, *static)


@eqx.filter_jit
def _run_grid_year(model, x, state, carried, offset, static):
    """One hydrological year on the grid from its reference-height series ``x``.

    ``carried`` is a traced bool (GRU: the state comes from a previous year), so a fresh
    start and a carried year share one compilation. Returns the state after the year,
    the corrections (or None) and the period SMB.
    """
    res = model.run_year(grid_year(*x, offset, static), state, carried)
    return res.final_state, res.corrections, res.period_smb


class GridRun:
    """Runs and caches a variant on a glacier's model grid (see the module docstring).

    ``cache_mb`` bounds the process-wide cache of grid results (0: no caching).
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
        self.offset = (self.lapse_rate * (grid.elevation - climate.ref_hgt)).astype(np.float32)
        facies = grid.facies if grid.facies is not None else np.full(
            (N_FACIES_CHANNELS,) + grid.shape, FACIES_PLACEHOLDER, np.float32)
        self.static = tuple(np.asarray(a, np.float32) for a in
                            (grid.outline, grid.elevation, grid.elevation_std, facies))
        no_forcing = np.zeros((1,) + grid.shape, np.float32)
        check_year_inputs(no_forcing, no_forcing, *self.static)
        self._identity = fingerprint(
            *jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array)), model.variant,
            climate.dates.astype(np.int64), climate.temperature, climate.precipitation, climate.ref_hgt,
            *self.static, self.start_month, self.lapse_rate, self.spinup_years, self.segment_years,
        )

    def model_for(self, adj: Adjustments) -> Model:
        """The model under the adjustments' ``melt_f`` (memoised: building it costs)."""
        if adj.melt_f not in self._models:
            self._models[adj.melt_f] = adjusted_model(self.model, adj.melt_f)
        return self._models[adj.melt_f]

    def window(self, year: int) -> YearWindow:
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

    def climate_window(self, year: int, adj: Adjustments):
        """(temperature at ref_hgt + bias, precipitation * factor), daily, for the year."""
        w = self.window(year)
        sl = slice(w.first_index, w.first_index + w.n_days)
        return self.climate.temperature[sl] + adj.temp_bias, self.climate.precipitation[sl] * adj.prcp_fac

    def reference_years(self, years, adj: Adjustments, split_of=None) -> ReferenceYears:
        """The climate of ``years`` at the reference height, stacked (see :class:`ReferenceYears`).

        ``split_of(year, window)`` gives each year's midseason day (default: 1 January).
        """
        parts = []
        for y in years:
            w = self.window(y)
            t, p = self.climate_window(y, adj)
            split = w.split if split_of is None else split_of(y, w)
            one = year_forcing(t[:, None], p[:, None], w.begin, split=split, n_days=MAX_DAYS_PER_YEAR,
                               open_end=w.open_end)
            parts.append((one.temperature[:, 0], one.precipitation[:, 0], one.plan, one.month_membership, w.begin))
        t, p, plans, membership, begin = zip(*parts)
        return ReferenceYears(np.stack(t), np.stack(p), jax.tree_util.tree_map(lambda *a: np.stack(a), *plans),
                              np.stack(membership), np.array(begin))

    def forcing(self, year: int, adj: Adjustments) -> YearForcing:
        """Year ``year`` on the grid, exactly as the segment runs build it."""
        ref = self.reference_years([year], adj)
        return grid_year(*ref.at(0), self.offset, self.static)

    def year(self, year: int, adj: Adjustments) -> YearOutputs:
        """Outputs of hydrological year ``year`` under the adjustments (cached)."""
        self.check_year(year)
        anchor = (year // self.segment_years) * self.segment_years
        key = (self._identity, adj, anchor)
        segment = GRID_SEGMENTS.get_or_compute(key, lambda: self._run_segment(anchor, adj), self.cache_bytes)
        return segment[year]

    def _run_segment(self, anchor: int, adj: Adjustments) -> dict[int, YearOutputs]:
        model = self.model_for(adj)
        members = [y for y in range(anchor, anchor + self.segment_years) if y in self.years]
        spinup = [y for y in range(members[0] - self.spinup_years, members[0]) if y in self.years]
        spinup = [members[0]] * (self.spinup_years - len(spinup)) + spinup
        full = [y for y in members if y != self.partial_year]
        ran = spinup + full
        ref = self.reference_years(ran, adj)
        # A Python loop over one compiled year, not a scan over the segment's years: XLA
        # on CPU ran the year's daily scans 1.3x slower nested in an outer loop.
        state = model.initial_state(self.grid.shape)
        ran_outputs = []
        for slot in range(len(ran)):
            final, corrections, period = _run_grid_year(model, ref.at(slot), state, jnp.asarray(slot > 0),
                                                        self.offset, self.static)
            ran_outputs.append((state, corrections, period))
            state = final
        # Converted once at the end, so that the years' dispatches are not serialised.
        ran_outputs = [YearOutputs(*(None if a is None else np.asarray(a) for a in out)) for out in ran_outputs]
        outputs = {y: out for y, out in zip(ran[len(spinup):], ran_outputs[len(spinup):])}
        if self.partial_year in members:
            reuse = ran_outputs[-1].corrections if ran_outputs else None
            res = run_year(model, self.forcing(self.partial_year, adj), state=state, corrections=reuse)
            outputs[self.partial_year] = YearOutputs(np.asarray(state), reuse, np.asarray(res.period_smb))
        return outputs

    def calendar_smb(self, year: int, adj: Adjustments) -> np.ndarray:
        """Grid SMB (H, W) of calendar year ``year`` in m w.e."""
        if self.start_month == 1:
            return self.year(year, adj).period_smb[0]
        return self.year(year - 1, adj).period_smb[1] + self.year(year, adj).period_smb[0]

    def glacier_mean(self, field: np.ndarray) -> float:
        o = self.grid.outline
        return float((field * o).sum() / o.sum())
