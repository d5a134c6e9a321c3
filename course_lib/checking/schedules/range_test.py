"""The check for lr_range_test (assignment 04, Exercise 8): the sweep of the learning-rate
range test. For i = 0, 1, ..., num_iter - 1 it calls train_step(lr_i) with
lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1)), smooths the losses train_step
returns by a bias-corrected exponential moving average, and stops after the first iteration
whose smoothed loss is not finite or exceeds diverge_th times the lowest smoothed loss
before it; it returns (lrs, losses, smoothed_losses).

Torch has no range test, so the expected values come from that definition, written out
as a small class (`range_sweep.Sweep`) independently of course_lib.optim.lr_finder (the
tests hold the two to each other); the wrong variants are its subclasses in `range_sweep`.

The answer gets a train_step of the check's: it records the rates it is called with and
returns the loss of a made-up curve at that rate (falling, then climbing into divergence,
times a fixed noise), or the losses a scenario lists, in turn. The check compares, in this
order, what comes back (three sequences of one length), the rates train_step got, the lrs
and losses returned, the smoothed losses, and where the sweep stopped. A cause is named
only when its variant gives the answer's whole outcome in the scenario that failed and in
every built-in scenario where the answer is wrong too (`closed_form.likely_causes`).
"""
from builtins import (
    TypeError, ValueError, ZeroDivisionError, bool, dict, enumerate, float, int, isinstance, len,
    list, object, property, tuple, zip,
)
from dataclasses import dataclass
from inspect import signature as _signature
from math import inf as _inf
from math import isfinite as _isfinite

from torch import Tensor as _Tensor

from course_lib.optim import lr_finder as _reference

from .._trusted import default_rng, isclose, np
from ..failure import (
    CheckFailure, DelegationFailure, fail, kind_of, name_of, number, unpacked,
)
from ..harness import Answer, exercise, trusted
from ..optimizers.words import apart
from .closed_form import RTOL, likely_causes, remembered
from .range_sweep import MISTAKES, Sweep

RANGE_TEST = exercise(_reference.lr_range_test,
                      forbidden=(_reference.find_lr_numpy, _reference.find_lr_torch))
DEFAULTS = {name: parameter.default
            for name, parameter in _signature(_reference.lr_range_test).parameters.items()
            if name != "train_step"}
FORMULA = ("lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1)) for i = 0, ..., "
           "num_iter - 1; average = beta * average + (1 - beta) * loss, from 0; smoothed = "
           "average / (1 - beta ** (i + 1)); record the iteration, then stop if the smoothed loss "
           "is not finite or exceeds diverge_th * (the lowest smoothed loss before it).")


# --------------------------------------------------------------------------------- scenarios

NOISE = tuple(float(value) for value in default_rng(2024).standard_normal(1500))


def falling(lr, i):
    """About 2.3 at small rates, down to 0.4 past lr = 0.01, times a fixed noise: the sweep
    runs to the end."""
    return (0.4 + 1.9 / (1 + (lr / 0.01) ** 2)) * (1 + 0.1 * NOISE[i % len(NOISE)])


def falling_then_diverging(lr, i):
    """The same fall, then a climb past lr = 0.3 into divergence."""
    return falling(lr, i) + (lr / 0.3) ** 2 * (1 + 0.1 * NOISE[i % len(NOISE)])


CURVE_WORDS = {falling_then_diverging: "a loss that falls from 2.3 to 0.4 around lr = 0.01 and "
                                       "climbs past lr = 0.3, times a fixed noise",
               falling: "a loss that falls from 2.3 to 0.4 around lr = 0.01, times a fixed noise"}


@dataclass(frozen=True)
class Scenario:
    """The keywords the answer gets, and the loss train_step returns at (rate, call index):
    a curve, or a list of losses returned in turn."""
    kwargs: dict
    curve: object = falling_then_diverging
    losses: tuple = None

    @property
    def settings(self):
        return {**DEFAULTS, **self.kwargs}

    def loss(self, lr, i):
        return self.losses[i] if self.losses is not None else self.curve(lr, i)

    def words(self):
        if self.losses is not None:
            shown = ", ".join(number(value) for value in self.losses[:6])
            more = ", …" if len(self.losses) > 6 else ""
            return f"train_step returning the losses {shown}{more} in turn"
        return f"train_step returning {CURVE_WORDS[self.curve]}"


