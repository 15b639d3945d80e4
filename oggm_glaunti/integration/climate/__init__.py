"""Daily climate in a glacier directory: from daily gridded files, or disaggregated from
OGGM's monthly and GCM files, written with plausibility checks.
"""
