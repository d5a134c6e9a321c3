import numpy as np
import pytest
import torch

from course_lib.optim import Adagrad, adagrad_update
from tests.optim.streams import (assert_defaults_are_torchs, assert_matches_torch,
                                 assert_rejects_like_torch, assert_state_dict_round_trips,
                                 assert_update_rule_matches_torch, describe, log_uniform,
                                 option_sweep)

OPTIONS = option_sweep(
    dict(lr_decay=[0, 0.01], weight_decay=[0, 0.05], initial_accumulator_value=[0, 0.1],
         maximize=[False, True]),
    lambda rng: dict(lr=log_uniform(rng, 1e-3, 1e-1), eps=log_uniform(rng, 1e-12, 1e-3)),
    repeats=1)


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS)), ids=[describe(options) for options in OPTIONS])
def test_random_hyperparameters_match_torch_over_a_random_gradient_stream(seed, options):
    assert_matches_torch(Adagrad, torch.optim.Adagrad, options, seed)


def test_float32_parameters_stay_float32_and_match_torch():
    assert_matches_torch(Adagrad, torch.optim.Adagrad, dict(lr_decay=0.01, weight_decay=0.01), seed=0,
                         dtype=np.float32, rtol=1e-4, atol=1e-5)


def test_the_state_is_filled_at_construction_as_in_torch():
    """torch's Adagrad has a state (step 0, sum = initial_accumulator_value) before any step."""
    state = Adagrad([np.zeros((2, 3))], initial_accumulator_value=0.5).state_dict()["state"]
    theirs = torch.optim.Adagrad([torch.zeros(2, 3, requires_grad=True)],
                                 initial_accumulator_value=0.5).state_dict()["state"]
    assert state.keys() == theirs.keys() and state[0].keys() == theirs[0].keys()
    assert state[0]["step"] == theirs[0]["step"].item() == 0
    np.testing.assert_array_equal(state[0]["sum"], theirs[0]["sum"].numpy())


def test_state_dict_round_trips():
    assert_state_dict_round_trips(Adagrad, dict(lr_decay=0.01, initial_accumulator_value=0.1), seed=1)


def test_defaults_are_torchs():
    assert_defaults_are_torchs(Adagrad, torch.optim.Adagrad)


@pytest.mark.parametrize("options", [
    dict(lr=-1e-3), dict(lr_decay=-0.1), dict(weight_decay=-0.1), dict(initial_accumulator_value=-1.0),
    dict(eps=-1e-10),
])
def test_rejects_invalid_hyperparameters_with_torchs_messages(options):
    assert_rejects_like_torch(Adagrad, torch.optim.Adagrad, options)


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS[:4])), ids=[describe(options) for options in OPTIONS[:4]])
def test_the_update_rule_alone_takes_torchs_steps(seed, options):
    assert_update_rule_matches_torch(adagrad_update, torch.optim.Adagrad, options, seed)
