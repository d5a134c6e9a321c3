import numpy as np
import pytest
import torch

from course_lib.optim import Adam, AdamW, adamw_update
from tests.optim.streams import (assert_defaults_are_torchs, assert_matches_torch,
                                 assert_rejects_like_torch, assert_state_dict_round_trips,
                                 assert_update_rule_matches_torch, describe, log_uniform,
                                 option_sweep)

OPTIONS = option_sweep(
    dict(amsgrad=[False, True], maximize=[False, True]),
    lambda rng: dict(lr=log_uniform(rng, 1e-4, 1e-1),
                     betas=(float(rng.uniform(0, 0.99)), float(rng.uniform(0.5, 0.9999))),
                     eps=log_uniform(rng, 1e-10, 1e-3), weight_decay=log_uniform(rng, 1e-4, 1)))


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS)), ids=[describe(options) for options in OPTIONS])
def test_random_hyperparameters_match_torch_over_a_random_gradient_stream(seed, options):
    assert_matches_torch(AdamW, torch.optim.AdamW, options, seed)


def test_default_weight_decay_matches_torch():
    assert_matches_torch(AdamW, torch.optim.AdamW, dict(lr=0.05), seed=0)


def test_float32_parameters_stay_float32_and_match_torch():
    assert_matches_torch(AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1), seed=0,
                         dtype=np.float32, rtol=1e-4, atol=1e-5)


def test_is_adam_with_decoupled_weight_decay():
    optimizer = AdamW([np.zeros(1)])
    assert isinstance(optimizer, Adam)
    assert optimizer.param_groups[0]["decoupled_weight_decay"] is True


def test_state_dict_round_trips():
    assert_state_dict_round_trips(AdamW, dict(amsgrad=True, weight_decay=0.1), seed=1)


def test_defaults_are_torchs():
    assert_defaults_are_torchs(AdamW, torch.optim.AdamW)


@pytest.mark.parametrize("options", [
    dict(lr=-1e-3), dict(eps=-1e-8), dict(betas=(1.0, 0.999)), dict(betas=(0.9, -0.5)), dict(weight_decay=-0.1),
])
def test_rejects_invalid_hyperparameters_with_torchs_messages(options):
    assert_rejects_like_torch(AdamW, torch.optim.AdamW, options)


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS[:4])), ids=[describe(options) for options in OPTIONS[:4]])
def test_the_update_rule_alone_takes_torchs_steps(seed, options):
    assert_update_rule_matches_torch(adamw_update, torch.optim.AdamW, options, seed)
