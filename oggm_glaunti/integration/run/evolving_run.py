"""Evolving geometry: which glacier each hydrological year's corrector sees, and the grid years
run on it (``GlaUnTIMassBalance(geometry='evolving')``).

OGGM's flowline models pass their current flowlines with every MB call (``fls``); with the
default annual MB-elevation feedback they ask each calendar year once, at its start.
:mod:`.geometry` lays one set of flowlines onto the model grid; this module decides which
year sees which, and runs the grid years under the state rule of :mod:`.glacier_run`.

Which geometry a hydrological year sees
---------------------------------------
Hydrological year ``h`` (October ``h`` to September ``h + 1`` in the north; April to March
in the south) sees the glacier OGGM passed with **calendar year h**: on 1 January ``h``,
9 months (south: 3 months) before the year begins. Calendar year ``y``'s SMB needs
hydrological years ``y - 1`` and ``y``; when OGGM asks for it, it knows the glacier of
1 January ``y`` only, so year ``y`` cannot wait for a later glacier: every year sees the
latest glacier OGGM had when it first needed that year - the same lag as OGGM's own annual
MB-elevation feedback. Recorded along a run (:class:`GeometryTimeline`):

- a call for the year after the last one asked continues the run; every
  ``glaunti_geometry_update_years`` (default 1) years of it the passed glacier is adopted,
  in between the last adopted one is kept;
- a call for the same year again adopts the glacier passed only at the start of that year
  (an annual call, or January) and only in a year that adopts: monthly or daily calls
  later in a year do not change the year's corrector input (it runs once per year);
- any other call (the first, an earlier year, a year skipped: a new run, a dynamic
  spin-up's next try, a random climate year) starts a new run: its glacier is adopted;
- the hydrological year before a run's first calendar year (the first calendar year needs
  its last months) sees the run's first glacier too; the years before it - the spin-up of
  the state rule and the years of its segment before the run - see the present-day glacier,
  as in the static mode: the snow state entering the run comes from the same history in
  both modes, followed by one year on the run's own glacier.

Calls without ``fls``, or with inversion flowlines (``apparent_mb_from_any_mb``), see the
present-day grid and record nothing.

The state rule and the cache
----------------------------
The state rule is :mod:`.glacier_run`'s (30-year segments with a 5-year spin-up), the snow
state stays on the grid's cells, and each run of the rule is a chain of years each with its
own geometry. A year's outputs are kept under its **chain key**: a hash of the geometries
of its segment's years up to it (spin-up included); the state after each year is kept too.
A year is recomputed only when the geometry of its chain changed, from the last year of the
chain still known: a run continued year by year runs one grid year per hydrological year,
as the static mode; a new run reuses the present-day history before it (computed once per
segment and set of parameters) and runs its own years - a random climate year, a new run
by itself, costs two grid years. Chains are cached process-wide with the static results
(:mod:`.grid_cache`), so an unchanged geometry hits the cache in any instance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .geometry import FlowlineGridMap, GridGeometry
from .glacier_run import GlacierRun, YearOutputs
from .glacier_year import Adjustments, run_compiled_year
from .grid_cache import GRID_SEGMENTS, fingerprint

log = logging.getLogger(__name__)


def adopted_year(year: int, first: int, update_years: int) -> int:
    """The calendar year whose glacier calendar year ``year`` of a run started in ``first``
    uses (the rule of :class:`GeometryTimeline` for a run asked year by year)."""
    return first + ((max(int(year), first) - first) // update_years) * update_years


class GeometryTimeline:
    """The glaciers adopted along the current run, per calendar year (module docstring)."""

    def __init__(self, update_years: int):
        if int(update_years) < 1:
            raise ValueError(f"glaunti_geometry_update_years must be >= 1; got {update_years}")
        self.update_years = int(update_years)
        self._adopted: dict[int, GridGeometry] = {}
        self._last: int | None = None
        self._since = 0

    def record(self, when: float, geometry: Callable[[], GridGeometry]) -> None:
        """A call at float year ``when``; ``geometry()`` gives the passed glacier's (called
        only when adopted)."""
        year = int(np.floor(when))
        if self._last is None or year not in (self._last, self._last + 1):
            self._adopted, self._since = {year: geometry()}, 0
        elif year == self._last + 1:
            self._since += 1
            if self._since >= self.update_years:
                self._adopted[year], self._since = geometry(), 0
            else:
                self._adopted[year] = self._adopted[year - 1]
        elif float(when) == year and self._since == 0:
            self._adopted[year] = geometry()
        self._last = year

    def of(self, hydro_year: int) -> GridGeometry | None:
        """The glacier hydrological year ``hydro_year`` sees (None: the present-day one)."""
        if hydro_year in self._adopted:
            return self._adopted[hydro_year]
        first = min(self._adopted)
        if hydro_year < first - 1:
            return None
        return self._adopted[max([y for y in self._adopted if y <= hydro_year], default=first)]


def _chain(keys: list[str]) -> list[str]:
    out, previous = [], "start"
    for key in keys:
        previous = fingerprint(previous, key)
        out.append(previous)
    return out


@dataclass
class _Chains:
    """An evolving segment's years run so far, by chain key: the state after each year
    (spin-up included) and each own year's outputs."""

    after: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    nbytes: int = 0


