"""The check of an early-stopping rule (assignment 05): the class
`EarlyStopper(patience=0, min_delta=0.0, mode="min")` with `step(value) -> bool` and the
attributes best, best_epoch and wait.

The rule is that of the contract (course_lib.training.EarlyStopping's), written out below as
`Rule`; each usual mistake is the same rule with one method written wrong, next to its
explanation. The check feeds streams of monitored values, simplest first (patience 0, then
2 with an equal value, min_delta, mode="max", mode="max" with min_delta), and after every
step compares what step returned, best and best_epoch with the rule. On the first difference
it names every mistake whose rule gives exactly the answer's steps so far — and no mistake
when none does.

The student's class is constructed and stepped through the harness, under the delegation
watch: it must not run course_lib's EarlyStopping callback, which applies the same rule.
Tamper-proofing as in the rest of the package: the builtins are bound at import, and the
noisy loss curve of the seeded scenario comes from a local generator.
"""
from builtins import (
    AttributeError, Exception, bool, callable, dict, enumerate, float, getattr, int, isinstance,
    len, list, type, zip,
)

from course_lib.training import EarlyStopping as _EarlyStopping

from ._trusted import default_rng, np
from .failure import CheckFailure, fail, kind_of, number
from .harness import Answer, exercise


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages:
    course_lib's EarlyStopping is a training callback, with another interface."""

    class EarlyStopper:
        """Decides when training should stop, from one monitored value per epoch."""

        def __init__(self, patience=0, min_delta=0.0, mode="min"):
            """Keeps best, best_epoch and wait."""

        def step(self, value):
            """Records this epoch's value; returns True if training should stop after it."""


EARLY_STOPPER = exercise(_Notebook.EarlyStopper, forbidden=(_EarlyStopping,))

SCENARIOS = [  # constructor keywords, monitored values
    ({}, [1.0, 0.9, 0.95]),
    ({"patience": 2}, [1.0, 0.8, 0.85, 0.7, 0.7, 0.75, 0.72, 0.71]),
    ({"patience": 2, "min_delta": 0.05}, [10.0, 9.9, 9.0, 8.97, 8.9, 8.88, 8.86, 8.84]),
    ({"mode": "max", "patience": 1}, [0.5, 0.6, 0.55, 0.7]),
    ({"mode": "max", "patience": 2, "min_delta": 0.02},
     [0.5, 0.51, 0.6, 0.61, 0.7, 0.69, 0.715, 0.71]),
]
RULE = ("an epoch improves if value < best - min_delta (mode 'min') or value > best + "
        "min_delta (mode 'max'): then best = value, best_epoch = this epoch, wait = 0 and step "
        "returns False; otherwise wait += 1 and step returns wait >= patience.")


# ------------------------------------------------------------------ the rule and its mistakes

class Rule:
    """The contract's rule, step by step."""

    explanation = None
    first_epoch = 1

    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode

    def start(self):
        return float("inf") if self.mode == "min" else -float("inf")

    def improves(self, value, best):
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta

    def wait_after_improvement(self, wait):
        return 0

    def best_without_improvement(self, best, value):
        return best

    def stops(self, wait):
        return wait >= self.patience

    def trace(self, values):
        """[(returned, best, best_epoch)] for each value, up to the first stop."""
        best, best_epoch, wait = self.start(), 0, 0
        trace = []
        for epoch, value in enumerate(values, start=self.first_epoch):
            if self.improves(value, best):
                best, best_epoch, stop = value, epoch, False
                wait = self.wait_after_improvement(wait)
            else:
                wait += 1
                stop = self.stops(wait)
                best = self.best_without_improvement(best, value)
            trace.append((stop, best, best_epoch))
            if stop:
                break
        return trace


class PatienceOffByOne(Rule):
    explanation = ("patience is off by one: training stops when wait REACHES patience "
                   "(wait >= patience), i.e. after patience epochs without improvement.")

    def stops(self, wait):
        return wait > self.patience


class MinDeltaIgnored(Rule):
    explanation = ("min_delta is ignored: an improvement must beat best by more than "
                   "min_delta, value < best - min_delta (mode 'min').")

    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        Rule.__init__(self, patience, 0.0, mode)


