"""The glacier GlaUnTI's corrector saw in a dynamical run, year by year (entity task), and the
run's SMB profiles replayed from its stored geometry.

:func:`glaunti_geometry_history` reads the flowline geometry OGGM stored during a run
(``model_geometry{suffix}.nc``: ``cfg.PARAMS['store_model_geometry'] = True``) and lays it onto
the model grid by the rule of ``GlaUnTIMassBalance(geometry='evolving')`` (the mapping of
:mod:`~oggm_glaunti.integration.run.geometry`, the year rule of
:mod:`~oggm_glaunti.integration.run.evolving_run`), writing ``glaunti_geometry{suffix}.nc``
(file key ``glaunti_geometry``):

- ``outline_fraction`` and ``surface_elevation`` (hydro_year, y, x): what the corrector saw
  in each hydrological year of the run (from the year before its first calendar year, whose
  first months the first calendar year needs, to the year of its last calendar year);
- ``glacier_area`` (hydro_year), m2, on the grid; ``flowline_area`` and ``flowline_volume``
  (hydro_year), m2 and m3: the flowline glacier it comes from; ``unplaced_area`` (m2): an
  advance beyond the glacier's window; ``empty`` (1: no ice left, the corrector saw the
  last cell); ``geometry_year``: the calendar year whose flowlines the year saw;
- ``x``, ``y`` from ``glaunti_grid.nc`` (``pyproj_srs`` in the global attributes).

The stored geometry holds sections and widths, from which OGGM rebuilds the thickness: the
file is the run's geometry to round-off.

This module does not import JAX at import time (OGGM's pool workers are forked).
"""
from __future__ import annotations

import logging
import os

import numpy as np
import xarray as xr
from oggm import cfg, utils

from .._io import write_netcdf_atomic
from ..session.params import get_param, register_file_keys

log = logging.getLogger(__name__)

register_file_keys()  # before the entity task below documents its file


def _file_model(gdir, input_filesuffix: str):
    from oggm.core.flowline import FileModel

    path = gdir.get_filepath("model_geometry", filesuffix=input_filesuffix)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{gdir.rgi_id}: {os.path.basename(path)} is missing: run the OGGM run task with "
            f"output_filesuffix='{input_filesuffix}' and cfg.PARAMS['store_model_geometry'] = True first")
    return FileModel(path)


def _year_geometries(gdir, input_filesuffix: str, update_years: int):
    """(hydrological years, the calendar year each saw, {calendar year: (GridGeometry, volume m3)})."""
    from ..grid.glacier_data import read_model_grid
    from ..run.evolving_run import adopted_year
    from ..run.geometry import FlowlineGridMap

    grid_map = FlowlineGridMap(read_model_grid(gdir), gdir.read_pickle("model_flowlines"), gdir.rgi_id)
    fmod = _file_model(gdir, input_filesuffix)
    years = np.asarray(fmod.years).astype(int)
    first, last = int(years[0]), int(years[-1]) - 1  # the last stored year gets no MB
    hydro = np.arange(first - 1, last + 1)
    seen = [adopted_year(h, first, update_years) for h in hydro]
    geometries = {}
    for y in sorted(set(seen)):
        fmod.run_until(y)
        geometries[y] = (grid_map.geometry(fmod.fls), float(fmod.volume_m3))
    return hydro, np.asarray(seen), geometries


