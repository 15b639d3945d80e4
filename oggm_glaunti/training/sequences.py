"""A glacier's run years, their targets, and the chunks of years its forcing is built in.

A glacier's whole sequence of years (e.g. 35 on a 442 x 575 grid: 26 GB of float32 daily
temperature and precipitation) need not fit in memory: the sequence is cut into *chunks*
of consecutive years, each stacked and run as one scan, the snow state carried from one
chunk to the next. Chunk boundaries also fall where the years' structure changes (a
window touching 12 rather than 13 calendar months gives the corrector a different 1D
input length, so such years cannot share a stack).

Each year is padded to :func:`~oggm_glaunti.core.plan.padded_days` of its length: ordinary
years to one length, a year on floating survey dates longer than 367 days to its own
(such years, too, start a new chunk).

Chunks are built on demand from :meth:`GlacierData.year_forcing` and, when small, cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..core.forcing import YearForcing, stack_years
from ..core.inputs import month_ids
from ..core.plan import padded_days
from .records import GlacierData
from .targets import TAU_DAYS, YearSelection, YearTargets, build_targets, select_years, slice_targets

#: Default largest chunk of stacked forcing (temperature + precipitation), bytes.
DEFAULT_MAX_CHUNK_BYTES = 512 * 2**20
#: Sequences whose whole forcing is below this are kept in memory once built.
DEFAULT_CACHE_BYTES = 64 * 2**20


@dataclass
class GlacierSequence:
    """One glacier prepared for the loss: years, targets and chunking.

    Attributes
    ----------
    glacier : the data.
    selection : run and scored years.
    targets : stacked :class:`~oggm_glaunti.training.targets.YearTargets` over the run years.
    chunks : ``(start, stop)`` index ranges into ``selection.run``, in order.
    n_days : days every year is padded to; None: each year to
        :func:`~oggm_glaunti.core.plan.padded_days` of its length (a chunk's years share it).
    cache : keep built chunks in memory.
    """

    glacier: GlacierData
    selection: YearSelection
    targets: YearTargets
    chunks: tuple[tuple[int, int], ...]
    n_days: Optional[int] = None
    cache: bool = False
    _built: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.glacier.name

    @property
    def years(self) -> tuple[int, ...]:
        return self.selection.run

    def forcing(self, i: int) -> YearForcing:
        """Stacked forcing of chunk ``i``."""
        if i in self._built:
            return self._built[i]
        start, stop = self.chunks[i]
        stacked = stack_years([self.glacier.year_forcing(y, n_days=self.n_days)
                               for y in self.selection.run[start:stop]])
        if self.cache:
            self._built[i] = stacked
        return stacked

    def chunk_targets(self, i: int) -> YearTargets:
        """Targets of chunk ``i``."""
        return slice_targets(self.targets, *self.chunks[i])

    def __len__(self) -> int:
        return len(self.chunks)


def year_months(glacier: GlacierData, year: int) -> int:
    """Number of calendar months the window of ``year`` touches (the corrector's 1D length)."""
    window = glacier.windows[year]
    return month_ids(window.begin, window.n_days)[1]


def year_shape(glacier: GlacierData, year: int, n_days: Optional[int] = None) -> tuple[int, int]:
    """(months touched, padded days) of ``year``: years stack together only when they agree."""
    return year_months(glacier, year), padded_days(glacier.windows[year].n_days) if n_days is None else n_days


def plan_chunks(groups: list[int], years_per_chunk: int) -> tuple[tuple[int, int], ...]:
    """Cut a run into chunks of at most ``years_per_chunk`` years, breaking where ``groups``
    (one key per year, e.g. its month count) changes."""
    if years_per_chunk < 1:
        raise ValueError(f"years per chunk must be >= 1, got {years_per_chunk}")
    chunks, start = [], 0
    for i in range(1, len(groups) + 1):
        if i == len(groups) or groups[i] != groups[start] or i - start == years_per_chunk:
            chunks.append((start, i))
            start = i
    return tuple(chunks)


def prepare_sequence(
    glacier: GlacierData,
    spinup_years: int = 5,
    first_year: Optional[int] = None,
    last_year: Optional[int] = None,
    chunk_years: Optional[int] = None,
    run_from: Optional[int] = None,
    max_chunk_bytes: int = DEFAULT_MAX_CHUNK_BYTES,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
    tau: float = TAU_DAYS,
    n_days: Optional[int] = None,
) -> GlacierSequence:
    """Select years, build targets and plan chunks for one glacier.

    Parameters
    ----------
    glacier : the glacier.
    spinup_years, first_year, last_year, run_from : see
        :func:`~oggm_glaunti.training.targets.select_years`.
    chunk_years : at most this many years per chunk. None: the whole run as one chunk if
        its years share one month count and padded length (:func:`year_shape`) and its
        stacked forcing stays below ``max_chunk_bytes``, else one year per chunk (each
        distinct chunk length compiles separately, so mixed chunk lengths are avoided). 1 holds a single year's forcing at
        a time: the least memory.
    max_chunk_bytes : see ``chunk_years``.
    cache_bytes : keep the built forcing in memory when the whole run is below this.
    tau : width of the stake date weights, days.
    n_days : days every year is padded to (at least the longest year's number of dates);
        None: each year's :func:`~oggm_glaunti.core.plan.padded_days`.
    """
    selection = select_years(glacier, spinup_years, first_year, last_year, run_from)
    height, width = glacier.shape
    shapes = [year_shape(glacier, y, n_days) for y in selection.run]
    longest = max(glacier.windows[y].n_days for y in selection.run)
    if n_days is not None and n_days < longest:
        raise ValueError(f"glacier {glacier.name}: n_days={n_days} is shorter than its longest year "
                         f"({longest} days)")
    bytes_per_year = 2 * max(days for _, days in shapes) * height * width * 4
    if chunk_years is None:
        whole = len(set(shapes)) == 1 and bytes_per_year * len(shapes) <= max_chunk_bytes
        chunk_years = len(shapes) if whole else 1
    chunks = plan_chunks(shapes, chunk_years)
    cache = bytes_per_year * len(selection.run) <= cache_bytes
    targets = build_targets(glacier, selection, tau)
    return GlacierSequence(glacier, selection, targets, chunks, n_days, cache)
