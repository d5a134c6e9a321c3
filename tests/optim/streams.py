"""Checks shared by the optimizer tests: one of our optimizers and its torch twin fed the same
random parameters and gradient stream, step by step; state_dict round trips; torch's errors."""
import copy
import inspect

import numpy as np
import pytest
import torch

from tests.strategies import random_array, random_shape

STEPS = 100
# The contract asks for 1e-6; the updates are the same float64 operations as torch's, so
# they agree to a few ulps and a much tighter tolerance catches more.
RTOL = 1e-10


def random_params(rng, dtype=np.float64, count=3):
    """`count` parameters of random shapes (0-d included), standard normal entries."""
    return [random_array(rng, random_shape(rng), dtype) for _ in range(count)]


def random_grads(rng, params, none_probability=0.1):
    """A gradient per parameter at a random scale (1e-3 to 10, so that eps matters on some
    steps), or None now and then, which skips the parameter."""
    scale = 10 ** rng.uniform(-3, 1)
    # np.asarray: scaling a 0-d array gives a numpy scalar, which step rightly refuses
    return [None if rng.random() < none_probability
            else np.asarray(scale * random_array(rng, param.shape, param.dtype))
            for param in params]


def torch_step(optimizer, tensors, grads):
    for tensor, grad in zip(tensors, grads):
        tensor.grad = None if grad is None else torch.from_numpy(grad.copy())
    optimizer.step()


