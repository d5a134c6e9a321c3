"""The check of cross-entropy with label smoothing (assignment 06):
`smoothed_cross_entropy(input, target, label_smoothing=0.0)` in torch — logits input [N, C],
class indices target [N] — returns the mean over the samples of -sum_c q_c log softmax(input)_c,
a 0-d tensor autograd can differentiate, where the target distribution q is torch's (and
Szegedy et al.'s, 2016): the one-hot target mixed with the uniform distribution over all C
classes, q = (1 - label_smoothing) * one_hot + label_smoothing / C. That is
F.cross_entropy(input, target, label_smoothing=label_smoothing), the oracle.

Scenarios, simplest first: label_smoothing=0.1 for 4 classes; the default (plain
cross-entropy); two classes with 0.3 by position (where spreading over the other classes
only is twice torch's share); ten classes, as MNIST's; label_smoothing=1.0 (the uniform
target); float32 (the loss must stay float32); and extreme logits (a row around 1000, a
target 1000 below the rest of its row), where only a log-softmax stays finite. Each runs in
float64 unless it says otherwise, and each loss is differentiated with autograd: its
gradient with respect to input must be F.cross_entropy's.

After every scenario has run, the first wrong loss is reported: a cause is named only when
one of the usual mistakes — each a small wrong loss next to its explanation — gives the
answer's value in every scenario; otherwise the message says what differs. A right loss
whose gradient differs is reported likewise.

The answer runs through the harness, on copies of its tensors (input a leaf that requires
grad), under the delegation watch: writing the smoothing is the exercise, so it must not run
torch's cross-entropy (F.cross_entropy, nn.CrossEntropyLoss, the C function under them).
F.log_softmax and F.nll_loss are building blocks it may use.
"""
from builtins import all, enumerate, float, int, isinstance, tuple
from types import SimpleNamespace

import torch
from torch import enable_grad as _enable_grad
from torch import float32 as _torch_float32
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch.autograd import grad as _autograd_grad
from torch.nn.functional import cross_entropy as _torch_cross_entropy
from torch.nn.functional import log_softmax as _log_softmax
from torch.nn.functional import one_hot as _one_hot

from ._trusted import default_rng
from .failure import CheckFailure, fail, kind_of, mistake, number
from .graph import agrees, input_gradient, report_gradient
from .harness import Answer, exercise
from .values import check_array

# float64 within 1e-6: (1 - label_smoothing) * F.one_hot(target, C) is float32 (torch's default dtype),
# which costs a float64 loss its eighth digit and changes nothing in training; every mistake is far off
TOLERANCES = {_torch_float64: (1e-6, 1e-9), _torch_float32: (1e-5, 1e-6)}


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages: its
    reference is torch's own F.cross_entropy(..., label_smoothing=...)."""

    def smoothed_cross_entropy(input, target, label_smoothing=0.0):
        """The mean cross-entropy of logits input [N, C] against the smoothed one-hot target."""


SMOOTHED_CROSS_ENTROPY = exercise(_Notebook.smoothed_cross_entropy, forbidden=(
    torch.nn.functional.cross_entropy, torch.nn.CrossEntropyLoss,
    ("torch._C._nn.cross_entropy_loss", torch._C._nn.cross_entropy_loss)))

RECIPE = ("log_p = F.log_softmax(input, dim=1); q = (1 - label_smoothing) * F.one_hot(target, C) + "
          "label_smoothing / C; the loss is -(q * log_p).sum(dim=1).mean(), a 0-d tensor.")


def _scenario(words, n, classes, label_smoothing, *, passed="keyword", dtype=_torch_float64, extreme=False):
    """`passed`: how label_smoothing is given — "default" (left out), "keyword" or "position"."""
    return SimpleNamespace(words=words, n=n, classes=classes, label_smoothing=label_smoothing, passed=passed,
                           dtype=dtype, extreme=extreme)


SCENARIOS = [
    _scenario("4 classes", 6, 4, 0.1),
    _scenario("the default label_smoothing, plain cross-entropy", 5, 3, 0.0, passed="default"),
    _scenario("2 classes", 7, 2, 0.3, passed="position"),
    _scenario("10 classes, as MNIST's", 8, 10, 0.1),
    _scenario("label_smoothing=1.0, the uniform target", 5, 4, 1.0),
    _scenario("float32", 6, 4, 0.1, dtype=_torch_float32),
    _scenario("extreme logits: a row around 1000, a target logit 1000 below the rest of its row", 4, 5, 0.1,
              extreme=True),
]


def _data(rng, current):
    logits = 2 * rng.standard_normal((current.n, current.classes))
    target = rng.integers(0, current.classes, current.n)
    if current.extreme:
        logits[0] += 1000
        logits[1, target[1]] -= 1000
    return _from_numpy(logits).to(current.dtype), _from_numpy(target)


