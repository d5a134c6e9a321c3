"""Checking a schedule written as a closed form, `rate = f(step, **hyperparameters)`,
against torch's scheduler.

A `Schedule` describes the exercise: its signature's defaults, torch's scheduler built
from the same hyperparameters, the built-in scenarios, and its usual mistakes — small
wrong functions with the student's signature, each marked with the sentence that explains
it. `check` runs the scenarios in turn (or only the one the caller's options describe);
at the first step whose rate differs from torch's, the message names the call, both rates
and how many steps matched. A cause is named only when it reproduces the student's rates
in that scenario AND in every other scenario (the built-in ones and the caller's) where
they differ from torch's (`likely_causes`): a mistake that happens to give the same
numbers in one setting (a rounding slip looks like "one step ahead" when step_size is 3)
is not blamed for the answer.
"""
from builtins import (
    Exception, TypeError, ZeroDivisionError, bool, callable, dict, enumerate, float, int,
    isinstance, len, list, object, range, str, tuple, zip,
)
from dataclasses import dataclass, field, replace

from torch import Tensor as _Tensor
from torch.optim.lr_scheduler import LRScheduler as _TorchScheduler

from course_lib.optim import LRScheduler as _ReferenceScheduler

from .._trusted import isclose, np
from ..failure import CheckFailure, DelegationFailure, fail, kind_of, number
from ..harness import Answer, exercise
from ..failure import name_of
from .oracle import torch_rates

# Whatever else a schedule exercise forbids, no scheduler of torch's or course_lib's may
# compute its rates: their base classes' methods (step, get_last_lr) run in any of them.
SCHEDULERS = (_TorchScheduler, _ReferenceScheduler)

RTOL = 1e-9  # torch chains its rates step by step; a closed form agrees to ~1e-15
# a rate that should be exactly 0 (cosine annealing to eta_min=0) may come back as 1e-17
ATOL_PER_LR = 1e-12
FLOAT32_RTOL = 1e-6  # float32 rounding, far below any mistake's effect
NEARLY_EQUAL = 1e-4  # relative difference below which a message shows 12 digits, not 6


@dataclass(frozen=True)
class Schedule:
    """A closed-form schedule exercise: `name(variable, *, **defaults)`. `scheduler(optimizer,
    settings)` builds torch's twin from the hyperparameters with defaults filled in
    (`settings`), on an optimizer whose lr is settings[scale]; `steps(settings)` is how many
    steps a scenario checks unless it says; `torch_name` and `formula` may depend on the
    settings (callables). `reference` is course_lib's scheduler class of the same schedule;
    it, `forbidden` (torch's) and every scheduler (SCHEDULERS) are what the answer must not
    run, declared in the harness `exercise`."""
    name: str
    variable: str
    reference: object
    forbidden: tuple
    defaults: dict
    scenarios: tuple
    scheduler: callable
    torch_name: object
    scale: str
    steps: callable
    mistakes: tuple
    start_words: str  # the rate at step 0, in words
    later_words: str  # what happens next, in words
    formula: object
    exercise: object = field(init=False)

    def __post_init__(self):
        keywords = ", ".join(key if value is None else f"{key}={value!r}"
                             for key, value in self.defaults.items())
        declared = exercise(self.reference, forbidden=(*self.forbidden, *SCHEDULERS))
        object.__setattr__(self, "exercise", replace(
            declared, name=self.name, parameters=(self.variable, *self.defaults),
            signature=f"{self.name}({self.variable}, *, {keywords})"))

    def options(self):
        return (*self.defaults, "steps")


def _resolved(value, settings):
    return value(settings) if callable(value) else value


class Run:
    """One scenario: the keywords the student's function gets, the steps checked, the
    settings with defaults, and torch's rates for one step more than checked."""

    def __init__(self, schedule, scenario):
        self.kwargs = {key: value for key, value in scenario.items() if key != "steps"}
        self.settings = {**schedule.defaults, **self.kwargs}
        self.count = int(scenario.get("steps", schedule.steps(self.settings)))
        self.scale = float(self.settings[schedule.scale])
        self.torch = torch_rates(lambda optimizer: schedule.scheduler(optimizer, self.settings),
                                 self.scale, self.count + 1)
        self.expected = self.torch[:self.count]

    def call_words(self, name, step):
        arguments = "".join(f", {key}={value!r}" for key, value in self.kwargs.items())
        return f"{name}({step}{arguments})"


# ------------------------------------------------------------------- the student's function

