"""The check of the binary-versus-softmax equivalence (assignment 07):
`two_class_logits(logits)` in torch — logits, [N], one logit z per sample for the positive
class — returns [N, 2] logits, class 0's and class 1's, such that F.cross_entropy of them
equals F.binary_cross_entropy_with_logits of z: softmax of the row is [1 - sigmoid(z),
sigmoid(z)]. [0, z] does it, and so does any pair whose difference (class 1's minus class 0's)
is z — [-z / 2, z / 2], or the log-probabilities [logsigmoid(-z), logsigmoid(z)] — since
softmax does not change when a number is added to every logit of a row. So the check does not
compare the logits with an expected pair: for each sample it compares the cross-entropy of
the answer's row (with a random target class) with torch's binary cross-entropy, and the
row's softmax with [1 - sigmoid(z), sigmoid(z)]; and the gradient of the mean cross-entropy
with respect to logits, by autograd, with that of the binary cross-entropy — logits built
outside autograd's graph could not train a network.

Scenarios, simplest first: six logits; float32 (the result must stay float32); logits of ±100
among ordinary ones, where sigmoid(z) rounds to 0 or 1 and a log of it is -inf; one sample.
Each runs in float64 unless it says otherwise.

After every scenario has run, the first wrong one is reported: a cause is named only when one
of the usual mistakes — each a small wrong pair next to its explanation — has the same
difference of its two logits as the answer, in every scenario; otherwise the message says
what differs.

The answer runs through the harness, on copies of its tensors (logits a leaf that requires
grad), under the delegation watch: it must not run its course_lib reference.
"""
from builtins import all, enumerate, int, isinstance, tuple
from types import SimpleNamespace

import torch
from torch import enable_grad as _enable_grad
from torch import float32 as _torch_float32
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import log as _log
from torch import sigmoid as _sigmoid
from torch import softmax as _softmax
from torch import stack as _stack
from torch import zeros_like as _zeros_like
from torch.autograd import grad as _autograd_grad
from torch.nn.functional import binary_cross_entropy_with_logits as _torch_binary_cross_entropy_with_logits
from torch.nn.functional import cross_entropy as _torch_cross_entropy

from course_lib.training import losses as _losses

from ._trusted import default_rng
from .failure import CheckFailure, fail, kind_of, mistake
from .graph import agrees, input_gradient, report_gradient
from .harness import Answer, exercise
from .values import check_array

TWO_CLASS_LOGITS = exercise(_losses.two_class_logits)

TOLERANCES = {_torch_float64: (1e-9, 1e-12), _torch_float32: (1e-5, 1e-6)}
RECIPE = ("softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]: torch.stack([torch.zeros_like(logits), logits], "
          "dim=1) is [N, 2], and any row whose class-1 logit minus its class-0 logit is z works as well.")


def _scenario(words, n, *, dtype=_torch_float64, extreme=False):
    return SimpleNamespace(words=words, n=n, dtype=dtype, extreme=extreme)


SCENARIOS = [
    _scenario("6 logits", 6),
    _scenario("float32 logits", 6, dtype=_torch_float32),
    _scenario("logits of ±100 among ordinary ones", 8, extreme=True),
    _scenario("one sample", 1),
]


def _data(rng, current):
    """The logits in the scenario's dtype, and a target class (int64) per sample."""
    logits = 2 * rng.standard_normal(current.n)
    targets = rng.integers(0, 2, current.n)
    if current.extreme:
        logits[:4], targets[:4] = [100.0, 100.0, -100.0, -100.0], [1, 0, 1, 0]
    return _from_numpy(logits).to(current.dtype), _from_numpy(targets)


# ---------------------------------------------------------------------------- mistakes
# Each takes the logits z and returns the [N, 2] logits it gives.

def _pair(first, second):
    return _stack([first, second], 1)


@mistake("the classes are swapped: [z, 0] makes z the logit of class 0, so the softmax is [sigmoid(z), "
         "1 - sigmoid(z)]. Column 1 is the positive class: [0, z].")
def _swapped(z):
    return _pair(z, _zeros_like(z))


@mistake("[1 - z, z] has the difference 2z - 1, not z: logits are not probabilities, nothing makes the two sum "
         "to 1. Only the difference of the two logits counts: [0, z].")
def _one_minus(z):
    return _pair(1 - z, z)


@mistake("[-z, z] has the difference 2z, which doubles every logit: [-z / 2, z / 2], or simply [0, z], has "
         "the difference z.")
def _doubled(z):
    return _pair(-z, z)


@mistake("those are the probabilities [1 - sigmoid(z), sigmoid(z)], but F.cross_entropy takes logits and applies "
         "the softmax itself: softmax([1 - p, p]) is not [1 - p, p]. Return logits whose softmax is that: "
         "[0, z].")
def _probabilities(z):
    p = _sigmoid(z)
    return _pair(1 - p, p)


@mistake("the probability sigmoid(z) is used as the class-1 logit: [0, z] itself, the logit, is what F.cross_entropy "
         "takes.")
def _probability_as_logit(z):
    return _pair(_zeros_like(z), _sigmoid(z))


@mistake("log(1 - sigmoid(z)) and log(sigmoid(z)) are the right idea — log-probabilities are logits — but for a "
         "logit of 100, sigmoid(z) rounds to exactly 1 and log(1 - sigmoid(z)) = log 0 = -inf. [0, z] has the "
         "same difference and nothing to round.")
def _log_of_probabilities(z):
    p = _sigmoid(z)
    return _pair(_log(1 - p), _log(p))


