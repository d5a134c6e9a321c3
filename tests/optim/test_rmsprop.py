import numpy as np
import pytest
import torch

from course_lib.optim import RMSprop, rmsprop_update
from tests.optim.streams import (assert_defaults_are_torchs, assert_matches_torch,
                                 assert_rejects_like_torch, assert_state_dict_round_trips,
                                 assert_update_rule_matches_torch, describe, log_uniform,
                                 option_sweep)

OPTIONS = option_sweep(
    dict(weight_decay=[0, 0.05], momentum=[0, 0.9], centered=[False, True], maximize=[False, True]),
    lambda rng: dict(lr=log_uniform(rng, 1e-4, 1e-2), alpha=float(rng.uniform(0.5, 0.999)),
                     eps=log_uniform(rng, 1e-10, 1e-3)),
    repeats=1)


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS)), ids=[describe(options) for options in OPTIONS])
def test_random_hyperparameters_match_torch_over_a_random_gradient_stream(seed, options):
    assert_matches_torch(RMSprop, torch.optim.RMSprop, options, seed)


@pytest.mark.parametrize("options", [dict(), dict(momentum=0.5, centered=True, weight_decay=0.01)])
def test_float32_parameters_stay_float32_and_match_torch(options):
    assert_matches_torch(RMSprop, torch.optim.RMSprop, options, seed=0, dtype=np.float32, rtol=1e-4, atol=1e-5)


def test_state_dict_round_trips():
    assert_state_dict_round_trips(RMSprop, dict(momentum=0.9, centered=True, weight_decay=0.01), seed=1)


def test_defaults_are_torchs():
    assert_defaults_are_torchs(RMSprop, torch.optim.RMSprop)


@pytest.mark.parametrize("options", [
    dict(lr=-1e-3), dict(eps=-1e-8), dict(momentum=-0.9), dict(weight_decay=-0.1), dict(alpha=-0.5),
])
def test_rejects_invalid_hyperparameters_with_torchs_messages(options):
    assert_rejects_like_torch(RMSprop, torch.optim.RMSprop, options)


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS[:4])), ids=[describe(options) for options in OPTIONS[:4]])
def test_the_update_rule_alone_takes_torchs_steps(seed, options):
    assert_update_rule_matches_torch(rmsprop_update, torch.optim.RMSprop, options, seed)
