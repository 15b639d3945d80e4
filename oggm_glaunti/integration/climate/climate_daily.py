"""Daily climate files for GlaUnTI (entity tasks).

GlaUnTI runs on daily temperature and precipitation. OGGM 1.6.3 has no daily
climate task, only the reserved file key ``climate_historical_daily``. The
tasks here write it (and ``gcm_data_daily`` for projections):

- :func:`process_daily_gridded_climate`: from a user's daily gridded netCDF
  (regular lon/lat grid, e.g. ERA5-Land), at the glacier's location;
- :func:`process_daily_from_monthly`: stochastic disaggregation of the
  glacier's monthly ``climate_historical.nc`` (any OGGM baseline climate);
- :func:`process_daily_from_gcm`: the same disaggregation of a
  ``gcm_data.nc`` written by ``oggm.tasks.process_cmip_data``.

The file format is described in :mod:`.daily_file`.

Disaggregation: method in :mod:`oggm_glaunti.integration.climate.disaggregation`
(AR(1) temperature anomalies standardised to the month's ``temp_std``,
Markov-chain wet days, gamma amounts; monthly means and totals preserved
exactly; negative monthly totals, which occur as data artefacts, are set to
0 with a warning and counted in the attribute
``glaunti_negative_prcp_months_set_to_0``). Defaults, in ``cfg.PARAMS``
(see :mod:`.params`): temperature spread ``glaunti_daily_temp_std_default``
= 3 degC when the monthly file has no ``temp_std`` (HISTALP, CRU, custom
and GCM files have none; W5E5 files have it, ERA5 files when OGGM's source
provides it),
``glaunti_daily_temp_ar1`` = 0.7, ``glaunti_daily_p_wet_after_dry`` = 0.25,
``glaunti_daily_p_wet_after_wet`` = 0.65 (about 42 % wet days),
``glaunti_daily_prcp_gamma_shape`` = 0.75, ``glaunti_daily_seed`` = 0. The
random stream is ``Generator(PCG64(SeedSequence([seed, crc32(rgi_id)])))``:
reproducible for each (seed, glacier), independent between glaciers.

What the approximation costs against real daily data: no synoptic
persistence beyond AR(1) and no link between temperature and wet days;
extremes, the timing of melt onset and the rain/snow partition near 0 degC
are only approximate. Calibrated parameters (temperature offset,
precipitation factor) absorb part of this. The seed moves glacier-wide
results by a few hundredths of m w.e. per year (calibrated offsets by about
0.1 degC); the spread and wet-day settings matter more.
"""
from __future__ import annotations

import logging
import os
import zlib

import numpy as np
import xarray as xr
from numpy.random import PCG64, Generator, SeedSequence
from oggm import utils

from . import disaggregation as dis
from ...plausible import check_reference_height
from .daily_file import select_years, write_daily_climate_file
from ..session.params import get_param, register_file_keys

log = logging.getLogger(__name__)

register_file_keys()  # before the entity tasks below document their files

# which task writes each monthly input file
_PRODUCERS = {
    'climate_historical': 'oggm.tasks.process_climate_data (or '
                          'process_custom_climate_data for a custom file)',
    'gcm_data': 'oggm.tasks.process_cmip_data (or process_gcm_data)',
}


#: Each disaggregation setting (task argument) and its cfg.PARAMS key.
_SETTING_KEYS = {
    'seed': 'glaunti_daily_seed',
    'temp_std_default': 'glaunti_daily_temp_std_default',
    'ar1': 'glaunti_daily_temp_ar1',
    'p_wet_after_dry': 'glaunti_daily_p_wet_after_dry',
    'p_wet_after_wet': 'glaunti_daily_p_wet_after_wet',
    'gamma_shape': 'glaunti_daily_prcp_gamma_shape',
}


def _rng(seed: int, rgi_id: str) -> Generator:
    """Random generator for one (seed, glacier)."""
    return Generator(PCG64(SeedSequence([int(seed),
                                         zlib.crc32(rgi_id.encode())])))


def _read_monthly(gdir, key: str, suffix: str) -> xr.Dataset:
    fpath = gdir.get_filepath(key, filesuffix=suffix)
    if not os.path.exists(fpath):
        raise FileNotFoundError(
            f'{gdir.rgi_id}: the monthly climate file {fpath} does not '
            f'exist. Run {_PRODUCERS[key]} first (with '
            f'filesuffix={suffix!r}).')
    with xr.open_dataset(fpath) as ds:
        return ds.load()


