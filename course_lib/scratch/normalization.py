"""Batch and layer normalisation in numpy, forward and backward.

`batch_norm` and `layer_norm` mirror `torch.nn.functional.batch_norm` and `layer_norm`
(names, arguments, defaults, semantics) and return only the output. Their `*_forward`
twins take the same arguments and return (output, cache); `*_backward(grad_output,
cache)` turns the cache into (grad_input, grad_weight, grad_bias), as autograd would,
with None for a weight or bias that was not given:

    output, cache = batch_norm_forward(x, running_mean, running_var, gamma, beta, training=True)
    grad_x, grad_gamma, grad_beta = batch_norm_backward(grad_output, cache)
"""
import numbers
from typing import NamedTuple

import numpy as np


class NormalizationCache(NamedTuple):
    """What the backward pass needs from the forward pass."""
    normalized: np.ndarray  # (input - mean) / sqrt(var + eps), the input before weight and bias
    inv_std: np.ndarray  # 1 / sqrt(var + eps), broadcastable against the input
    weight: np.ndarray | None
    has_bias: bool
    axes: tuple  # the axes the statistics were taken over
    batch_statistics: bool  # whether mean and var came from this input (else from running stats)


def _check_parameter(name, value, shape, dtype):
    if value is None:
        return None
    value = np.asarray(value)
    if value.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {value.shape}")
    return value.astype(dtype, copy=False)


def _check_running(name, value, channels):
    if value is None:
        return None
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} is updated in place, so it must be a numpy array, got {type(value).__name__}")
    if value.shape != (channels,):
        raise ValueError(f"{name} should contain {channels} elements not {value.size}")
    return value