# ---------------------------------------------------------------------------- mistakes
# Each takes the logits (float64), the target and label_smoothing, and returns the loss it gives.

def _loss(input, q, log_p):
    return -(q * log_p).sum(dim=1).mean()


def _with_target(spread):
    """The loss whose target distribution is spread(one_hot, epsilon, C), log-probabilities right."""
    def loss(input, target, epsilon):
        hot = _one_hot(target, input.shape[1]).to(input.dtype)
        return _loss(input, spread(hot, epsilon, input.shape[1]), _log_softmax(input, 1))
    return loss


_over_the_others_only = mistake(
    "label_smoothing is spread over the other C - 1 classes only, label_smoothing / (C - 1) each: torch's "
    "convention (Szegedy et al.'s) mixes the one-hot target with the uniform distribution over ALL C "
    "classes, so each class gets label_smoothing / C and the target class 1 - label_smoothing + "
    "label_smoothing / C."
)(_with_target(lambda hot, epsilon, classes: (1 - epsilon) * hot + epsilon / (classes - 1) * (1 - hot)))

_nothing_taken_off = mistake(
    "label_smoothing / C is added to every class without taking label_smoothing off the target class, so "
    "the target distribution sums to 1 + label_smoothing: q = (1 - label_smoothing) * one_hot + "
    "label_smoothing / C."
)(_with_target(lambda hot, epsilon, classes: hot + epsilon / classes))

_target_left_out_of_the_uniform_part = mistake(
    "the target class gets 1 - label_smoothing but not its own share label_smoothing / C of the uniform "
    "part, so the target distribution sums to less than 1: every class, the target too, gets "
    "label_smoothing / C, q = (1 - label_smoothing) * one_hot + label_smoothing / C."
)(_with_target(lambda hot, epsilon, classes: (1 - epsilon) * hot + epsilon / classes * (1 - hot)))

_not_divided_by_the_classes = mistake(
    "every class gets label_smoothing instead of label_smoothing / C: the uniform part is label_smoothing "
    "spread over the C classes."
)(_with_target(lambda hot, epsilon, classes: (1 - epsilon) * hot + epsilon))

_smoothing_ignored = mistake(
    "label_smoothing is ignored: that is the plain cross-entropy. Mix the one-hot target with the uniform "
    "distribution, (1 - label_smoothing) * one_hot + label_smoothing / C."
)(_with_target(lambda hot, epsilon, classes: hot))


def _right(input, target, epsilon):
    return _torch_cross_entropy(input, target, label_smoothing=epsilon)


@mistake("that is the sum over the samples: the loss is their mean (divide by N).")
def _summed(input, target, epsilon):
    return input.shape[0] * _right(input, target, epsilon)


@mistake("that is averaged over all N * C entries: sum over the classes, then average over the samples.")
def _averaged_over_the_classes_too(input, target, epsilon):
    return _right(input, target, epsilon) / input.shape[1]


@mistake("softmax is used where its log belongs: cross-entropy is -sum(q * log p) with log p = "
         "F.log_softmax(input, dim=1).")
def _softmax_not_log(input, target, epsilon):
    hot = _one_hot(target, input.shape[1]).to(input.dtype)
    q = (1 - epsilon) * hot + epsilon / input.shape[1]
    return _loss(input, q, input.softmax(1))


@mistake("log(softmax(input)) underflows: a class far below the rest of its row gets probability 0 and "
         "log 0 = -inf, and with label smoothing every class's log-probability counts. "
         "F.log_softmax(input, dim=1) computes the same log-probabilities without underflow.")
def _log_of_softmax(input, target, epsilon):
    hot = _one_hot(target, input.shape[1]).to(input.dtype)
    q = (1 - epsilon) * hot + epsilon / input.shape[1]
    return _loss(input, q, input.softmax(1).log())


MISTAKES = (_over_the_others_only, _nothing_taken_off, _target_left_out_of_the_uniform_part,
            _not_divided_by_the_classes, _smoothing_ignored, _summed, _averaged_over_the_classes_too,
            _softmax_not_log, _log_of_softmax)

DETACHED_SMOOTHING = ("the loss is right but its gradient is only that of (1 - label_smoothing) times the "
                      "plain cross-entropy: the smoothing term was computed outside autograd's graph "
                      "(.detach(), .item(), numpy, torch.no_grad()), so it adds to the value but not to the "
                      "gradient. Compute it from input with torch operations.")


# ---------------------------------------------------------------------------- checking