_NAN = float("nan")
SCENARIOS = (
    Scenario({"start_lr": 1e-4, "end_lr": 10.0, "num_iter": 100, "beta": 0.9, "diverge_th": 4.0}),
    Scenario({}),  # the signature's defaults
    Scenario({"start_lr": 1e-3, "end_lr": 1.0, "num_iter": 60, "beta": 0.8}, curve=falling),
    # a batch whose loss is nan: not finite, so the sweep stops there
    Scenario({"num_iter": 12, "beta": 0.5}, losses=(2.3, 2.2, 2.0, 1.5, 1.0, 0.8, _NAN, 0.7, 0.6,
                                                    0.6, 0.5, 0.5)),
    # one noisy batch: its raw loss is more than diverge_th times the lowest, its smoothed not
    Scenario({"num_iter": 14, "beta": 0.9, "diverge_th": 2.0},
             losses=(2.0, 1.8, 1.5, 1.2, 1.0, 0.9, 0.8, 2.5, 0.8, 0.75, 0.7, 0.7, 0.65, 0.6)),
)


# ------------------------------------------------------------------------ running the answer

class TrainStep(object):
    """The train_step an answer gets in `scenario`: records the rates, returns the losses."""

    def __init__(self, scenario, call):
        self.scenario, self.call = scenario, call
        self.limit = int(scenario.settings["num_iter"])
        self.rates, self.returned = [], []

    def __call__(self, lr):
        __tracebackhide__ = True
        if len(self.rates) >= self.limit:
            fail(f"{self.call} called train_step more than num_iter = {self.limit} times: the "
                 f"sweep takes one step per iteration, num_iter at most.", FORMULA)
        if isinstance(lr, (_Tensor, bool, np.bool_)) or not isinstance(lr, (int, float, np.number)):
            fail(f"{self.call} called train_step with {kind_of(lr)} at iteration "
                 f"{len(self.rates)}: train_step(lr) takes one learning rate, a number.", FORMULA)
        rate = float(lr)
        if self.rates and rate == self.rates[-1]:
            fail(f"{self.call} called train_step twice with lr = {number(rate)}, at calls "
                 f"{len(self.rates) - 1} and {len(self.rates)}: every call is an optimizer step, "
                 f"so call train_step once per iteration and keep the loss it returns.", FORMULA)
        loss = self.scenario.loss(rate, len(self.rates))
        self.rates.append(rate)
        self.returned.append(loss)
        return loss


def _call_words(name, scenario):
    arguments = "".join(f", {key}={value!r}" for key, value in scenario.kwargs.items())
    return f"{name}(train_step{arguments})"


def _as_numbers(sequence, which, call):
    __tracebackhide__ = True
    if isinstance(sequence, np.ndarray) and sequence.ndim == 1:
        sequence = list(sequence)
    if not isinstance(sequence, (list, tuple)):
        fail(f"{call} returned {kind_of(sequence)} as {which}: return a list of numbers, one per "
             f"iteration run.")
    for index, value in enumerate(sequence):
        if isinstance(value, (_Tensor, bool, np.bool_)) or not isinstance(
                value, (int, float, np.number)):
            fail(f"{call} returned {kind_of(value)} as {which}[{index}]: each entry is a number "
                 f"— use .item() or float() for a one-element tensor or array.")
    return [float(value) for value in sequence]


def outcome_of(result, call):
    """The answer's (lrs, losses, smoothed_losses) as lists of floats of one length."""
    __tracebackhide__ = True
    wanted = "three lists, (lrs, losses, smoothed_losses),"
    lrs, losses, smoothed = unpacked(f"{call} returned", result, 3, wanted)
    lists = [_as_numbers(values, which, call) for values, which in
             zip((lrs, losses, smoothed), ("lrs", "losses", "smoothed_losses"))]
    lengths = [len(values) for values in lists]
    if lengths[0] != lengths[1] or lengths[1] != lengths[2]:
        fail(f"{call} returned lrs, losses and smoothed_losses of lengths {lengths[0]}, "
             f"{lengths[1]} and {lengths[2]}: each holds one entry per iteration run.")
    return lists


def advice(error):
    """The hint for a sweep raising `error`, or None for the harness's shared advice."""
    if isinstance(error, ZeroDivisionError):
        return ("a division by zero — the bias correction 1 - beta ** (i + 1) is 0 only if the "
                "exponent is 0: count it from 1 at the first iteration.")
    return None


def student_run(function, name, scenario):
    """(calls, returned losses, lrs, losses, smoothed) of the answer in `scenario`, through the
    harness; a crash, a result of the wrong kind or too many calls fails."""
    __tracebackhide__ = True
    call = _call_words(name, scenario)
    train_step = TrainStep(scenario, call)
    answer = Answer(RANGE_TEST, function, advice=advice)
    result = answer.run(call, trusted(train_step), **dict(scenario.kwargs))
    return (train_step.rates, train_step.returned, *outcome_of(result, call))


