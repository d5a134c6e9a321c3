"""The check of binary cross-entropy on logits (assignment 07):
`binary_cross_entropy_with_logits(input, target, reduction="mean")` in torch — input, logits of
any shape; target, the same shape, labels 0 and 1 or probabilities in [0, 1] — the loss of each
element, -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], computed in the stable form
max(z, 0) - z * y + log1p(exp(-|z|)), then reduced as `reduction` says: "mean" over all the
elements, "sum", or "none" (each element's loss, input's shape). That is
F.binary_cross_entropy_with_logits, the oracle.

Scenarios, simplest first: six logits with the default reduction; "sum"; "none"; a [4, 3]
batch (the mean is over all 12 elements); probabilities as targets (as label smoothing makes
them: torch takes any y in [0, 1]); logits of ±100 with reduction "none", each with target 0
and 1, where sigmoid(z) rounds to 0 or 1 and the naive formula takes log 0 (inf, and
0 * log 0 = nan); and the same far-out logits among ordinary ones in float32 (the loss must
stay float32), where exp(100) itself overflows. Each runs in float64 unless it says
otherwise. Every loss is differentiated with autograd (a "none" loss weighted by random
weights, as loss.backward(weights) would): its gradient with respect to input must be torch's,
sigmoid(z) - y times the reduction's weights. No logit is exactly 0, where the gradients of
max(z, 0) and |z| are a matter of convention.

After every scenario has run, the first wrong loss is reported: a cause is named only when
one of the usual mistakes — each a small wrong loss next to its explanation — gives the
answer's values in every scenario; otherwise the message says what differs. A right loss
whose gradient differs is reported likewise.

The answer runs through the harness, on copies of its tensors (input a leaf that requires
grad), under the delegation watch: writing the stable loss is the exercise, so it must not run
torch's (F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss, the C function under them),
nor the pieces that hold its stable part, F.logsigmoid and F.softplus (nn.LogSigmoid,
nn.Softplus), nor F.binary_cross_entropy (nn.BCELoss). torch.sigmoid, exp, log1p, abs, clamp
and relu are building blocks it may use.
"""
from builtins import all, enumerate, int, isinstance, tuple
from types import SimpleNamespace

import torch
from torch import enable_grad as _enable_grad
from torch import exp as _exp
from torch import float32 as _torch_float32
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import log as _log
from torch import log1p as _log1p
from torch import sigmoid as _sigmoid
from torch import where as _where
from torch.autograd import grad as _autograd_grad
from torch.nn.functional import binary_cross_entropy_with_logits as _torch_binary_cross_entropy_with_logits

from course_lib.scratch import regression as _scratch_regression

from ._trusted import default_rng, isclose, np
from .failure import CheckFailure, fail, kind_of, mistake, number
from .graph import agrees, input_gradient, report_gradient
from .harness import Answer, exercise
from .values import check_array

TOLERANCES = {_torch_float64: (1e-9, 1e-12), _torch_float32: (1e-5, 1e-6)}


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages: its
    reference is torch's own F.binary_cross_entropy_with_logits."""

    def binary_cross_entropy_with_logits(input, target, reduction="mean"):
        """The binary cross-entropy of logits input against targets in [0, 1], reduced."""


BINARY_CROSS_ENTROPY_WITH_LOGITS = exercise(_Notebook.binary_cross_entropy_with_logits, forbidden=(
    torch.nn.functional.binary_cross_entropy_with_logits, torch.nn.BCEWithLogitsLoss,
    torch.binary_cross_entropy_with_logits, torch.nn.functional.logsigmoid, torch.nn.LogSigmoid,
    torch.nn.functional.softplus, torch.nn.Softplus, torch.nn.functional.binary_cross_entropy, torch.nn.BCELoss,
    ("torch._C._nn.binary_cross_entropy", torch._C._nn.binary_cross_entropy),
    _scratch_regression.binary_cross_entropy_with_logits))  # 01's numpy version

RECIPE = ("the loss of each element is max(z, 0) - z * y + log1p(exp(-|z|)) — torch.clamp(input, min=0) "
          "- input * target + torch.log1p(torch.exp(-input.abs())) —, equal to -[y log sigmoid(z) + "
          "(1 - y) log(1 - sigmoid(z))] but never taking the log of 0 nor exp of a large number; then "
          ".mean() for reduction='mean', .sum() for 'sum', nothing for 'none'.")


