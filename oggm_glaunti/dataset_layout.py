"""The GlaUnTI training dataset's layout as released (Maslov et al., doi:10.4121/5ea53bc3-…).

File, variable and column names shared by the reader (:mod:`oggm_glaunti.training.dataset`)
and the OGGM export (:mod:`oggm_glaunti.integration.output.dataset_export`), so that neither
imports the other. Plain constants; see ``docs/dataset_format.md`` for their meaning.
"""

from __future__ import annotations

#: The dataset's index file, at the root.
INDEX_FILE = "index.csv"
#: ``index.csv`` columns (as the published index).
INDEX_COLUMNS = ("name", "wgms_name", "fold", "region", "max_year", "height", "width")

#: Gridded files and the variable each holds.
TEMPERATURE_FILE, TEMPERATURE_VAR = "temperature.nc", "temperature_2m"  # degC at the orography
PRECIPITATION_FILE, PRECIPITATION_VAR = "precipitation.nc", "total_precipitation_sum"  # m per day
OROGRAPHY_FILE, OROGRAPHY_VAR = "orography.nc", "elevation"  # the climate's height, m
DEM_FILE, ELEVATION_VAR, ELEVATION_STD_VAR = "dem.nc", "z", "zstddev"  # m, per year
OUTLINE_FILE, OUTLINE_VAR = "outlines.nc", "outlines"  # glacier fraction 0..1, per year
FACIES_FILE, FACIES_VAR = "facies.nc", "facies"  # optional, (year, band, y, x)
#: Facies band labels as released; the reader maps "superimposed-ice" to the core's name.
FACIES_BAND_LABELS = ("ice", "snow", "debris", "firn", "shadow", "superimposed-ice", "cloud",
                      "water", "confidence")
#: The name of the CF grid-mapping variable (as rioxarray writes it).
GRID_MAPPING_VAR = "spatial_ref"

#: Glacier-wide balances and each year's dates.
TOTAL_SMB_FILE = "total_smb.csv"
#: ``total_smb.csv`` columns.
TOTAL_COLUMNS = ("year", "begin_date", "midseason_date", "end_date",
                 "annual_balance", "winter_balance", "summer_balance")
#: Stake readings (optional).
POINT_SMB_FILE = "point_smb.csv"
#: ``point_smb.csv`` columns (others are ignored).
POINT_COLUMNS = ("year", "begin_date", "end_date", "latitude", "longitude", "balance", "balance_code")
#: ``balance_code`` values; "index" readings are left out of the loss and the point scores.
BALANCE_CODES = ("annual", "winter", "summer", "index")

#: Temperature lapse rate of the downscaling (degC per m, Maslov et al., egusphere-2026-515).
LAPSE_RATE = -0.0060
#: The first simulated year of the published runs (spin-up 1990-1994, scored from 1995).
FIRST_YEAR = 1990
