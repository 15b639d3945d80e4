"""OGGM's process pool running GlaUnTI tasks; run as a script by test_multiprocessing.py.

Builds Hintereis- and Kesselwandferner (geometry and climate only), then runs
process_daily_from_monthly, glaunti_model_grid and glaunti_gridded_smb (variant A, 2
hydrological years) with ``use_multiprocessing=True, mp_processes=2``. Prints one JSON
line (prefix ``RESULT ``) with what happened.

Options: ``--jax-in-parent`` uses JAX in this (parent) process before the pool is created;
``--protect`` calls ``use_spawn_if_jax_initialised`` before the pool runs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

RGI_IDS = ['RGI50-11.00897', 'RGI50-11.00787']  # Hintereisferner, Kesselwandferner
YEARS = dict(ys=2000, ye=2001)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('workdir')
    parser.add_argument('--jax-in-parent', action='store_true')
    parser.add_argument('--protect', action='store_true')
    args = parser.parse_args()

    from oggm_glaunti.integration.sample_glaciers import oetztal_gdirs

    # short segments: keep the run quick (the state rule is not what is tested here)
    gdirs = oetztal_gdirs(args.workdir, rgi_ids=RGI_IDS, calibrate=False, invert=False,
                          init_present_time=False, glaunti_spinup_years=1,
                          glaunti_segment_years=2)
    from oggm import cfg, workflow

    from oggm_glaunti.integration.climate_daily import process_daily_from_monthly
    from oggm_glaunti.integration.gridded_output import glacier_wide_series, glaunti_gridded_smb
    from oggm_glaunti.integration.model_grid import glaunti_model_grid
    from oggm_glaunti.integration.mp_safety import jax_backend_initialised, use_spawn_if_jax_initialised

    if args.jax_in_parent:  # JAX runs here, in the parent, before the pool exists
        process_daily_from_monthly(gdirs[0])
        glaunti_model_grid(gdirs[0])
        glaunti_gridded_smb(gdirs[0], variant='A', filesuffix='_parent', **YEARS)

    cfg.PARAMS['use_multiprocessing'] = True
    cfg.PARAMS['mp_processes'] = 2
    protected = use_spawn_if_jax_initialised() if args.protect else False
    t0 = time.time()
    workflow.execute_entity_task(process_daily_from_monthly, gdirs)
    workflow.execute_entity_task(glaunti_model_grid, gdirs)
    workflow.execute_entity_task(glaunti_gridded_smb, gdirs, variant='A', **YEARS)
    pool_s = time.time() - t0
    annual = {g.rgi_id: glacier_wide_series(g.get_filepath('glaunti_gridded_smb'))
              ['smb_annual'].round(6).tolist() for g in gdirs}
    print('RESULT ' + json.dumps(dict(
        jax_in_parent=args.jax_in_parent, jax_initialised=jax_backend_initialised(),
        protected=protected, use_mp_spawn=bool(cfg.PARAMS['use_mp_spawn']),
        pool_s=round(pool_s, 1), annual=annual, pid=os.getpid())))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