def _scenario(words, shape, reduction="keyword", *, dtype=_torch_float64, targets="labels", extreme=False):
    """`reduction`: "mean", "sum" or "none" given as a keyword, or None (left out: the mean).
    `targets`: "labels" (0 and 1) or "probabilities"; `extreme`: the first four logits are
    ±100, each with target 0 and 1."""
    return SimpleNamespace(words=words, shape=shape, reduction=reduction, dtype=dtype, targets=targets,
                           extreme=extreme)


SCENARIOS = [
    _scenario("the default reduction, the mean", (6,), None),
    _scenario("reduction='sum'", (6,), "sum"),
    _scenario("reduction='none', the loss of each element", (6,), "none"),
    _scenario("a [4, 3] batch, the mean over all 12 elements", (4, 3), "mean"),
    _scenario("probabilities as targets (torch takes any y in [0, 1])", (8,), "mean", targets="probabilities"),
    _scenario("logits of ±100, each with target 0 and 1", (8,), "none", extreme=True),
    _scenario("logits of ±100 among ordinary ones", (8,), "mean", dtype=_torch_float32, extreme=True),
]


def _reduction(current):
    return "mean" if current.reduction is None else current.reduction


def _data(rng, current):
    """(logits, targets, the weights of a 'none' loss's gradient or None), in the scenario's dtype."""
    logits = 2 * rng.standard_normal(current.shape)
    logits[(logits > -0.05) & (logits < 0.05)] += 0.2  # no logit near 0: see the module docstring
    if current.targets == "probabilities":
        targets = rng.uniform(0.05, 0.95, current.shape)
    else:
        targets = rng.permutation(np.arange(logits.size) % 2).reshape(current.shape).astype(np.float64)
    if current.extreme:
        logits[:4], targets[:4] = [100.0, 100.0, -100.0, -100.0], [1.0, 0.0, 1.0, 0.0]
    weights = rng.uniform(0.5, 1.5, current.shape) if _reduction(current) == "none" else None
    return tuple(None if values is None else _from_numpy(values).to(current.dtype)
                 for values in (logits, targets, weights))


# ---------------------------------------------------------------------------- mistakes
# Each takes the logits and targets in the scenario's dtype and the reduction, and returns the
# loss it gives in that dtype.

def _reduced(losses, reduction):
    return {"mean": losses.mean, "sum": losses.sum, "none": lambda: losses}[reduction]()


def _right(z, y, reduction):
    return _torch_binary_cross_entropy_with_logits(z, y, reduction=reduction)


@mistake("that is log(sigmoid(z)) and log(1 - sigmoid(z)) as written: for a logit of 100, sigmoid(z) rounds "
         "to exactly 1, so log(1 - sigmoid(z)) = log 0 = -inf, and even with a target of 1 the term "
         "(1 - y) * log(1 - sigmoid(z)) is 0 * -inf = nan. The stable form max(z, 0) - z * y + "
         "log1p(exp(-|z|)) is the same loss without a log of 0.")
def _naive(z, y, reduction):
    p = _sigmoid(z)
    return _reduced(-(y * _log(p) + (1 - y) * _log(1 - p)), reduction)


@mistake("that picks log(sigmoid(z)) or log(1 - sigmoid(z)) by whether the target is 1: a target such as "
         "0.9 is neither 0 nor 1, so both terms count, weighted by y and 1 - y; and for a logit of 100 with "
         "target 0, sigmoid(z) rounds to exactly 1 and log(1 - sigmoid(z)) = log 0 = -inf. The stable form "
         "max(z, 0) - z * y + log1p(exp(-|z|)) covers every case.")
def _naive_by_target(z, y, reduction):
    p = _sigmoid(z)
    return _reduced(_where(y == 1, -_log(p), -_log(1 - p)), reduction)


OVERFLOW = ("log(1 + exp(...)) overflows: exp of a logit of ±100 is inf in float32 (exp(100) ≈ 2.7e43, float32 "
            "stops at 3.4e38), and so is its log. Write the loss as max(z, 0) - z * y + log1p(exp(-|z|)): exp "
            "then only ever sees -|z| <= 0.")


@mistake(OVERFLOW)
def _softplus_of_minus_z(z, y, reduction):
    return _reduced(_log1p(_exp(-z)) + (1 - y) * z, reduction)