def batch_norm_forward(input, running_mean, running_var, weight=None, bias=None, training=False,
                       momentum=0.1, eps=1e-5):
    """(output, cache) of `batch_norm`, for `batch_norm_backward`."""
    input = np.asarray(input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm expects input of shape [N, C] or [N, C, L, ...], got shape {input.shape}")
    if not np.issubdtype(input.dtype, np.floating):
        raise TypeError(f"batch_norm expects floating-point input, got dtype {input.dtype}")
    channels = input.shape[1]
    running_mean = _check_running("running_mean", running_mean, channels)
    running_var = _check_running("running_var", running_var, channels)
    weight = _check_parameter("weight", weight, (channels,), input.dtype)
    bias = _check_parameter("bias", bias, (channels,), input.dtype)
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
        raise ValueError(f"momentum must be a number between 0 and 1, got {momentum!r}")
    # every axis but the channels': for [N, C, L] the statistics are per channel over N and L
    axes = (0,) + tuple(range(2, input.ndim))
    values_per_channel = input.size // channels
    broadcast = (1, channels) + (1,) * (input.ndim - 2)

    if training:
        if values_per_channel == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(input.shape)}")
        if eps <= 0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
        mean = input.mean(axis=axes)
        # normalise with the biased variance (divide by n), as the batch is all there is ...
        var = input.var(axis=axes)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            # ... but estimate the population's variance for evaluation without bias (n - 1)
            running_var *= 1 - momentum
            running_var += momentum * var * (values_per_channel / (values_per_channel - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"running_{'mean' if running_mean is None else 'var'} must be defined "
                             f"in evaluation mode")
        if eps < 0:
            raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
        mean, var = running_mean.astype(input.dtype), running_var.astype(input.dtype)

    inv_std = 1 / np.sqrt(var.reshape(broadcast) + eps)
    normalized = (input - mean.reshape(broadcast)) * inv_std
    output = normalized if weight is None else normalized * weight.reshape(broadcast)
    output = output if bias is None else output + bias.reshape(broadcast)
    return output, NormalizationCache(normalized, inv_std, None if weight is None else weight.reshape(broadcast),
                                      bias is not None, axes, training)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation, as `F.batch_norm`: each channel (axis 1 of [N, C], [N, C, L] or
    images [N, C, H, W]) shifted and scaled to mean 0 and variance 1 over every other axis
    (N, or N and L, or N, H and W: BatchNorm1d's and BatchNorm2d's statistics), then
    multiplied by weight and shifted by bias.

    In training the mean and biased variance of this batch are used, and running_mean and
    running_var (if not None) are updated in place: running = (1 - momentum) * running
    + momentum * batch statistic, with the unbiased variance for running_var. In evaluation
    the running statistics are used instead, so an example's output does not depend on the
    rest of its batch.

    Deviation: momentum=None (a cumulative average) is not supported.
    """
    return batch_norm_forward(input, running_mean, running_var, weight, bias, training, momentum, eps)[0]


def _normalization_grad_input(grad_output, cache):
    """The gradient with respect to the input of a normalisation over `cache.axes`."""
    grad_output = np.asarray(grad_output)
    if grad_output.shape != cache.normalized.shape:
        raise ValueError(f"grad_output must have the shape of the forward pass's output "
                         f"{cache.normalized.shape}, got {grad_output.shape}")
    grad_normalized = grad_output if cache.weight is None else grad_output * cache.weight
    if not cache.batch_statistics:
        return grad_normalized * cache.inv_std
    # mean and var are functions of every value they were taken over, which adds two terms
    # to the direct path grad_normalized * inv_std: one through the mean, one through the var
    count = int(np.prod([grad_output.shape[axis] for axis in cache.axes]))
    return cache.inv_std / count * (
        count * grad_normalized
        - grad_normalized.sum(axis=cache.axes, keepdims=True)
        - cache.normalized * (grad_normalized * cache.normalized).sum(axis=cache.axes, keepdims=True))


def batch_norm_backward(grad_output, cache):
    """Gradients of `batch_norm_forward`'s output: (grad_input, grad_weight, grad_bias).

    In training, mean and variance are functions of the whole batch, so each input's
    gradient also flows through them; in evaluation they are constants (running stats).
    """
    grad_input = _normalization_grad_input(grad_output, cache)
    grad_output = np.asarray(grad_output)
    axes = cache.axes
    grad_weight = None if cache.weight is None else (grad_output * cache.normalized).sum(axis=axes)
    grad_bias = grad_output.sum(axis=axes) if cache.has_bias else None
    return grad_input, grad_weight, grad_bias


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        return (int(normalized_shape),)
    return tuple(int(size) for size in normalized_shape)


def layer_norm_forward(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(output, cache) of `layer_norm`, for `layer_norm_backward`."""
    input = np.asarray(input)
    if not np.issubdtype(input.dtype, np.floating):
        raise TypeError(f"layer_norm expects floating-point input, got dtype {input.dtype}")
    shape = _normalized_shape(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape):] != shape or len(shape) > input.ndim:
        raise ValueError(f"Given normalized_shape={list(shape)}, expected input with shape "
                         f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and np.shape(value) != shape:
            raise ValueError(f"Expected {name} to be of same shape as normalized_shape, but got "
                             f"{name} of shape {list(np.shape(value))} and normalized_shape = {list(shape)}")
    weight = None if weight is None else np.asarray(weight).astype(input.dtype, copy=False)
    bias = None if bias is None else np.asarray(bias).astype(input.dtype, copy=False)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    mean = input.mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(input.var(axis=axes, keepdims=True) + eps)  # biased variance, as torch
    normalized = (input - mean) * inv_std
    output = normalized if weight is None else normalized * weight
    output = output if bias is None else output + bias
    return output, NormalizationCache(normalized, inv_std, weight, bias is not None, axes, True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation, as `F.layer_norm`: each example normalised to mean 0 and variance
    1 over its last dimensions (those of `normalized_shape`, e.g. the features of [N, D]),
    then multiplied by weight and shifted by bias, both of shape normalized_shape.

    Unlike batch norm it uses no batch statistics, so training and evaluation are the same
    and it works for a batch of one.
    """
    return layer_norm_forward(input, normalized_shape, weight, bias, eps)[0]


def layer_norm_backward(grad_output, cache):
    """Gradients of `layer_norm_forward`'s output: (grad_input, grad_weight, grad_bias),
    weight and bias gradients summed over the leading (batch) axes."""
    grad_input = _normalization_grad_input(grad_output, cache)
    grad_output = np.asarray(grad_output)
    batch_axes = tuple(range(grad_output.ndim - len(cache.axes)))
    grad_weight = None if cache.weight is None else (grad_output * cache.normalized).sum(axis=batch_axes)
    grad_bias = grad_output.sum(axis=batch_axes) if cache.has_bias else None
    return grad_input, grad_weight, grad_bias
