"""In-memory training data: one glacier's forcing, geometry, season windows and observations.

This is the contract between the dataset reader / synthetic generator (which build
:class:`GlacierData`) and the losses, loops and evaluation (which consume it). Nothing here
reads files.

Conventions (``docs/concepts.md``): a hydrological year ``Y`` runs from ``begin`` to ``end`` inclusive; a
seasonal year is split at ``midseason`` (winter = begin..midseason, summer = midseason..end);
consecutive periods share their boundary day. A year is as long as its dates make it: WGMS
years on floating (stratigraphic) survey dates may be longer than 366 days, and run as
recorded. Dates are ``numpy.datetime64[D]``; SMB in m w.e.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..core.forcing import YearForcing, year_forcing
from ..core.plan import padded_days
from ..dataset_layout import LAPSE_RATE

#: The season names of observations, targets and scores, in this order.
SEASONS = ("annual", "winter", "summer")


@dataclass(frozen=True)
class SeasonWindow:
    """The glacier's own dates for one hydrological year (from its glacier-wide record)."""

    year: int
    begin: np.datetime64
    end: np.datetime64
    midseason: Optional[np.datetime64] = None  # None: the year is annual only

    @property
    def seasonal(self) -> bool:
        return self.midseason is not None

    @property
    def n_days(self) -> int:
        """Number of dates, begin and end included."""
        return int((self.end - self.begin).astype(int)) + 1


@dataclass(frozen=True)
class GlacierWideObs:
    """An observed glacier-wide SMB (m w.e.) for one season of one hydrological year."""

    year: int
    season: str  # one of SEASONS
    balance: float


@dataclass(frozen=True)
class StakeObs:
    """A point SMB (m w.e.) measured at grid cell (row, col) between its own dates."""

    year: int
    season: str  # one of SEASONS
    begin: np.datetime64
    end: np.datetime64
    row: int
    col: int
    balance: float
    is_index: bool = False  # "index" records are skipped by the loss (Maslov et al., egusphere-2026-515)


@dataclass
class GlacierData:
    """Everything the training layer knows about one glacier.

    Attributes
    ----------
    name : the glacier's name (as in ``index.csv``).
    fold : its fold (0 test, 1 validation, 2-5 training in the published split); None if unknown.
    dates : (T,) daily dates of the forcing, contiguous.
    temperature : (T, H, W) degC: at each cell's height, or at the climate's ``orography``
        when that is given.
    precipitation : (T, H, W) m w.e. per day.
    geometry_years : (G,) years of the DEMs / outlines, increasing.
    elevation, elevation_std, outline : (G, H, W) m, m and 0..1 for each geometry year.
    facies : optional (9, H, W) facies channels (variant D); None for the placeholder.
    facies_by_year : optional per-year (9, H, W) facies maps (that year's end-of-ablation
        season, as the dataset's facies.nc); a year without one uses ``facies``.
    windows : hydrological year -> :class:`SeasonWindow`.
    glacier_wide, stakes : the observations.
    crs : the grid's CRS (any string pyproj understands); x, y : (W,), (H,) cell centres.
    orography : optional (H, W) height (m) the temperature refers to (the released
        dataset's ``orography.nc``): each hydrological year's temperature is then downscaled
        with that year's DEM, ``T + LAPSE_RATE * (z_year - orography)`` (``docs/dataset_format.md``), so
        a boundary day shared by two years gets each year's own value.
    """

    name: str
    fold: Optional[int]
    dates: np.ndarray
    temperature: np.ndarray
    precipitation: np.ndarray
    geometry_years: np.ndarray
    elevation: np.ndarray
    elevation_std: np.ndarray
    outline: np.ndarray
    windows: dict[int, SeasonWindow]
    glacier_wide: tuple[GlacierWideObs, ...] = ()
    stakes: tuple[StakeObs, ...] = ()
    facies: Optional[np.ndarray] = None
    facies_by_year: dict[int, np.ndarray] = field(default_factory=dict)
    crs: str = ""
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    orography: Optional[np.ndarray] = None

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.temperature.shape[1:])

    @property
    def years(self) -> list[int]:
        """Hydrological years whose window lies inside the forcing, in order."""
        first, last = self.dates[0], self.dates[-1]
        return sorted(y for y, w in self.windows.items() if w.begin >= first and w.end <= last)

    def geometry_index(self, year: int) -> int:
        """Index of the geometry used for ``year``: the latest at or before it (else the first)."""
        before = np.nonzero(self.geometry_years <= year)[0]
        return int(before[-1]) if before.size else 0

    def year_forcing(self, year: int, n_days: Optional[int] = None,
                     seasonal: Optional[bool] = None) -> YearForcing:
        """The core's :class:`YearForcing` for one hydrological year, padded to ``n_days``
        (default :func:`~oggm_glaunti.core.plan.padded_days` of the year's length).

        ``seasonal`` None splits at the midseason where the window has one; False forces an
        annual period (e.g. for evaluation of annual-only records).
        """
        if year not in self.windows:
            raise ValueError(f"glacier {self.name}: no season window for hydrological year {year}")
        window = self.windows[year]
        start = int((window.begin - self.dates[0]).astype(int))
        stop = start + window.n_days
        if start < 0 or stop > len(self.dates):
            raise ValueError(
                f"glacier {self.name}: year {year} ({window.begin}..{window.end}) is outside the "
                f"forcing ({self.dates[0]}..{self.dates[-1]})"
            )
        use_split = window.seasonal if seasonal is None else (seasonal and window.seasonal)
        split = int((window.midseason - window.begin).astype(int)) if use_split else None
        g = self.geometry_index(year)
        temperature = self.temperature[start:stop]
        if self.orography is not None:
            temperature = temperature + (LAPSE_RATE * (self.elevation[g] - self.orography)).astype(np.float32)
        return year_forcing(
            temperature, self.precipitation[start:stop], window.begin,
            split=split, outline=self.outline[g], elevation=self.elevation[g],
            elevation_std=self.elevation_std[g], facies=self.facies_by_year.get(year, self.facies),
            n_days=padded_days(window.n_days) if n_days is None else n_days,
        )
