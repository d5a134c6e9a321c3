"""Checks for softmax and the cross-entropy loss in numpy (assignment 02).

Each check runs the student's function on small float64 inputs drawn from its own generator
(`seed=`; sizes are arguments too), on float32 input, then on extreme logits — ±1000, rows of
very different scale, a confidently wrong sample — and compares with torch.softmax and
F.cross_entropy. A failure says how the answer is wrong (shape, dtype, nan or inf, a factor,
a sign) and the likely cause, recognising the usual mistakes by recomputing them: the wrong
axis, keepdims missing, the sum for the mean, the log of a softmax that underflows.

The answers run through the harness, on copies of their inputs, and must not run their
course_lib reference or torch's own softmax, log_softmax, logsumexp or cross-entropy,
however they are reached (function, Tensor method, torch.nn.functional, nn.Module). The
torch functions used as oracles are bound here at import, like the numpy ones in `_trusted`
(see the package docstring), and the inputs come from a local numpy Generator, so the
student's global random states stay untouched. `backprop` reuses the extreme logits.
"""
import math
from builtins import RuntimeError, float, isinstance, len, list, range, reversed, tuple

import torch
from torch import from_numpy as _from_numpy
from torch import log_softmax as _torch_log_softmax
from torch import softmax as _torch_softmax
from torch.nn import functional as F
from torch.nn.functional import cross_entropy as _torch_cross_entropy

from course_lib.scratch import functional as _functional

from ._trusted import default_rng, np
from .failure import fail
from .harness import Answer, exercise
from .values import check_array, check_scalar

# torch's own versions of what these exercises compute, however they are called
TORCH_SOFTMAX = (torch.softmax, torch.Tensor.softmax, F.softmax, torch.special.softmax,
                 torch.log_softmax, torch.Tensor.log_softmax, F.log_softmax,
                 torch.special.log_softmax, torch.logsumexp, torch.Tensor.logsumexp,
                 torch.special.logsumexp)
SOFTMAX = exercise(_functional.softmax, forbidden=(_functional.log_softmax, _functional.logsumexp,
                                                   *TORCH_SOFTMAX))
CROSS_ENTROPY = exercise(_functional.cross_entropy, parameters=("input", "target"), forbidden=(
    _functional.log_softmax, _functional.logsumexp, *TORCH_SOFTMAX, F.cross_entropy, F.nll_loss,
    ("torch._C._nn.cross_entropy_loss", torch._C._nn.cross_entropy_loss)))

RTOL, ATOL = 1e-7, 1e-10  # float64 answers agree with torch to ~1e-15; this leaves room
RTOL_FLOAT32, ATOL_FLOAT32 = 1e-5, 1e-7
_LN2, _LN10 = math.log(2), math.log(10)

LOG_SUM_EXP_FIX = ("use log-sum-exp: with m = input.max(axis=1, keepdims=True), log_softmax = "
                   "input - m - log(sum(exp(input - m), axis=1, keepdims=True)); then pick each "
                   "sample's target entry.")


# ----------------------------------------------------------------------- extreme inputs

def _nonfinite_word(actual):
    """'nan', 'inf' or '-inf' if the float array or number `actual` holds one, else None."""
    if not isinstance(actual, (float, np.floating, np.ndarray)):
        return None
    values = np.asarray(actual)
    if values.dtype.kind != "f" or np.isfinite(values).all():
        return None
    if np.isnan(values).any():
        return "nan"
    return "inf" if (values == float("inf")).any() else "-inf"


def fails_on_extremes(call, actual, situation, cause, fix):
    __tracebackhide__ = True
    word = _nonfinite_word(actual)
    if word is not None:
        fail(f"{call} returned {word} for {situation}: {cause} — {fix}")


def extreme_rows(rows, words=("row", "rows")):
    """Logits that break a softmax computed without care, made from ordinary `rows`
    [R, L]: (logits, what they are, what goes wrong, whether the rows differ in scale).
    `words` names a row in the messages, singular and plural."""
    row, rows_word = words
    cases = [(rows + 1000, "large logits (around 1000)", "exp(1000) overflows to inf", False),
             (rows - 1000, "very negative logits (around -1000)",
              "exp(-1000) underflows to 0", False)]
    if len(rows) >= 2:
        mixed = rows.copy()
        mixed[0] += 1000
        mixed[1] -= 1000
        cases.append((mixed, f"{rows_word} of very different scale (one around 1000, another "
                             f"around -1000)",
                      f"with the maximum of the whole array subtracted, the {row} around -1000 "
                      f"still underflows, exp(-1000 - 1000) = 0", True))
    return cases


def _float64(array):
    return _from_numpy(array.astype(np.float64))


# -------------------------------------------------------------------------------- softmax