def quiet_outcome(function, name, scenario):
    """The answer's outcome in `scenario`, flattened, or None where it fails of its own; an
    answer caught running what it must not fails all the same."""
    __tracebackhide__ = True
    try:
        calls, _, lrs, losses, smoothed = student_run(function, name, scenario)
    except DelegationFailure:
        raise
    except CheckFailure:
        return None
    return flattened(calls, lrs, losses, smoothed)


def variant_run(sweep_class, scenario):
    """(calls, lrs, losses, smoothed) of `sweep_class` — Sweep, or a mistake — in `scenario`."""
    train_step = TrainStep(scenario, "")
    return (train_step.rates, *sweep_class(**scenario.settings).run(train_step))


def variant_outcome(sweep_class, scenario):
    return flattened(*variant_run(sweep_class, scenario))


def flattened(calls, lrs, losses, smoothed):
    """A run's calls and results as one list of numbers, lengths included, for comparing runs."""
    return [float(len(calls)), *calls, float(len(lrs)), *lrs, *losses, *smoothed]


# --------------------------------------------------------------------------------- comparing

def _first_difference(actual, expected):
    """The first index where two lists of numbers differ (nan equal to nan), or where one
    ends; None if they agree."""
    shared = len(actual) if len(actual) < len(expected) else len(expected)
    if shared:
        close = isclose(np.asarray(actual[:shared], dtype=np.float64),
                        np.asarray(expected[:shared], dtype=np.float64), rtol=RTOL, atol=0.0)
        differing = np.flatnonzero(~close)
        if len(differing):
            return int(differing[0])
    return None if len(actual) == len(expected) else shared


def _matched(i):
    return "the first iteration already differs" if i == 0 else (
        "iteration 0 matches" if i == 1 else f"iterations 0-{i - 1} match")


def _smoothing_of(losses, beta):
    values, average = [], 0.0
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        values.append(average / (1 - beta ** (i + 1)))
    return values


def _lowest_before(smoothed, i):
    lowest = _inf
    for value in smoothed[:i]:
        if value < lowest:
            lowest = value
    return lowest


def _verdict(scenario, smoothed, i):
    """Whether the sweep stops after iteration i, in words, from the smoothed losses up to i."""
    value, diverge_th = smoothed[i], scenario.settings["diverge_th"]
    if not _isfinite(value):
        return f"the smoothed loss of iteration {i} is {value}, not finite"
    lowest = _lowest_before(smoothed, i)
    bound = (f"diverge_th * the lowest before it = {number(diverge_th)} * {number(lowest)} = "
             f"{number(diverge_th * lowest)}" if lowest < _inf else "the lowest before it (none)")
    relation = "above" if value > diverge_th * lowest else "not above"
    return f"the smoothed loss of iteration {i}, {number(value)}, is {relation} {bound}"


def _stop_words(scenario, smoothed, count, expected_count):
    """Why a sweep of `count` iterations stops at the wrong one; `smoothed` holds the right
    smoothed losses up to the longer of the two runs."""
    if count < expected_count:
        return f"{_verdict(scenario, smoothed, count - 1)}: the sweep goes on"
    if expected_count == scenario.settings["num_iter"]:
        return ("no smoothed loss is nan, inf or above diverge_th times the lowest before it: the "
                f"sweep runs all num_iter = {expected_count} iterations")
    return (f"{_verdict(scenario, smoothed, expected_count - 1)}: the sweep stops there, after "
            f"recording it")