def assert_matches_torch(ours_class, theirs_class, options, seed, dtype=np.float64, rtol=RTOL, atol=0.0):
    """Run `STEPS` steps of both on the same stream, changing lr twice (once through
    `optimizer.lr`, once through `param_groups`), comparing parameters after every step and
    the state_dicts at the end."""
    rng = np.random.default_rng(seed)
    params = random_params(rng, dtype)
    tensors = [torch.tensor(param, requires_grad=True) for param in params]
    ours, theirs = ours_class(params, **options), theirs_class(tensors, **options)
    for step in range(STEPS):
        if step in (STEPS // 3, 2 * STEPS // 3):
            lr = ours.lr * rng.uniform(0.1, 2)
            if step == STEPS // 3:
                ours.lr = lr
            else:
                ours.param_groups[0]["lr"] = lr
            theirs.param_groups[0]["lr"] = lr
        grads = random_grads(rng, params)
        ours.step(grads)
        torch_step(theirs, tensors, grads)
        for index, (param, tensor) in enumerate(zip(params, tensors)):
            assert param.dtype == dtype
            expected = tensor.detach().numpy()
            # np.allclose first: the same test, several times faster when it passes
            if not np.allclose(param, expected, rtol=rtol, atol=atol):
                np.testing.assert_allclose(param, expected, rtol=rtol, atol=atol,
                                           err_msg=f"step {step + 1}, parameter {index}, {options}")
    assert_state_dicts_match(ours.state_dict(), theirs.state_dict(), rtol, atol)


def assert_state_dicts_match(ours, theirs, rtol, atol):
    """Same layout as torch's: the same indices and state names, the same values; our
    hyperparameters a subset of torch's (which adds foreach, capturable, ...)."""
    assert ours["state"].keys() == theirs["state"].keys()
    for index, state in ours["state"].items():
        assert state.keys() == theirs["state"][index].keys()
        for name, value in state.items():
            np.testing.assert_allclose(value, np.asarray(theirs["state"][index][name]), rtol=rtol, atol=atol,
                                       err_msg=f"state[{index}][{name!r}]")
    [our_group], [their_group] = ours["param_groups"], theirs["param_groups"]
    for name, value in our_group.items():
        assert value == their_group[name], name


def assert_state_dict_round_trips(optimizer_class, options, seed, steps=20):
    """An optimizer loaded from another's state_dict goes on exactly as the original, and
    neither the saved dict nor the two optimizers share any array."""
    rng = np.random.default_rng(seed)
    params = random_params(rng)
    original = optimizer_class(params, **options)
    for _ in range(steps):
        original.step(random_grads(rng, params))
    saved = original.state_dict()
    snapshot = copy.deepcopy(saved)
    copies = [param.copy() for param in params]
    loaded = optimizer_class(copies, lr=123.0)
    loaded.load_state_dict(saved)
    assert loaded.param_groups[0]["params"][0] is copies[0]
    assert_identical(loaded.state_dict(), snapshot)
    for _ in range(steps):
        grads = random_grads(rng, params)
        original.step(grads)
        loaded.step(grads)
    for param, twin in zip(params, copies):
        np.testing.assert_array_equal(param, twin)
    assert_identical(original.state_dict(), loaded.state_dict())
    assert_identical(saved, snapshot)


def assert_identical(ours, expected):
    """Equal nested dicts, lists and arrays, arrays of the same dtype and exactly equal values."""
    if isinstance(expected, dict):
        assert ours.keys() == expected.keys()
        for key in expected:
            assert_identical(ours[key], expected[key])
    elif isinstance(expected, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == expected.dtype
        np.testing.assert_array_equal(ours, expected)
    else:
        assert ours == expected


def assert_rejects_like_torch(ours_class, theirs_class, options):
    """Both raise ValueError with the same message."""
    with pytest.raises(ValueError) as torch_error:
        theirs_class([torch.zeros(1, requires_grad=True)], **options)
    with pytest.raises(ValueError) as our_error:
        ours_class([np.zeros(1)], **options)
    assert str(our_error.value) == str(torch_error.value)


def assert_defaults_are_torchs(ours_class, theirs_class):
    """Every hyperparameter we keep has torch's default."""
    defaults = theirs_class([torch.zeros(1, requires_grad=True)]).defaults
    for name, value in ours_class([np.zeros(1)]).defaults.items():
        assert value == defaults[name], name


def option_sweep(flags, random_values, repeats=2):
    """Every combination of `flags` (name -> list of values), each `repeats` times with fresh
    continuous hyperparameters from `random_values(rng)`, seeded: a list of option dicts."""
    combinations = [{}]
    for name, values in flags.items():
        combinations = [{**combination, name: value} for combination in combinations for value in values]
    rng = np.random.default_rng(2024)
    return [{**random_values(rng), **combination} for combination in combinations for _ in range(repeats)]


def log_uniform(rng, low, high):
    """A Python float spread evenly in log scale between `low` and `high`."""
    return float(10 ** rng.uniform(np.log10(low), np.log10(high)))


def describe(options):
    def short(value):
        if isinstance(value, tuple):
            return "(" + ",".join(short(item) for item in value) + ")"
        return f"{value:.3g}" if isinstance(value, float) else str(value)
    return ",".join(f"{name}={short(value)}" for name, value in options.items())


def assert_update_rule_matches_torch(update_rule, theirs_class, options, seed):
    """The update rule called on its own, one array and a state dict at a time (as the
    assignment 03 notebook calls a student's), takes torch's steps; its defaults are the
    optimizer's."""
    rng = np.random.default_rng(seed)
    params = random_params(rng)
    tensors = [torch.tensor(param, requires_grad=True) for param in params]
    theirs = theirs_class(tensors, **options)
    states = [{} for _ in params]
    for _ in range(STEPS):
        grads = random_grads(rng, params, none_probability=0)
        for param, grad, state in zip(params, grads, states):
            update_rule(param, grad, state, **options)
        torch_step(theirs, tensors, grads)
    for param, tensor in zip(params, tensors):
        np.testing.assert_allclose(param, tensor.detach().numpy(), rtol=RTOL)
    rule_defaults = {name: parameter.default
                     for name, parameter in inspect.signature(update_rule).parameters.items()
                     if parameter.default is not inspect.Parameter.empty}
    class_defaults = {name: parameter.default
                      for name, parameter in inspect.signature(theirs_class).parameters.items()
                      if name in rule_defaults}
    assert {name: rule_defaults[name] for name in class_defaults} == class_defaults
