import itertools

import numpy as np
import pytest
import torch

from course_lib.optim import SGD, sgd_update
from tests.optim.streams import (assert_matches_torch, assert_state_dict_round_trips,
                                 assert_update_rule_matches_torch, describe, log_uniform,
                                 option_sweep)
from tests.strategies import SEEDS, random_array, random_shape

OPTIONS = [
    dict(momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
         maximize=maximize)
    for momentum, dampening, weight_decay, nesterov, maximize
    in itertools.product([0, 0.9], [0, 0.3], [0, 0.01], [False, True], [False, True])
    # torch refuses Nesterov without momentum or with dampening (tested below)
    if not (nesterov and (momentum == 0 or dampening != 0))
]


def run_both(rng, options, steps=5, dtype=np.float64, lr=0.1, grad_is_none=()):
    """The same parameters and gradient sequence through our SGD and torch's; both final parameter lists."""
    shapes = [random_shape(rng) for _ in range(3)]
    params = [random_array(rng, shape, dtype) for shape in shapes]
    tensors = [torch.tensor(param, requires_grad=True) for param in params]
    ours, theirs = SGD(params, lr=lr, **options), torch.optim.SGD(tensors, lr=lr, **options)
    for _ in range(steps):
        grads = [None if i in grad_is_none else random_array(rng, shape, dtype)
                 for i, shape in enumerate(shapes)]
        ours.step(grads)
        for tensor, grad in zip(tensors, grads):
            tensor.grad = None if grad is None else torch.from_numpy(grad.copy())
        theirs.step()
    return params, [tensor.detach().numpy() for tensor in tensors]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda options: ",".join(f"{k}={v}" for k, v in options.items()))
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_every_option_combination_matches_torch_over_several_steps(seed, options):
    params, expected = run_both(np.random.default_rng(seed), options)
    for param, want in zip(params, expected):
        np.testing.assert_allclose(param, want, rtol=1e-12, atol=0)


RANDOM_OPTIONS = [
    options for options in option_sweep(
        dict(dampening=[0, 0.3], weight_decay=[0, 0.05], nesterov=[False, True], maximize=[False, True]),
        lambda rng: dict(lr=log_uniform(rng, 1e-4, 1e-1), momentum=float(rng.choice([0, rng.uniform(0, 0.99)]))),
        repeats=3)
    if not (options["nesterov"] and (options["momentum"] == 0 or options["dampening"] != 0))
]


@pytest.mark.parametrize("seed, options", list(enumerate(RANDOM_OPTIONS)),
                         ids=[describe(options) for options in RANDOM_OPTIONS])
def test_random_hyperparameters_match_torch_over_a_random_gradient_stream(seed, options):
    assert_matches_torch(SGD, torch.optim.SGD, options, seed)


@pytest.mark.parametrize("options", [dict(momentum=0.9, nesterov=True, weight_decay=0.01), dict(momentum=0)])
def test_state_dict_round_trips(options):
    assert_state_dict_round_trips(SGD, options, seed=1)


def test_changing_lr_in_param_groups_takes_effect_as_in_torch():
    rng = np.random.default_rng(0)
    param = random_array(rng, (4,))
    tensor = torch.tensor(param, requires_grad=True)
    ours, theirs = SGD([param], lr=0.1, momentum=0.9), torch.optim.SGD([tensor], lr=0.1, momentum=0.9)
    for lr in (0.1, 0.05, 0.01):
        ours.param_groups[0]["lr"] = lr
        theirs.param_groups[0]["lr"] = lr
        grad = random_array(rng, (4,))
        ours.step([grad])
        tensor.grad = torch.from_numpy(grad.copy())
        theirs.step()
    np.testing.assert_allclose(param, tensor.detach().numpy(), rtol=1e-12)