@mistake(OVERFLOW)
def _softplus_of_z(z, y, reduction):
    return _reduced(_log1p(_exp(z)) - y * z, reduction)


@mistake("that is the loss of the other class: the sign of z is flipped (or y and 1 - y swapped). A large "
         "positive logit means class 1, so its loss with target 1 is small: max(z, 0) - z * y + "
         "log1p(exp(-|z|)).")
def _sign_flipped(z, y, reduction):
    return _right(-z, y, reduction)


@mistake("the logits are used as probabilities: log(z) of a negative logit is nan. The loss takes logits, "
         "so sigmoid(z) is the probability — better, the stable form max(z, 0) - z * y + "
         "log1p(exp(-|z|)) never forms it.")
def _no_sigmoid(z, y, reduction):
    return _reduced(-(y * _log(z) + (1 - y) * _log(1 - z)), reduction)


@mistake("reduction='mean' gave the sum: the mean divides it by the number of elements, input.numel().")
def _summed_for_the_mean(z, y, reduction):
    return _right(z, y, "sum" if reduction == "mean" else reduction)


@mistake("the sum is divided by the number of rows, len(input), not by the number of elements: the mean is "
         "over all the elements of a [4, 3] batch, .mean() or .sum() / input.numel().")
def _divided_by_the_rows(z, y, reduction):
    return _right(z, y, "sum") / z.shape[0] if reduction == "mean" else _right(z, y, reduction)


@mistake("reduction='sum' gave the mean: 'sum' adds the elements' losses up without dividing.")
def _mean_for_the_sum(z, y, reduction):
    return _right(z, y, "mean" if reduction == "sum" else reduction)


MISTAKES = (_naive, _naive_by_target, _softplus_of_minus_z, _softplus_of_z, _sign_flipped, _no_sigmoid,
            _summed_for_the_mean, _divided_by_the_rows, _mean_for_the_sum)


def _branches_by_sign(z, y):
    """The loss written with torch.where on the sign of z: right, but autograd multiplies the branch
    it did not pick by 0, and 0 * inf = nan where that branch's exp overflowed."""
    return _where(z >= 0, _log1p(_exp(-z)) + (1 - y) * z, _log1p(_exp(z)) - y * z)


BRANCHES_BY_SIGN = ("the loss is right but its gradient is nan at the logits of ±100: torch.where computes both "
                    "branches for every element, and autograd sends the branch it did not pick a gradient of "
                    "0 — which becomes 0 * inf = nan where that branch's exp(|z|) overflowed. Write the loss "
                    "without branches, max(z, 0) - z * y + log1p(exp(-|z|)): no exp of a positive number, so "
                    "nothing overflows.")


# ---------------------------------------------------------------------------- checking

def _expected(z, y, reduction, weights):
    """torch's loss and its gradient with respect to z (weighted by `weights`), in float64."""
    leaf = z.detach().to(_torch_float64).requires_grad_()
    grad_output = None if weights is None else weights.to(_torch_float64)
    with _enable_grad():
        loss = _torch_binary_cross_entropy_with_logits(leaf, y.to(_torch_float64), reduction=reduction)
        return loss.detach(), _autograd_grad(loss, [leaf], grad_outputs=grad_output)[0]


def _agrees(value, wanted, dtype):
    return agrees(value, wanted, TOLERANCES[dtype])


def _check_loss_kind(context, loss, current, reduction):
    """A loss that is no tensor of the right shape and of input's dtype, told at once."""
    __tracebackhide__ = True
    if not isinstance(loss, torch.Tensor):
        fail(f"{context} returned {kind_of(loss)}, but a torch.Tensor is expected: "
             + ("did the function end without a `return` statement?" if loss is None else
                "loss.item() and float() take the number out of autograd's graph, so it cannot be "
                "backpropagated. Return the tensor."), RECIPE)
    shape, wanted = tuple(loss.shape), current.shape if reduction == "none" else ()
    if shape != wanted:
        if reduction == "none":
            cause = (f"reduction='none' asks for the loss of each element, input's shape {wanted}: no .mean() or "
                     f".sum() then.")
        elif shape == current.shape:
            cause = (f"that is the loss of each element (reduction='none'); reduction='{reduction}' reduces them "
                     f"to one number, .{reduction}() over all the elements.")
        else:
            cause = f"reduction='{reduction}' reduces over all the elements, .{reduction}() without a dim."
        fail(f"{context} returned a loss of shape {shape}, but {'a 0-d tensor' if wanted == () else wanted} is "
             f"expected: {cause}", RECIPE)
    if loss.dtype != current.dtype:
        fail(f"{context} returned a loss of dtype {loss.dtype}, but {current.dtype} (input's) is expected: was a "
             f"tensor of another dtype mixed in — torch.tensor of Python floats, or .double()? Build every "
             f"tensor from input (torch.zeros_like(input), input.clamp(min=0)).", RECIPE)


