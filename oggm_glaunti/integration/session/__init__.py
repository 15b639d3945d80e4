"""Setting up an OGGM session for GlaUnTI: offline initialisation, the settings (cfg.PARAMS
defaults and file keys), JAX in OGGM's processes (pool safety, compilation cache), the
sample glaciers.
"""
