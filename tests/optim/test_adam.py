import numpy as np
import pytest
import torch

from course_lib.optim import Adam, adam_update
from tests.optim.streams import (assert_defaults_are_torchs, assert_matches_torch,
                                 assert_rejects_like_torch, assert_state_dict_round_trips,
                                 assert_update_rule_matches_torch, describe, log_uniform,
                                 option_sweep)

OPTIONS = option_sweep(
    dict(weight_decay=[0, 0.05], amsgrad=[False, True], maximize=[False, True],
         decoupled_weight_decay=[False, True]),
    lambda rng: dict(lr=log_uniform(rng, 1e-4, 1e-1),
                     betas=(float(rng.uniform(0, 0.99)), float(rng.uniform(0.5, 0.9999))),
                     eps=log_uniform(rng, 1e-10, 1e-3)),
    repeats=1)


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS)), ids=[describe(options) for options in OPTIONS])
def test_random_hyperparameters_match_torch_over_a_random_gradient_stream(seed, options):
    assert_matches_torch(Adam, torch.optim.Adam, options, seed)


@pytest.mark.parametrize("options", [dict(), dict(amsgrad=True, weight_decay=0.1, lr=0.01)])
def test_float32_parameters_stay_float32_and_match_torch(options):
    assert_matches_torch(Adam, torch.optim.Adam, options, seed=0, dtype=np.float32, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("options", [dict(amsgrad=True, weight_decay=0.01),
                                     dict(decoupled_weight_decay=True, weight_decay=0.1)])
def test_state_dict_round_trips(options):
    assert_state_dict_round_trips(Adam, options, seed=1)


def test_defaults_are_torchs():
    assert_defaults_are_torchs(Adam, torch.optim.Adam)


@pytest.mark.parametrize("options", [
    dict(lr=-1e-3), dict(eps=-1e-8), dict(betas=(1.0, 0.999)), dict(betas=(-0.1, 0.999)),
    dict(betas=(0.9, 1.0)), dict(weight_decay=-0.1),
])
def test_rejects_invalid_hyperparameters_with_torchs_messages(options):
    assert_rejects_like_torch(Adam, torch.optim.Adam, options)


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS[:4])), ids=[describe(options) for options in OPTIONS[:4]])
def test_the_update_rule_alone_takes_torchs_steps(seed, options):
    assert_update_rule_matches_torch(adam_update, torch.optim.Adam, options, seed)
