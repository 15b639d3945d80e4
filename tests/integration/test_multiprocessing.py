"""OGGM's process pool (use_multiprocessing=True, mp_processes=2) running GlaUnTI tasks.

Each workflow runs in a subprocess (``_mp_workflow.py``) with a hard timeout, so that a
hang fails the test instead of blocking CI: on timeout the whole process group (the
script and its pool workers) is killed.

Finding: forking after JAX has run in the parent deadlocks the forked workers as soon as
they run JAX (glaunti_gridded_smb hangs; the JAX-free tasks before it complete), while
forking with JAX unused (even imported) in the parent works. Loading GlaUnTI weights in
the main process therefore switches every later pool to spawned workers
(``protect_pool_from_jax``). The orders tested: no JAX in the parent (forked workers);
a ``GlaUnTIMassBalance`` built with multiprocessing off, then multiprocessing switched on;
and then OGGM's ``cfg.initialize()`` run again (which resets ``use_mp_spawn``). (The hang
itself was reproduced by hand before the protection was wired in; a test of it would cost
its whole timeout in every CI run.)
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name('_mp_workflow.py')
REPO = Path(__file__).resolve().parents[2]


def _run(args, timeout: float):
    """Run ``python args...``; return (returncode or None on timeout, output)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    proc = subprocess.Popen([sys.executable, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the script and its pool workers
        out, _ = proc.communicate()
        return None, out


def _workflow(workdir: Path, *flags: str, timeout: float = 80):
    code, out = _run([SCRIPT, workdir, *flags], timeout)
    if code is None:
        pytest.fail(f'the workflow {flags} did not finish within {timeout} s (hang?):\n'
                    + out[-3000:], pytrace=False)
    assert code == 0, out[-3000:]
    line = [ln for ln in out.splitlines() if ln.startswith('RESULT ')][-1]
    return json.loads(line[len('RESULT '):]), out


@pytest.fixture(scope='module')
def fork_result(tmp_path_factory):
    return _workflow(tmp_path_factory.mktemp('mp_fork'), timeout=60)


def test_fork_without_jax_in_parent(fork_result):
    res, out = fork_result
    assert not res['jax_in_parent'] and not res['jax_initialised']
    assert res['use_mp_spawn'] is False  # OGGM's default: forked workers
    assert set(res['annual']) == {'RGI50-11.00897', 'RGI50-11.00787'}
    for values in res['annual'].values():
        assert len(values) == 2 and all(-5 < v < 5 for v in values)


def test_jax_in_parent_then_pool_switched_on(fork_result, tmp_path):
    res, out = _workflow(tmp_path / 'wd', '--jax-in-parent', '--reinitialise', timeout=150)
    assert res['jax_in_parent'] and res['jax_initialised']
    assert res['use_mp_spawn'] and res['start_method'] == 'spawn'
    assert "use_mp_spawn'] = True" in out  # the warning
    assert res['annual'] == fork_result[0]['annual']  # same results as forked workers
    # OGGM's cfg.initialize() reset use_mp_spawn; the spawn default still protects the pool
    assert res['use_mp_spawn_after_reinit'] is False
    assert res['annual_after_reinit'] == res['annual']


def test_jax_imported_only_is_not_initialised():
    code, out = _run(['-c', 'import jax, jax.numpy; '
                            'from oggm_glaunti.integration.session.mp_safety import jax_backend_initialised; '
                            'print(jax_backend_initialised())'], timeout=60)
    assert code == 0, out
    assert out.strip().splitlines()[-1] == 'False'


def test_protect_pool_from_jax(restore_oggm_cfg, caplog):
    import multiprocessing

    import jax.numpy as jnp
    from oggm import cfg

    from oggm_glaunti.integration.session.mp_safety import (
        jax_backend_initialised, protect_pool_from_jax, use_spawn_if_jax_initialised,
    )
    from oggm_glaunti.integration.session.offline import initialize_oggm

    initialize_oggm()
    jnp.ones(2).block_until_ready()
    assert jax_backend_initialised()
    cfg.PARAMS['use_mp_spawn'] = False
    cfg.PARAMS['use_multiprocessing'] = False  # switched on later by the user: still protected
    logger = logging.getLogger('oggm_glaunti.integration.session.mp_safety')
    logger.addHandler(caplog.handler)  # OGGM's logging set-up may stop propagation
    try:
        assert use_spawn_if_jax_initialised() is True
    finally:
        logger.removeHandler(caplog.handler)
    assert cfg.PARAMS['use_mp_spawn'] is True
    assert multiprocessing.get_start_method() == 'spawn'
    assert 'use_mp_spawn' in caplog.text
    assert protect_pool_from_jax() is False  # already spawning