def _disaggregate_file(gdir, in_key: str, in_suffix: str, out_key: str,
                       out_suffix: str, seed, temp_std_default, ar1,
                       p_wet_after_dry, p_wet_after_wet, gamma_shape,
                       y0, y1) -> str:
    """Shared body of the two disaggregation tasks."""
    given = dict(seed=seed, temp_std_default=temp_std_default, ar1=ar1,
                 p_wet_after_dry=p_wet_after_dry, p_wet_after_wet=p_wet_after_wet,
                 gamma_shape=gamma_shape)
    values = {name: get_param(key, given[name]) for name, key in _SETTING_KEYS.items()}
    labels = {name: f'{name} (argument)' if given[name] is not None else f"cfg.PARAMS['{key}']"
              for name, key in _SETTING_KEYS.items()}
    dis.check_settings(**values, labels=labels)
    seed, std_default = int(values.pop('seed')), float(values.pop('temp_std_default'))
    kw = {name: float(value) for name, value in values.items()}

    ds = _read_monthly(gdir, in_key, in_suffix)
    fname = os.path.basename(gdir.get_filepath(in_key, filesuffix=in_suffix))
    ref_hgt = check_reference_height(
        ds.attrs.get('ref_hgt'), f'{gdir.rgi_id}: {fname}, global attribute ref_hgt',
        f' It is the height of the climate data {fname} was made from: correct it there and '
        f'rerun {_PRODUCERS[in_key]}.')
    years = ds['time.year'].values.astype(int)
    months = ds['time.month'].values.astype(int)
    steps = years * 12 + months
    if steps.size == 0 or np.any(np.diff(steps) != 1):
        raise ValueError(f'{gdir.rgi_id}: {fname} must hold consecutive '
                         'months without gaps.')
    sel = select_years(years, y0, y1, fname)
    for name in ('temp', 'prcp'):
        bad = ~np.isfinite(ds[name].values)
        if bad.any():
            raise ValueError(f'{gdir.rgi_id}: {fname} has {int(bad.sum())} NaN or infinite '
                             f'monthly {name} value(s) (first in {years[bad][0]}-'
                             f'{months[bad][0]:02d}); fill the gaps before disaggregating.')
    if 'temp_std' in ds:
        std = ds['temp_std'].values.astype(np.float64)
        std = np.where(np.isfinite(std), std, std_default)
        std_source = 'temp_std variable of the monthly file'
    else:
        std = std_default
        std_source = f'default {std_default} degC'
    ndays = dis.days_in_months(years, months)
    prcp_monthly = ds['prcp'].values.astype(np.float64)
    negative = int(np.sum(prcp_monthly < 0))
    if negative:
        # data artefacts exist (e.g. HISTALP_oetztal.nc, November 2011)
        log.warning('%s: %d months of %s have negative precipitation '
                    '(min %.3g kg m-2); set to 0.', gdir.rgi_id, negative,
                    fname, prcp_monthly.min())
        prcp_monthly = np.clip(prcp_monthly, 0., None)
    temp, prcp = dis.disaggregate_monthly(
        ds['temp'].values, prcp_monthly, ndays, std,
        _rng(seed, gdir.rgi_id), **kw)
    dsel = np.repeat(sel, ndays)
    attrs = {'glaunti_method': 'stochastic disaggregation of monthly '
                               'climate (oggm_glaunti.integration.'
                               'disaggregation); monthly means and totals '
                               'preserved',
             'glaunti_input_file': fname, 'glaunti_seed': int(seed),
             'glaunti_temp_std_source': std_source,
             'glaunti_negative_prcp_months_set_to_0': negative,
             **{f'glaunti_{k}': float(v) for k, v in kw.items()}}
    return write_daily_climate_file(
        gdir, dis.daily_dates(years, months)[dsel], temp[dsel], prcp[dsel],
        ref_hgt, float(ds.attrs['ref_pix_lon']),
        float(ds.attrs['ref_pix_lat']),
        source=f'{ds.attrs.get("climate_source", fname)} (daily, '
               'stochastic disaggregation)',
        file_name=out_key, filesuffix=out_suffix, attrs=attrs,
        units_hint=f'{fname} should hold OGGM monthly climate (temp in degC, prcp in kg m-2 '
                   f'per month); check how it was made.')