class MinDeltaRelative(Rule):
    explanation = ("min_delta is used as a fraction of best (best * (1 - min_delta)): it "
                   "is an absolute amount, value < best - min_delta.")

    def improves(self, value, best):
        if self.mode == "min":
            return value < best * (1 - self.min_delta)
        return value > best * (1 + self.min_delta)


class MinDeltaWrongWay(Rule):
    explanation = ("min_delta is added the wrong way round: an improvement must beat "
                   "best by min_delta, value < best - min_delta in mode 'min', value > "
                   "best + min_delta in mode 'max'.")

    def improves(self, value, best):
        if self.mode == "min":
            return value < best + self.min_delta
        return value > best - self.min_delta


class ModeIgnored(Rule):
    explanation = ("mode='max' is ignored: then higher is better, value > best + min_delta, "
                   "and best starts at -inf.")

    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        Rule.__init__(self, patience, min_delta, "min")


class ComparedAsMin(Rule):
    explanation = ("in mode 'max' a value improves if it is HIGHER, value > best + min_delta: "
                   "the comparison is that of mode 'min'.")

    def improves(self, value, best):
        return value < best - self.min_delta


class WaitNotReset(Rule):
    explanation = ("wait is not reset on an improvement: set wait = 0 whenever the value "
                   "improves, so patience counts epochs without improvement IN A ROW.")

    def wait_after_improvement(self, wait):
        return wait


class EqualImproves(Rule):
    explanation = ("an equal value counts as an improvement (<=): only a strictly better "
                   "value does, value < best - min_delta.")

    def improves(self, value, best):
        if self.mode == "min":
            return value <= best - self.min_delta
        return value >= best + self.min_delta


class BestEveryEpoch(Rule):
    explanation = "best is updated on every epoch: only an improvement replaces it."

    def best_without_improvement(self, best, value):
        return value


class EpochsFromZero(Rule):
    explanation = "the epochs are counted from 0: the first call of step is epoch 1."
    first_epoch = 0


MISTAKES = [PatienceOffByOne, MinDeltaIgnored, MinDeltaRelative, MinDeltaWrongWay, ModeIgnored,
            ComparedAsMin, WaitNotReset, EqualImproves, BestEveryEpoch, EpochsFromZero]


def _same(a, b):
    return float(a) == float(b)


def _traces_agree(actual, trace):
    """Whether the student's steps so far are the first steps of `trace`."""
    if len(actual) > len(trace):
        return False
    for (stop, best, best_epoch), (wanted_stop, wanted_best, wanted_epoch) in zip(actual, trace):
        if stop != wanted_stop or not _same(best, wanted_best) or best_epoch != wanted_epoch:
            return False
    return True


def _fail_with_causes(epoch, problems, actual, values, kwargs):
    """Fail with the problems of this step and the mistakes that reproduce every step so far
    (those that agree with the rule on these values are no evidence)."""
    __tracebackhide__ = True
    matched = "the epochs before match" if epoch > 1 else "already on the first call"
    message = f"{'; '.join(problems)} ({matched})."
    right = Rule(**kwargs).trace(values)
    causes = []
    for mistake in MISTAKES:
        trace = mistake(**kwargs).trace(values)
        if _traces_agree(actual, trace) and not _traces_agree(right[:len(actual)], trace):
            causes.append(mistake.explanation)
    if causes:
        message += " Likely cause: " + " Or: ".join(causes[:2])
    fail(message, RULE)


# ------------------------------------------------------------------ the check

def _scenarios(seed, patience, min_delta, mode, values):
    kwargs = {key: value for key, value in (("patience", patience), ("min_delta", min_delta),
                                            ("mode", mode)) if value is not None}
    if values is not None:
        return [(kwargs, [float(value) for value in values])]
    if not kwargs and seed is None:
        return SCENARIOS
    # a noisy loss curve that levels off, to 2 decimals so that equal values occur
    rng = default_rng(0 if seed is None else int(seed))
    epochs = np.arange(30)
    curve = 1 / (1 + 0.3 * epochs) + 0.03 * rng.standard_normal(30)
    curve_values = [float(int(value * 100 + 0.5)) / 100 for value in curve]
    if kwargs.get("mode", "min") == "max":
        curve_values = [1 - value for value in curve_values]
    return [(kwargs, curve_values)]


