"""GlaUnTI's own ~100 m model grid: built from OGGM's DEM and outlines with raster checks,
and read back with the daily climate as plain arrays.
"""
