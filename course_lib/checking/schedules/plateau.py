"""The check for the ReduceLROnPlateau class of assignment 04, against torch's
ReduceLROnPlateau: built on an object with an `lr` attribute, step(metric) for each metric
of a stream, optimizer.lr compared after every step.

The rule is written out below as a small class (`Plateau`), only for the wrong variants:
each mistake is a subclass changing one method, next to the sentence that tells it. A
cause is named only when its variant gives the student's rates in the scenario that failed
and in every built-in scenario where they are wrong too.
"""
from builtins import (
    TypeError, bool, dict, enumerate, float, getattr, int, isinstance, len, list,
    object, range, super,
)
from dataclasses import replace
from math import inf as _inf

from torch import Tensor as _Tensor
from torch.optim.lr_scheduler import ReduceLROnPlateau as _TorchPlateau

from course_lib.optim import ReduceLROnPlateau as _ReferencePlateau

from .._trusted import np
from ..failure import CheckFailure, DelegationFailure, fail, kind_of, number
from ..harness import Answer, exercise
from ..failure import mistake
from ..failure import name_of
from .closed_form import agree, first_difference, likely_causes, remembered, two_numbers
from .oracle import torch_plateau_rates

DEFAULTS = {"mode": "min", "factor": 0.1, "patience": 10, "threshold": 1e-4,
            "threshold_mode": "rel", "cooldown": 0, "min_lr": 0.0}
# The notebook imports course_lib's class as reference_ReduceLROnPlateau, for the cells that
# train with it: the answer must not run it, nor torch's.
PLATEAU = replace(exercise(_ReferencePlateau, forbidden=(_TorchPlateau,)), signature="".join((
    "ReduceLROnPlateau(optimizer, ",
    ", ".join(f"{key}={value!r}" for key, value in DEFAULTS.items()), ")")))

_FLAT = [0.8] * 12
SCENARIOS = (
    # constructor keywords, initial lr, metrics
    ({"patience": 2, "factor": 0.5}, 0.1, [1.0, 0.9, 0.8] + _FLAT + [0.7, 0.7, 0.7, 0.7]),
    ({}, 0.1, [1.0 - 0.01 * i for i in range(5)] + [0.96] * 24),
    ({"patience": 1, "factor": 0.5, "threshold": 0.1},
     0.1, [10.0, 9.5, 9.3, 8.0, 7.9, 7.0, 6.95, 6.9, 6.85, 6.0, 6.0]),
    ({"patience": 1, "factor": 0.5, "threshold": 0.05, "threshold_mode": "abs"},
     0.1, [10.0, 9.9, 9.8, 9.79, 9.78, 9.7, 9.69, 9.68, 9.6, 9.6]),
    ({"mode": "max", "patience": 1, "factor": 0.5},
     0.1, [0.5, 0.6, 0.7, 0.7, 0.69, 0.75, 0.75, 0.75, 0.8, 0.8, 0.8]),
    ({"patience": 1, "factor": 0.5, "cooldown": 2}, 0.1, [1.0, 0.9] + [0.9] * 14),
    ({"patience": 0, "factor": 0.5, "min_lr": 0.03}, 0.1, [1.0] * 6),
    # noisy, as a validation loss is: a worse epoch must not become the best
    ({"patience": 1, "factor": 0.5}, 0.1, [1.0, 0.8, 1.1, 0.85, 0.9, 0.7, 0.75, 0.72, 0.74]),
)
HINT = ("an epoch improves if the metric beats best by more than the threshold; after more than "
        "patience bad epochs in a row, lr = max(lr * factor, min_lr), then cooldown epochs "
        "during which no epoch counts as bad.")


def _larger(a, b):
    return a if a >= b else b


