import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.normalization import (
    batch_norm, batch_norm_backward, batch_norm_forward, layer_norm, layer_norm_backward,
    layer_norm_forward,
)
from tests.strategies import SEEDS, random_array, random_shape, t


def leaf(array):
    return torch.tensor(array, requires_grad=True)


def batch_norm_input(rng):
    """[N, C] or [N, C, L] with N >= 2, shifted and scaled so normalising has work to do."""
    shape = (int(rng.integers(2, 7)), int(rng.integers(1, 5))) + random_shape(rng, max_ndim=1)
    return random_array(rng, shape) * 3 + 2


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_batch_norm_output_stats_and_gradients_match_autograd(seed, training, affine):
    rng = np.random.default_rng(seed)
    input = batch_norm_input(rng)
    channels = input.shape[1]
    weight, bias = (random_array(rng, (channels,)), random_array(rng, (channels,))) if affine else (None, None)
    running_mean, running_var = random_array(rng, (channels,)), rng.uniform(0.5, 2, channels)
    momentum = float(rng.uniform(0, 1))
    grad_output = random_array(rng, input.shape)

    tensors = [leaf(input)] + ([leaf(weight), leaf(bias)] if affine else [])
    torch_running = [t(running_mean).clone(), t(running_var).clone()]
    expected = F.batch_norm(tensors[0], *torch_running, *tensors[1:], training=training, momentum=momentum)
    expected.backward(torch.from_numpy(grad_output))

    output, cache = batch_norm_forward(input, running_mean, running_var, weight, bias, training=training,
                                       momentum=momentum)
    np.testing.assert_allclose(output, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(running_mean, torch_running[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(running_var, torch_running[1].numpy(), rtol=1e-12)
    grads = batch_norm_backward(grad_output, cache)
    if not affine:
        assert grads[1:] == (None, None)
    for grad, tensor in zip(grads, tensors, strict=False):
        assert grad.shape == tensor.shape
        np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-10, atol=1e-11)


def test_running_statistics_follow_batchnorm1d_over_several_steps_then_evaluation_uses_them():
    rng = np.random.default_rng(0)
    module = torch.nn.BatchNorm1d(4, momentum=0.2, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(t(random_array(rng, (4,))))
        module.bias.copy_(t(random_array(rng, (4,))))
    weight, bias = module.weight.detach().numpy().copy(), module.bias.detach().numpy().copy()
    running_mean, running_var = np.zeros(4), np.ones(4)
    for step in range(5):
        batch = random_array(rng, (8, 4)) * (step + 1) + step
        output = batch_norm(batch, running_mean, running_var, weight, bias, training=True, momentum=0.2)
        np.testing.assert_allclose(output, module.train()(t(batch)).detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(running_mean, module.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(running_var, module.running_var.numpy(), rtol=1e-12)
    # the running variance is the unbiased one: after one step from 1 with momentum 1 it is
    # the batch's variance with n - 1
    batch = random_array(rng, (8, 4))
    fresh_var = np.ones(4)
    batch_norm(batch, np.zeros(4), fresh_var, training=True, momentum=1.0)
    np.testing.assert_allclose(fresh_var, batch.var(axis=0, ddof=1), rtol=1e-12)

    test_batch = random_array(rng, (3, 4))
    evaluated = batch_norm(test_batch, running_mean, running_var, weight, bias)
    np.testing.assert_allclose(evaluated, module.eval()(t(test_batch)).detach().numpy(), rtol=1e-10, atol=1e-12)
    # in evaluation one example's output does not depend on the others in its batch
    np.testing.assert_allclose(batch_norm(test_batch[:1], running_mean, running_var, weight, bias),
                               evaluated[:1], rtol=1e-15)


def test_batch_norm_without_running_statistics_in_training_and_in_float32():
    rng = np.random.default_rng(1)
    input = random_array(rng, (5, 3), np.float32)
    output = batch_norm(input, None, None, training=True)
    assert output.dtype == np.float32
    np.testing.assert_allclose(output, F.batch_norm(t(input), None, None, training=True).numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(output.mean(axis=0), 0, atol=1e-6)
    grads = batch_norm_backward(np.ones_like(input), batch_norm_forward(input, None, None, training=True)[1])
    assert grads[0].dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: batch_norm(np.ones((1, 3)), None, None, training=True), ValueError,
     r"Expected more than 1 value per channel when training, got input size \[1, 3\]"),
    (lambda: batch_norm(np.ones(3), np.zeros(3), np.ones(3)), ValueError, r"\[N, C\].*got shape \(3,\)"),
    (lambda: batch_norm(np.ones((4, 3)), np.zeros(2), np.ones(3)), ValueError,
     "running_mean should contain 3 elements not 2"),
    (lambda: batch_norm(np.ones((4, 3)), None, None), ValueError, "running_mean must be defined in evaluation"),
    (lambda: batch_norm(np.ones((4, 3)), [0.0] * 3, np.ones(3)), TypeError, "in place, so it must be a numpy"),
    (lambda: batch_norm(np.ones((4, 3)), np.zeros(3), np.ones(3), weight=np.ones(2)), ValueError,
     r"weight must have shape \(3,\), got \(2,\)"),
    (lambda: batch_norm(np.ones((4, 3)), None, None, training=True, momentum=1.5), ValueError,
     "momentum must be a number between 0 and 1"),
    (lambda: batch_norm(np.ones((4, 3)), None, None, training=True, eps=0.0), ValueError,
     "eps must be positive during training"),
    (lambda: batch_norm(np.ones((4, 3), dtype=int), None, None, training=True), TypeError, "floating-point"),
])
def test_batch_norm_explains_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_batch_norm_backward_rejects_a_gradient_of_another_shape():
    _, cache = batch_norm_forward(np.arange(6.0).reshape(3, 2), None, None, training=True)
    with pytest.raises(ValueError, match=r"shape of the forward pass's output \(3, 2\), got \(2, 3\)"):
        batch_norm_backward(np.ones((2, 3)), cache)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_output_and_gradients_match_autograd(seed, affine):
    rng = np.random.default_rng(seed)
    normalized_shape = (int(rng.integers(2, 6)),) + random_shape(rng, max_ndim=1)
    input = random_array(rng, random_shape(rng, max_ndim=2) + normalized_shape) * 3 - 1
    weight, bias = (random_array(rng, normalized_shape), random_array(rng, normalized_shape)) if affine \
        else (None, None)
    grad_output = random_array(rng, input.shape)
    shape_argument = normalized_shape[0] if len(normalized_shape) == 1 and seed % 2 else normalized_shape

    tensors = [leaf(input)] + ([leaf(weight), leaf(bias)] if affine else [])
    expected = F.layer_norm(tensors[0], normalized_shape, *tensors[1:])
    expected.backward(torch.from_numpy(grad_output))
    output, cache = layer_norm_forward(input, shape_argument, weight, bias)
    np.testing.assert_allclose(output, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(layer_norm(input, shape_argument, weight, bias), output)
    grads = layer_norm_backward(grad_output, cache)
    if not affine:
        assert grads[1:] == (None, None)
    for grad, tensor in zip(grads, tensors, strict=False):
        assert grad.shape == tensor.shape
        np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-10, atol=1e-11)


def test_layer_norm_works_for_a_single_example_and_keeps_float32():
    input = np.array([[1.0, 2.0, 3.0, 6.0]], dtype=np.float32)
    output = layer_norm(input, 4)
    assert output.dtype == np.float32
    np.testing.assert_allclose(output, F.layer_norm(t(input), (4,)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: layer_norm(np.ones((4, 3)), 4),
     r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of size\[4, 3\]"),
    (lambda: layer_norm(np.ones(3), (2, 3)), r"normalized_shape=\[2, 3\]"),
    (lambda: layer_norm(np.ones((4, 3)), 3, weight=np.ones(2)),
     r"Expected weight to be of same shape as normalized_shape, but got weight of shape \[2\]"),
    (lambda: layer_norm(np.ones((4, 3)), 3, bias=np.ones((1, 3))), "Expected bias to be of same shape"),
])
def test_layer_norm_explains_shapes_it_cannot_use_as_torch_does(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (1, 2, 3, 3), (2, 1, 1, 4)])
def test_batch_norm_of_images_is_batchnorm2ds_per_channel_over_n_h_and_w(shape):
    """[N, C, H, W]: one mean and variance per channel, over N, H and W — so a batch of one
    image still has H * W values per channel to train on."""
    rng = np.random.default_rng(sum(shape))
    channels = shape[1]
    module = torch.nn.BatchNorm2d(channels, momentum=0.3, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(t(random_array(rng, (channels,))))
        module.bias.copy_(t(random_array(rng, (channels,))))
    weight, bias = module.weight.detach().numpy().copy(), module.bias.detach().numpy().copy()
    running_mean, running_var = np.zeros(channels), np.ones(channels)
    input = random_array(rng, shape) * 3 + 2
    grad_output = random_array(rng, shape)

    input_leaf = leaf(input)
    expected = module.train()(input_leaf)
    expected.backward(torch.from_numpy(grad_output))
    output, cache = batch_norm_forward(input, running_mean, running_var, weight, bias, training=True, momentum=0.3)
    np.testing.assert_allclose(output, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(running_mean, module.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(running_var, module.running_var.numpy(), rtol=1e-12)
    # the statistics are those over axes (0, 2, 3); running_var the unbiased one
    np.testing.assert_allclose(running_mean, 0.3 * input.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.7 + 0.3 * input.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    grad_input, grad_weight, grad_bias = batch_norm_backward(grad_output, cache)
    np.testing.assert_allclose(grad_input, input_leaf.grad.numpy(), rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(grad_weight, module.weight.grad.numpy(), rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(grad_bias, module.bias.grad.numpy(), rtol=1e-10, atol=1e-11)

    evaluated = batch_norm(input, running_mean, running_var, weight, bias)
    np.testing.assert_allclose(evaluated, module.eval()(t(input)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_of_one_pixel_images_in_a_batch_of_one_refuses_to_train_as_torch():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(np.zeros((1, 3, 1, 1)), None, None, training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(torch.zeros(1, 3, 1, 1), None, None, training=True)