def advice(error):
    """The hint for a schedule raising `error`, or None for the harness's shared advice."""
    if isinstance(error, ZeroDivisionError):
        return "a division by zero — which divisor can be 0 here (a phase of length 0, step 0)?"
    return None


def _as_rate(result, call):
    """The returned rate as a float, or a failure saying what came back instead."""
    __tracebackhide__ = True
    if isinstance(result, _Tensor):
        fail(f"{call} returned a torch.Tensor: return a plain number (math or numpy "
             f"arithmetic, or .item() of a one-element tensor).")
    if isinstance(result, np.ndarray) and result.ndim == 0:
        result = result[()]
    if isinstance(result, bool) or isinstance(result, np.bool_) or not isinstance(
            result, (int, float, np.number)):
        problem = f"{call} returned {kind_of(result)}, but a number, the learning rate, is expected"
        if result is None:
            fail(f"{problem}: did the function end without a `return` statement?")
        if isinstance(result, (list, tuple, np.ndarray)):
            fail(f"{problem}: return the rate at this one step, not a sequence of rates.")
        fail(f"{problem}.")
    if isinstance(result, np.number) and result.dtype.kind == "c":
        fail(f"{call} returned a complex number {result}: a power of a negative number?")
    rate = float(result)
    if rate != rate:
        fail(f"{call} returned nan: 0/0, or inf - inf, somewhere in the formula.")
    return rate


def student_rates(function, name, schedule, run):
    """The student's rates at steps 0 .. run.count - 1, through the harness; a crash or a
    result that is not a number fails."""
    __tracebackhide__ = True
    answer = Answer(schedule.exercise, function, advice=advice)
    rates = []
    for step in range(run.count):
        call = run.call_words(name, step)
        rates.append(_as_rate(answer.run(call, step, **dict(run.kwargs)), call))
    return rates


def formula_rates(formula, run):
    """A function's rates in `run` — inf where it raises, nan where it returns something
    other than a number — for comparing a wrong variant with the student's function."""
    rates = []
    for step in range(run.count):
        try:
            result = formula(step, **dict(run.kwargs))
        except Exception:
            rates.append(float("inf"))
            continue
        rates.append(_number_or_nan(result))
    return rates


def _number_or_nan(result):
    return (float(result) if isinstance(result, (int, float, np.number))
            and not isinstance(result, bool) else float("nan"))


def quiet_rates(function, name, schedule, run):
    """The student's rates in `run` as formula_rates gives them, or None if the function
    fails there (a failure of its own, told when that run is checked); an answer caught
    running what it must not fails all the same."""
    __tracebackhide__ = True
    answer = Answer(schedule.exercise, function)
    rates = []
    for step in range(run.count):
        try:
            result = answer.run(run.call_words(name, step), step, **dict(run.kwargs))
        except DelegationFailure:
            raise
        except CheckFailure:
            return None
        rates.append(_number_or_nan(result))
    return rates


# ------------------------------------------------------------------------------- comparing

def agree(actual, expected, scale, rtol=RTOL):
    """Whether two lists of rates agree, within `rtol` (and a tiny atol, for rates of 0);
    None in `expected` matches anything."""
    if len(actual) != len(expected):
        return False
    pairs = [(a, e) for a, e in zip(actual, expected) if e is not None]
    close = isclose(np.asarray([a for a, _ in pairs], dtype=np.float64),
                    np.asarray([e for _, e in pairs], dtype=np.float64),
                    rtol=rtol, atol=ATOL_PER_LR * scale)
    return bool(close.all())


def first_difference(actual, expected, scale):
    """The first step where `actual` differs from `expected`, or None."""
    close = isclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                    rtol=RTOL, atol=ATOL_PER_LR * scale)
    differing = np.flatnonzero(~close)
    return int(differing[0]) if len(differing) else None


def two_numbers(got, wanted):
    """Both numbers as a student reads them, with digits enough to tell them apart."""
    difference = got - wanted
    if not -NEARLY_EQUAL * wanted <= difference <= NEARLY_EQUAL * wanted:
        return number(got), number(wanted)
    return f"{got:.12g}", f"{wanted:.12g}"


def _matched_steps(step):
    if step == 0:
        return "step 0 already differs"
    if step == 1:
        return "step 0 matches"
    return f"steps 0-{step - 1} match"


# ------------------------------------------------------------------------------- diagnosis