class Plateau(object):
    """The rule over a plain rate `lr`, torch's without eps."""

    def __init__(self, lr, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0):
        self.lr, self.mode, self.factor, self.patience = lr, mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr = cooldown, min_lr
        self.best = _inf if mode == "min" else -_inf
        self.bad = self.cooling = 0

    def bar(self):
        """The value a metric must beat to count as an improvement."""
        if self.threshold_mode == "rel":
            return self.best * (1 - self.threshold if self.mode == "min" else 1 + self.threshold)
        return self.best - self.threshold if self.mode == "min" else self.best + self.threshold

    def improves(self, metric):
        return metric < self.bar() if self.mode == "min" else metric > self.bar()

    def judge(self, metric):
        if self.improves(metric):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1

    def cool_down(self):
        if self.cooling > 0:
            self.cooling -= 1
            self.bad = 0

    def exhausted(self):
        return self.bad > self.patience

    def reduce(self):
        self.lr = _larger(self.lr * self.factor, self.min_lr)
        self.cooling, self.bad = self.cooldown, 0

    def step(self, metric):
        self.judge(metric)
        self.cool_down()
        if self.exhausted():
            self.reduce()
        return self.lr


@mistake("patience is off by one: the rate drops when the number of bad epochs in a row EXCEEDS "
         "patience (patience + 1 bad epochs), not when it reaches patience.")
class ReducingAtPatience(Plateau):
    def exhausted(self):
        return self.bad >= self.patience


@mistake("patience is off by one: the rate drops after patience + 1 bad epochs in a row "
         "(num_bad_epochs > patience), not patience + 2.")
class WaitingOneMore(Plateau):
    def exhausted(self):
        return self.bad > self.patience + 1


@mistake("threshold_mode is swapped: 'rel' means better than best * (1 - threshold) "
         "(mode='min'), 'abs' better than best - threshold.")
class ThresholdModesSwapped(Plateau):
    def __init__(self, lr, threshold_mode="rel", **kwargs):
        super().__init__(lr, threshold_mode="abs" if threshold_mode == "rel" else "rel", **kwargs)


@mistake("the threshold is ignored: an epoch counts as an improvement only if the metric beats "
         "the best by more than the threshold, e.g. metric < best * (1 - threshold) for "
         "mode='min', threshold_mode='rel'.")
class IgnoringTheThreshold(Plateau):
    def improves(self, metric):
        return metric < self.best if self.mode == "min" else metric > self.best


@mistake("an epoch that only ties the best counts as an improvement: it must beat it, metric < "
         "best * (1 - threshold) for mode='min' (> for 'max'), not <=.")
class CountingTies(Plateau):
    def improves(self, metric):
        return metric <= self.bar() if self.mode == "min" else metric >= self.bar()


@mistake("mode='max' is ignored: then higher is better, metric > best * (1 + threshold), and "
         "best starts at -inf.")
class IgnoringMode(Plateau):
    def __init__(self, lr, mode="min", **kwargs):
        super().__init__(lr, **kwargs)


@mistake("best is never updated: set best = metric whenever the metric improves.")
class NeverUpdatingBest(Plateau):
    def judge(self, metric):
        if self.improves(metric):
            self.bad = 0
            if self.best in (_inf, -_inf):
                self.best = metric
        else:
            self.bad += 1


@mistake("best is replaced by every epoch's metric: keep the best value so far, and replace it "
         "only when the metric improves on it.")
class AlwaysUpdatingBest(Plateau):
    def judge(self, metric):
        super().judge(metric)
        self.best = metric


@mistake("the bad epochs are counted in all, not in a row: set the count to 0 whenever the "
         "metric improves.")
class CountingAllBadEpochs(Plateau):
    def judge(self, metric):
        if self.improves(metric):
            self.best = metric
        else:
            self.bad += 1


@mistake("the count of bad epochs is not reset after a reduction: set it to 0, so that the next "
         "reduction waits another patience + 1 bad epochs.")
class KeepingTheCount(Plateau):
    def reduce(self):
        bad = self.bad
        super().reduce()
        self.bad = bad


@mistake("cooldown is ignored: after a reduction, for cooldown epochs no epoch counts as bad "
         "(the counter stays at 0).")
class IgnoringCooldown(Plateau):
    def cool_down(self):
        pass


@mistake("the cooldown lasts one epoch too long: after a reduction, exactly cooldown epochs "
         "don't count as bad (cooldown_counter = cooldown, and each step while it is above 0 "
         "decreases it and sets the bad-epoch count to 0).")