@utils.entity_task(log, writes=['climate_historical_daily'])
def process_daily_from_monthly(gdir, input_filesuffix: str = '',
                               output_filesuffix: str = '',
                               seed: int | None = None,
                               temp_std_default: float | None = None,
                               ar1: float | None = None,
                               p_wet_after_dry: float | None = None,
                               p_wet_after_wet: float | None = None,
                               gamma_shape: float | None = None,
                               y0: int | None = None,
                               y1: int | None = None) -> None:
    """Disaggregate ``climate_historical.nc`` into daily values.

    Writes ``climate_historical_daily{output_filesuffix}.nc``. Method,
    defaults and caveats: see the module docstring. Arguments left to None
    take their value from ``cfg.PARAMS['glaunti_daily_*']``. The whole
    monthly file is disaggregated, then years ``y0..y1`` are kept, so a
    given day does not depend on ``y0``/``y1``.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        the glacier directory.
    input_filesuffix : str
        suffix of the monthly ``climate_historical`` file.
    output_filesuffix : str
        suffix of the daily file.
    seed : int, optional
        random seed (combined with the RGI id).
    temp_std_default : float, optional
        within-month daily temperature std (degC) when the file has no
        ``temp_std``.
    ar1 : float, optional
        lag-1 autocorrelation of daily temperature anomalies.
    p_wet_after_dry, p_wet_after_wet : float, optional
        wet-day Markov chain transition probabilities.
    gamma_shape : float, optional
        gamma shape of the wet-day amounts.
    y0, y1 : int, optional
        first and last calendar year to write (default: the whole file).
    """
    _disaggregate_file(gdir, 'climate_historical', input_filesuffix,
                       'climate_historical_daily', output_filesuffix, seed,
                       temp_std_default, ar1, p_wet_after_dry,
                       p_wet_after_wet, gamma_shape, y0, y1)


@utils.entity_task(log, writes=['gcm_data_daily'])
def process_daily_from_gcm(gdir, input_filesuffix: str = '',
                           output_filesuffix: str | None = None,
                           seed: int | None = None,
                           temp_std_default: float | None = None,
                           ar1: float | None = None,
                           p_wet_after_dry: float | None = None,
                           p_wet_after_wet: float | None = None,
                           gamma_shape: float | None = None,
                           y0: int | None = None,
                           y1: int | None = None) -> None:
    """Disaggregate ``gcm_data{input_filesuffix}.nc`` into daily values.

    The input is OGGM's monthly, bias-corrected GCM file written by
    ``oggm.tasks.process_cmip_data`` (e.g. ``filesuffix='_CCSM4_rcp26'``;
    ``time`` on the 15th of each month, ``temp`` degC, ``prcp`` kg m-2 per
    month). Writes ``gcm_data_daily{output_filesuffix}.nc`` (file key
    ``gcm_data_daily``: daily files are named after their monthly key +
    ``_daily``). Same method and arguments as
    :func:`process_daily_from_monthly`; ``output_filesuffix`` defaults to
    ``input_filesuffix``.

    Parameters
    ----------
    gdir : oggm.GlacierDirectory
        the glacier directory.
    input_filesuffix : str
        suffix of the ``gcm_data`` file (as given to ``process_cmip_data``).
    output_filesuffix : str, optional
        suffix of the daily file (default: ``input_filesuffix``).
    seed, temp_std_default, ar1, p_wet_after_dry, p_wet_after_wet, \
gamma_shape, y0, y1
        as in :func:`process_daily_from_monthly`.
    """
    if output_filesuffix is None:
        output_filesuffix = input_filesuffix
    _disaggregate_file(gdir, 'gcm_data', input_filesuffix, 'gcm_data_daily',
                       output_filesuffix, seed, temp_std_default, ar1,
                       p_wet_after_dry, p_wet_after_wet, gamma_shape, y0, y1)


# the gridded-data task lives in its own module; re-exported here
from .climate_gridded import process_daily_gridded_climate  # noqa: E402,F401
