"""GlaUnTI on its model grid, hydrological year by hydrological year, deterministically.

State rule
----------
Hydrological years are grouped in fixed segments of ``segment_years`` (anchored at
multiples of ``segment_years``, e.g. 1950-1959). Each segment starts from a fresh state
(SWE = S_c) ``spinup_years`` before its first year (the published protocol's 5-year
spin-up; where the record starts later, its first year is repeated) and carries the state
through its years. The state entering any year therefore depends only on the year and the
parameters - never on which years were asked for before - while within a segment it is
carried exactly. Results are cached per (parameters, segment).

Each hydrological year is split into two periods at 1 January (unless it starts then), so
calendar-year SMB is the second period of one hydrological year plus the first of the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..core import MAX_DAYS_PER_YEAR, TIModel, GlaUnTIModel, run_year, year_forcing
from ..core.models import Model
from .glacier_data import DailyClimate, ModelGrid, hydro_year_begin, hydro_years_covered


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


class GridRun:
    """Runs and caches a variant on a glacier's model grid (see the module docstring)."""

    def __init__(self, model: Model, climate: DailyClimate, grid: ModelGrid, *, start_month: int,
                 lapse_rate: float, spinup_years: int, segment_years: int):
        self.model = model
        self.climate = climate
        self.grid = grid
        self.start_month = int(start_month)
        self.lapse_rate = float(lapse_rate)
        self.spinup_years = int(spinup_years)
        self.segment_years = int(segment_years)
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
        self._cache: dict = {}

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

    def forcing(self, year: int, adj: Adjustments):
        w = self.window(year)
        t, p = self.climate_window(year, adj)
        offset = self.lapse_rate * (self.grid.elevation - self.climate.ref_hgt)
        temperature = (t[:, None, None] + offset[None]).astype(np.float32)
        precipitation = np.broadcast_to(p[:, None, None], (w.n_days,) + self.grid.shape).astype(np.float32)
        return year_forcing(
            temperature, precipitation, w.begin, split=w.split, outline=self.grid.outline,
            elevation=self.grid.elevation, elevation_std=self.grid.elevation_std,
            facies=self.grid.facies, n_days=MAX_DAYS_PER_YEAR, open_end=w.open_end,
        )

    def year(self, year: int, adj: Adjustments) -> YearOutputs:
        """Outputs of hydrological year ``year`` under the adjustments (cached)."""
        self.check_year(year)
        anchor = (year // self.segment_years) * self.segment_years
        key = (adj, anchor)
        if key not in self._cache:
            self._cache[key] = self._run_segment(anchor, adj)
        return self._cache[key][year]

    def _run_segment(self, anchor: int, adj: Adjustments) -> dict[int, YearOutputs]:
        model = adjusted_model(self.model, adj.melt_f)
        members = [y for y in range(anchor, anchor + self.segment_years) if y in self.years]
        spinup = [y for y in range(members[0] - self.spinup_years, members[0]) if y in self.years]
        spinup = [members[0]] * (self.spinup_years - len(spinup)) + spinup
        state, corrections = None, None
        for y in spinup:
            res = run_year(model, self.forcing(y, adj), state=state)
            state, corrections = res.final_state, res.corrections
        outputs = {}
        for y in members:
            forcing = self.forcing(y, adj)
            if state is None:
                state = model.initial_state(self.grid.shape)
            reuse = corrections if (y == self.partial_year and corrections is not None) else None
            res = run_year(model, forcing, state=state, corrections=reuse)
            corrections = res.corrections
            outputs[y] = YearOutputs(np.asarray(state), None if corrections is None else np.asarray(corrections),
                                     np.asarray(res.period_smb))
            state = res.final_state
        return outputs

    def calendar_smb(self, year: int, adj: Adjustments) -> np.ndarray:
        """Grid SMB (H, W) of calendar year ``year`` in m w.e."""
        if self.start_month == 1:
            return self.year(year, adj).period_smb[0]
        return self.year(year - 1, adj).period_smb[1] + self.year(year, adj).period_smb[0]

    def glacier_mean(self, field: np.ndarray) -> float:
        o = self.grid.outline
        return float((field * o).sum() / o.sum())