def _axis_words(axis, ndim):
    if ndim == 2:
        return ("down the columns (dim=0)", "along the rows (dim=1)")[axis]
    return f"along dim={axis}"


def _slice_words(dim, ndim):
    """What a slice along `dim` is called: ('row', 'rows') for the last dim of a matrix."""
    if ndim == 2:
        return ("column", "columns") if dim % 2 == 0 else ("row", "rows")
    return f"slice along dim={dim}", f"slices along dim={dim}"


def _softmax_mistakes(x, dim):
    """(wrong softmax, explanation) for the usual mistakes, computed with torch."""
    logits = _from_numpy(x)
    axis = dim % logits.ndim
    shifted = (logits - logits.amax(dim, keepdim=True)).exp()
    not_normalised = ("the entries don't sum to 1 along dim: divide by their sum, "
                      "np.sum(..., axis=dim, keepdims=True).")
    whole_array = ("the entries sum to 1 over the whole array: sum along dim only "
                   "(axis=dim, keepdims=True), so that each slice along dim sums to 1.")
    mistakes = [(_torch_softmax(logits, other),
                 f"the entries sum to 1 {_axis_words(other, logits.ndim)} instead of "
                 f"{_axis_words(axis, logits.ndim)}: take the max and the sum with axis=dim.")
                for other in range(logits.ndim) if other != axis]
    mistakes += [(shifted, not_normalised), (logits.exp(), not_normalised),
                 (shifted / shifted.sum(), whole_array),
                 (logits.exp() / logits.exp().sum(), whole_array)]
    # Without keepdims a max or sum along dim drops that axis; if the result still broadcasts
    # against the input (a square matrix), it lines up with the wrong axis instead of raising.
    for keep_max, keep_sum in ((False, True), (True, False), (False, False)):
        try:
            exponentials = (logits - logits.amax(dim, keepdim=keep_max)).exp()
            wrong = exponentials / exponentials.sum(dim, keepdim=keep_sum)
        except RuntimeError:
            continue
        mistakes.append((wrong, "keepdims=True is missing: input.max(axis=dim) and .sum(axis=dim) "
                                "drop the axis they reduce, and then line up with the wrong "
                                "axis of input when broadcast. keepdims=True keeps it, with "
                                "size 1."))
    return mistakes