class EvolvingRun:
    """The grid years of a :class:`~.glacier_run.GlacierRun` under the state rule, each year
    on the geometry ``geometry_of(hydrological year)`` gives (see the module docstring)."""

    def __init__(self, run: GlacierRun):
        self.run = run
        self._arrays: dict = {}

    def chain_keys(self, hydro_year: int, geometry_of: Callable[[int], GridGeometry]) -> tuple[list, int, list]:
        """(the segment's run sequence up to the year, its number of spin-up years, their
        chain keys)."""
        run = self.run
        if hydro_year == run.partial_year:
            sequence, n_spin, keys = self.chain_keys(int(run.years[-2]), geometry_of)
            return sequence + [hydro_year], n_spin, keys + [fingerprint(keys[-1], geometry_of(hydro_year).key)]
        sequence, n_spin = run.run_sequence(run.segment_of(hydro_year))
        sequence = sequence[:sequence.index(hydro_year, n_spin) + 1]
        return sequence, n_spin, _chain([geometry_of(y).key for y in sequence])

    def year(self, hydro_year: int, adj: Adjustments, geometry_of: Callable[[int], GridGeometry]) -> YearOutputs:
        """Outputs of hydrological year ``hydro_year`` on its chain of geometries (cached)."""
        run = self.run
        run.check_year(hydro_year)
        partial = hydro_year == run.partial_year
        sequence, n_spin, keys = self.chain_keys(hydro_year, geometry_of)
        if partial:  # kept with the last full year's segment, after it (as the static rule)
            sequence, keys = sequence[:-1], keys[:-1]
        chains = GRID_SEGMENTS.get_or_create((run._identity, adj, run.segment_of(sequence[-1]), "evolving"),
                                             _Chains, run.cache_bytes)
        if keys[-1] not in chains.outputs:
            self._advance(chains, adj, sequence, n_spin, keys, geometry_of)
        if not partial:
            return chains.outputs[keys[-1]]
        key = fingerprint(keys[-1], geometry_of(hydro_year).key)
        if key not in chains.outputs:
            previous = chains.outputs[keys[-1]]
            res = run_compiled_year(run.model_for(adj), run.reference_years([hydro_year]).at(0),
                                    chains.after[keys[-1]], True, *run._adj_arrays(adj),
                                    self.arrays(geometry_of(hydro_year)), run.window_size, False,
                                    previous.corrections)
            chains.outputs[key] = YearOutputs(chains.after[keys[-1]], previous.corrections, np.asarray(res[2]))
        return chains.outputs[key]

    def arrays(self, geometry: GridGeometry):
        """The grid arrays of a geometry (a few kept: consecutive years share them)."""
        if geometry.key not in self._arrays:
            if len(self._arrays) > 8:
                self._arrays.clear()
            self._arrays[geometry.key] = self.run.arrays_for(geometry.outline, geometry.elevation, geometry.facies)
        return self._arrays[geometry.key]

    def _advance(self, chains: _Chains, adj: Adjustments, sequence, n_spin: int, keys, geometry_of) -> None:
        run = self.run
        model = run.model_for(adj)
        bias, fac = run._adj_arrays(adj)
        start = max((i + 1 for i in range(len(keys)) if keys[i] in chains.after), default=0)
        state = chains.after[keys[start - 1]] if start else model.initial_state(run.grid.shape)
        ref = run.reference_years(sequence[start:])
        ran = []
        for k, slot in enumerate(range(start, len(sequence))):
            arrays = self.arrays(geometry_of(sequence[slot]))
            final, corrections, period, _ = run_compiled_year(model, ref.at(k), state, slot > 0, bias, fac,
                                                              arrays, run.window_size, False)
            ran.append((slot, state, corrections, period, final))
            state = final
        # converted once at the end, so that the years' dispatches are not serialised
        if chains.nbytes > run.cache_bytes // 4:  # one segment's history of many runs: keep this run's
            chains.after = {k: v for k, v in chains.after.items() if k in keys}
            chains.outputs = {k: v for k, v in chains.outputs.items() if k in keys}
            chains.nbytes = sum(a.nbytes for out in chains.outputs.values() for a in out if a is not None)
        for slot, begin, corrections, period, final in ran:
            chains.after[keys[slot]] = np.asarray(final)
            chains.nbytes += chains.after[keys[slot]].nbytes
            if slot >= n_spin:
                out = YearOutputs(*(None if a is None else np.asarray(a) for a in (begin, corrections, period)))
                chains.outputs[keys[slot]] = out
                chains.nbytes += sum(a.nbytes for a in out if a is not None)
        GRID_SEGMENTS.resize((run._identity, adj, run.segment_of(sequence[-1]), "evolving"), chains.nbytes,
                             run.cache_bytes)


