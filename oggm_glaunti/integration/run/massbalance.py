"""``GlaUnTIMassBalance``: GlaUnTI as an OGGM ``MassBalanceModel``.

Drops into ``run_from_climate_data``, ``run_random_climate``, ``run_with_hydro``,
``apparent_mb_from_any_mb`` (inversion) and ``run_dynamic_spinup``. See :mod:`.glacier_run`
for the state rule and :mod:`.flowline_run` for how the 2D corrections reach the flowlines.
OGGM's ``mb_calibration_from_scalar_mb`` runs on it through
:func:`~oggm_glaunti.integration.calibration.oggm_tasks.glaunti_mb_calibration_from_scalar_mb`;
called directly with ``write_to_gdir=True`` it is refused, as its ``mb_calib.json`` would
not name the class (:func:`~oggm_glaunti.integration.run.arguments.refuse_unlabelled_oggm_calibration`).

Parameters and where they come from (first found wins):

1. constructor arguments (OGGM's calibration and run tasks pass them);
2. our calibration file ``mb_calib_glaunti_<variant>.json`` (``glaunti_calibrate``);
3. OGGM's ``mb_calib.json`` when it was written for this class;
4. defaults: ``temp_bias = 0``, ``prcp_fac = 1`` (a factor *on top of* the variant's own
   precipitation factor), ``melt_f`` = the variant's snow degree-day factor.

``melt_f`` is the snow degree-day factor in mm w.e. degC-1 day-1, OGGM's unit for its own
``melt_f``; the ice factor keeps the variant's ice/snow ratio.
"""

from __future__ import annotations

import calendar
import logging
import os
import sys
from functools import lru_cache

import numpy as np
from oggm import cfg, utils
from oggm.core.massbalance import MassBalanceModel

from ..grid.glacier_data import read_daily_climate, read_model_grid
from .arguments import check_mb_arguments, refuse_unlabelled_oggm_calibration
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


def calibration_filesuffix(variant: str) -> str:
    return f"_glaunti_{variant}"


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


def days_in_year(year: int) -> int:
    """365 or 366: the daily climate has real calendars (leap years included)."""
    return 366 if calendar.isleap(int(year)) else 365


def day_floatyear(date) -> float:
    """The float year of a day: ``y + (day of year - 1) / days in y`` (leap years counted).

    The convention of :meth:`GlaUnTIMassBalance.get_daily_mb`; e.g. 2001-01-01 -> 2001.0,
    2000-12-31 -> 2000 + 365 / 366.
    """
    day = np.datetime64(date, "D")
    y = int(day.astype("datetime64[Y]").astype(int)) + 1970
    doy = int((day - np.datetime64(f"{y:04d}-01-01")).astype(int))
    return y + doy / days_in_year(y)


def floatyear_to_day(year: float) -> np.datetime64:
    """The day whose float year interval ``[y + (d-1)/n, y + d/n)`` holds ``year`` (the
    inverse of :func:`day_floatyear`, tolerant to round-off of ~1e-4 day)."""
    y = int(np.floor(year + 1e-9))
    n = days_in_year(y)
    doy = min(max(int(np.floor((float(year) - y) * n + 1e-4)), 0), n - 1)
    return np.datetime64(f"{y:04d}-01-01") + np.timedelta64(doy, "D")


def _calibrated(gdir, variant: str) -> dict:
    suffix = calibration_filesuffix(variant)
    if gdir.has_file("mb_calib", filesuffix=suffix):
        return gdir.read_json("mb_calib", filesuffix=suffix)
    if gdir.has_file("mb_calib"):
        calib = gdir.read_json("mb_calib")
        if calib.get("mb_model_class") == "GlaUnTIMassBalance":
            return calib
    return {}


