"""The check of masked mean pooling (assignment 07): `masked_mean(hidden, mask)` in torch —
hidden, [B, T, D] vectors of a padded batch (an encoder's output); mask, [B, T] bool, True
where a position holds a real token and False at padding — returns [B, D]: each sequence's
mean over its real positions only, and zeros for a sequence with no real token (an empty
review), not nan. The expected values are the check's own computation from that definition,
sequence by sequence: torch has no such op.

Scenarios, simplest first: two sequences padded at the end; padding before the tokens, where
pad_sequences' default padding="pre" puts it; padding that holds huge values (1e30), which
must not leak into the mean; a sequence with no real token; D = 1; float32 (the result must
stay float32); no padding at all. Each runs in float64 unless it says otherwise, and the
result is differentiated with autograd, weighted by random weights as
pooled.backward(weights) would: the gradient with respect to hidden must be the definition's,
weights / length at the real positions and exactly 0 at the padding — also in a sequence with
no real token, where a nan would spread to every parameter the padding came from.

After every scenario has run, the first wrong result is reported: a cause is named only when
one of the usual mistakes — each a small wrong pooling next to its explanation — gives the
answer's values in every scenario; otherwise the message says what differs. A right result
whose gradient differs is reported likewise.

The answer runs through the harness, on copies of its tensors (hidden a leaf that requires
grad), under the delegation watch: it must not run its course_lib reference.
"""
from builtins import all, enumerate, int, isinstance, len, list, range, tuple
from types import SimpleNamespace

import torch
from torch import arange as _arange
from torch import enable_grad as _enable_grad
from torch import float32 as _torch_float32
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import stack as _stack
from torch import where as _where
from torch import zeros as _zeros
from torch.autograd import grad as _autograd_grad

from course_lib.models import pooling as _pooling

from ._trusted import default_rng, np
from .failure import CheckFailure, fail, mistake
from .graph import agrees, input_gradient, report_gradient
from .harness import Answer, exercise
from .values import check_array

MASKED_MEAN = exercise(_pooling.masked_mean)

# float64 within 1e-7: a count + 1e-8 in the denominator is a fair way to avoid 0 / 0
TOLERANCES = {_torch_float64: (1e-7, 1e-10), _torch_float32: (1e-5, 1e-6)}
HUGE = 1e30
RECIPE = ("weights = mask.unsqueeze(-1).to(hidden.dtype) is [B, T, 1]; (hidden * weights).sum(dim=1) is [B, D], "
          "the sum over the real positions; divide it by weights.sum(dim=1).clamp(min=1), each sequence's number "
          "of real tokens (at least 1, so that an empty sequence gives 0 / 1 = zeros).")


def _scenario(words, lengths, time, features, *, dtype=_torch_float64, padding="post", padding_value=None):
    """Sequences of `lengths` real tokens padded to `time` positions of `features` numbers,
    the padding after the tokens ("post") or before ("pre"), holding `padding_value` if given."""
    return SimpleNamespace(words=words, lengths=lengths, time=time, features=features, dtype=dtype, padding=padding,
                           padding_value=padding_value)


SCENARIOS = [
    _scenario("two sequences padded at the end", (3, 5), 5, 4),
    _scenario("padding before the tokens, as pad_sequences' padding='pre' puts it", (2, 6, 4, 1), 6, 3,
              padding="pre"),
    _scenario("padding that holds huge values (1e30)", (1, 4, 2), 4, 3, padding_value=HUGE),
    _scenario("a sequence with no real token, as an empty review gives", (3, 0, 2), 4, 2),
    _scenario("D = 1", (2, 5, 3), 5, 1),
    _scenario("float32", (4, 2, 3), 4, 3, dtype=_torch_float32),
    _scenario("no padding at all", (5, 5), 5, 3),
]


def _data(rng, current):
    """hidden [B, T, D] in the scenario's dtype, the bool mask [B, T], and the weights [B, D] of the
    gradient."""
    batch, time, features = len(current.lengths), current.time, current.features
    hidden = rng.standard_normal((batch, time, features))
    positions = np.arange(time)[None, :]
    lengths = np.asarray(current.lengths)[:, None]
    mask = positions >= time - lengths if current.padding == "pre" else positions < lengths
    if current.padding_value is not None:
        hidden[~mask] = current.padding_value
    weights = rng.uniform(0.5, 1.5, (batch, features))
    return (_from_numpy(hidden).to(current.dtype), _from_numpy(mask), _from_numpy(weights).to(current.dtype))


