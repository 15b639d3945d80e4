"""OGGM's process pool running GlaUnTI tasks; run as a script by test_multiprocessing.py.

Builds Hintereis- and Kesselwandferner (geometry and climate only), then runs
process_daily_from_monthly, glaunti_model_grid and glaunti_gridded_smb (variant A, 2
hydrological years) with ``use_multiprocessing=True, mp_processes=2``. Prints one JSON
line (prefix ``RESULT ``) with what happened.

Options:

- ``--jax-in-parent``: with multiprocessing off, build a ``GlaUnTIMassBalance`` and compute
  an annual SMB in this (parent) process before the pool is created (JAX starts here), then
  switch multiprocessing on - the order a user takes when they try the model first;
- ``--reinitialise``: then also run OGGM's ``cfg.initialize()`` again (it resets
  ``use_mp_spawn``) and run the pool a second time (result ``annual_after_reinit``).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time

RGI_IDS = ['RGI50-11.00897', 'RGI50-11.00787']  # Hintereisferner, Kesselwandferner
YEARS = dict(ys=2000, ye=2001)
# short segments: keep the run quick (the state rule is not what is tested here)
SHORT_RUN = dict(glaunti_spinup_years=1, glaunti_segment_years=2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('workdir')
    parser.add_argument('--jax-in-parent', action='store_true')
    parser.add_argument('--reinitialise', action='store_true')
    args = parser.parse_args()

    from oggm_glaunti.integration.session.sample_glaciers import oetztal_gdirs

    gdirs = oetztal_gdirs(args.workdir, rgi_ids=RGI_IDS, calibrate=False, invert=False,
                          init_present_time=False, **SHORT_RUN)
    from oggm import cfg, workflow

    from oggm_glaunti.integration.climate.climate_daily import process_daily_from_monthly
    from oggm_glaunti.integration.output.gridded_output import glacier_wide_series, glaunti_gridded_smb
    from oggm_glaunti.integration.grid.model_grid import glaunti_model_grid
    from oggm_glaunti.integration.run.massbalance import GlaUnTIMassBalance
    from oggm_glaunti.integration.session.mp_safety import jax_backend_initialised

    def run_pool():
        cfg.PARAMS['use_multiprocessing'] = True
        cfg.PARAMS['mp_processes'] = 2
        workflow.execute_entity_task(process_daily_from_monthly, gdirs)
        workflow.execute_entity_task(glaunti_model_grid, gdirs)
        workflow.execute_entity_task(glaunti_gridded_smb, gdirs, variant='A', **YEARS)
        return {g.rgi_id: glacier_wide_series(g.get_filepath('glaunti_gridded_smb'))
                ['smb_annual'].round(6).tolist() for g in gdirs}

    if args.jax_in_parent:  # JAX runs here, in the parent, before the pool exists
        assert not cfg.PARAMS['use_multiprocessing']
        process_daily_from_monthly(gdirs[0])
        glaunti_model_grid(gdirs[0])
        mb = GlaUnTIMassBalance(gdirs[0], variant='A')
        mb.get_annual_mb([3000.0], year=YEARS['ye'])

    t0 = time.time()
    annual = run_pool()
    pool_s = time.time() - t0
    result = dict(jax_in_parent=args.jax_in_parent, jax_initialised=jax_backend_initialised(),
                  use_mp_spawn=bool(cfg.PARAMS['use_mp_spawn']),
                  start_method=multiprocessing.get_start_method(), pool_s=round(pool_s, 1),
                  annual=annual, pid=os.getpid())
    if args.reinitialise:  # OGGM's own initialisation resets use_mp_spawn to False
        working_dir = cfg.PATHS['working_dir']
        cfg.initialize(logging_level='WARNING')
        cfg.PARAMS['has_internet'] = False
        cfg.PATHS['working_dir'] = working_dir
        for key, value in SHORT_RUN.items():
            cfg.PARAMS[key] = value
        result['use_mp_spawn_after_reinit'] = bool(cfg.PARAMS['use_mp_spawn'])
        result['annual_after_reinit'] = run_pool()
    print('RESULT ' + json.dumps(result))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