def check_binary_cross_entropy_with_logits(binary_cross_entropy_with_logits, *, seed=0):
    """Check `binary_cross_entropy_with_logits(input, target, reduction="mean")` (torch logits and
    targets of one shape; returns the loss reduced as `reduction` says) and its gradient against
    F.binary_cross_entropy_with_logits in float64, over SCENARIOS with data drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(BINARY_CROSS_ENTROPY_WITH_LOGITS, binary_cross_entropy_with_logits, shape_hint=RECIPE)
    runs = []
    for index, current in enumerate(SCENARIOS):
        z, y, weights = _data(default_rng((int(seed), index)), current)
        reduction = _reduction(current)
        leaf = z.clone().requires_grad_()
        kwargs = {} if current.reduction is None else {"reduction": current.reduction}
        dtype_words = " in float32" if current.dtype == _torch_float32 else ""
        context = f"{answer.words(leaf, y, **kwargs)} with {current.words}{dtype_words} (input {current.shape})"
        loss = answer.run(context, leaf, y, **kwargs)
        _check_loss_kind(context, loss, current, reduction)
        gradient = input_gradient(context, loss, "input", current.shape, grad_output=weights, hint=RECIPE)
        expected_loss, expected_gradient = _expected(z, y, reduction, weights)
        runs.append(SimpleNamespace(context=context, z=z, y=y, reduction=reduction, weights=weights,
                                    dtype=current.dtype, loss=loss.detach(), expected_loss=expected_loss,
                                    gradient=gradient, expected_gradient=expected_gradient))
    _report_loss(runs)
    _report_gradient(runs)


def _report_loss(runs):
    __tracebackhide__ = True
    wrong = [run for run in runs if not _agrees(run.loss, run.expected_loss, run.dtype)]
    if not wrong:
        return
    first = wrong[0]
    for candidate in MISTAKES:
        if all(_agrees(run.loss, candidate(run.z, run.y, run.reduction), run.dtype) for run in runs):
            shown = (f"a loss of {number(first.loss.item())}, expected {number(first.expected_loss.item())}"
                     if first.loss.ndim == 0 else _differing_entries(first))
            fail(f"{first.context} returned {shown}: {candidate.explanation}", RECIPE)
    rtol, atol = TOLERANCES[first.dtype]
    try:
        check_array("the loss", first.loss, first.expected_loss.to(first.dtype), rtol=rtol, atol=atol,
                    factor_hints={"the number of elements": first.z.numel(), "the number of rows": first.z.shape[0]})
    except CheckFailure as failure:
        fail(f"{first.context}: {failure.message}", RECIPE)


def _differing_entries(run):
    rtol, atol = TOLERANCES[run.dtype]
    close = isclose(run.loss.to(_torch_float64).numpy(), run.expected_loss.numpy(), rtol=rtol, atol=atol)
    return f"a loss that differs from torch's in {int((~close).sum())} of {close.size} entries"


def _branches_by_sign_gradient(run):
    leaf = run.z.clone().requires_grad_()
    with _enable_grad():
        loss = _reduced(_branches_by_sign(leaf, run.y), run.reduction)
        return _autograd_grad(loss, [leaf], grad_outputs=run.weights)[0]


def _report_gradient(runs):
    __tracebackhide__ = True
    report_gradient(runs, TOLERANCES, name="input.grad", lead="the loss is right, but after loss.backward()",
                    expected="Expected: F.binary_cross_entropy_with_logits's gradient, sigmoid(z) - y (times the "
                             "reduction's weights).",
                    hint=RECIPE, variants=[(_branches_by_sign_gradient, BRANCHES_BY_SIGN)])
