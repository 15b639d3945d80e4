"""The glacier the corrector sees in a dynamical run: OGGM's flowlines laid onto the model grid.

GlaUnTI's corrector was trained on each year's own outline and DEM (Maslov et al.,
egusphere-2026-515, section 2). With ``geometry='evolving'``
(:class:`~.massbalance.GlaUnTIMassBalance`) its grid inputs follow the flowline glacier of
OGGM's dynamical run; this module turns one set of flowlines into the model grid's outline
and surface. Which year sees which flowlines is :mod:`.evolving_run`'s business.

The mapping, once per glacier (:class:`FlowlineGridMap`)
--------------------------------------------------------
The reference is the glacier's present-day ``model_flowlines``: the geometry the model grid
(``glaunti_grid.nc``: DEM surface, RGI outline) describes. As in OGGM's
``distribute_2d.assign_points_to_band``, area is matched by elevation rank:

- the flowline points holding ice (all flowlines pooled) are sorted by surface elevation,
  highest first, and so are the glacier cells (outline fraction > 0); walking down both,
  each cell goes to the point whose share of the cumulative area holds the middle of the
  cell's (the flowline area is scaled to the grid's, which differs by the outline's
  rasterisation). A point too narrow to receive a cell joins the next point below that
  did (or the lowest one). Such a group of points with its cells is a *band*;
- within its band, cells are ranked by their distance to the outline's edge, then by
  elevation: margin cells and lower cells lose their ice first, interior cells last (the
  role of OGGM's thickness ranking; the model grid has no distributed thickness).

Several flowlines (centrelines) are pooled into one hypsometry, so their cells are
assigned by elevation, not by catchment.

Each year (:meth:`FlowlineGridMap.geometry`)
--------------------------------------------
For each band, from the flowline points' current ice-covered area ``A`` and surface
``z`` against the reference ``A0``, ``z0``:

- **area**: the band keeps ``A / A0`` of its cells' area, interior cells first; the
  boundary cell keeps a fraction (the outline is a fraction per cell), so the grid's band
  area matches the flowlines' exactly (up to the fixed grid/flowline scale);
- **surface**: every cell of the band, glacier or freed, moves by the band's mean surface
  change ``z - z0`` (weighted by ``A0``). A freed cell thus ends at the band's current
  surface; when the band has lost all its ice that is its bed;
- **facies** (variant D, when the grid has a map): cells that left the glacier take the
  map's off-glacier value 0, as every cell outside the outline of the map does;
  ``elevation_std`` (the DEM's uncertainty) stays as it is;
- **a band that vanishes** leaves its cells off the glacier at the band's bed;
- **an advance beyond the starting outline**: a band whose area exceeds ``A0`` first
  fills its partly covered cells; the rest, and the ice of flowline points that held none
  at the start (downstream of the terminus), is laid onto free cells of the glacier's
  window (``glacier_window``, the part of the grid the corrector sees) next to the
  glacier, each on the free neighbour whose terrain is closest to the point's surface
  (lowest points first), at terrain + the point's ice thickness. Area the window cannot
  take is reported (``GridGeometry.unplaced_area_m2``), not placed;
- **a glacier that vanishes**: with no ice on the flowlines, the corrector sees the cell
  its ice would leave last (the most interior cell of the highest band) at its starting
  outline fraction and its band's surface (the bed): its glacier means stay defined, so
  the SMB asked at the bare flowline stays finite (OGGM issue #1694 is this failure in
  ``distribute_2d``). ``GridGeometry.empty`` tells.

With the reference flowlines themselves the geometry is the model grid's, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from ..grid.glacier_data import ModelGrid
from .grid_cache import fingerprint

_NEIGHBOURS = np.ones((3, 3), bool)


@dataclass(frozen=True)
class GridGeometry:
    """The glacier on the model grid in one year.

    Attributes
    ----------
    outline, elevation : (H, W) float32
        outline fraction and surface elevation (m).
    facies : (9, H, W) float32 or None
        the grid's facies channels with cells that left the glacier set to 0 (None: the
        grid has no facies map).
    area_m2 : float
        glacier area on the grid.
    flowline_area_m2 : float
        ice-covered area of the flowlines it comes from.
    unplaced_area_m2 : float
        area of an advance the glacier's window could not take.
    empty : bool
        the flowlines hold no ice; the corrector sees the last cell (see module docstring).
    key : str
        content fingerprint of outline, elevation and facies.
    """

    outline: np.ndarray
    elevation: np.ndarray
    facies: np.ndarray | None
    area_m2: float
    flowline_area_m2: float
    unplaced_area_m2: float = 0.0
    empty: bool = False
    key: str = ""


GEOMETRY_MODES = ("static", "evolving")


def check_geometry_mode(mode: str) -> str:
    """``mode`` if it is a known geometry mode, else a clear error."""
    if mode not in GEOMETRY_MODES:
        raise ValueError(f"geometry={mode!r} is not a geometry mode: use 'static' (the present-day grid every "
                         "year) or 'evolving' (the flowline glacier of each year; cfg.PARAMS['glaunti_geometry'])")
    return mode


def is_dynamical(fls) -> bool:
    """Whether ``fls`` are a flowline model's flowlines (ice thickness on a bed): False for
    None and for inversion flowlines (OGGM's ``apparent_mb_from_any_mb`` passes those)."""
    return bool(fls) and all(hasattr(fl, "thick") and hasattr(fl, "bed_h") and hasattr(fl, "bin_area_m2")
                             for fl in fls)


class _Points(NamedTuple):
    area: np.ndarray  # ice-covered area of each point (m2)
    surface: np.ndarray
    thick: np.ndarray
    bed: np.ndarray


def _points(fls) -> _Points:
    def stacked(name):
        return np.concatenate([np.asarray(getattr(fl, name), np.float64).ravel() for fl in fls])

    return _Points(stacked("bin_area_m2"), stacked("surface_h"), stacked("thick"), stacked("bed_h"))


def _geometry_key(outline, elevation, facies) -> str:
    return fingerprint(outline, elevation, "no facies" if facies is None else facies)


class FlowlineGridMap:
    """The once-per-glacier mapping of flowline points to model-grid cells (see the module
    docstring), and each year's grid geometry from a set of flowlines.

    Parameters
    ----------
    grid : ModelGrid
        the glacier's model grid (its outline and DEM surface are the reference).
    reference_fls : list of flowlines
        the present-day model flowlines (``model_flowlines``).
    rgi_id : str
        named in error messages.
    """

    def __init__(self, grid: ModelGrid, reference_fls, rgi_id: str = "the glacier"):
        if not is_dynamical(reference_fls):
            raise ValueError(f"{rgi_id}: the reference flowlines are not model flowlines with an ice thickness "
                             "(run oggm.tasks.init_present_time_glacier)")
        self.rgi_id = rgi_id
        self.dx2 = float(grid.dx) ** 2
        self._nx = [int(fl.nx) for fl in reference_fls]
        self._ref = _points(reference_fls)
        self._outline = np.asarray(grid.outline, np.float32)
        self._elevation = np.asarray(grid.elevation, np.float32)
        self._facies = None if grid.facies is None else np.asarray(grid.facies, np.float32)
        self.shape = self._outline.shape
        window = grid.window if grid.window is not None else (0, 0) + tuple(self.shape)
        self._in_window = np.zeros(self.shape, bool)
        self._in_window[window[0]:window[0] + window[2], window[1]:window[1] + window[3]] = True

        ref = self._ref
        bins = np.flatnonzero(ref.area > 0)
        if len(bins) == 0:
            raise ValueError(f"{rgi_id}: the reference flowlines hold no ice")
        bins = bins[np.argsort(-ref.surface[bins], kind="stable")]  # highest first
        flat_outline = self._outline.ravel().astype(np.float64)
        cells = np.flatnonzero(flat_outline > 0)
        if len(cells) == 0:
            raise ValueError(f"{rgi_id}: the model grid has no glacier cell (outline_fraction is 0 everywhere)")
        cells = cells[np.argsort(-self._elevation.ravel()[cells], kind="stable")]
        area = flat_outline[cells] * self.dx2
        middle = np.cumsum(area) - area / 2
        edges = np.cumsum(ref.area[bins]) * (area.sum() / ref.area[bins].sum())
        cell_bin = np.minimum(np.searchsorted(edges, middle, side="right"), len(bins) - 1)
        receiving = np.unique(cell_bin)
        below = np.searchsorted(receiving, np.arange(len(bins)))  # next receiving point at or below
        band_of_bin = np.minimum(below, len(receiving) - 1)
        band_of_cell = np.searchsorted(receiving, cell_bin)
        self.n_bands = len(receiving)
        #: (n_bands, n_points) 1 where a reference point belongs to a band
        self._member = np.zeros((self.n_bands, len(ref.area)))
        self._member[band_of_bin, bins] = 1.0
        self._ref_band_area = self._member @ ref.area

        depth = ndimage.distance_transform_edt(self._outline > 0).ravel()[cells]
        order = np.lexsort((cells, -self._elevation.ravel()[cells], -depth, band_of_cell))  # band, interior first
        self._cells = cells[order]
        self._cell_band = band_of_cell[order]
        self._cell_area = area[order]
        totals = np.cumsum(self._cell_area)
        band_start = np.concatenate([[0.0], np.bincount(self._cell_band, self._cell_area, self.n_bands).cumsum()])
        self._area_before = totals - self._cell_area - band_start[self._cell_band]  # earlier cells of the band
        self._band_grid_area = np.diff(band_start)
        room = (1.0 - flat_outline[self._cells]) * self.dx2
        self._cell_room = room
        self._room_before = np.cumsum(room) - room - np.concatenate([[0.0], np.bincount(
            self._cell_band, room, self.n_bands).cumsum()])[self._cell_band]
        self._band_room = np.bincount(self._cell_band, room, self.n_bands)
        #: the cell whose ice goes last: the most interior cell of the highest band
        self.last_cell = int(self._cells[0])
        self.reference = GridGeometry(self._outline, self._elevation, self._facies, float(area.sum()),
                                      float(ref.area.sum()), key=_geometry_key(self._outline, self._elevation,
                                                                               self._facies))

    # --- checks -----------------------------------------------------------------------
    def _check(self, fls) -> _Points:
        if not is_dynamical(fls):
            raise ValueError(f"{self.rgi_id}: evolving geometry needs a flowline model's flowlines (ice thickness "
                             "on a bed); got inversion flowlines or None")
        nx = [int(fl.nx) for fl in fls]
        if nx != self._nx:
            raise ValueError(
                f"{self.rgi_id}: the flowlines passed ({len(nx)} flowline(s), {nx} points) are not those of the "
                f"glacier's model_flowlines ({self._nx}): evolving geometry maps the points of the present-day "
                "model flowlines onto the model grid. Run from flowlines built by init_present_time_glacier on "
                "this glacier directory, or use geometry='static'")
        now = _points(fls)
        if not np.allclose(now.bed, self._ref.bed, rtol=0, atol=0.01):
            raise ValueError(f"{self.rgi_id}: the flowlines passed have another bed than the glacier's "
                             "model_flowlines (a different inversion?): rerun init_present_time_glacier, or use "
                             "geometry='static'")
        return now

    # --- one year ---------------------------------------------------------------------
    def geometry(self, fls) -> GridGeometry:
        """The grid geometry of the glacier held by ``fls`` (see the module docstring)."""
        now = self._check(fls)
        ref, member = self._ref, self._member
        weights = member * ref.area
        ratio = (member @ now.area) / self._ref_band_area
        rise = weights @ (now.surface - ref.surface) / self._ref_band_area
        band = self._cell_band
        flat_ref = self._outline.ravel()
        outline = flat_ref.copy()
        elevation = self._elevation.ravel().copy()
        elevation[self._cells] = elevation[self._cells] + rise[band].astype(np.float32)

        r = ratio[band]
        kept = np.clip(r * self._band_grid_area[band] - self._area_before, 0.0, self._cell_area) / self.dx2
        outline[self._cells] = np.where(r >= 1.0, flat_ref[self._cells], kept.astype(np.float32))
        growth = np.maximum(ratio - 1.0, 0.0) * self._band_grid_area
        fill = np.clip(growth[band] - self._room_before, 0.0, self._cell_room)
        grows = fill > 0
        outline[self._cells[grows]] = (flat_ref[self._cells[grows]] + fill[grows] / self.dx2).astype(np.float32)

        surface = weights @ now.surface / self._ref_band_area
        thick = weights @ now.thick / self._ref_band_area
        spill = np.maximum(growth - self._band_room, 0.0)
        items = [(s, z, h) for s, z, h in zip(spill, surface, thick) if s > 0]
        new = (ref.area <= 0) & (now.area > 0)  # ice where the glacier had none: downstream of the terminus
        items += list(zip(now.area[new], now.surface[new], now.thick[new]))
        unplaced = self._advance(outline, elevation, items) if items else 0.0

        outline, elevation = outline.reshape(self.shape), elevation.reshape(self.shape)
        empty = not outline.any()
        if empty:
            outline.flat[self.last_cell] = flat_ref[self.last_cell]
        facies = self._facies
        if facies is not None:
            lost = (outline == 0) & (self._outline > 0)
            if lost.any():
                facies = np.where(lost, np.float32(0), facies)
        return GridGeometry(outline, elevation, facies, float(outline.sum(dtype=np.float64) * self.dx2),
                            float(now.area.sum()), unplaced, empty, _geometry_key(outline, elevation, facies))

    def _advance(self, outline: np.ndarray, elevation: np.ndarray, items) -> float:
        """Lay advance area onto free window cells next to the glacier (in place), lowest
        items first; returns the area that found no free cell (m2)."""
        terrain = self._elevation.ravel()
        free = (self._in_window & (self._outline == 0)).ravel()
        glacier = (outline > 0).reshape(self.shape)
        unplaced = 0.0
        for area, surface, thick in sorted(items, key=lambda item: item[1]):
            while area > 1e-6 * self.dx2:
                ring = np.flatnonzero(ndimage.binary_dilation(glacier, _NEIGHBOURS).ravel() & free)
                if len(ring) == 0:
                    unplaced += area
                    break
                cell = int(ring[np.argmin(np.abs(terrain[ring] - surface))])
                share = min(1.0, area / self.dx2)
                outline[cell] = np.float32(share)
                elevation[cell] = np.float32(terrain[cell] + thick)
                free[cell] = False
                glacier.flat[cell] = True
                area -= share * self.dx2
        return float(unplaced)

    # --- diagnostics ------------------------------------------------------------------
    def band_areas(self, outline: np.ndarray) -> np.ndarray:
        """Area (m2) of ``outline`` on each band's cells (cells outside the starting outline
        not counted)."""
        return np.bincount(self._cell_band, np.asarray(outline, np.float64).ravel()[self._cells] * self.dx2,
                           self.n_bands)

    def band_flowline_areas(self, fls) -> np.ndarray:
        """Ice-covered flowline area (m2) of each band, scaled to the grid's (as the mapping)."""
        now = self._check(fls)
        return (self._member @ now.area) * (self._band_grid_area.sum() / self._ref_band_area.sum())

    def band_surface_change(self, fls) -> np.ndarray:
        """Each band's mean surface change (m) against the reference."""
        now = self._check(fls)
        return (self._member * self._ref.area) @ (now.surface - self._ref.surface) / self._ref_band_area

    @property
    def cell_band(self) -> np.ndarray:
        """(H, W) band index of each starting glacier cell, -1 elsewhere."""
        out = np.full(self.shape, -1)
        out.flat[self._cells] = self._cell_band
        return out