def _by_sequence(hidden, mask):
    """The definition, one sequence at a time: the mean of its real positions, or zeros."""
    rows = [hidden[row][mask[row]].mean(0) if mask[row].any() else _zeros(hidden.shape[2], dtype=hidden.dtype)
            for row in range(hidden.shape[0])]
    return _stack(rows)


def _expected(hidden, mask, weights):
    """The definition's result and its gradient with respect to hidden (weighted), in float64."""
    leaf = hidden.detach().to(_torch_float64).requires_grad_()
    with _enable_grad():
        pooled = _by_sequence(leaf, mask)
        return pooled.detach(), _autograd_grad(pooled, [leaf], grad_outputs=weights.to(_torch_float64))[0]


# ---------------------------------------------------------------------------- mistakes
# Each takes hidden in float64 and the mask, and returns the [B, D] it gives.

def _sums_and_counts(hidden, mask):
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1), weights.sum(1)


def _right(hidden, mask):
    sums, counts = _sums_and_counts(hidden, mask)
    return sums / counts.clamp(min=1)


@mistake("the sum over the real positions is divided by T, the padded length, so the padding is counted: divide "
         "by each sequence's number of real tokens, mask.sum(dim=1).")
def _divided_by_the_padded_length(hidden, mask):
    sums, _ = _sums_and_counts(hidden, mask)
    return sums / hidden.shape[1]


@mistake("that is the mean of every position, padding included (hidden.mean(dim=1)): only the positions where "
         "mask is True are real tokens.")
def _mean_of_every_position(hidden, mask):
    return hidden.mean(1)


@mistake("the mask is read the other way round: here True marks a real token. (PyTorch's key_padding_mask, "
         "nn.TransformerEncoder's src_key_padding_mask, is the opposite: True marks padding.)")
def _inverted(hidden, mask):
    return _right(hidden, ~mask)


@mistake("the mask is read the other way round: here True marks a real token. (PyTorch's key_padding_mask, "
         "nn.TransformerEncoder's src_key_padding_mask, is the opposite: True marks padding.)")
def _inverted_with_nan(hidden, mask):
    sums, counts = _sums_and_counts(hidden, ~mask)
    return sums / counts


@mistake("a sequence with no real token gets 0 / 0 = nan: it must get zeros. Divide by the count clamped to at "
         "least 1, counts.clamp(min=1) — its sum is 0 anyway.")
def _nan_for_an_empty_sequence(hidden, mask):
    sums, counts = _sums_and_counts(hidden, mask)
    return sums / counts


@mistake("that is the sum over the real positions: the mean divides it by each sequence's number of real "
         "tokens.")
def _summed(hidden, mask):
    sums, _ = _sums_and_counts(hidden, mask)
    return sums


@mistake("every sequence is divided by the number of real tokens in the whole batch, mask.sum(): divide each by "
         "its own, mask.sum(dim=1, keepdim=True).")
def _divided_by_the_batchs_tokens(hidden, mask):
    sums, _ = _sums_and_counts(hidden, mask)
    return sums / mask.sum()


@mistake("the first `length` positions of each sequence are averaged, length = mask.sum(dim=1): the padding is "
         "not always at the end — pad_sequences puts it first by default (padding='pre'). Select the positions "
         "by the mask itself.")
def _first_positions(hidden, mask):
    lengths = mask.sum(1, keepdim=True)
    return _right(hidden, _arange(hidden.shape[1])[None, :] < lengths)


MISTAKES = (_divided_by_the_padded_length, _mean_of_every_position, _inverted, _inverted_with_nan,
            _nan_for_an_empty_sequence, _summed, _divided_by_the_batchs_tokens, _first_positions)


def _branches(hidden, mask):
    """The mean written with torch.where on the count: right values, but 0 / 0 in the branch it
    does not pick, whose gradient autograd computes anyway."""
    sums, counts = _sums_and_counts(hidden, mask)
    return _where(counts > 0, sums / counts, _zeros((), dtype=hidden.dtype))


