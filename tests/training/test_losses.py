"""The training loss: exact for a perfect model, and the chunked gradient equals one scan."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import pytest

from oggm_glaunti.training.gradients import sequence_loss, sequence_value_and_grad
from oggm_glaunti.training.initialisation import split_model
from oggm_glaunti.training.losses import LossWeights, glacier_loss
from oggm_glaunti.training.sequences import prepare_sequence
from oggm_glaunti.weights import load_pretrained


def test_perfect_model_has_zero_data_loss(glacier_factory, truth):
    glacier = glacier_factory(n_years=4)
    sequence = prepare_sequence(glacier, spinup_years=0)
    trainable, frozen = split_model(truth, train_ti=True)
    loss, terms = sequence_loss(trainable, frozen, sequence)
    assert float(terms.point) < 1e-9
    assert float(terms.glacier_wide) < 1e-9
    assert float(terms.regulariser) == 0.0  # no corrector, no prior asked for
    assert float(loss) < 1e-9


def test_stake_date_weights_sum_to_one_per_season(glacier_factory):
    glacier = glacier_factory(n_years=3, stake_shift=3)
    sequence = prepare_sequence(glacier, spinup_years=0)
    weights = sequence.targets.stake_weight
    # Gaussian date weights of stakes 3 days off, normalised per season
    for season in range(3):
        total = weights[sequence.targets.stake_season == season].sum()
        assert total == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("variant", ["A", "C"])
def test_chunked_gradient_equals_single_scan(variant, glacier_factory):
    glacier = glacier_factory(n_years=5, seed=3, offset=0.7)
    model = load_pretrained(variant)
    trainable, frozen = split_model(model, train_ti=variant == "A")
    whole = prepare_sequence(glacier, spinup_years=1)
    yearly = prepare_sequence(glacier, spinup_years=1, chunk_years=1)
    assert len(whole) == 1 and len(yearly) == 5

    reference = eqx.filter_value_and_grad(glacier_loss, has_aux=True)
    (ref_loss, _), ref_grads = reference(trainable, frozen, whole.forcing(0), whole.targets,
                                         LossWeights(), variant == "A")
    loss, _, grads = sequence_value_and_grad(trainable, frozen, yearly, prior=variant == "A")
    assert float(loss) == pytest.approx(float(ref_loss), rel=1e-5)
    leaves = jax.tree_util.tree_leaves(grads)
    ref_leaves = jax.tree_util.tree_leaves(ref_grads)
    assert len(leaves) == len(ref_leaves) > 0
    scale = max(float(np.abs(r).max()) for r in ref_leaves)
    assert scale > 0
    for got, want in zip(leaves, ref_leaves):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=2e-4 * scale, rtol=2e-3)


def test_corrector_regulariser_is_zero_for_a_zero_corrector(glacier_factory):
    glacier = glacier_factory(n_years=2)
    model = load_pretrained("C")
    zero = jax.tree_util.tree_map(lambda x: x * 0 if eqx.is_inexact_array(x) else x, model.corrector)
    model = eqx.tree_at(lambda m: m.corrector, model, zero)
    trainable, frozen = split_model(model, train_ti=False)
    _, terms = sequence_loss(trainable, frozen, prepare_sequence(glacier, spinup_years=0))
    assert float(terms.regulariser) == pytest.approx(0.0, abs=1e-10)
    _, terms = sequence_loss(*split_model(load_pretrained("C"), False),
                             prepare_sequence(glacier, spinup_years=0))
    assert float(terms.regulariser) > 0