def check_softmax(softmax, *, seed=0, shape=(4, 5)):
    """Run the student's `softmax(input, dim)` along every dim of a `shape` array (and
    dim=-1), on float32 input, and on logits of ±1000, comparing with torch.softmax."""
    __tracebackhide__ = True
    answer = Answer(SOFTMAX, softmax, shape_hint=(
        "softmax must work along any dim: input.max(axis=dim, keepdims=True) and "
        "np.sum(..., axis=dim, keepdims=True) keep the reduced axis (with size 1), so that the "
        "result broadcasts against input."))
    shape = tuple(shape)
    ndim = len(shape)
    rng = default_rng(seed)
    x = 2 * rng.standard_normal(shape)
    dims = [-1] + list(reversed(range(ndim)))

    def expected(logits, dim):
        return _torch_softmax(_float64(logits), dim).numpy()

    for dim in dims:
        call = answer.words(x, dim=dim)
        check_array(call, answer.run(call, x, dim), expected(x, dim), rtol=RTOL, atol=ATOL,
                    known_mistakes=_softmax_mistakes(x, dim))

    call = f"{answer.words(x, dim=-1)} with input of dtype float32"
    single = x.astype(np.float32)
    check_array(call, answer.run(call, single, -1), expected(single, -1), rtol=RTOL_FLOAT32,
                atol=ATOL_FLOAT32, dtype=np.float32)

    for dim in dims:
        call = answer.words(x, dim=dim)
        # an array whose slices along dim are the rows of a [slices, shape[dim]] matrix
        swapped = list(shape)
        swapped[dim], swapped[-1] = swapped[-1], swapped[dim]
        rows = rng.standard_normal((x.size // shape[dim], shape[dim]))
        words = _slice_words(dim, ndim)
        for logits, situation, cause, mixed in extreme_rows(rows, words):
            logits = logits.reshape(swapped).swapaxes(dim, -1).copy()
            actual = answer.run(call, logits, dim)
            if mixed:
                fix = (f"subtract each {words[0]}'s own maximum, input.max(axis=dim, "
                       f"keepdims=True), not the maximum of the whole array.")
            else:
                fix = ("subtract the maximum along dim, input.max(axis=dim, keepdims=True), "
                       "before exp: that leaves softmax unchanged, and then no exponent exceeds 0.")
            fails_on_extremes(call, actual, situation, cause, fix)
            check_array(call, actual, expected(logits, dim), rtol=RTOL, atol=ATOL,
                        hint=f"input holds {situation}. Clipping them changes the answer; "
                             f"subtracting the maximum along dim does not.")


# -------------------------------------------------------------------------- cross-entropy

def classification_batch(seed, batch_size, num_classes):
    rng = default_rng(seed)
    return 2 * rng.standard_normal((batch_size, num_classes)), rng.integers(0, num_classes,
                                                                            batch_size)


def _cross_entropy_mistakes(x, target):
    """(wrong loss, explanation) for the usual mistakes."""
    n_samples, n_classes = x.shape
    samples = np.arange(n_samples)
    log_p = _torch_log_softmax(_from_numpy(x), 1).numpy()
    over_batch = _torch_log_softmax(_from_numpy(x), 0).numpy()
    picked = log_p[samples, target]
    whole_batch = _from_numpy(x).logsumexp((0, 1)).item()
    return [
        (-picked.sum(), "that is the sum over the batch; the loss is the mean over its samples: "
                        "divide by the batch size."),
        (-picked.sum() / (n_samples * n_classes),
         f"that is the sum divided by N * C = {n_samples * n_classes}, the number of entries of "
         f"input: average over the {n_samples} samples only, after picking each sample's target "
         f"entry."),
        (-log_p.sum(1).mean(), "that adds -log p of all classes of each sample; take only the "
                               "target class's: log_p[np.arange(N), target]."),
        (-log_p.mean(), "that averages -log p over all entries of input; take only each sample's "
                        "target entry, log_p[np.arange(N), target], then average over the "
                        "samples."),
        ((whole_batch - x[samples, target]).mean(),
         "the log-sum-exp runs over the whole batch; take it over each sample's classes: "
         "axis=1, keepdims=True."),
        (-log_p[:, target].mean(),
         "log_p[:, target] picks, for every sample, the entries of all the batch's targets (an "
         "N × N array); pick one entry per row: log_p[np.arange(N), target]."),
        (-log_p.max(1).mean(), "that is the loss of each sample's predicted class (its largest "
                               "logit); use its target class instead."),
        (picked.mean(), "the minus sign is missing: the loss is the mean of -log p(target), "
                        "which is never negative."),
        (-over_batch[samples, target].mean(),
         "the softmax is taken over the batch (axis=0) instead of over the classes (axis=1)."),
        (-picked.mean() / _LN2, "that is in bits (np.log2); cross-entropy uses the natural "
                                "logarithm, np.log."),
        (-picked.mean() / _LN10, "that uses np.log10; cross-entropy uses the natural logarithm, "
                                 "np.log."),
    ]


def check_cross_entropy(cross_entropy, *, seed=0, batch_size=6, num_classes=4):
    """Run the student's `cross_entropy(input, target)` (mean loss of logits [N, C] against
    class indices [N]) on ordinary and extreme logits, comparing with F.cross_entropy."""
    __tracebackhide__ = True
    answer = Answer(CROSS_ENTROPY, cross_entropy, shape_hint=(
        f"input has shape ({batch_size}, {num_classes}) and target ({batch_size},): reduce over "
        f"the classes with axis=1, keepdims=True, and pick each sample's target entry with "
        f"log_p[np.arange(N), target]."))
    x, target = classification_batch(seed, batch_size, num_classes)
    call = answer.words(x, target)

    def run(logits):
        return answer.run(call, logits, target)

    def expected(logits):
        return _torch_cross_entropy(_from_numpy(logits), _from_numpy(target)).item()

    check_scalar(call, run(x), expected(x), rtol=RTOL, atol=ATOL,
                 factor_hints={"the batch size": batch_size, "the number of classes": num_classes},
                 known_mistakes=_cross_entropy_mistakes(x, target))
    for logits, situation, cause, mixed in extreme_rows(x):
        actual = run(logits)
        fix = ("subtract each row's own maximum (axis=1, keepdims=True), not the maximum of the "
               "whole batch." if mixed else LOG_SUM_EXP_FIX)
        fails_on_extremes(call, actual, situation, cause, fix)
        check_scalar(call, actual, expected(logits), rtol=RTOL, atol=ATOL,
                     hint=f"input holds {situation}. Clipping them changes the loss; subtracting "
                          f"each row's maximum does not.")
    if num_classes >= 2:
        confident = x.copy()
        confident[0, target[0]] -= 1000
        situation = "a confidently wrong sample (its target's logit is 1000 below the others)"
        actual = run(confident)
        fails_on_extremes(
            call, actual, situation,
            "its softmax probability underflows to 0, and log(0) = -inf",
            "never take the log of a softmax probability that can underflow to 0: compute "
            "log_softmax = input - logsumexp(input) directly, with the row maximum subtracted inside "
            "logsumexp.")
        check_scalar(call, actual, expected(confident), rtol=RTOL, atol=ATOL,
                     hint=f"input holds {situation}. An epsilon in log(p + eps), or clipping p, "
                          f"caps its loss: compute log_softmax = input - logsumexp(input) instead.")