@utils.entity_task(log, writes=["glaunti_geometry"])
def glaunti_geometry_history(gdir, input_filesuffix: str = "", output_filesuffix: str | None = None,
                             update_years: int | None = None) -> str:
    """Write ``glaunti_geometry{output_filesuffix}.nc``: the corrector's grid geometry in each
    hydrological year of the run ``model_geometry{input_filesuffix}.nc`` (see the module
    docstring).

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        with ``glaunti_grid.nc``, ``model_flowlines`` and the run's ``model_geometry``.
    input_filesuffix : str
        the run's ``output_filesuffix``.
    output_filesuffix : str, optional
        default: ``input_filesuffix``.
    update_years : int, optional
        the run's ``glaunti_geometry_update_years`` (default: the current setting).

    Returns
    -------
    str
        the file written.
    """
    update_years = int(get_param("glaunti_geometry_update_years", update_years))
    hydro, seen, geometries = _year_geometries(gdir, input_filesuffix, update_years)
    with xr.open_dataset(gdir.get_filepath("glaunti_grid")) as grid:
        x, y = grid["x"].load(), grid["y"].load()
        srs = grid.attrs["pyproj_srs"]
    per_year = [geometries[s] for s in seen]
    dims = ("hydro_year", "y", "x")
    ds = xr.Dataset(
        {"outline_fraction": (dims, np.stack([g.outline for g, _ in per_year]), {
            "units": "1", "standard_name": "land_ice_area_fraction",
            "long_name": "fraction of the cell covered by the glacier the corrector saw"}),
         "surface_elevation": (dims, np.stack([g.elevation for g, _ in per_year]), {
             "units": "m", "standard_name": "surface_altitude",
             "long_name": "surface elevation the corrector saw (glacier surface on the glacier, "
                          "the present-day DEM elsewhere, the band's bed where the ice left)"}),
         "glacier_area": ("hydro_year", [g.area_m2 for g, _ in per_year], {
             "units": "m2", "long_name": "glacier area on the model grid"}),
         "flowline_area": ("hydro_year", [g.flowline_area_m2 for g, _ in per_year], {
             "units": "m2", "long_name": "ice-covered area of the flowlines"}),
         "flowline_volume": ("hydro_year", [v for _, v in per_year], {
             "units": "m3", "long_name": "ice volume of the flowlines"}),
         "unplaced_area": ("hydro_year", [g.unplaced_area_m2 for g, _ in per_year], {
             "units": "m2", "long_name": "advance area beyond the glacier's window, not on the grid"}),
         "empty": ("hydro_year", np.array([g.empty for g, _ in per_year], np.int8), {
             "units": "1", "long_name": "1: no ice on the flowlines, the corrector saw the last cell"}),
         "geometry_year": ("hydro_year", seen.astype(np.int32), {
             "units": "1", "long_name": "calendar year whose flowlines (1 January) the year saw"})},
        coords={"hydro_year": ("hydro_year", hydro.astype(np.int32), {
                    "long_name": "hydrological year, labelled by the calendar year it begins in",
                    "units": "1"}),
                "x": x, "y": y})
    ds.attrs = {"Conventions": "CF-1.8", "rgi_id": gdir.rgi_id, "pyproj_srs": srs,
                "source": os.path.basename(gdir.get_filepath("model_geometry", filesuffix=input_filesuffix)),
                "update_years": update_years,
                "description": "GlaUnTI's corrector inputs in a run with geometry='evolving' "
                               "(oggm_glaunti.integration.run.geometry)",
                "author": "oggm_glaunti"}
    suffix = input_filesuffix if output_filesuffix is None else output_filesuffix
    path = gdir.get_filepath("glaunti_geometry", filesuffix=suffix)
    write_netcdf_atomic(ds, path)
    return path


def replayed_profiles(gdir, mb_model, input_filesuffix: str, years) -> dict:
    """The annual SMB on the flowline points of the run ``model_geometry{input_filesuffix}.nc``
    in ``years``, replayed: ``mb_model`` is asked every calendar year from the run's first in
    order, with that year's stored flowlines (as the run asked it), so an evolving model
    rebuilds its geometry timeline. Returns year -> (heights m, SMB mm w.e. yr-1) on the
    points holding ice, sorted by height."""
    wanted = {int(y) for y in years}
    out = {}
    fmod = _file_model(gdir, input_filesuffix)
    for year in range(int(fmod.years[0]), max(wanted) + 1):
        fmod.run_until(year)
        rates = [mb_model.get_annual_mb(fl.surface_h, year=year, fl_id=i, fls=fmod.fls)
                 for i, fl in enumerate(fmod.fls)]
        if year in wanted:
            heights = np.concatenate([fl.surface_h for fl in fmod.fls])
            on = np.concatenate([fl.thick > 0 for fl in fmod.fls])
            rate = np.concatenate(rates) * cfg.SEC_IN_YEAR * cfg.PARAMS["ice_density"]
            order = np.argsort(heights[on])
            out[year] = (heights[on][order], rate[on][order])
    return out
