"""The check of batch normalisation's backward pass (assignment 05):
`batch_norm_backward(grad_output, input, weight, eps=1e-5)` -> (grad_input [N, C],
grad_weight [C], grad_bias [C]) on numpy arrays, against autograd through
torch.batch_norm(training=True) in float64.

The scenarios are those of `normalization`: ordinary data, N = 2 (where the normalised output
hardly depends on the input, so grad_input is a difference of nearly equal terms), a constant
column next to a nearly constant one, eps=0.1 by keyword, float32. The gradients are compared
simplest first — grad_bias, grad_weight, grad_input — each against the usual mistakes
recomputed on the same data (the mean and variance treated as constants, a term missing, the
unbiased variance, sums over the wrong axis, ...); a gradient of the wrong shape is blamed on
a sum over the wrong axis, or on a missing sum, only when that sum reproduces it.

The student's function runs through the harness, on copies of its inputs (changing one
fails), under the delegation watch: it must not run course_lib's batch_norm_backward nor
torch's autograd (torch.autograd.grad, backward).
"""
from builtins import all, dict, enumerate, float, int, isinstance, list, range, zip
from itertools import permutations

import torch
from numpy import sqrt as _sqrt
from torch import batch_norm as _torch_batch_norm
from torch import enable_grad as _enable_grad
from torch import from_numpy as _from_numpy
from torch.autograd import grad as _autograd_grad

from course_lib.scratch import normalization as _scratch