def _attribute(stopper, key, described):
    __tracebackhide__ = True
    try:
        value = getattr(stopper, key)
    except AttributeError:
        fail(f"{described}, the stopper has no attribute {key}: keep best, best_epoch and wait "
             f"as attributes (self.{key} = ...).")
    except Exception as error:
        raise CheckFailure(f"{described}, reading {key} raised {type(error).__name__}: "
                           f"{error}") from error
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        fail(f"{described}, {key} is {kind_of(value)}, but a number is expected.")
    return value


def _check_start(stopper, construction, mode):
    __tracebackhide__ = True
    described = f"right after {construction}"
    start = Rule(mode=mode).start()
    best = _attribute(stopper, "best", described)
    if not _same(best, start):
        better = "lower" if mode == "min" else "higher"
        fail(f"{described}, best is {number(best)}, expected {number(start)}: in mode {mode!r} "
             f"{better} is better, so best starts at {number(start)} and the first value always "
             f"improves on it.")
    best_epoch = _attribute(stopper, "best_epoch", described)
    if best_epoch != 0:
        fail(f"{described}, best_epoch is {number(best_epoch)}, expected 0 (no epoch yet).")
    wait = _attribute(stopper, "wait", described)
    if wait != 0:
        fail(f"{described}, wait is {number(wait)}, expected 0.")


def _check_scenario(answer, kwargs, values):
    __tracebackhide__ = True
    construction = answer.words(**kwargs)
    stopper = answer(**kwargs)
    _check_start(stopper, construction, kwargs.get("mode", "min"))
    if not callable(getattr(stopper, "step", None)):
        fail(f"{construction} has no method step: define step(self, value) in the class.")
    actual = []
    expected = Rule(**kwargs).trace(values)
    for epoch, (value, (stop, wanted_best, wanted_epoch)) in enumerate(zip(values, expected),
                                                                       start=1):
        stream = ", ".join(number(item) for item in values[:epoch])
        call = f"{construction} fed {stream}: step({number(value)}) (epoch {epoch})"
        returned = answer.method(call, stopper, "step", value)
        if not isinstance(returned, (bool, np.bool_)):
            cause = (": does every path end in `return`? An improvement returns False."
                     if returned is None else ".")
            fail(f"{call} returned {kind_of(returned)}, but True or False is expected{cause}")
        got_best = _attribute(stopper, "best", f"after {call}")
        got_epoch = _attribute(stopper, "best_epoch", f"after {call}")
        actual.append((bool(returned), got_best, got_epoch))
        problems = []
        if not _same(got_best, wanted_best):
            problems.append(f"best is {number(got_best)}, expected {number(wanted_best)}")
        if got_epoch != wanted_epoch:
            problems.append(f"best_epoch is {number(got_epoch)}, expected {wanted_epoch}")
        if bool(returned) != stop:
            problems.insert(0, f"{call} returned {bool(returned)}, expected {stop}")
        elif problems:
            problems[0] = f"after {call}, {problems[0]}"
        if problems:
            _fail_with_causes(epoch, problems, actual, values, kwargs)


def check_early_stopper(EarlyStopper, *, seed=None, patience=None, min_delta=None, mode=None,
                        values=None):
    """Check the class `EarlyStopper(patience=0, min_delta=0.0, mode="min")` with its method
    step(value) -> bool: after construction best is ±inf and best_epoch 0; then for each
    value of a stream, step(value) must return what the contract's rule returns, up to and
    including the first True, and best and best_epoch must follow it. Scenarios: the defaults;
    patience=2 (with an equal value); min_delta=0.05; mode="max"; mode="max" with min_delta.

    Options: `patience`, `min_delta`, `mode` (the constructor's) and `values` (the stream) —
    given any, only that scenario runs, on a noisy loss curve of 30 epochs if `values` is not
    given; `seed` draws that curve (given alone: just that curve with the defaults).
    """
    __tracebackhide__ = True
    answer = Answer(EARLY_STOPPER, EarlyStopper)
    for kwargs, stream in _scenarios(seed, patience, min_delta, mode, values):
        _check_scenario(answer, dict(kwargs), list(stream))
