"""Bad arguments to the differentiable tools: forcing-noise scales far from any forcing error
(sigma_t = 100 degC was accepted without a word). Refused before any work, nothing written;
moderately large values warn."""
from __future__ import annotations

import warnings

import pytest

from oggm_glaunti.cli import main
from oggm_glaunti.tools.uncertainty import check_sigmas

from .conftest import refused, unchanged


@pytest.mark.parametrize("sigmas, words", [
    (dict(sigma_t=100.), ["sigma_t (degc) = 100", "at most 20", "published value is 1.5889",
                          "29 % (20 degc) below a monte carlo's", "variance or a percentage"]),
    (dict(sigma_logp=96.4), ["sigma_logp = 96.4", "at most 2", "published value is 0.964"]),
    (dict(sigma_t=0.), ["sigma_t (degc) must be a finite number > 0"]),
    (dict(sigma_logp=float("nan")), ["sigma_logp must be a finite number > 0"]),
], ids=["sigma_t_100", "sigma_logp_percent", "sigma_t_zero", "sigma_logp_nan"])
def test_implausible_sigmas_refused(sigmas, words):
    with refused(ValueError, *words):
        check_sigmas(sigmas.get("sigma_t"), sigmas.get("sigma_logp"))


@pytest.mark.parametrize("sigmas, words", [
    (dict(sigma_t=6.), r"sigma_t \(degC\) = 6 is above 5 .*Monte Carlo ensemble"),
    (dict(sigma_logp=1.5), r"sigma_logp = 1.5 is above 1 .*1/5 \(1.5\)"),
], ids=["sigma_t_6", "sigma_logp_1.5"])
def test_large_sigmas_warn(sigmas, words):
    with pytest.warns(UserWarning, match=words):
        assert check_sigmas(sigmas.get("sigma_t"), sigmas.get("sigma_logp")) == (
            sigmas.get("sigma_t", 1.5889), sigmas.get("sigma_logp", 0.964))


def test_published_sigmas_are_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_sigmas(None, None) == (1.5889, 0.964)


def test_propagation_warns_of_a_large_sigma():
    """The core functions check too (here through the synthetic-glacier entry point)."""
    from oggm_glaunti.synthetic import synthetic_years
    from oggm_glaunti.tools import core_inputs as ci
    from oggm_glaunti.weights import load_pretrained

    years = synthetic_years((8, 8), n_years=1, seed=1)[0]
    with pytest.raises(ValueError, match="sigma_t .*at most 20"):
        ci.trajectory_spread(load_pretrained("A"), years, sigma_t=100.)
    with pytest.warns(UserWarning, match="sigma_t .* above 5"):
        spread, _ = ci.trajectory_spread(load_pretrained("A"), years, sigma_t=6.)
    assert spread.std[-1] > 0


def test_forcing_uncertainty_task_refuses_before_any_work(light_gdir):
    from oggm_glaunti.integration import glaunti_forcing_uncertainty

    with refused(ValueError, "sigma_t (degc) = 100", "at most 20", folders=[light_gdir.dir]):
        glaunti_forcing_uncertainty(light_gdir, years=(1995, 1999), sigma_t=100.)
    with refused(ValueError, "sigma_logp = 5", "at most 2", folders=[light_gdir.dir]):
        glaunti_forcing_uncertainty(light_gdir, years=(1995, 1999), sigma_logp=5.)


def test_uncertainty_command_refuses_before_building_the_glacier(tmp_path, capsys, monkeypatch):
    """`oggm-glaunti uncertainty --hintereisferner --sigma-t 100` used to build the glacier
    (minutes) before anything checked sigma_t."""
    monkeypatch.chdir(tmp_path)
    with unchanged([tmp_path]):
        code = main(["uncertainty", "--working-dir", str(tmp_path / "wd"), "--hintereisferner",
                     "--years", "1995", "1999", "--sigma-t", "100"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
    assert "oggm-glaunti uncertainty: error: sigma_t (degC) = 100" in err, err
    assert not (tmp_path / "wd").exists()