BRANCHES = ("the result is right but its gradient is nan for the sequence with no real token: torch.where computes "
            "both branches, and autograd sends the branch it did not pick — sums / counts, 0 / 0 there — a "
            "gradient of 0, which 0 / 0 turns into nan; nan times the mask's 0 is still nan, and it would spread "
            "to every parameter behind the padding. Divide by counts.clamp(min=1) instead: no branch, no 0 / 0.")


# ---------------------------------------------------------------------------- checking

def _agrees(value, wanted, dtype):
    return agrees(value, wanted, TOLERANCES[dtype])


def _check_kind(context, result, expected, current):
    """A result that is no [B, D] tensor of hidden's dtype, told at once."""
    __tracebackhide__ = True
    batch, features = expected.shape
    if isinstance(result, torch.Tensor) and tuple(result.shape) == (batch, features) and result.dtype == current.dtype:
        return
    if isinstance(result, torch.Tensor) and features == 1 and tuple(result.shape) == (batch, batch):
        fail(f"{context} returned a tensor of shape {tuple(result.shape)}, but {(batch, features)} is expected: the "
             f"counts [B] broadcast against the sums [B, 1] into a [B, B] table. Keep the counts' dimension, "
             f"mask.sum(dim=1, keepdim=True), so that each sequence is divided by its own count.", RECIPE)
    check_array(context, result, expected.to(current.dtype), dtype=current.dtype, hint=RECIPE)  # tells what differs


def check_masked_mean(masked_mean, *, seed=0):
    """Check `masked_mean(hidden, mask)` (torch [B, T, D] and bool [B, T], True at real tokens;
    returns [B, D]) and its gradient against the mean of each sequence's real positions (zeros
    for none), over SCENARIOS with data drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(MASKED_MEAN, masked_mean, shape_hint=RECIPE)
    runs = []
    for index, current in enumerate(SCENARIOS):
        hidden, mask, weights = _data(default_rng((int(seed), index)), current)
        leaf = hidden.clone().requires_grad_()
        dtype_words = " in float32" if current.dtype == _torch_float32 else ""
        context = (f"{answer.words(leaf, mask)} with {current.words}{dtype_words} (hidden {tuple(hidden.shape)}, "
                   f"lengths {list(current.lengths)})")
        result = answer.run(context, leaf, mask)
        expected, expected_gradient = _expected(hidden, mask, weights)
        _check_kind(context, result, expected, current)
        gradient = input_gradient(context, result, "hidden", tuple(hidden.shape), grad_output=weights,
                                  what="pooled vectors", hint=RECIPE)
        runs.append(SimpleNamespace(context=context, hidden=hidden.to(_torch_float64), mask=mask, weights=weights,
                                    dtype=current.dtype, result=result.detach(), expected=expected, gradient=gradient,
                                    expected_gradient=expected_gradient))
    _report_values(runs)
    _report_gradient(runs)


def _report_values(runs):
    __tracebackhide__ = True
    wrong = [run for run in runs if not _agrees(run.result, run.expected, run.dtype)]
    if not wrong:
        return
    first = wrong[0]
    rtol, atol = TOLERANCES[first.dtype]
    for candidate in MISTAKES:
        if all(_agrees(run.result, candidate(run.hidden, run.mask), run.dtype) for run in runs):
            fail(f"{first.context}: {candidate.explanation}", RECIPE)
    try:
        check_array("the result", first.result, first.expected.to(first.dtype), rtol=rtol, atol=atol,
                    factor_hints={"T, the padded length": first.hidden.shape[1]})
    except CheckFailure as failure:
        fail(f"{first.context}: {failure.message}", RECIPE)


def _branches_gradient(run):
    leaf = run.hidden.to(run.dtype, copy=True).requires_grad_()
    with _enable_grad():
        return _autograd_grad(_branches(leaf, run.mask), [leaf], grad_outputs=run.weights)[0]


def _report_gradient(runs):
    __tracebackhide__ = True
    report_gradient(runs, TOLERANCES, name="hidden.grad", lead="the result is right, but after pooled.backward(weights)",
                    expected="Expected: weights / length at each real position and 0 at the padding.", hint=RECIPE,
                    variants=[(_branches_gradient, BRANCHES)])
