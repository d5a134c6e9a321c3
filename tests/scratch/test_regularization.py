import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.regularization import (
    clip_grad_norm_, dropout, dropout_backward, dropout_mask, l1_penalty, l1_penalty_gradients,
    l2_penalty, l2_penalty_gradients,
)
from tests.strategies import SEEDS, assert_global_random_state_untouched, random_array, random_shape, t


def leaf(array):
    return torch.tensor(array, requires_grad=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_zeroes_or_scales_each_entry_and_is_the_mask_times_the_input(seed):
    rng = np.random.default_rng(seed)
    input, p = random_array(rng, random_shape(rng, max_ndim=3, max_size=6)), float(rng.uniform(0.05, 0.95))
    output = dropout(input, p, generator=np.random.default_rng(seed))
    mask = dropout_mask(input.shape, p, generator=np.random.default_rng(seed))
    np.testing.assert_array_equal(output, input * mask)
    assert set(np.unique(mask)) <= {0.0, 1 / (1 - p)}


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_match_torch_dropouts(p):
    input = np.ones((200, 500))
    ours = dropout(input, p, generator=np.random.default_rng(0))
    theirs = torch.nn.Dropout(p)(t(input)).numpy()
    for output in (ours, theirs):
        assert set(np.unique(output)) == {0.0, 1 / (1 - p)}
    # 100 000 Bernoulli draws: the dropped fraction is within 4 standard errors of p, and
    # the mean (1 in expectation, which is what the 1 / (1 - p) scaling is for) too
    standard_error = math.sqrt(p * (1 - p) / input.size)
    for output in (ours, theirs):
        assert abs(np.mean(output == 0) - p) < 4 * standard_error
        assert abs(output.mean() - 1) < 4 * standard_error / (1 - p)


def test_dropout_in_evaluation_and_at_the_ends_of_p_is_torchs():
    input = random_array(np.random.default_rng(0), (4, 5))
    for p in (0.0, 0.3, 1.0):
        np.testing.assert_array_equal(dropout(input, p, training=False), input)
        np.testing.assert_array_equal(dropout(input, p, training=False),
                                      F.dropout(t(input), p, training=False).numpy())
    np.testing.assert_array_equal(dropout(input, 0.0, generator=np.random.default_rng(0)), input)
    np.testing.assert_array_equal(dropout(input, 1.0), F.dropout(t(input), 1.0).numpy())
    np.testing.assert_array_equal(dropout(input, 1.0), np.zeros((4, 5)))


@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_backward_matches_autograd_through_torchs_own_mask(seed):
    rng = np.random.default_rng(seed)
    shape, p = (int(rng.integers(1, 8)), int(rng.integers(1, 8))), float(rng.uniform(0.1, 0.9))
    input, grad_output = random_array(rng, shape), random_array(rng, shape)
    torch.manual_seed(seed)
    tensor = leaf(input)
    output = F.dropout(tensor, p)
    output.backward(torch.from_numpy(grad_output))
    mask = np.where(output.detach().numpy() == 0, 0.0, 1 / (1 - p))  # torch's mask, read back
    np.testing.assert_allclose(input * mask, output.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(dropout_backward(grad_output, mask), tensor.grad.numpy(), rtol=1e-15)


def test_dropout_is_reproducible_keeps_float32_and_leaves_global_generators_alone():
    input = np.ones((3, 4), dtype=np.float32)
    first = dropout(input, 0.5, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(first, dropout(input, 0.5, generator=np.random.default_rng(1)))
    assert first.dtype == np.float32 and dropout_mask((2,), 0.5, dtype=np.float32).dtype == np.float32
    assert_global_random_state_untouched(lambda: dropout(input, 0.5))


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan, "0.5", True])
def test_dropout_rejects_probabilities_outside_zero_to_one_as_torch_does(p):
    for training in (True, False):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            dropout(np.ones(3), p, training)
    with pytest.raises(ValueError, match="dropout probability"):
        dropout_mask((3,), p)


def test_dropout_backward_rejects_a_mask_of_another_shape():
    with pytest.raises(ValueError, match=r"grad_output of shape \(2, 3\) does not match .* \(3, 2\)"):
        dropout_backward(np.ones((2, 3)), np.ones((3, 2)))


def random_params(rng):
    sizes = [int(size) for size in rng.integers(1, 6, int(rng.integers(2, 5)))]
    params = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = random_array(rng, (fan_out, fan_in))
        params[f"b{layer}"] = random_array(rng, (fan_out,))
    params["W1"][0, 0] = 0.0  # |W| is not differentiable at 0: torch's gradient there is 0
    return params


@pytest.mark.parametrize("penalty, gradients, torch_penalty", [
    (l1_penalty, l1_penalty_gradients, lambda tensor: tensor.abs().sum()),
    (l2_penalty, l2_penalty_gradients, lambda tensor: (tensor**2).sum() / 2),
])
@pytest.mark.parametrize("seed", SEEDS)
def test_penalties_and_their_gradients_match_autograd_and_skip_biases(seed, penalty, gradients, torch_penalty):
    rng = np.random.default_rng(seed)
    params, weight = random_params(rng), float(rng.uniform(0, 1))
    tensors = {name: leaf(param) for name, param in params.items()}
    expected = weight * sum(torch_penalty(tensor) for name, tensor in tensors.items() if name.startswith("W"))
    expected.backward()
    np.testing.assert_allclose(penalty(params, weight), expected.item(), rtol=1e-12)
    grads = gradients(params, weight)
    assert list(grads) == list(params)
    for name, tensor in tensors.items():
        expected_grad = tensor.grad if name.startswith("W") else torch.zeros_like(tensor)
        np.testing.assert_allclose(grads[name], expected_grad.numpy(), rtol=1e-12, atol=0)


def test_l2_penalty_gradient_is_what_sgds_weight_decay_adds():
    rng = np.random.default_rng(0)
    params = random_params(rng)
    weight = torch.nn.Parameter(t(params["W1"]).clone())
    weight.grad = torch.zeros_like(weight)
    torch.optim.SGD([weight], lr=1.0, weight_decay=0.01).step()
    np.testing.assert_allclose(params["W1"] - l2_penalty_gradients(params, 0.01)["W1"], weight.detach().numpy(),
                               rtol=1e-15)


def test_penalties_of_no_weight_are_zero_and_bad_arguments_are_explained():
    params = {"W1": np.ones((2, 2)), "b1": np.ones(2)}
    assert l1_penalty(params, 0.0) == 0 and l2_penalty({"b1": np.ones(2)}, 1.0) == 0
    for function in (l1_penalty, l2_penalty, l1_penalty_gradients, l2_penalty_gradients):
        with pytest.raises(ValueError, match="non-negative number, got -1"):
            function(params, -1)
        with pytest.raises(TypeError, match="dict of arrays"):
            function(list(params.values()), 0.1)


def random_grads(rng, dtype=np.float64):
    # np.asarray: a 0-d array stays an array, which a numpy scalar could not be scaled in place as
    return [np.asarray(random_array(rng, random_shape(rng, max_ndim=3), dtype) * float(rng.choice([0.1, 1, 10])))
            for _ in range(int(rng.integers(1, 5)))]


def torch_clip(grads, max_norm, **kwargs):
    parameters = [torch.nn.Parameter(torch.zeros(grad.shape, dtype=t(grad).dtype)) for grad in grads]
    for parameter, grad in zip(parameters, grads, strict=True):
        parameter.grad = t(grad).clone()
    total_norm = torch.nn.utils.clip_grad_norm_(parameters, max_norm, **kwargs)
    return total_norm.numpy(), [parameter.grad.numpy() for parameter in parameters]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("seed", SEEDS)
def test_clip_grad_norm_matches_torch_on_random_gradients(seed, norm_type):
    rng = np.random.default_rng(seed)
    grads = random_grads(rng)
    max_norm = float(rng.uniform(0.1, 5))
    expected_norm, expected_grads = torch_clip(grads, max_norm, norm_type=norm_type)
    total_norm = clip_grad_norm_(grads, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(total_norm, expected_norm, rtol=1e-12)
    for grad, expected in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=0)


def test_clip_grad_norm_takes_a_dict_keeps_float32_and_leaves_small_gradients_alone():
    rng = np.random.default_rng(0)
    grads = {"W1": random_array(rng, (3, 4), np.float32), "b1": random_array(rng, (3,), np.float32)}
    expected_norm, expected_grads = torch_clip(list(grads.values()), 1.0)
    total_norm = clip_grad_norm_(grads, 1.0)
    assert total_norm.dtype == np.float32 and grads["W1"].dtype == np.float32
    np.testing.assert_allclose(total_norm, expected_norm, rtol=1e-6)
    for grad, expected in zip(grads.values(), expected_grads, strict=True):
        np.testing.assert_allclose(grad, expected, rtol=1e-6)
    small = [np.array([0.3, 0.4])]
    assert clip_grad_norm_(small, 1.0) == 0.5
    np.testing.assert_array_equal(small[0], [0.3, 0.4])


def test_clip_grad_norm_of_nonfinite_gradients_is_torchs_or_an_error():
    for bad in (np.inf, np.nan):
        grads = [np.array([1.0, bad]), np.array([2.0])]
        expected_norm, expected_grads = torch_clip(grads, 1.0)
        np.testing.assert_array_equal(clip_grad_norm_(grads, 1.0), expected_norm)
        for grad, expected in zip(grads, expected_grads, strict=True):
            np.testing.assert_array_equal(grad, expected)
        with pytest.raises(RuntimeError, match="total norm of order 2.0 for gradients .* non-finite"):
            clip_grad_norm_([np.array([1.0, bad])], 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_of_nothing_is_zero_and_of_integers_an_error():
    assert clip_grad_norm_([], 1.0) == 0
    with pytest.raises(TypeError, match="numpy arrays of floats in place, got ndarray of dtype int64"):
        clip_grad_norm_([np.array([1, 2])], 1.0)
    with pytest.raises(TypeError, match="got list"):
        clip_grad_norm_([[1.0, 2.0]], 1.0)
