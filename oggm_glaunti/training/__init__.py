"""Training, fine-tuning and evaluation of GlaUnTI (the paper's protocol) on a user's data.

Builds on :mod:`oggm_glaunti.core`; only the regional calibration uses the OGGM layer.
"""
