"""The check of the accuracy of a binary classifier from its logits (assignment 07):
`binary_accuracy(logits, targets)` in torch — logits, one per sample, [N] or [N, 1] (what
nn.Linear(..., 1) gives); targets, [N] labels 0 and 1, int64 or float — returns, as a Python
float, the fraction of samples whose prediction is their target, the prediction being class 1
where the logit is > 0 (sigmoid(logit) > 0.5) and class 0 otherwise: a logit of exactly 0 is
a probability of 0.5, not above it, so class 0.

Scenarios, simplest first: float32 logits [N] with int64 targets; logits between 0 and 0.5
(probabilities 0.5 to 0.62, all predicted positive); float targets, as BCEWithLogitsLoss takes
them; logits [N, 1] with targets [N]; logits of exactly 0; every prediction wrong; every
prediction right. The expected fraction is the check's own count, (logit > 0) == target row
by row. Answers computed in float32 (`.float().mean()`) are within the tolerance.

After every scenario has run, the first wrong one is reported: a cause is named only when one
of the usual mistakes — each a small wrong accuracy next to its explanation — gives the
answer's value in every scenario; otherwise the message says what came back and what was
expected.

The answer runs through the harness, on copies of its tensors, under the delegation watch: it
must not run its course_lib reference, nor `metrics.accuracy` (which reads [N] logits the same
way) or `metrics.count_correct` under it.
"""
from builtins import all, bool, enumerate, float, int, isinstance, len
from types import SimpleNamespace

from torch import float32 as _torch_float32
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import int64 as _torch_int64

from course_lib import metrics as _metrics

from ._trusted import default_rng, isclose, np
from .failure import fail, mistake, number
from .harness import Answer, exercise
from .values import check_scalar

BINARY_ACCURACY = exercise(_metrics.binary_accuracy, forbidden=(_metrics.accuracy, _metrics.count_correct))

# float32's mean of up to 20 zeros and ones is within 1e-7 of the fraction; a wrong count is off by 1 / N
RTOL, ATOL = 1e-6, 1e-9
RECIPE = ("predictions = logits.reshape(-1) > 0 (sigmoid(logit) > 0.5, so a logit of 0 is class 0); the "
          "accuracy is (predictions == (targets == 1)).float().mean().item(), a Python float.")


def _scenario(words, draw, *, column=False, float_targets=False):
    """`draw(rng)` gives (logits, targets) as float64 and int64 numpy arrays [N]; `column`: logits
    handed over as [N, 1]; `float_targets`: targets as float32 0.0 and 1.0."""
    return SimpleNamespace(words=words, draw=draw, column=column, float_targets=float_targets)


def _random(rng, n=10):
    logits = 2 * rng.standard_normal(n)
    logits[np.absolute(logits) < 0.05] += 0.3  # exactly 0 has its own scenario
    return logits, rng.integers(0, 2, n)


def _eight_of_ten_right(rng):
    """Five targets of each class and two wrong predictions: compared as an N × N table, every
    prediction agrees with exactly half the targets, so the broadcast mistake gives 0.5, not 0.8."""
    targets = rng.permutation(np.arange(10) % 2)
    logits = (2 * targets - 1) * rng.uniform(0.3, 3, 10)
    logits[rng.choice(10, 2, replace=False)] *= -1
    return logits, targets


def _between_0_and_a_half(rng):
    logits = np.concatenate([rng.uniform(0.05, 0.45, 6), -rng.uniform(0.5, 3, 4)])
    order = rng.permutation(10)
    return logits[order], np.asarray([1, 1, 0, 0, 0, 1, 0, 1, 0, 1])[order]


def _with_zeros(rng):
    logits, targets = _random(rng, 9)
    logits[:4], targets[:4] = 0.0, [0, 1, 0, 0]
    order = rng.permutation(9)
    return logits[order], targets[order]


def _all_wrong(rng):
    logits, _ = _random(rng, 8)
    return logits, (logits < 0).astype(np.int64)


def _all_right(rng):
    logits, _ = _random(rng, 7)
    return logits, (logits > 0).astype(np.int64)


SCENARIOS = [
    _scenario("float32 logits [N] and int64 targets", _random),
    _scenario("logits between 0 and 0.5 (probabilities 0.5 to 0.62: predicted positive)", _between_0_and_a_half),
    _scenario("float targets 0.0 and 1.0, as BCEWithLogitsLoss takes them", _random, float_targets=True),
    _scenario("logits [N, 1], as nn.Linear(..., 1) gives them, and targets [N]", _eight_of_ten_right, column=True),
    _scenario("logits of exactly 0 (probability 0.5: predicted negative)", _with_zeros),
    _scenario("every prediction wrong", _all_wrong),
    _scenario("every prediction right", _all_right),
]