class CoolingDownLonger(Plateau):
    def reduce(self):
        super().reduce()
        self.cooling += 1


@mistake("the cooldown is one epoch short: after a reduction, exactly cooldown epochs don't "
         "count as bad (cooldown_counter = cooldown, and each step while it is above 0 "
         "decreases it and sets the bad-epoch count to 0).")
class CoolingDownShorter(Plateau):
    def reduce(self):
        super().reduce()
        self.cooling -= 1


@mistake("min_lr is ignored: the new rate is max(lr * factor, min_lr).")
class IgnoringMinLr(Plateau):
    def reduce(self):
        lr = self.lr
        super().reduce()
        self.lr = lr * self.factor


MISTAKES = (ReducingAtPatience, WaitingOneMore, ThresholdModesSwapped, IgnoringTheThreshold,
            CountingTies, IgnoringMode, NeverUpdatingBest, AlwaysUpdatingBest, CountingAllBadEpochs,
            KeepingTheCount, IgnoringCooldown, CoolingDownLonger, CoolingDownShorter, IgnoringMinLr)


def variant_rates(plateau, scenario):
    kwargs, lr, metrics = scenario
    variant = plateau(lr, **kwargs)
    return [variant.step(metric) for metric in metrics]


# ------------------------------------------------------------------- the student's class

class _Optimizer(object):
    """What the student's ReduceLROnPlateau gets: just a learning rate."""

    def __init__(self, lr):
        self.lr = lr

    def __repr__(self):
        return f"optimizer(lr={self.lr!r})"


def _construction(name, scenario):
    kwargs, lr, _ = scenario
    arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
    return f"{name}(optimizer{arguments}) with optimizer.lr = {number(lr)} at the start"


def _rate(optimizer, described):
    __tracebackhide__ = True
    rate = getattr(optimizer, "lr", None)
    if isinstance(rate, _Tensor) or isinstance(rate, bool) or not isinstance(
            rate, (int, float, np.number)):
        fail(f"{described}, optimizer.lr is {kind_of(rate)}: the scheduler must set "
             f"optimizer.lr to the new rate, a number.")
    return float(rate)


def student_rates(ReduceLROnPlateau, name, scenario):
    """optimizer.lr after each step of the student's class, through the harness; a crash or
    an lr that is not a number fails."""
    __tracebackhide__ = True
    kwargs, lr, metrics = scenario
    construction = _construction(name, scenario)
    answer = Answer(PLATEAU, ReduceLROnPlateau)
    optimizer = _Optimizer(lr)
    scheduler = answer.run(construction, optimizer, **dict(kwargs))
    rates = []
    for index, value in enumerate(metrics):
        answer.method(f"{construction}: step({value!r}) at epoch {index + 1}", scheduler, "step",
                      value)
        rates.append(_rate(optimizer, f"{construction}: after step({value!r}) (epoch {index + 1})"))
    return rates


def quiet_rates(ReduceLROnPlateau, name, scenario):
    """The student's rates, nan for an lr that is not a number — for comparing with a
    variant —, or None if the class fails (a failure of its own); an answer caught running
    what it must not fails all the same."""
    __tracebackhide__ = True
    kwargs, lr, metrics = scenario
    construction = _construction(name, scenario)
    answer = Answer(PLATEAU, ReduceLROnPlateau)
    optimizer = _Optimizer(lr)
    rates = []
    try:
        scheduler = answer.run(construction, optimizer, **dict(kwargs))
        for value in metrics:
            answer.method(f"{construction}: step({value!r})", scheduler, "step", value)
            rate = getattr(optimizer, "lr", None)
            rates.append(float(rate) if isinstance(rate, (int, float, np.number))
                         and not isinstance(rate, bool) else float("nan"))
    except DelegationFailure:
        raise
    except CheckFailure:
        return None
    return rates


# ------------------------------------------------------------------------------- the check

def _all_equal(values, value):
    for item in values:
        if item != value:
            return False
    return True


