"""``GlaUnTIMassBalance``: GlaUnTI as an OGGM ``MassBalanceModel``.

Drops into ``run_from_climate_data``, ``run_random_climate``, ``run_with_hydro``,
``apparent_mb_from_any_mb`` (inversion) and ``run_dynamic_spinup``. See :mod:`.glacier_run`
for the state rule and :mod:`.flowline_run` for how the 2D corrections reach the flowlines.
OGGM's ``mb_calibration_from_scalar_mb`` runs on it through
:func:`~oggm_glaunti.integration.calibration.oggm_tasks.glaunti_mb_calibration_from_scalar_mb`;
called directly with ``write_to_gdir=True`` it is refused, as its ``mb_calib.json`` would
not name the class (:func:`~oggm_glaunti.integration.run.arguments.refuse_unlabelled_oggm_calibration`).

Parameters and where they come from (first found wins, :func:`.arguments.choose`):

1. constructor arguments (OGGM's calibration and run tasks pass them);
2. the glacier's calibration of the variant
   (:func:`~oggm_glaunti.integration.calibration.calibration_file.read_calibration`: our
   ``mb_calib_glaunti_<variant>.json``, else OGGM's ``mb_calib.json`` when it was written
   for this class), unless ``use_calibration=False``;
3. defaults: the published weights, ``temp_bias = 0``, ``prcp_fac = 1`` (a factor *on
   top of* the variant's own precipitation factor), ``melt_f`` = the variant's snow
   degree-day factor.

Each value given or calibrated must lie in its one plausible range
(:data:`.arguments.RANGES`). ``melt_f`` is the snow degree-day factor in mm w.e. degC-1
day-1, OGGM's unit for its own ``melt_f``; the ice factor keeps the variant's ice/snow
ratio. Variant B (the GRU baseline) has no degree-day factor: a ``melt_f`` given to it is
refused, never silently ignored.
"""

from __future__ import annotations

import logging
import os
import sys
from functools import lru_cache

import numpy as np
from oggm import cfg, utils
from oggm.core.massbalance import MassBalanceModel

from ...hydro_calendar import calendar_year, days_in_year, floatyear_to_day
from ..grid.glacier_data import glacier_calendar, read_daily_climate, read_model_grid
from ..calibration.calibration_file import read_calibration
from .arguments import choose, number, refuse_unlabelled_oggm_calibration, year_number
from ..session.compilation_cache import use_working_dir_compilation_cache
from ..session.mp_safety import protect_pool_from_jax
from ..session.params import get_param
from .geometry import check_geometry_mode, is_dynamical
from ..units import (SEC_IN_DAY, SEC_IN_MONTH, SEC_IN_YEAR, ddf_snow_log_to_melt_f, kg_m2_to_ice_rate,
                     m_we_to_kg_m2)

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _published(variant: str):
    from ...weights import load_pretrained

    return load_pretrained(variant)


def load_variant(variant: str, weights: str | os.PathLike | None = None):
    """The model of ``variant``: our weights file if given, else the published weights.

    Loading the weights starts JAX in this process, so this is where the integration's two
    process-wide JAX settings are applied (both logged, see the workflow guide): JAX's
    persistent compilation cache in the working directory
    (:func:`.compilation_cache.use_working_dir_compilation_cache`, before anything
    compiles) and spawned workers for OGGM's pool (:func:`.mp_safety.protect_pool_from_jax`).
    """
    use_working_dir_compilation_cache()
    variant = str(variant).upper()
    if weights is None:
        model = _published(variant)
    else:
        from ...weights import load_model

        model = load_model(weights, variant=variant)
    protect_pool_from_jax()
    return model


def variant_melt_f(model) -> float:
    """The variant's own snow degree-day factor as OGGM's ``melt_f`` (NaN for B, which
    has none)."""
    return ddf_snow_log_to_melt_f(model.ti.ddf_snow_log) if hasattr(model, "ti") else np.nan


#: Why variant B takes no melt_f (see the module docstring).
NO_MELT_F_FOR_B = ("variant B (the GRU baseline) has no degree-day factor: melt_f applies to variants A, C and D; "
                   "leave melt_f unset for B, or choose another variant")