def _expected(input, target, epsilon):
    """F.cross_entropy's loss and its gradient with respect to input, in float64."""
    leaf = input.detach().to(_torch_float64).requires_grad_()
    with _enable_grad():
        loss = _torch_cross_entropy(leaf, target, label_smoothing=epsilon)
        return loss.detach(), _autograd_grad(loss, [leaf])[0]


def _check_loss_kind(context, loss, current):
    """A loss that is no 0-d tensor of the input's dtype, told at once."""
    __tracebackhide__ = True
    if not isinstance(loss, torch.Tensor):
        fail(f"{context} returned {kind_of(loss)}, but a 0-d torch.Tensor is expected: "
             + ("did the function end without a `return` statement?" if loss is None else
                "loss.item() and float() take the number out of autograd's graph, so it cannot be "
                "backpropagated. Return the tensor."), RECIPE)
    shape = tuple(loss.shape)
    if shape != ():
        cause = ("one per sample: the loss is their mean (.mean())." if shape == (current.n,) else
                 "reduce it to one number, the mean over the samples of each sample's loss.")
        fail(f"{context} returned a loss of shape {shape}, but a 0-d tensor is expected: {cause}", RECIPE)
    if loss.dtype != current.dtype:
        fail(f"{context} returned a loss of dtype {loss.dtype}, but {current.dtype} (input's) is expected: was "
             f"a tensor of another dtype mixed in — F.one_hot's int64 turned into float64 with .double(), or "
             f"torch.tensor of Python floats? Make q with dtype=input.dtype.", RECIPE)


def check_smoothed_cross_entropy(smoothed_cross_entropy, *, seed=0):
    """Check `smoothed_cross_entropy(input, target, label_smoothing=0.0)` (torch logits [N, C] and class
    indices [N]; returns the mean loss as a 0-d tensor) and its gradient against F.cross_entropy with
    label_smoothing in float64, over SCENARIOS with data drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(SMOOTHED_CROSS_ENTROPY, smoothed_cross_entropy, shape_hint=RECIPE)
    runs = []
    for index, current in enumerate(SCENARIOS):
        input, target = _data(default_rng((int(seed), index)), current)
        leaf = input.clone().requires_grad_()
        epsilon = current.label_smoothing
        args = (leaf, target) + ((epsilon,) if current.passed == "position" else ())
        kwargs = {"label_smoothing": epsilon} if current.passed == "keyword" else {}
        dtype_words = " in float32" if current.dtype == _torch_float32 else ""
        context = (f"{answer.words(*args, **kwargs)} with {current.words}{dtype_words} (input "
                   f"{tuple(input.shape)})")
        loss = answer.run(context, *args, **kwargs)
        _check_loss_kind(context, loss, current)
        gradient = input_gradient(context, loss, "input", tuple(input.shape), hint=RECIPE)
        expected_loss, expected_gradient = _expected(input, target, epsilon)
        runs.append(SimpleNamespace(context=context, input=input.to(_torch_float64), target=target,
                                    epsilon=epsilon, dtype=current.dtype, loss=loss.detach(),
                                    expected_loss=expected_loss, gradient=gradient,
                                    expected_gradient=expected_gradient))
    _report_loss(runs)
    _report_gradient(runs)


def _report_loss(runs):
    __tracebackhide__ = True
    wrong = [run for run in runs if not agrees(run.loss, run.expected_loss, TOLERANCES[run.dtype])]
    if not wrong:
        return
    first = wrong[0]
    for candidate in MISTAKES:
        if all(agrees(run.loss, candidate(run.input, run.target, run.epsilon), TOLERANCES[run.dtype]) for run in runs):
            fail(f"{first.context} returned a loss of {number(first.loss.item())}, expected "
                 f"{number(first.expected_loss.item())}: {candidate.explanation}", RECIPE)
    rtol, atol = TOLERANCES[first.dtype]
    try:
        check_array("the loss", first.loss, first.expected_loss.to(first.dtype), rtol=rtol, atol=atol,
                    factor_hints={"the batch size": first.input.shape[0],
                                  "the number of classes": first.input.shape[1]})
    except CheckFailure as failure:
        fail(f"{first.context}: {failure.message}", RECIPE)


def _detached_smoothing_gradient(run):
    leaf = run.input.clone().requires_grad_()
    with _enable_grad():
        plain = _torch_cross_entropy(leaf, run.target)
        return _autograd_grad((1 - run.epsilon) * plain, [leaf])[0]


def _report_gradient(runs):
    __tracebackhide__ = True
    report_gradient(runs, TOLERANCES, name="input.grad", lead="the loss is right, but after loss.backward()",
                    expected="Expected: F.cross_entropy's gradient with label_smoothing.", hint=RECIPE,
                    variants=((_detached_smoothing_gradient, DETACHED_SMOOTHING),))