class RunOnTimeline:
    """A :class:`~.glacier_run.GlacierRun` whose years are those of an :class:`EvolvingRun`
    on one timeline (what :func:`~.flowline_run.point_year` asks for)."""

    def __init__(self, evolving: EvolvingRun, geometry_of: Callable[[int], GridGeometry]):
        self._evolving, self._geometry_of = evolving, geometry_of

    def year(self, hydro_year: int, adj: Adjustments) -> YearOutputs:
        return self._evolving.year(hydro_year, adj, self._geometry_of)

    def __getattr__(self, name):
        return getattr(self._evolving.run, name)


class TimelineSummaries:
    """The points' per-year summaries of one timeline, stored by (year, chain key)."""

    def __init__(self, store: dict, key_of: Callable[[int], str]):
        self._store, self._key_of = store, key_of

    def __contains__(self, hydro_year) -> bool:
        return (hydro_year, self._key_of(hydro_year)) in self._store

    def __getitem__(self, hydro_year):
        return self._store[(hydro_year, self._key_of(hydro_year))]

    def __setitem__(self, hydro_year, value) -> None:
        self._store[(hydro_year, self._key_of(hydro_year))] = value


@dataclass
class CalendarYearInputs:
    """What the points of one calendar year need in evolving mode (:meth:`EvolvingGeometry.calendar_year`)."""

    run: RunOnTimeline
    bands: Callable
    key: tuple
    summaries: Callable[[dict], TimelineSummaries]


class EvolvingGeometry:
    """The evolving mode of one :class:`~.massbalance.GlaUnTIMassBalance`: its timeline, the
    flowline-to-grid mapping (built at the first call, from ``model_flowlines``) and the
    grid years.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
    run : GlacierRun
        the MB model's glacier run.
    update_years : int
        ``glaunti_geometry_update_years``.
    band_dz : float
        the points' elevation bands (``glaunti_band_dz``).
    """

    def __init__(self, gdir, run: GlacierRun, update_years: int, band_dz: float):
        self._gdir = gdir
        self.evolving = EvolvingRun(run)
        self.timeline = GeometryTimeline(update_years)
        self._band_dz = float(band_dz)
        self._map: FlowlineGridMap | None = None
        self._bands: dict = {}
        self._warned_unplaced = False

    @property
    def grid_map(self) -> FlowlineGridMap:
        if self._map is None:
            self._map = FlowlineGridMap(self.evolving.run.grid, _reference_flowlines(self._gdir), self._gdir.rgi_id)
        return self._map

    def _geometry(self, fls) -> GridGeometry:
        geometry = self.grid_map.geometry(fls)
        if geometry.unplaced_area_m2 > 0 and not self._warned_unplaced:
            self._warned_unplaced = True
            log.warning("%s: the glacier advances beyond its model grid's window by %.2f km2; the corrector "
                        "sees it up to the window's edge (see oggm_glaunti.integration.run.geometry)",
                        self._gdir.rgi_id, geometry.unplaced_area_m2 * 1e-6)
        return geometry

    def calendar_year(self, fls, when: float, year: int) -> CalendarYearInputs:
        """Record a call at float year ``when`` with flowlines ``fls``; the inputs of the
        points for calendar year ``year``."""
        self.timeline.record(when, lambda: self._geometry(fls))
        run = self.evolving.run
        of = self.geometry_of
        hydro = run.calendar.overlapping(year)
        keys = {hy: self.evolving.chain_keys(hy, of)[2][-1] for hy in hydro}
        return CalendarYearInputs(RunOnTimeline(self.evolving, of), self.bands_of,
                                  tuple(keys[hy] for hy in hydro),
                                  lambda store: TimelineSummaries(store, keys.__getitem__))

    def geometry_of(self, hydro_year: int) -> GridGeometry:
        """The glacier hydrological year ``hydro_year`` sees on the current timeline."""
        return self.timeline.of(hydro_year) or self.grid_map.reference

    def bands_of(self, hydro_year: int):
        """The points' elevation bands of the glacier hydrological year ``hydro_year`` sees."""
        from .flowline_run import elevation_bands

        geometry = self.geometry_of(hydro_year)
        if geometry.key not in self._bands:
            if len(self._bands) > 8:
                self._bands.clear()
            self._bands[geometry.key] = elevation_bands(geometry.elevation, geometry.outline, self._band_dz)
        return self._bands[geometry.key]


def _reference_flowlines(gdir):
    try:
        return gdir.read_pickle("model_flowlines")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{gdir.rgi_id}: geometry='evolving' needs the glacier's present-day model flowlines "
            "(model_flowlines.pkl, written by oggm.tasks.init_present_time_glacier): run it first") from None