def glacier_run_of(gdir, model, filename: str = "climate_historical", input_filesuffix: str = "",
                   grid_filesuffix: str = ""):
    """The glacier's :class:`~.glacier_run.GlacierRun` of ``model``: its daily climate
    ``<filename>_daily<input_filesuffix>.nc``, its model grid and the settings' state rule.
    Reads no calibration: the MB model runs it under the parameters it chose, and a new
    calibration starts from it (:func:`~oggm_glaunti.integration.calibration.task.fit_calibration`)."""
    from .glacier_run import GlacierRun

    climate = read_daily_climate(gdir, f"{filename}_daily", input_filesuffix)
    grid = read_model_grid(gdir, grid_filesuffix)
    return GlacierRun(
        model, climate, grid, calendar=glacier_calendar(gdir.hemisphere), lapse_rate=get_param("glaunti_lapse_rate"),
        spinup_years=get_param("glaunti_spinup_years"), segment_years=get_param("glaunti_segment_years"),
        cache_mb=get_param("glaunti_grid_cache_mb"),
    )


class GlaUnTIMassBalance(MassBalanceModel):
    """GlaUnTI (variants A-D) on OGGM flowlines, from daily climate.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        needs the daily climate file (``process_daily_from_monthly`` or another daily
        task) and the model grid (``glaunti_model_grid``).
    filename : str
        the *monthly* climate key OGGM passes ('climate_historical', 'gcm_data'); the
        daily file read is ``<filename>_daily<input_filesuffix>.nc``.
    input_filesuffix : str
        suffix of the climate file (e.g. '_CCSM4_rcp26').
    variant : str
        'A', 'B', 'C' or 'D' (default ``cfg.PARAMS['glaunti_variant']``, 'D').
    weights : path, optional
        weights in this package's format (e.g. a fine-tuned model); default: the weights
        the glacier's calibration names (``glaunti_calibrate(parameters=['ti'])`` or the
        regional calibration) if any, else the published ones.
    melt_f, temp_bias, prcp_fac : float, optional
        see the module docstring.
    bias : float
        subtracted from the SMB, mm w.e. yr-1 (OGGM's convention).
    ys, ye : int, optional
        limit the valid calendar years.
    grid_filesuffix : str
        suffix of the model grid file.
    use_calibration : bool
        read the glacier's calibration (default). False: the arguments, the published (or
        given) weights and the defaults only, as a new calibration starts.
    geometry : str, optional
        what the corrector sees in OGGM's dynamical runs: 'static' (the model grid's
        present-day outline and surface every year) or 'evolving' (each year, the glacier
        of the flowlines OGGM passes as ``fls``, laid onto the model grid; see
        :mod:`.evolving_run` and :mod:`.geometry`). Default ``cfg.PARAMS['glaunti_geometry']``
        ('static'). Calls without model flowlines (``fls=None``, inversion flowlines) see
        the present-day grid in both modes.
    """

    def __init__(self, gdir, filename: str = "climate_historical", input_filesuffix: str = "",
                 variant: str | None = None, weights=None, melt_f: float | None = None,
                 temp_bias: float | None = None, prcp_fac: float | None = None, bias: float = 0.0,
                 ys: int | None = None, ye: int | None = None, check_calib_params: bool = True,
                 grid_filesuffix: str = "", use_calibration: bool = True, geometry: str | None = None,
                 **kwargs):
        super().__init__()
        refuse_unlabelled_oggm_calibration(gdir, sys._getframe(1))
        self.variant = str(get_param("glaunti_variant", variant)).upper()
        calibration = read_calibration(gdir, self.variant) if use_calibration else None
        self.temp_bias = float(choose("temp_bias", temp_bias, calibration, 0.0).value)
        self.prcp_fac = float(choose("prcp_fac", prcp_fac, calibration, 1.0).value)
        number("bias", bias, "argument")
        weights = choose("weights", weights, calibration, None).value
        #: the weights file run (None: the published weights)
        self.weights_file = None if weights is None else os.fspath(weights)
        model = load_variant(self.variant, weights)
        chosen = choose("melt_f", melt_f, calibration, variant_melt_f(model))
        if self.variant == "B" and chosen.source != "default":
            raise ValueError(f"melt_f={chosen.value!r} ({chosen.source}): {NO_MELT_F_FOR_B}")
        self.melt_f = float(chosen.value)
        self.bias = float(bias)
        self.hemisphere = gdir.hemisphere
        self.rho = cfg.PARAMS["ice_density"]
        self.ice_density = self.rho
        self.valid_bounds = [-1e4, 2e4]
        self.rgi_id = gdir.rgi_id
        self.climate_source_file = f"{filename}_daily{input_filesuffix}"
        #: the glacier's :class:`~.glacier_run.GlacierRun`: its inputs, state rule and years
        self.glacier_run = glacier_run_of(gdir, model, filename, input_filesuffix, grid_filesuffix)
        self._band_dz = float(get_param("glaunti_band_dz"))
        hydro = self.glacier_run.years
        # calendar year Y needs the hydrological years overlapping it ([Y - 1, Y], or [Y])
        first = hydro[0] + len(self.glacier_run.calendar.overlapping(hydro[0])) - 1
        self.ys = int(max(first, year_number(ys, "ys")) if ys is not None else first)
        self.ye = int(min(hydro[-1], year_number(ye, "ye")) if ye is not None else hydro[-1])
        if self.ys > self.ye:
            raise ValueError(
                f"{gdir.rgi_id}: no calendar year is covered by the daily climate "
                f"{self.climate_source_file} within ys={ys}, ye={ye}"
            )
        self.years = np.arange(self.ys, self.ye + 1)
        self._series_cache: dict = {}
        self._point_years: dict = {}  # per adjustments: hydrological year -> PointYear
        self._bands = None
        #: 'static' or 'evolving' (see the class docstring)
        self.geometry = check_geometry_mode(str(get_param("glaunti_geometry", geometry)))
        self._evolving = None
        if self.geometry == "evolving":
            from .evolving_run import EvolvingGeometry

            self._evolving = EvolvingGeometry(gdir, self.glacier_run, get_param("glaunti_geometry_update_years"),
                                              self._band_dz)

    # --- parameters -------------------------------------------------------------------
    @property
    def melt_f(self) -> float:
        """Snow degree-day factor, mm w.e. degC-1 day-1 (NaN for variant B, which has none)."""
        return self._melt_f

    @melt_f.setter
    def melt_f(self, value: float) -> None:
        if self.variant == "B" and value is not None and np.isfinite(value):
            raise ValueError(f"melt_f={value!r}: {NO_MELT_F_FOR_B}")
        self._melt_f = value

    @property
    def adjustments(self):
        """The current ``temp_bias``, ``prcp_fac`` and ``melt_f`` as
        :class:`~.glacier_year.Adjustments` (what :attr:`glacier_run` runs under)."""
        from .glacier_year import Adjustments

        melt_f = None if not np.isfinite(self.melt_f) else float(self.melt_f)
        return Adjustments(float(self.temp_bias), float(self.prcp_fac), melt_f)

    def is_year_valid(self, year) -> bool:
        return self.ys <= int(np.floor(year_number(year))) <= self.ye

    def _check(self, heights, year):
        heights = np.asarray(heights, dtype=np.float64).ravel()
        if heights.size == 0:
            raise ValueError("heights is empty: pass the elevations (m) of the flowline points")
        if not np.all(np.isfinite(heights)):
            raise ValueError(
                f"heights has {int((~np.isfinite(heights)).sum())} NaN or infinite value(s); "
                "expected finite elevations in m"
            )
        if year is None:
            raise ValueError("year is required (GlaUnTI has no constant-climate mode)")
        if not np.isfinite(year_number(year)):
            raise ValueError(f"year is {year}: pass a finite (float) year within {self.ys}-{self.ye}")
        if not self.is_year_valid(year):
            raise ValueError(
                f"year {year} is outside the years GlaUnTI can compute from "
                f"{self.climate_source_file} ({self.ys}-{self.ye})"
            )
        return heights

    def daily_point_series(self, heights, year: int):
        """The model's daily results at ``heights`` (m) over calendar year ``year``: a
        :class:`~.flowline_run.PointSeries` (weighted daily SMB in m w.e., the day weights,
        each step's month, and the points' climate). ``bias`` is not applied."""
        heights = self._check(heights, year)
        return self._series(heights, int(np.floor(year)))

    def _series(self, heights: np.ndarray, year: int, fls=None, when: float | None = None):
        from .flowline_run import elevation_bands, point_calendar_year

        adj = self.adjustments
        evolving = None
        if self._evolving is not None and is_dynamical(fls):
            evolving = self._evolving.calendar_year(fls, year if when is None else when, year)
        key = (heights.tobytes(), year, adj, None if evolving is None else evolving.key)
        if key not in self._series_cache:
            if len(self._series_cache) > 256:
                self._series_cache.clear()
            if self._bands is None:
                grid = self.glacier_run.grid
                self._bands = elevation_bands(grid.elevation, grid.outline, self._band_dz)
            if len(self._point_years) > 16:  # e.g. a calibration trying many temp_bias
                self._point_years.clear()
            summaries = self._point_years.setdefault(adj, {})
            run, bands = self.glacier_run, self._bands
            if evolving is not None:  # the years' own glaciers (see .evolving_run)
                summaries = evolving.summaries(self._point_years.setdefault((adj, "evolving"), {}))
                run, bands = evolving.run, evolving.bands
            self._series_cache[key] = point_calendar_year(run, heights, year, adj, summaries, bands)
        return self._series_cache[key]

    @staticmethod
    def _climate(series, select):
        w = series.weight[select][:, None]
        temp = (series.temperature[select] * w).sum(0) / w.sum()
        tmelt = (series.tpos[select] * w).sum(0)
        prcp = m_we_to_kg_m2((series.precipitation[select] * w).sum(0))
        prcpsol = m_we_to_kg_m2((series.accumulation[select] * w).sum(0))
        return temp, tmelt, prcp, prcpsol

    # --- OGGM protocol ------------------------------------------------------------------
    def get_annual_mb(self, heights, year=None, fl_id=None, fls=None, add_climate=False, **kwargs):
        """Annual (calendar-year) SMB at ``heights``, m of ice per second."""
        heights = self._check(heights, year)
        series = self._series(heights, int(np.floor(year)), fls, year)
        kg_m2 = m_we_to_kg_m2(series.smb.sum(0)) - self.bias
        mb = kg_m2_to_ice_rate(kg_m2, SEC_IN_YEAR, self.rho)
        if add_climate:
            return (mb,) + self._climate(series, slice(None))
        return mb

    def get_monthly_mb(self, heights, year=None, fl_id=None, fls=None, add_climate=False, **kwargs):
        """SMB of one calendar month (``year`` = y + (m - 1) / 12), m of ice per second."""
        heights = self._check(heights, year)
        y, m = utils.floatyear_to_date(year)
        series = self._series(heights, int(y), fls, year)
        select = series.month == m
        kg_m2 = m_we_to_kg_m2(series.smb[select].sum(0)) - self.bias / 12.0
        mb = kg_m2_to_ice_rate(kg_m2, SEC_IN_MONTH, self.rho)
        if add_climate:
            return (mb,) + self._climate(series, select)
        return mb

    def get_daily_mb(self, heights, year=None, fl_id=None, fls=None, add_climate=False, **kwargs):
        """SMB of one day at ``heights``, m of ice per second (OGGM's newer protocol).

        ``year`` is the float year of the day, ``y + (day of year - 1) / days in y`` with
        leap years counted (:func:`oggm_glaunti.hydro_calendar.day_floatyear` gives it for a date). ``bias`` is spread
        evenly over the days of the year, so the days of a calendar year add up to
        :meth:`get_annual_mb` times the year's length. With ``add_climate`` also returns
        the day's temperature, positive melt temperature, precipitation and solid
        precipitation at ``heights`` (as :meth:`get_monthly_mb`).
        """
        heights = self._check(heights, year)
        day = floatyear_to_day(year)
        y = calendar_year(day)
        series = self._series(heights, y, fls, year)
        select = series.date == day
        kg_m2 = m_we_to_kg_m2(series.smb[select].sum(0)) - self.bias / days_in_year(y)
        mb = kg_m2_to_ice_rate(kg_m2, SEC_IN_DAY, self.rho)
        if add_climate:
            return (mb,) + self._climate(series, select)
        return mb

    def reset_state(self):
        """Forget this instance's cached point results (OGGM's newer protocol).

        GlaUnTI carries no state from one call to the next: each year's snow state comes
        from the deterministic state rule, never from the years asked for before, so
        resetting changes no result; it frees memory.
        """
        self._series_cache.clear()
        self._point_years.clear()

    # --- the model grid ----------------------------------------------------------------
    def grid_smb(self, year: int) -> np.ndarray:
        """Calendar-year SMB on the model grid (H, W), m w.e. (no ``bias``)."""
        self._check([0.0], year)
        return self.glacier_run.calendar_smb(int(year), self.adjustments)

    def grid_specific_mb(self, year: int) -> float:
        """Glacier-wide calendar-year SMB on the model grid, mm w.e. (``bias`` included)."""
        return float(m_we_to_kg_m2(self.glacier_run.glacier_mean(self.grid_smb(year)))) - self.bias
