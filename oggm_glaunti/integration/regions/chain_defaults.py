"""The region chain's default years, suffixes and files, without importing OGGM.

The ``region`` sub-command's help is built from them in every ``oggm-glaunti`` call, before
salem (imported by OGGM) may be imported offline
(see :func:`~oggm_glaunti.integration.session.offline.prepare_salem_cache`).
"""
from __future__ import annotations

MONTHLY_TI = "MonthlyTIModel"
#: WGMS years of the calibration mean (inside HISTALP_oetztal.nc, full years 1802-2013).
REF_YEARS = (1980, 2012)
#: A glacier with fewer own WGMS annual balances in the reference years gets the regional mean.
MIN_WGMS_YEARS = 5
#: The cheap chain's calibration years and run.
CHEAP_YEARS = (2004, 2010)
CHEAP_SUFFIX = "_historical"
SPINUP_START = 1979
PROJECTION_END = 2100
#: OGGM's demo GCM files (CMIP5 CCSM4, RCP2.6) and the suffix of the processed files.
GCM_FILES = ("tas_mon_CCSM4_rcp26_r1i1p1_g025.nc", "pr_mon_CCSM4_rcp26_r1i1p1_g025.nc")
GCM_SUFFIX = "_CCSM4_rcp26"
SPINUP_SUFFIX = "_spinup"