def _causes(ReduceLROnPlateau, name, scenarios, student):
    """likely_causes among the variants, for scenarios[0], the scenario that failed;
    `student` holds the student's rates already computed, by index."""
    def expected(index):
        kwargs, lr, metrics = scenarios[index]
        return torch_plateau_rates(kwargs, lr, metrics, 0.0)

    candidates = [(lambda index, plateau=plateau: variant_rates(plateau, scenarios[index]),
                   plateau.explanation) for plateau in MISTAKES]
    student_in = remembered(lambda index: quiet_rates(ReduceLROnPlateau, name, scenarios[index]),
                            student)
    return likely_causes(candidates, len(scenarios), student_in, remembered(expected),
                         lambda index: scenarios[index][1])


def _fail(ReduceLROnPlateau, name, scenarios, step, student, writes_lr):
    """scenarios[0] failed at `step`; student[0] holds the student's rates there."""
    __tracebackhide__ = True
    scenario, actual = scenarios[0], student[0]
    kwargs, lr, metrics = scenario
    expected = torch_plateau_rates(kwargs, lr, metrics, 0.0)
    stream = ", ".join(number(value) for value in metrics[:step + 1])
    got, wanted = two_numbers(actual[step], expected[step])
    message = (f"{_construction(name, scenario)}, fed the metrics {stream}: after "
               f"step({number(metrics[step])}) (epoch {step + 1}) optimizer.lr is {got}, torch's "
               f"ReduceLROnPlateau gives {wanted} "
               + ("(the epochs before match)." if step else "(already after the first step)."))
    causes = _causes(ReduceLROnPlateau, name, scenarios, student)
    if not causes and _all_equal(actual, lr) and not writes_lr:
        causes = ["optimizer.lr never changes — write the new rate into the optimizer, "
                  "self.optimizer.lr = new_lr, not only into an attribute of the scheduler."]
    if causes:
        message += " Likely cause: " + " Or: ".join(causes[:2])
    fail(message, HINT)


def check_reduce_lr_on_plateau(ReduceLROnPlateau, **options):
    """Build `ReduceLROnPlateau(optimizer, **keywords)` on an object with an `lr` attribute,
    call step(metric) for each metric of a stream and compare optimizer.lr after every step
    with torch's ReduceLROnPlateau. Scenarios: patience and factor, the defaults, relative and
    absolute thresholds, mode="max", cooldown, min_lr, a noisy stream. Options: the
    constructor's keywords (mode, factor, patience, threshold, threshold_mode, cooldown,
    min_lr), plus lr (initial rate, default 0.1) and metrics (a list of numbers); given any,
    only that scenario runs."""
    __tracebackhide__ = True
    allowed = (*DEFAULTS, "lr", "metrics")
    unknown = [key for key in options if key not in allowed]
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; the options are {list(allowed)}")
    if options:
        kwargs = {key: value for key, value in options.items() if key in DEFAULTS}
        scenarios = [(kwargs, float(options.get("lr", 0.1)),
                      list(options.get("metrics", SCENARIOS[0][2])))]
    else:
        scenarios = list(SCENARIOS)
    name = name_of(ReduceLROnPlateau, "ReduceLROnPlateau")
    writes_lr = False  # whether a scenario passed shows that optimizer.lr gets written
    for index, scenario in enumerate(scenarios):
        kwargs, lr, metrics = scenario
        actual = student_rates(ReduceLROnPlateau, name, scenario)
        # torch skips a reduction smaller than its eps=1e-8; the student's class need not have
        # eps, so torch without it (eps=0) is the oracle, and torch's default passes too
        expected = torch_plateau_rates(kwargs, lr, metrics, 0.0)
        step = first_difference(actual, expected, lr)
        if step is not None and not agree(actual, torch_plateau_rates(kwargs, lr, metrics, 1e-8),
                                          lr):
            others = scenarios[:index] + scenarios[index + 1:]
            if options:
                others += list(SCENARIOS)
            passed = {position: torch_plateau_rates(other[0], other[1], other[2], 0.0)
                      for position, other in enumerate(scenarios[:index], 1)}
            _fail(ReduceLROnPlateau, name, [scenario] + others, step, {0: actual, **passed},
                  writes_lr)
        writes_lr = writes_lr or not _all_equal(actual, lr)