def what_differs(scenario, run, expected):
    """The first thing that differs between the answer's `run` and the expected one, in words;
    None if nothing does."""
    calls, returned, lrs, losses, smoothed = run
    expected_calls, _, _, expected_smoothed = expected  # the right run of the same scenario
    i = _first_difference(calls[:len(expected_calls)], expected_calls[:len(calls)])
    if i is not None:
        got, wanted = apart(calls[i], expected_calls[i])
        return (f"at iteration {i} train_step was called with lr = {got}, the sweep's rate there "
                f"is {wanted} ({_matched(i)}).")
    if len(lrs) != len(calls):
        return (f"train_step was called {len(calls)} times, but the result holds {len(lrs)} "
                f"iterations: call train_step once per iteration and record every iteration "
                f"run — the one that diverged too.")
    i = _first_difference(lrs, calls)
    if i is not None:
        got, wanted = apart(lrs[i], calls[i])
        return (f"lrs[{i}] is {got}, but train_step was called with lr = {wanted} there: return "
                f"the rates the sweep used.")
    i = _first_difference(losses, returned)
    if i is not None:
        got, wanted = apart(losses[i], returned[i])
        return (f"losses[{i}] is {got}, but train_step returned {wanted} there: record each "
                f"batch's loss as train_step returns it.")
    right = _smoothing_of(losses, scenario.settings["beta"])
    i = _first_difference(smoothed, right)
    if i is not None:
        got, wanted = apart(smoothed[i], right[i])
        return (f"smoothed_losses[{i}] is {got}, expected {wanted}, the bias-corrected moving "
                f"average of losses[0..{i}] ({_matched(i)}).")
    if len(calls) != len(expected_calls):
        longer = smoothed if len(smoothed) > len(expected_smoothed) else expected_smoothed
        return (f"the sweep ran {len(calls)} iterations, expected {len(expected_calls)}: "
                f"{_stop_words(scenario, longer, len(calls), len(expected_calls))}.")
    return None


def _defaults_words(function):
    """Which of the answer's defaults differ from the exercise's signature, in words, or None."""
    try:
        parameters = _signature(function).parameters
    except (TypeError, ValueError):
        return None
    differing = [f"{key}={parameters[key].default!r} (the signature says {value!r})"
                 for key, value in DEFAULTS.items()
                 if key in parameters and parameters[key].default != value]
    if not differing:
        return None
    return ("your signature's defaults differ from the exercise's: " + ", ".join(differing)
            + ". Keep the signature as given.")


def _causes(function, name, scenarios, student):
    """likely_causes among the variants, for scenarios[0], the scenario that failed; `student`
    holds the student's outcomes already computed, by index."""
    candidates = [(lambda index, sweep_class=sweep_class: variant_outcome(sweep_class,
                                                                         scenarios[index]),
                   sweep_class.explanation) for sweep_class in MISTAKES]
    student_in = remembered(lambda index: quiet_outcome(function, name, scenarios[index]), student)
    expected_in = remembered(lambda index: variant_outcome(Sweep, scenarios[index]))
    return likely_causes(candidates, len(scenarios), student_in, expected_in, lambda index: 1.0)


def check_lr_range_test(lr_range_test, **options):
    """Run `lr_range_test(train_step, *, start_lr, end_lr, num_iter, beta, diverge_th)` with a
    train_step of the check's and compare the rates it calls train_step with, and the lrs,
    losses and smoothed_losses it returns, with the sweep's definition. Scenarios: a loss
    that diverges, the signature's defaults, a loss that never diverges, a nan loss, one
    noisy batch. Options: start_lr, end_lr, num_iter, beta, diverge_th, and losses (a list
    train_step returns in turn, instead of the made-up curve; num_iter defaults to its
    length) — given any, only that scenario runs."""
    __tracebackhide__ = True
    allowed = (*DEFAULTS, "losses")
    unknown = [key for key in options if key not in allowed]
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; the options are {list(allowed)}")
    if options:
        kwargs = {key: value for key, value in options.items() if key != "losses"}
        losses = options.get("losses")
        if losses is not None:
            losses = tuple(float(value) for value in losses)
            kwargs.setdefault("num_iter", len(losses))
            if len(losses) < kwargs["num_iter"]:
                raise TypeError(f"losses holds {len(losses)} values, fewer than num_iter = "
                                f"{kwargs['num_iter']}")
        scenarios = [Scenario(kwargs, losses=losses)]
    else:
        scenarios = list(SCENARIOS)
    name = name_of(lr_range_test, "lr_range_test")
    for index, scenario in enumerate(scenarios):
        run = student_run(lr_range_test, name, scenario)
        problem = what_differs(scenario, run, variant_run(Sweep, scenario))
        if problem is not None:
            others = scenarios[:index] + scenarios[index + 1:]
            if options:
                others += list(SCENARIOS)
            calls, _, lrs, losses, smoothed = run
            student = {0: flattened(calls, lrs, losses, smoothed)}
            causes = _causes(lr_range_test, name, [scenario] + others, student)
            if not scenario.kwargs:
                defaults = _defaults_words(lr_range_test)
                causes = causes if defaults is None else [defaults, *causes]
            message = f"{_call_words(name, scenario)}, with {scenario.words()}: {problem}"
            if causes:
                message += " Likely cause: " + " Or: ".join(causes[:2])
            fail(message, FORMULA)
