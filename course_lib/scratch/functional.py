"""The forward pass of an MLP in numpy: linear layers, ReLU, softmax and cross-entropy.

Each function mirrors the `torch.nn.functional` (or `torch`) function of the same name,
with the same argument names and defaults; the tests use torch as the oracle. float32
inputs give float32 results: every constant below is a Python scalar, which numpy 2 does
not let promote an array's dtype.
"""
import numpy as np

from ._reduction import reduce


def linear(input, weight, bias=None):
    """input @ weight.T + bias, as `F.linear`: weight is [out_features, in_features]."""
    output = np.asarray(input) @ np.asarray(weight).T
    return output if bias is None else output + bias


def relu(input):
    """max(input, 0) entry by entry, as `F.relu` (nan stays nan)."""
    return np.maximum(input, 0)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) along `dim`, as `torch.logsumexp`, finite for huge inputs.

    The maximum is shifted out first, so exp never overflows; an infinite maximum is not
    shifted (inf - inf would be nan), which gives -inf for a row of -inf and inf for a row
    holding inf, as torch does.
    """
    input = np.asarray(input)
    maximum = np.max(input, axis=dim, keepdims=True)
    maximum = np.where(np.isinf(maximum), 0, maximum)
    # log(0) = -inf is the right answer for a row of -inf; numpy would only warn about it
    with np.errstate(divide="ignore"):
        result = np.log(np.sum(np.exp(input - maximum), axis=dim, keepdims=True)) + maximum
    return result if keepdim else np.squeeze(result, axis=dim)


def log_softmax(input, dim):
    """input - logsumexp(input) along `dim`, as `F.log_softmax`; never log(0) for finite input.

    Deviation: `dim` is required (torch's implicit choice of dim is deprecated).
    """
    shifted = np.asarray(input) - np.max(input, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def softmax(input, dim):
    """exp(input) / sum(exp(input)) along `dim`, as `F.softmax`; never nan for finite input.

    Deviation: `dim` is required (torch's implicit choice of dim is deprecated).
    """
    # After shifting by the maximum every exponent is <= 0 and one of them is exactly 0,
    # so nothing overflows and the sum is at least 1.
    exponentials = np.exp(np.asarray(input) - np.max(input, axis=dim, keepdims=True))
    return exponentials / np.sum(exponentials, axis=dim, keepdims=True)


def _cross_entropy_arguments(input, target):
    """input and target as arrays, and whether target holds class indices (else probabilities)."""
    input, target = np.asarray(input), np.asarray(target)
    if input.ndim != 2:
        raise ValueError(f"input must be logits of shape [N, C], got shape {input.shape}")
    if np.issubdtype(target.dtype, np.integer):
        if target.shape != input.shape[:1]:
            raise ValueError(f"class-index target must have shape ({input.shape[0]},) to match "
                             f"input of shape {input.shape}, got {target.shape}")
        out_of_bounds = (target < 0) | (target >= input.shape[1])
        if out_of_bounds.any():
            # IndexError, as torch; numpy indexing would quietly wrap a negative index around
            raise IndexError(f"Target {target[out_of_bounds][0]} is out of bounds.")
        return input, target, True
    if not np.issubdtype(target.dtype, np.floating):
        raise ValueError(f"target must hold class indices (integers) or class probabilities "
                         f"(floats), got dtype {target.dtype}")
    if target.shape != input.shape:
        raise ValueError(f"class-probability target must have the shape of input {input.shape}, "
                         f"got {target.shape}")
    return input, target, False


def cross_entropy(input, target, reduction="mean"):
    """-log softmax(input)[target] per sample, as `F.cross_entropy`, then reduced.

    input: logits [N, C]. target: N class indices (integers) or [N, C] class probabilities
    (floats); for probabilities the per-sample loss is -sum(target * log_softmax(input)).
    "mean" divides by N in both cases, as torch. Deviations: no `weight`, `ignore_index`
    or `label_smoothing`, and input must be [N, C].
    """
    input, target, class_indices = _cross_entropy_arguments(input, target)
    log_probabilities = log_softmax(input, dim=1)
    if class_indices:
        losses = -np.take_along_axis(log_probabilities, target[:, None], axis=1)[:, 0]
    else:
        losses = -np.sum(target * log_probabilities, axis=1)
    return reduce(losses, reduction)