MISTAKES = (_swapped, _one_minus, _doubled, _probabilities, _probability_as_logit, _log_of_probabilities)


# ---------------------------------------------------------------------------- checking

def _difference(pairs):
    """Class 1's logit minus class 0's, in float64: all that softmax and cross-entropy see."""
    pairs = pairs.detach().to(_torch_float64)
    return pairs[:, 1] - pairs[:, 0]


def _expected(z, targets):
    """torch's binary cross-entropy per sample, the softmax it stands for, and the gradient of its
    mean with respect to z, in float64."""
    leaf = z.detach().to(_torch_float64).requires_grad_()
    with _enable_grad():
        losses = _torch_binary_cross_entropy_with_logits(leaf, targets.to(_torch_float64), reduction="none")
        gradient = _autograd_grad(losses.mean(), [leaf])[0]
    p = _sigmoid(leaf.detach())
    return losses.detach(), _pair(1 - p, p), gradient


def _agrees(value, wanted, dtype):
    return agrees(value, wanted, TOLERANCES[dtype])


def _check_kind(context, result, current):
    """A result that is no [N, 2] tensor of the logits' dtype, told at once."""
    __tracebackhide__ = True
    wanted = (current.n, 2)
    if not isinstance(result, torch.Tensor):
        fail(f"{context} returned {kind_of(result)}, but a torch.Tensor of shape {wanted} is expected"
             + (": did the function end without a `return` statement?" if result is None else
                ": build it from logits with torch operations (torch.stack, torch.zeros_like)."), RECIPE)
    shape = tuple(result.shape)
    if shape != wanted:
        cause = {(2, current.n): "stacked along dim 0: torch.stack([...], dim=1) puts each sample's two logits "
                                 "in its row.",
                 (current.n,): "one logit per sample is what the function is given; it returns two, [N, 2]."}
        fail(f"{context} returned a tensor of shape {shape}, but {wanted} is expected: "
             f"{cause.get(shape, 'one row per sample, the logit of class 0 then that of class 1.')}", RECIPE)
    if result.dtype != current.dtype:
        fail(f"{context} returned logits of dtype {result.dtype}, but {current.dtype} (logits') is expected: "
             f"torch.zeros(N) is float32 whatever the logits are — torch.zeros_like(logits) takes their dtype.",
             RECIPE)


def check_two_class_logits(two_class_logits, *, seed=0):
    """Check `two_class_logits(logits)` (torch [N]; returns [N, 2]): the cross-entropy of its rows
    against torch's binary cross-entropy of the logits, its softmax against [1 - sigmoid(z),
    sigmoid(z)], and the gradient, over SCENARIOS with logits drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(TWO_CLASS_LOGITS, two_class_logits, shape_hint=RECIPE)
    runs = []
    for index, current in enumerate(SCENARIOS):
        z, targets = _data(default_rng((int(seed), index)), current)
        leaf = z.clone().requires_grad_()
        context = f"{answer.words(leaf)} with {current.words} (logits {tuple(z.shape)})"
        result = answer.run(context, leaf)
        _check_kind(context, result, current)
        with _enable_grad():
            losses = _torch_cross_entropy(result, targets, reduction="none")
        gradient = input_gradient(context, losses.mean(), "logits", (current.n,), what="logits", hint=RECIPE)
        expected_losses, expected_probabilities, expected_gradient = _expected(z, targets)
        runs.append(SimpleNamespace(context=context, z=z, targets=targets, dtype=current.dtype, result=result.detach(),
                                    losses=losses.detach(), probabilities=_softmax(result.detach(), 1),
                                    gradient=gradient, expected_losses=expected_losses,
                                    expected_probabilities=expected_probabilities, expected_gradient=expected_gradient))
    _report_values(runs)
    _report_gradient(runs)


def _right_values(run):
    return (_agrees(run.losses, run.expected_losses, run.dtype)
            and _agrees(run.probabilities, run.expected_probabilities, run.dtype))


def _report_values(runs):
    __tracebackhide__ = True
    wrong = [run for run in runs if not _right_values(run)]
    if not wrong:
        return
    first = wrong[0]
    rtol, atol = TOLERANCES[first.dtype]
    equivalence = (f"F.cross_entropy(two_class_logits(logits), target, reduction='none') is not "
                   f"F.binary_cross_entropy_with_logits(logits, target.float(), reduction='none')")
    for candidate in MISTAKES:
        if all(_agrees(_difference(run.result), _difference(candidate(run.z)), run.dtype) for run in runs):
            fail(f"{first.context}: {equivalence}: {candidate.explanation}", RECIPE)
    for name, actual, expected in (
            ("softmax(two_class_logits(logits), dim=1)", first.probabilities, first.expected_probabilities),
            ("F.cross_entropy(two_class_logits(logits), target, reduction='none')", first.losses,
             first.expected_losses)):
        try:
            check_array(name, actual, expected.to(first.dtype), rtol=rtol, atol=atol)
        except CheckFailure as failure:
            fail(f"{first.context}: {failure.message} Expected: [1 - sigmoid(z), sigmoid(z)] per row, whose "
                 f"cross-entropy is the binary cross-entropy of z.", RECIPE)


def _report_gradient(runs):
    __tracebackhide__ = True
    report_gradient(runs, TOLERANCES, name="logits.grad",
                    lead="the values are right, but after F.cross_entropy(...).backward()",
                    expected="Expected: F.binary_cross_entropy_with_logits's gradient, (sigmoid(z) - y) / N.",
                    hint=RECIPE)