from ._trusted import default_rng, isclose, np
from .failure import fail, unpacked
from .harness import Answer, exercise
from .normalization import (
    DEFAULT_EPS, TOLERANCES, columns, compare, eps_scenarios, float64, nan_in_constant_column,
    statistics, validated, words,
)


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages:
    course_lib's scratch.batch_norm_backward takes the forward pass's cache."""

    def batch_norm_backward(grad_output, input, weight, eps=1e-5):
        """Returns (grad_input [N, C], grad_weight [C], grad_bias [C])."""


BATCH_NORM_BACKWARD = exercise(_Notebook.batch_norm_backward, forbidden=(
    _scratch.batch_norm_backward, torch.autograd.grad, torch.autograd.backward,
    torch.Tensor.backward))

NAMES = ("grad_input", "grad_weight", "grad_bias")
HINT = ("with x_hat = (input - mean) / std, std = np.sqrt(var + eps) and g = grad_output: "
        "grad_bias = g.sum(0), grad_weight = (g * x_hat).sum(0), grad_input = weight / (N * std) "
        "* (N * g - g.sum(0) - x_hat * (g * x_hat).sum(0)).")


def _torch_backward(grad_output, x, weight, eps):
    with _enable_grad():
        leaves = [_from_numpy(float64(array)).requires_grad_()
                  for array in (x, weight, np.zeros(x.shape[1]))]
        output = _torch_batch_norm(*leaves, None, None, True, 0.0, eps, False)
        gradients = _autograd_grad(output, leaves, grad_outputs=_from_numpy(float64(grad_output)))
    return [gradient.numpy() for gradient in gradients]


def _backward_mistakes(grad_output, x, weight, eps):
    """{gradient's name: [(wrong value, explanation), ...]} for the usual mistakes."""
    g, x, weight = float64(grad_output), float64(x), float64(weight)
    n = x.shape[0]
    mean, var, normalized = statistics(x, eps)
    inv_std = 1 / _sqrt(var + eps)
    scaled = g * weight

    def full(gn, xhat, inv, axis=0):
        return inv / n * (n * gn - gn.sum(axis, keepdims=True)
                          - xhat * (gn * xhat).sum(axis, keepdims=True))

    unbiased_inv_std = 1 / _sqrt(x.var(0, ddof=1) + eps)
    unbiased_normalized = (x - mean) * unbiased_inv_std
    unbiased = ("the variance is the unbiased one (divided by N - 1): the forward pass "
                "normalises with the biased variance, divided by N.")
    return {
        "grad_input": [
            (scaled * inv_std, "the mean and the variance are treated as constants: they are "
                               "computed from the whole batch, so every input's gradient also "
                               "flows through them — grad_input = weight / (N * std) * (N * g "
                               "- g.sum(0) - x_hat * (g * x_hat).sum(0)), g = grad_output."),
            (full(scaled, normalized, inv_std) + inv_std / n * scaled.sum(0),
             "the term through the mean is missing: subtract grad_output's column sums, "
             "(g * weight).sum(axis=0), as well."),
            (full(scaled, normalized, inv_std) + inv_std / n * normalized
             * (scaled * normalized).sum(0),
             "the term through the variance is missing: subtract x_hat * (g * weight * "
             "x_hat).sum(axis=0) as well."),
            (full(g, normalized, inv_std), "weight is missing: the output is x_hat * weight + "
                                           "bias, so the gradient reaching x_hat is grad_output "
                                           "* weight."),
            (full(scaled, unbiased_normalized, unbiased_inv_std), unbiased),
            (full(scaled, normalized, inv_std, axis=1),
             "the sums run over each sample's features (axis=1): they run over the batch, "
             "axis=0, one per column."),
        ],
        "grad_weight": [
            ((g * x).sum(0), "it is computed from the input: weight multiplies the normalised "
                             "input, so grad_weight = (grad_output * x_hat).sum(axis=0)."),
            ((g * unbiased_normalized).sum(0), unbiased),
        ],
        "grad_bias": [],
    }


def _three_arrays(context, result, expected):
    """The three arrays of `result`, after checking it is a 3-tuple in the right order."""
    __tracebackhide__ = True
    unpacked(f"{context}: it returned", result, 3, f"a tuple of three arrays ({', '.join(NAMES)})")

    def close(actual, wanted):
        return (isinstance(actual, np.ndarray) and actual.shape == wanted.shape
                and actual.dtype.kind == "f"
                and isclose(actual, wanted, rtol=1e-4, atol=1e-5).all())

    for order in permutations(range(3)):
        if order != (0, 1, 2) and all(close(result[position], expected[meant])
                                      for position, meant in enumerate(order)):
            fail(f"{context}: it returned the right gradients in the wrong order, "
                 f"({', '.join(NAMES[meant] for meant in order)}): return ({', '.join(NAMES)}).")
    return list(result)


def _unsummed(context, label, actual, terms, dtype):
    """Fail with the cause when a [C] gradient came back [N] or [N, C] and a sum over the
    features, or no sum at all, of its per-sample `terms` [N, C] reproduces it."""
    __tracebackhide__ = True
    n, c = terms.shape
    if (not isinstance(actual, np.ndarray) or actual.shape == (c,) or actual.dtype.kind != "f"
            or actual.shape not in ((n,), (n, c))):
        return
    rtol, atol = TOLERANCES[dtype.name]
    problem = f"{context}: {label} has shape {actual.shape} but should have shape ({c},)"
    if actual.shape == (n,) and isclose(actual, terms.sum(1), rtol=rtol, atol=atol).all():
        fail(f"{problem}: it is summed over the features (axis=1) instead of over the batch "
             f"(axis=0).")
    if actual.shape == (n, c) and isclose(actual, terms, rtol=rtol, atol=atol).all():
        fail(f"{problem}: each of the {n} samples' terms is there, not yet summed — sum over "
             f"the batch (axis=0).")


def check_batch_norm_backward(batch_norm_backward, *, seed=0, shape=(6, 4), eps=None,
                              dtype=np.float64):
    """Check `batch_norm_backward(grad_output, input, weight, eps=1e-5)` -> (grad_input [N, C],
    grad_weight [C], grad_bias [C]) (numpy) against autograd through
    torch.batch_norm(training=True) in float64; grad_bias first, then grad_weight, then
    grad_input.

    Scenarios, simplest first: random data; N = 2 (where the normalised output hardly depends
    on the input); a constant column next to a nearly constant one; eps=0.1 by keyword;
    float32 (the gradients must be float32). Options: `seed`, `shape` (N, C), `eps` (passed
    by keyword to every call; the eps scenario is then left out), `dtype`.
    """
    __tracebackhide__ = True
    shape, dtype = validated(shape, dtype)
    answer = Answer(BATCH_NORM_BACKWARD, batch_norm_backward, shape_hint=(
        "grad_output and input are [N, C], weight [C]; sums over the batch (axis=0) have shape "
        "[C] and broadcast against [N, C]."))
    for index, current in enumerate(eps_scenarios(shape, dtype, eps)):
        rng = default_rng((int(seed), index))
        x = columns(rng, current)
        n, c = current.shape
        weight = rng.uniform(0.5, 2, c).astype(current.dtype)
        grad_output = rng.standard_normal((n, c)).astype(current.dtype)
        used_eps = DEFAULT_EPS if current.eps is None else float(current.eps)
        keywords = {} if current.eps is None else {"eps": current.eps}
        context = f"{answer.words(grad_output, x, weight, **keywords)}{words(current)}"
        expected = _torch_backward(grad_output, x, weight, used_eps)
        result = answer(grad_output, x, weight, **keywords)
        gradients = dict(zip(NAMES, _three_arrays(context, result, expected)))
        with np.errstate(all="ignore"):
            mistakes = _backward_mistakes(grad_output, x, weight, used_eps)
        _, _, normalized = statistics(x, used_eps)
        per_sample = {"grad_bias": float64(grad_output),
                      "grad_weight": float64(grad_output) * normalized}
        # grad_input is a difference of terms of about this size, which cancel nearly
        # completely for N = 2: float32 rounding of the terms is what its error is relative to
        terms = float(np.absolute(float64(grad_output) * float64(weight)
                                  / _sqrt(float64(x).var(0) + used_eps)).max())
        for label in ("grad_bias", "grad_weight", "grad_input"):
            wanted = expected[NAMES.index(label)]
            scale = 1.0 if label != "grad_input" or current.dtype.name == "float64" else 10 * terms
            if label == "grad_input":
                nan_in_constant_column(context, label, gradients[label], x)
            else:
                _unsummed(context, label, gradients[label], per_sample[label], current.dtype)
            compare(context, label, gradients[label], wanted, dtype=current.dtype,
                    known_mistakes=mistakes[label], factor_hints={"the batch size": n},
                    scale=scale, hint=HINT)