def test_a_none_gradient_skips_its_parameter_and_its_momentum_as_in_torch():
    options = dict(momentum=0.9, dampening=0, weight_decay=0.01, nesterov=True, maximize=False)
    rng = np.random.default_rng(1)
    params, expected = run_both(rng, options, grad_is_none={1})
    for param, want in zip(params, expected):
        np.testing.assert_allclose(param, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("options", [OPTIONS[0], OPTIONS[-1]])
def test_float32_parameters_stay_float32_and_match_torch(options):
    params, expected = run_both(np.random.default_rng(2), options, dtype=np.float32)
    for param, want in zip(params, expected):
        assert param.dtype == np.float32
        np.testing.assert_allclose(param, want, rtol=1e-5, atol=1e-6)


def test_updates_the_callers_arrays_in_place_and_leaves_the_gradients_alone():
    weight, bias = np.ones((2, 3)), np.zeros(2)
    grads = [np.full((2, 3), 2.0), np.full(2, -1.0)]
    optimizer = SGD([weight, bias], lr=0.5, momentum=0.9, weight_decay=0.1, maximize=True)
    optimizer.step(grads)
    assert optimizer.param_groups[0]["params"][0] is weight
    # maximize: weight goes up the gradient, 1 + 0.5 * (2 - 0.1 * 1)
    np.testing.assert_allclose(weight, 1.95)
    np.testing.assert_allclose(bias, -0.5)
    np.testing.assert_array_equal(grads[0], 2.0)
    np.testing.assert_array_equal(grads[1], -1.0)


def test_the_momentum_buffer_starts_as_the_first_gradient_without_dampening():
    param = np.zeros(3)
    optimizer = SGD([param], lr=1.0, momentum=0.9, dampening=0.5)
    assert optimizer.state == [{}]
    optimizer.step([np.ones(3)])
    np.testing.assert_array_equal(optimizer.state[0]["momentum_buffer"], 1.0)
    optimizer.step([np.ones(3)])
    np.testing.assert_array_equal(optimizer.state[0]["momentum_buffer"], 0.9 + 0.5)


def test_defaults_are_torchs():
    defaults = torch.optim.SGD([torch.zeros(1, requires_grad=True)]).defaults
    group = SGD([np.zeros(1)]).param_groups[0]
    for name in ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"):
        assert group[name] == defaults[name], name


@pytest.mark.parametrize("options", [
    dict(lr=-0.1), dict(momentum=-0.5), dict(weight_decay=-1e-4),
    dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1),
])
def test_rejects_invalid_hyperparameters_with_torchs_messages(options):
    with pytest.raises(ValueError) as torch_error:
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], **options)
    with pytest.raises(ValueError) as our_error:
        SGD([np.zeros(1)], **options)
    assert str(our_error.value) == str(torch_error.value)


def test_rejects_empty_single_array_and_non_float_params():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        SGD([])
    with pytest.raises(TypeError, match="wrap it in a list"):
        SGD(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="numpy arrays of floats, but one of the params is float"):
        SGD([1.0])
    with pytest.raises(TypeError, match="is ndarray of dtype int64"):
        SGD([np.zeros(3, dtype=np.int64)])


def test_step_rejects_gradients_that_do_not_fit_their_parameters():
    optimizer = SGD([np.zeros((2, 3)), np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="step got 1 gradients for 2 parameters"):
        optimizer.step([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"gradient 0 must be an array like its parameter \(shape \(2, 3\), "
                                         r"dtype float64\), got an array of shape \(3, 2\)"):
        optimizer.step([np.zeros((3, 2)), np.zeros(2)])
    with pytest.raises(ValueError, match="gradient 1 .* dtype float32"):
        optimizer.step([np.zeros((2, 3)), np.zeros(2, dtype=np.float32)])


@pytest.mark.parametrize("seed, options", list(enumerate(OPTIONS[:4])), ids=[describe(options) for options in OPTIONS[:4]])
def test_the_update_rule_alone_takes_torchs_steps(seed, options):
    assert_update_rule_matches_torch(sgd_update, torch.optim.SGD, options, seed)