def fitted_weights_path(gdir, calib: dict) -> str:
    """The weights file a calibration names, checked against the SHA-256 written with it
    (a pair from two different calibrations is refused, never silently combined)."""
    path = os.path.join(gdir.dir, calib["weights_file"])
    if not os.path.exists(path):
        raise FileNotFoundError(f"{gdir.rgi_id}: the calibration names the weights file {calib['weights_file']}, "
                                "which is missing: run glaunti_calibrate again")
    expected = calib.get("weights_sha256")
    if expected is not None:
        from ...weights.registry import sha256_of

        if sha256_of(path) != expected:
            raise ValueError(f"{gdir.rgi_id}: {calib['weights_file']} is not the weights file its calibration "
                             "was written with (an interrupted calibration?): run glaunti_calibrate again")
    return path


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
        fitted to this glacier by ``glaunti_calibrate(parameters=['ti'])`` or the regional
        calibration if any, else the published ones.
    melt_f, temp_bias, prcp_fac : float, optional
        see the module docstring.
    bias : float
        subtracted from the SMB, mm w.e. yr-1 (OGGM's convention).
    ys, ye : int, optional
        limit the valid calendar years.
    grid_filesuffix : str
        suffix of the model grid file.
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
                 grid_filesuffix: str = "", geometry: str | None = None, **kwargs):
        super().__init__()
        from .glacier_run import GlacierRun

        refuse_unlabelled_oggm_calibration(gdir, sys._getframe(1))
        self.variant = str(get_param("glaunti_variant", variant)).upper()
        calib = _calibrated(gdir, self.variant)
        check_mb_arguments(gdir, self.variant, calib, temp_bias=temp_bias, prcp_fac=prcp_fac,
                           melt_f=melt_f, bias=bias)
        self.temp_bias = float(temp_bias if temp_bias is not None else calib.get("temp_bias", 0.0))
        self.prcp_fac = float(prcp_fac if prcp_fac is not None else calib.get("prcp_fac", 1.0))
        if weights is None and calib.get("weights_file"):  # TI parameters fitted to this glacier
            weights = fitted_weights_path(gdir, calib)
        self.weights_file = None if weights is None else os.fspath(weights)
        model = load_variant(self.variant, weights)
        default_melt_f = ddf_snow_log_to_melt_f(model.ti.ddf_snow_log) if hasattr(model, "ti") else np.nan
        self.melt_f = float(melt_f if melt_f is not None else calib.get("melt_f", default_melt_f))
        self.bias = float(bias)
        self.hemisphere = gdir.hemisphere
        self.rho = cfg.PARAMS["ice_density"]
        self.ice_density = self.rho
        self.valid_bounds = [-1e4, 2e4]
        self.rgi_id = gdir.rgi_id
        self.climate_source_file = f"{filename}_daily{input_filesuffix}"

        climate = read_daily_climate(gdir, f"{filename}_daily", input_filesuffix)
        grid = read_model_grid(gdir, grid_filesuffix)
        start = get_param("glaunti_hydro_start_month_" + ("nh" if self.hemisphere == "nh" else "sh"))
        #: the glacier's :class:`~.glacier_run.GlacierRun`: its inputs, state rule and years
        self.glacier_run = GlacierRun(
            model, climate, grid, start_month=start, lapse_rate=get_param("glaunti_lapse_rate"),
            spinup_years=get_param("glaunti_spinup_years"), segment_years=get_param("glaunti_segment_years"),
            cache_mb=get_param("glaunti_grid_cache_mb"),
        )
        self._band_dz = float(get_param("glaunti_band_dz"))
        hydro = self.glacier_run.years
        first = hydro[0] + (1 if start != 1 else 0)
        self.ys = int(max(first, ys) if ys is not None else first)
        self.ye = int(min(hydro[-1], ye) if ye is not None else hydro[-1])
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
    def adjustments(self):
        """The current ``temp_bias``, ``prcp_fac`` and ``melt_f`` as
        :class:`~.glacier_year.Adjustments` (what :attr:`glacier_run` runs under)."""
        from .glacier_year import Adjustments

        melt_f = None if not np.isfinite(self.melt_f) else float(self.melt_f)
        return Adjustments(float(self.temp_bias), float(self.prcp_fac), melt_f)

    def is_year_valid(self, year) -> bool:
        return self.ys <= int(np.floor(year)) <= self.ye

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
        if not np.isfinite(year):
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
        leap years counted (:func:`day_floatyear` gives it for a date). ``bias`` is spread
        evenly over the days of the year, so the days of a calendar year add up to
        :meth:`get_annual_mb` times the year's length. With ``add_climate`` also returns
        the day's temperature, positive melt temperature, precipitation and solid
        precipitation at ``heights`` (as :meth:`get_monthly_mb`).
        """
        heights = self._check(heights, year)
        day = floatyear_to_day(year)
        y = int(day.astype("datetime64[Y]").astype(int)) + 1970
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