def _candidates(schedule):
    """(rates of the candidate in a run — None where it can't tell —, explanation)."""
    def ahead(run):
        return run.torch[1:run.count + 1] if len(run.torch) > run.count else None

    def behind(run):
        return [None] + run.expected[:run.count - 1] if run.count > 1 else None

    shift = (f"at step 0 the rate is {schedule.start_words}, {schedule.later_words}.")
    return [(lambda run, wrong=wrong: formula_rates(wrong, run), wrong.explanation)
            for wrong in schedule.mistakes] + [
        (ahead, "your rates are torch's one step ahead — your step t gives torch's step t + 1: "
                + shift),
        (behind, "your rates are torch's one step behind — your step t gives torch's step "
                 "t - 1: " + shift),
    ]


def likely_causes(candidates, count, student_in, expected_in, scale_in):
    """The explanations of the candidates that explain the student's rates. Each candidate
    is (rates_in(index) — None where it can't tell —, explanation); there are `count` runs,
    run 0 the one that failed, and `student_in(index)` gives the student's rates (None if
    the function raises there: a failure of its own). A candidate must give the student's
    rates in run 0, differ from torch's there, and give the student's in every run where
    those are wrong too. Of these, the ones that also follow torch wherever the student's
    rates do are preferred: the others are kept only when none does (the mistake may sit
    in a branch that run doesn't take, `if staircase:`)."""
    consistent, preferred = [], []
    for rates_in, explanation in candidates:
        rates = rates_in(0)
        if rates is None or not agree(student_in(0), rates, scale_in(0)) or agree(
                expected_in(0), rates, scale_in(0)):
            continue
        follows_torch = True
        for index in range(1, count):
            rates, student = rates_in(index), student_in(index)
            if rates is None or student is None:
                continue
            if not agree(student, expected_in(index), scale_in(index)):
                if not agree(student, rates, scale_in(index)):
                    break
            elif not agree(rates, expected_in(index), scale_in(index)):
                follows_torch = False
        else:
            consistent.append(explanation)
            if follows_torch:
                preferred.append(explanation)
    return preferred or consistent


def remembered(compute, known=None):
    """compute(index) as a function that computes each index once; `known`: {index: value}
    already computed (the dict fills as values are computed)."""
    values = {} if known is None else known

    def at(index):
        if index not in values:
            values[index] = compute(index)
        return values[index]
    return at


def _causes(schedule, function, name, runs, student):
    """likely_causes among the schedule's mistakes and torch's rates shifted by a step, for
    runs[0], the run that failed; `student` holds the student's rates already computed."""
    candidates = [(remembered(lambda index, rates_of=rates_of: rates_of(runs[index])), explanation)
                  for rates_of, explanation in _candidates(schedule)]
    student_in = remembered(lambda index: quiet_rates(function, name, schedule, runs[index]),
                            student)
    return likely_causes(candidates, len(runs), student_in, lambda index: runs[index].expected,
                         lambda index: runs[index].scale)


def _fail(schedule, function, name, runs, step, student):
    """runs[0] failed at `step`; student[0] holds the student's rates there."""
    __tracebackhide__ = True
    run, actual = runs[0], student[0]
    causes = _causes(schedule, function, name, runs, student)
    got, wanted = two_numbers(actual[step], run.expected[step])
    message = (f"{run.call_words(name, step)} returned {got}, torch's "
               f"{_resolved(schedule.torch_name, run.settings)} gives {wanted} "
               f"({_matched_steps(step)}).")
    if causes:
        message += " Likely cause: " + " Or: ".join(causes[:2])
    elif agree(actual, run.expected, run.scale, rtol=FLOAT32_RTOL):
        message += (f" Close, but not within the tolerance (relative {RTOL}): float32 "
                    f"arithmetic somewhere (np.float32, a float32 array or tensor)? Compute in "
                    f"Python floats or float64.")
    fail(message, _resolved(schedule.formula, run.settings))


def check(schedule, function, options):
    """Compare `function` with torch's scheduler in each scenario — the built-in ones, or
    only the one the caller's `options` describe (the built-in ones then serve only to
    confirm a cause)."""
    __tracebackhide__ = True
    allowed = schedule.options()
    unknown = [key for key in options if key not in allowed]
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; the options are {list(allowed)}")
    name = name_of(function, schedule.name)
    checked = [dict(options)] if options else list(schedule.scenarios)
    runs = [Run(schedule, scenario) for scenario in checked]
    for index, run in enumerate(runs):
        actual = student_rates(function, name, schedule, run)
        step = first_difference(actual, run.expected, run.scale)
        if step is not None:
            others = runs[:index] + runs[index + 1:]
            if options:
                others += [Run(schedule, scenario) for scenario in schedule.scenarios]
            passed = {position: run.expected for position, run in enumerate(runs[:index], 1)}
            _fail(schedule, function, name, [run] + others, step, {0: actual, **passed})