def _tensors(current, logits, targets):
    logits = _from_numpy(logits).to(_torch_float32)
    targets = _from_numpy(targets).to(_torch_float32 if current.float_targets else _torch_int64)
    return (logits.reshape(-1, 1) if current.column else logits), targets


def _fraction(agrees):
    return float(agrees.to(_torch_float64).mean())


def _expected(logits, targets):
    return _fraction((logits.reshape(-1) > 0).to(_torch_int64) == targets.reshape(-1).to(_torch_int64))


# ---------------------------------------------------------------------------- mistakes
# Each takes the tensors as the answer got them and returns the accuracy it gives.

@mistake("the threshold 0.5 is applied to the logits: 0.5 is the threshold of the probability sigmoid(logit), "
         "and sigmoid(logit) > 0.5 exactly when logit > 0. Compare the logits with 0.")
def _threshold_a_half_on_logits(logits, targets):
    return _fraction((logits.reshape(-1) > 0.5) == (targets == 1))


@mistake("a logit of exactly 0 is counted as class 1 (logit >= 0): its probability sigmoid(0) is 0.5, not above "
         "0.5, so it predicts class 0. Use logit > 0.")
def _at_least_zero(logits, targets):
    return _fraction((logits.reshape(-1) >= 0) == (targets == 1))


@mistake("that is the number of right predictions: the accuracy is their fraction, divided by the number of "
         "samples (.mean() of the comparison, not .sum()).")
def _count(logits, targets):
    return float(((logits.reshape(-1) > 0) == (targets == 1)).sum())


@mistake("logits [N, 1] compared with targets [N] are broadcast to an N × N table of every logit against every "
         "target, whose mean is not the accuracy: flatten the logits first, logits.reshape(-1) (or "
         ".squeeze(1)), so that row i meets target i.")
def _broadcast(logits, targets):
    return _fraction((logits > 0) == targets)


@mistake("that is the fraction of samples predicted positive: compare each prediction with its target.")
def _fraction_predicted_positive(logits, targets):
    return _fraction(logits.reshape(-1) > 0)


@mistake("class 1 is predicted for negative logits: a positive logit means sigmoid(logit) > 0.5, class 1.")
def _sign_flipped(logits, targets):
    return _fraction((logits.reshape(-1) < 0) == (targets == 1))


@mistake("that is the error rate, the fraction of wrong predictions: the accuracy is the fraction of right "
         "ones, prediction == target.")
def _error_rate(logits, targets):
    return _fraction((logits.reshape(-1) > 0) != (targets == 1))


MISTAKES = (_threshold_a_half_on_logits, _at_least_zero, _count, _broadcast, _fraction_predicted_positive,
            _sign_flipped, _error_rate)


# ---------------------------------------------------------------------------- checking

def _agrees(value, wanted):
    return bool(isclose(float(value), wanted, rtol=RTOL, atol=ATOL))


def _is_number(value):
    return isinstance(value, (float, int, np.number)) and not isinstance(value, (bool, np.bool_))


def check_binary_accuracy(binary_accuracy, *, seed=0):
    """Check `binary_accuracy(logits, targets)` (torch logits [N] or [N, 1] and 0/1 targets [N];
    returns a float) against the fraction of rows where (logit > 0) == target, over SCENARIOS
    with data drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(BINARY_ACCURACY, binary_accuracy, shape_hint=RECIPE)
    runs = []
    for index, current in enumerate(SCENARIOS):
        logits, targets = _tensors(current, *current.draw(default_rng((int(seed), index))))
        context = f"{answer.words(logits, targets)} with {current.words} ({len(targets)} samples)"
        result = answer.run(context, logits, targets)
        expected = _expected(logits, targets)
        if not _is_number(result):
            check_scalar(context, result, expected, hint=RECIPE)  # tells what came back instead
        runs.append(SimpleNamespace(context=context, tensors=(logits, targets), result=result, expected=expected))
    wrong = [run for run in runs if not _agrees(run.result, run.expected)]
    if not wrong:
        return
    first = wrong[0]
    for candidate in MISTAKES:
        if all(_agrees(run.result, candidate(*run.tensors)) for run in runs):
            fail(f"{first.context} returned {number(first.result)}, expected {number(first.expected)}: "
                 f"{candidate.explanation}", RECIPE)
    check_scalar(first.context, first.result, first.expected, rtol=RTOL, atol=ATOL, hint=RECIPE,
                 factor_hints={"the number of samples": len(first.tensors[1])})
