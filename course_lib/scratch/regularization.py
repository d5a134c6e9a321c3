"""Regularisation in numpy: dropout, L1 and L2 penalties, and gradient clipping by norm.

`dropout` mirrors `torch.nn.functional.dropout` and `clip_grad_norm_` mirrors
`torch.nn.utils.clip_grad_norm_` (names, arguments, defaults, semantics); the tests use
torch as the oracle. Random numbers come from `generator`, a `np.random.Generator`
(None: a fresh `np.random.default_rng()`), never from numpy's global generator.

Dropout in an MLP needs the same mask in the forward and the backward pass, so the mask
is a value of its own:

    mask = dropout_mask(hidden.shape, p, generator=rng)  # 0 or 1 / (1 - p)
    output = hidden * mask                               # = dropout(hidden, p, generator=...)
    grad_hidden = dropout_backward(grad_output, mask)

`dropout(input, p, generator=rng)` draws exactly the mask `dropout_mask(input.shape, p,
generator=rng)` would from the same generator state.
"""
import math
import numbers

import numpy as np


def _rng(generator):
    return np.random.default_rng() if generator is None else generator


def _check_probability(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout_mask(shape, p=0.5, *, generator=None, dtype=np.float64):
    """The factors inverted dropout multiplies by: 0 with probability p, else 1 / (1 - p).

    Scaling the survivors by 1 / (1 - p) keeps every unit's expected value, so at
    evaluation the network runs unchanged, without dropout and without rescaling.
    """
    _check_probability(p)
    if p == 1:
        # every unit dropped; 1 / (1 - p) would divide by zero
        return np.zeros(shape, dtype=dtype)
    keep = _rng(generator).random(shape) >= p
    return np.where(keep, 1.0 / (1.0 - p), 0.0).astype(dtype, copy=False)


def dropout(input, p=0.5, training=True, *, generator=None):
    """Inverted dropout, as `F.dropout`: in training each entry is zeroed with probability p
    and the others scaled by 1 / (1 - p); in evaluation (`training=False`) input is returned
    as it is. p is checked in both modes, as torch does.

    Deviation: no `inplace`; `generator` is numpy's (torch draws from its global generator).
    """
    _check_probability(p)
    input = np.asarray(input)
    if not training:
        return input
    return input * dropout_mask(input.shape, p, generator=generator, dtype=input.dtype)


def dropout_backward(grad_output, mask):
    """Gradient of `input * mask` with respect to input: dropped units pass no gradient,
    kept ones pass it scaled by 1 / (1 - p) as their output was."""
    grad_output, mask = np.asarray(grad_output), np.asarray(mask)
    if grad_output.shape != mask.shape:
        raise ValueError(f"grad_output of shape {grad_output.shape} does not match the "
                         f"dropout mask of shape {mask.shape}")
    return grad_output * mask


# Only weights are penalised. A bias shifts a unit's output without scaling how strongly it
# responds to its inputs, so it does not make the function any wigglier and cannot overfit
# the way large weights do; there are few biases, and pulling them to zero only stops units
# from centring their pre-activations (a ReLU's threshold, an output class's prior).
def _is_penalised(name):
    return not name.startswith("b")


def _penalised(params, weight):
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays keyed by name (W1, b1, ...), "
                        f"got {type(params).__name__}")
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not weight >= 0:
        raise ValueError(f"weight must be a non-negative number, got {weight!r}")
    return [np.asarray(param) for name, param in params.items() if _is_penalised(name)]


def l1_penalty(params, weight):
    """weight * sum |W| over every parameter whose name does not start with "b" (biases are
    not penalised: see above). Adding it to the loss pushes weights to exactly zero."""
    return weight * sum(np.sum(np.abs(param)) for param in _penalised(params, weight))


def l2_penalty(params, weight):
    """weight / 2 * sum W**2 over every parameter whose name does not start with "b".

    The 1/2 makes the gradient weight * W, exactly what `torch.optim.SGD(weight_decay=weight)`
    adds to each gradient: with SGD, this penalty and weight decay are the same update.
    """
    return weight / 2 * sum(np.sum(param**2) for param in _penalised(params, weight))


def l1_penalty_gradients(params, weight):
    """Gradients of `l1_penalty`, keyed like params: weight * sign(W), 0 where W is 0 (as
    torch's abs) and for biases; add them to the loss's gradients."""
    _penalised(params, weight)
    return {name: weight * np.sign(param) if _is_penalised(name) else np.zeros_like(param)
            for name, param in params.items()}


def l2_penalty_gradients(params, weight):
    """Gradients of `l2_penalty`, keyed like params: weight * W, and 0 for biases."""
    _penalised(params, weight)
    return {name: weight * np.asarray(param) if _is_penalised(name) else np.zeros_like(param)
            for name, param in params.items()}


def _vector_norm(values, norm_type):
    """torch.linalg.vector_norm of the entries of `values`, viewed as one vector."""
    values = np.abs(np.ravel(values))
    if norm_type == math.inf:
        return np.max(values, initial=0)
    if norm_type == -math.inf:
        return np.min(values)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(values), dtype=values.dtype)
    return np.sum(values**norm_type) ** (1 / norm_type)


def clip_grad_norm_(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale `grads` in place so that their total norm is at most max_norm, and return the
    total norm from before, as `torch.nn.utils.clip_grad_norm_`.

    grads: numpy arrays (a list, a dict's values, or one array) — the gradients themselves,
    where torch takes parameters holding them. The total norm is the norm of the vector of
    the arrays' norms, i.e. of all entries as one vector; every array is multiplied by
    min(max_norm / (total_norm + 1e-6), 1), so gradients below the limit are left as they
    are (the 1e-6 keeps a zero norm from dividing by zero). norm_type may be inf ("inf").
    A nan or infinite total norm raises RuntimeError with `error_if_nonfinite`; without it,
    the gradients are scaled by it anyway and become nan or 0, as torch's do.

    Deviation: no `foreach`.
    """
    if isinstance(grads, dict):
        grads = list(grads.values())
    elif isinstance(grads, np.ndarray):
        grads = [grads]
    else:
        grads = list(grads)
    for grad in grads:
        if not isinstance(grad, np.ndarray) or not np.issubdtype(grad.dtype, np.floating):
            raise TypeError(f"clip_grad_norm_ scales numpy arrays of floats in place, got "
                            f"{type(grad).__name__}" + (f" of dtype {grad.dtype}"
                                                        if isinstance(grad, np.ndarray) else ""))
    norm_type = float(norm_type)
    if not grads:
        return np.float64(0.0)
    dtype = np.result_type(*grads)
    with np.errstate(over="ignore", invalid="ignore"):
        total_norm = _vector_norm(np.stack([_vector_norm(grad, norm_type) for grad in grads]).astype(dtype),
                                  norm_type)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            f"so it cannot be clipped. To disable this error and scale the gradients by the "
            f"non-finite norm anyway, set `error_if_nonfinite=False`")
    clip_coef = np.minimum(float(max_norm) / (total_norm + 1e-6), 1.0)
    # multiplied even when the coefficient is 1, as torch does: an infinite gradient times
    # a coefficient of 0 is nan, in both
    with np.errstate(invalid="ignore"):
        for grad in grads:
            grad *= clip_coef
    return total_norm[()]
