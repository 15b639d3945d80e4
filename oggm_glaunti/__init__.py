"""oggm-glaunti: the GlaUnTI hybrid physics-ML surface mass balance model for OGGM.

The pure-JAX model lives in :mod:`oggm_glaunti.core`; the published weights in
:mod:`oggm_glaunti.weights`; OGGM tasks and the mass-balance model in
:mod:`oggm_glaunti.integration`.
"""

__version__ = "0.1.0"
