"""Checks for learning-rate schedules (assignment 04).

The student writes six schedules as closed forms — functions of the step count returning
the rate — and a ReduceLROnPlateau class. Each check runs a list of scenarios, the
signature's defaults first and then one option at a time, so that the first scenario that
fails isolates the mistake. The expected rates come from torch's own schedulers, on a torch
optimizer over one float64 parameter, read with get_last_lr()[0] before each
scheduler.step(): step t is the rate after t calls of step(), step 0 the one right after
construction. A hidden test can pass other hyperparameters as keyword options; the check
then runs that one scenario.

On a mismatch the message names the call, the value returned, torch's value and how many
steps matched, then the likely cause, found by recomputing the usual mistakes (a step too
early or late, ceil for floor, a phase boundary one step off, a parameter ignored...) and
naming those that give exactly what the student's function gave.

torch's schedulers warn when scheduler.step() comes before optimizer.step(), and nbgrader
counts any output on stderr as a failure: the oracle runs with warnings silenced. The
numbers are compared with `_trusted.isclose` and the builtins bound here at import, so a
student's patched np.allclose, math or builtin can't make a wrong answer pass (see the
package docstring).
"""
import builtins
import math
import warnings
from builtins import (
    AssertionError, Exception, NotImplementedError, OverflowError, TypeError, ValueError,
    ZeroDivisionError, bool, dict, enumerate, float, getattr, int, isinstance, len, list, object,
    range, str, tuple, type,
)
from math import ceil as _ceil
from math import cos as _cos
from math import floor as _floor
from math import pi as _pi

from torch import float64 as _torch_float64
from torch import zeros as _torch_zeros
from torch import Tensor as _Tensor
from torch.optim import SGD as _TorchSGD
from torch.optim import lr_scheduler as _lr_scheduler

from ._trusted import at_import, isclose, np, pristine
from .failure import NOT_IMPLEMENTED, CheckFailure, fail, kind_of, number

RTOL = 1e-9  # torch chains its rates step by step; a closed form agrees to ~1e-15
# a rate that should be exactly 0 (cosine annealing to eta_min=0) may come back as 1e-17
ATOL_PER_LR = 1e-12
FLOAT32_RTOL = 1e-6  # float32 rounding, far below any mistake's effect
NEARLY_EQUAL = 1e-4  # relative difference below which a message shows 12 digits, not 6

# What torch's schedulers look up when they run; a student's notebook may have replaced them.
_PRISTINE = at_import(math, ("cos", "floor", "inf", "pi", "log")) + at_import(builtins, (
    "abs", "all", "any", "float", "int", "isinstance", "len", "max", "min", "round", "sum"))



# ----------------------------------------------------------------------------- the oracle



def _torch_rates(make_scheduler, lr, count):
    """The first `count` rates of the torch scheduler `make_scheduler(optimizer)` builds (or
    fewer, if torch refuses to step further), on an SGD optimizer with rate `lr`."""
    parameter = _torch_zeros(1, dtype=_torch_float64, requires_grad=True)
    optimizer = _TorchSGD([parameter], lr=lr)
    rates = []
    with pristine(_PRISTINE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = make_scheduler(optimizer)
        for _ in range(count):
            rates.append(float(scheduler.get_last_lr()[0]))
            try:
                scheduler.step()
            except ValueError:  # OneCycleLR past total_steps
                break
    return rates


# ------------------------------------------------------------------- the student's function

def _name(function, default):
    name = getattr(function, "__name__", default)
    return name if isinstance(name, str) and name.isidentifier() and name != "<lambda>" else default


def _call_words(name, step, kwargs):
    arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
    return f"{name}({step}{arguments})"


def _crashed(call, error):
    __tracebackhide__ = True
    if isinstance(error, NotImplementedError):
        fail(f"{call} raised NotImplementedError: {NOT_IMPLEMENTED}")
    message = f"{call} raised {type(error).__name__}: {error}"
    if isinstance(error, ZeroDivisionError):
        message += ("\nHint: a division by zero — which divisor can be 0 here (a phase of "
                    "length 0, step 0)?")
    raise CheckFailure(message) from error


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


def _student_rates(function, name, kwargs, count):
    __tracebackhide__ = True
    rates = []
    for step in range(count):
        call = _call_words(name, step, kwargs)
        try:
            result = function(step, **dict(kwargs))
        except Exception as error:
            _crashed(call, error)
        rates.append(_as_rate(result, call))
    return rates


def _agree(actual, expected, scale, rtol=RTOL):
    """Whether two lists of rates agree, within `rtol` (and a tiny atol, for rates of 0)."""
    if len(actual) != len(expected):
        return False
    close = isclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                    rtol=rtol, atol=ATOL_PER_LR * scale)
    return bool(close.all())


def _first_difference(actual, expected, scale):
    """The first step where `actual` differs from `expected`, or None."""
    close = isclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                    rtol=RTOL, atol=ATOL_PER_LR * scale)
    differing = np.flatnonzero(~close)
    return int(differing[0]) if len(differing) else None


def _two_numbers(got, wanted):
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


def _shift_causes(actual, expected_beyond, scale, first_rate_words, later_words):
    """'one step ahead' / 'one step behind', if the student's rates are torch's shifted."""
    count = len(actual)
    causes = []
    if len(expected_beyond) > count and _agree(actual, expected_beyond[1:count + 1], scale):
        causes.append(f"your rates are torch's one step ahead — your step t gives torch's step "
                      f"t + 1: at step 0 the rate is {first_rate_words}, {later_words}.")
    if count > 1 and _agree(actual[1:], expected_beyond[:count - 1], scale):
        causes.append(f"your rates are torch's one step behind — your step t gives torch's "
                      f"step t - 1: at step 0 the rate is {first_rate_words}, {later_words}.")
    return causes


def _check_closed_form(function, name, kwargs, count, torch_name, make_scheduler, lr, mistakes,
                       first_rate_words, later_words, hint):
    """The student's rates for steps 0..count-1 against torch's; on a mismatch, the causes
    among `mistakes` ((rates of a wrong formula, explanation) pairs) that fit."""
    __tracebackhide__ = True
    expected_beyond = _torch_rates(make_scheduler, lr, count + 1)
    expected = expected_beyond[:count]
    actual = _student_rates(function, name, kwargs, count)
    scale = float(lr)
    step = _first_difference(actual, expected, scale)
    if step is None:
        return
    causes = [explanation for rates, explanation in mistakes(count)
              if _agree(actual, rates, scale) and not _agree(rates, expected, scale)]
    causes += _shift_causes(actual, expected_beyond, scale, first_rate_words, later_words)
    got, wanted = _two_numbers(actual[step], expected[step])
    message = (f"{_call_words(name, step, kwargs)} returned {got}, torch's {torch_name} gives "
               f"{wanted} ({_matched_steps(step)}).")
    if causes:
        message += " Likely cause: " + " Or: ".join(causes[:2])
    elif _agree(actual, expected, scale, rtol=FLOAT32_RTOL):
        message += (f" Close, but not within the tolerance (relative {RTOL}): float32 "
                    f"arithmetic somewhere (np.float32, a float32 array or tensor)? Compute in "
                    f"Python floats or float64.")
    fail(message, hint)



def _scenarios(defaults, options, allowed):
    """The built-in scenarios, or just the one the caller's options describe."""
    unknown = [key for key in options if key not in allowed]
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; the options are {list(allowed)}")
    return defaults if not options else [dict(options)]


def _split(scenario, default_steps):
    """(keyword arguments for the student's function, number of steps to check)."""
    kwargs = {key: value for key, value in scenario.items() if key != "steps"}
    return kwargs, int(scenario.get("steps", default_steps(kwargs)))


def _safely(formula):
    """`formula`, with a division by zero (a degenerate wrong formula) giving inf."""
    def guarded(t):
        try:
            return formula(t)
        except (ZeroDivisionError, OverflowError, ValueError):
            return float("inf")
    return guarded


def _mistake_list(pairs, count):
    return [([float(_safely(formula)(t)) for t in range(count)], explanation)
            for formula, explanation in pairs]


# ---------------------------------------------------------------------------------- step_lr

STEP_LR_SCENARIOS = [
    {"base_lr": 0.1, "step_size": 3},
    {"base_lr": 1.0, "step_size": 4, "gamma": 0.5},
    {"base_lr": 0.5, "step_size": 1, "gamma": 0.9},
]


def check_step_lr(step_lr, **options):
    """Compare `step_lr(epoch, *, base_lr, step_size, gamma=0.1)` with torch's StepLR for
    epochs 0 to `steps` - 1 (default: 3 step sizes and a bit). Options: base_lr, step_size,
    gamma, steps — given any, only that scenario runs; without, the built-in ones."""
    __tracebackhide__ = True
    name = _name(step_lr, "step_lr")
    for scenario in _scenarios(STEP_LR_SCENARIOS, options,
                               ("base_lr", "step_size", "gamma", "steps")):
        kwargs, count = _split(scenario, lambda k: 3 * k["step_size"] + 2)
        base_lr, step_size, gamma = kwargs["base_lr"], kwargs["step_size"], kwargs.get("gamma", 0.1)

        def mistakes(n, base_lr=base_lr, step_size=step_size, gamma=gamma):
            return _mistake_list([
                (lambda t: base_lr * gamma ** _ceil(t / step_size),
                 "gamma ** ceil(epoch / step_size) instead of gamma ** floor(epoch / step_size): "
                 "the first decay comes after step_size whole epochs, use epoch // step_size."),
                (lambda t: base_lr * gamma ** (t / step_size),
                 "a continuous decay gamma ** (epoch / step_size): StepLR is a staircase, "
                 "gamma ** (epoch // step_size) with integer division."),
                (lambda t: base_lr * gamma ** t,
                 "the rate decays every epoch (gamma ** epoch): it decays once every step_size "
                 "epochs, gamma ** (epoch // step_size)."),
                (lambda t: base_lr * gamma * (t // step_size) if t >= step_size else base_lr,
                 "gamma times the number of decays: the decays multiply, gamma ** (epoch // "
                 "step_size)."),
            ], n)

        _check_closed_form(
            step_lr, name, kwargs, count, "StepLR",
            lambda optimizer, s=step_size, g=gamma: _lr_scheduler.StepLR(optimizer, s, g),
            base_lr, mistakes, "base_lr", "the first decay comes after step_size steps",
            "base_lr * gamma ** (epoch // step_size)")


# -------------------------------------------------------------------------- exponential_lr

EXPONENTIAL_LR_SCENARIOS = [
    {"base_lr": 0.1, "gamma": 0.9},
    {"base_lr": 1.0, "gamma": 0.5, "decay_epochs": 4},
    {"base_lr": 1.0, "gamma": 0.5, "decay_epochs": 3, "staircase": True},
    {"base_lr": 0.2, "gamma": 0.8, "staircase": True},
]


def check_exponential_lr(exponential_lr, **options):
    """Compare `exponential_lr(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False)`
    with torch: ExponentialLR(gamma ** (1 / decay_epochs)), or StepLR(step_size=decay_epochs,
    gamma) with staircase=True. Options: base_lr, gamma, decay_epochs, staircase, steps."""
    __tracebackhide__ = True
    name = _name(exponential_lr, "exponential_lr")
    for scenario in _scenarios(EXPONENTIAL_LR_SCENARIOS, options,
                               ("base_lr", "gamma", "decay_epochs", "staircase", "steps")):
        kwargs, count = _split(scenario, lambda k: 3 * k.get("decay_epochs", 1) + 5)
        base_lr, gamma = kwargs["base_lr"], kwargs["gamma"]
        decay_epochs, staircase = kwargs.get("decay_epochs", 1), kwargs.get("staircase", False)
        if staircase:
            torch_name = "StepLR"

            def make(optimizer, d=decay_epochs, g=gamma):
                return _lr_scheduler.StepLR(optimizer, d, g)
        else:
            torch_name = "ExponentialLR"

            def make(optimizer, d=decay_epochs, g=gamma):
                return _lr_scheduler.ExponentialLR(optimizer, g ** (1 / d))

        def mistakes(n, base_lr=base_lr, gamma=gamma, d=decay_epochs, staircase=staircase):
            pairs = [
                (lambda t: base_lr * gamma ** t,
                 "decay_epochs is ignored: the exponent is epoch / decay_epochs, so gamma is "
                 "reached after decay_epochs epochs."),
                (lambda t: base_lr * gamma ** (t * d),
                 "the exponent is epoch * decay_epochs: it is epoch / decay_epochs."),
                (lambda t: base_lr * gamma ** (d / t) if t else base_lr,
                 "the exponent is decay_epochs / epoch: it is epoch / decay_epochs."),
            ]
            if staircase:
                pairs += [
                    (lambda t: base_lr * gamma ** (t / d),
                     "staircase=True is ignored: then the exponent is floor(epoch / "
                     "decay_epochs), epoch // decay_epochs, so the rate drops in steps."),
                    (lambda t: base_lr * gamma ** _ceil(t / d),
                     "ceil(epoch / decay_epochs) instead of floor: the first drop comes after "
                     "decay_epochs whole epochs."),
                ]
            else:
                pairs.append(
                    (lambda t: base_lr * gamma ** (t // d),
                     "the exponent is rounded down although staircase=False: only staircase=True "
                     "uses floor(epoch / decay_epochs); otherwise the rate decays smoothly, "
                     "epoch / decay_epochs."))
            return _mistake_list(pairs, n)

        exponent = "epoch // decay_epochs" if staircase else "epoch / decay_epochs"
        _check_closed_form(
            exponential_lr, name, kwargs, count, torch_name, make, base_lr, mistakes,
            "base_lr", "gamma ** (epoch / decay_epochs) after that",
            f"base_lr * gamma ** ({exponent})")


# --------------------------------------------------------------------- cosine_annealing_lr

def _cosine(t, base_lr, T_max, eta_min):
    return eta_min + (base_lr - eta_min) * (1 + _cos(_pi * t / T_max)) / 2


COSINE_HINT = "eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2"

COSINE_ANNEALING_LR_SCENARIOS = [
    {"base_lr": 0.1, "T_max": 10},
    {"base_lr": 0.1, "T_max": 10, "eta_min": 0.001},
    {"base_lr": 1.0, "T_max": 7, "eta_min": 0.2},
    {"base_lr": 0.5, "T_max": 1, "eta_min": 0.05},
]


def _cosine_mistakes(base_lr, T_max, eta_min, shift=0):
    """Wrong cosine annealings of `t - shift` steps, as (formula of t, explanation)."""
    return [
        (lambda t: base_lr * (1 + _cos(_pi * (t - shift) / T_max)) / 2,
         "eta_min is ignored: the rate goes from base_lr down to eta_min, eta_min + (base_lr - "
         "eta_min) * (1 + cos(...)) / 2."),
        (lambda t: (base_lr - eta_min) * (1 + _cos(_pi * (t - shift) / T_max)) / 2,
         "eta_min is not added back: eta_min + (base_lr - eta_min) * (1 + cos(...)) / 2."),
        (lambda t: eta_min + base_lr * (1 + _cos(_pi * (t - shift) / T_max)) / 2,
         "the amplitude is base_lr instead of base_lr - eta_min, so the rate starts at "
         "base_lr + eta_min."),
        (lambda t: eta_min * base_lr * (1 + _cos(_pi * (t - shift) / T_max)) / 2,
         "eta_min is applied as a factor: it is the lowest rate, added, eta_min + (base_lr - "
         "eta_min) * (1 + cos(...)) / 2."),
        (lambda t: eta_min + (base_lr - eta_min) * _cos(_pi * (t - shift) / T_max),
         "cos(pi * t / T_max) without (1 + ...) / 2: the cosine runs from 1 to -1, and "
         "(1 + cos) / 2 maps it onto 1 to 0."),
        (lambda t: eta_min + (base_lr - eta_min) * (1 + _cos(_pi * (t - shift) / T_max)),
         "(1 + cos(...)) without the / 2: it runs from 2 to 0, and the rate must start at "
         "base_lr."),
        (lambda t: eta_min + (base_lr - eta_min) * (1 + _cos((t - shift) / T_max)) / 2,
         "cos(t / T_max) without pi: the cosine must run over half a period, pi * t / T_max."),
        (lambda t: eta_min + (base_lr - eta_min) * (1 + _cos(_pi * (t - shift) / (T_max + 1))) / 2,
         "the period is T_max + 1: the rate reaches eta_min at exactly t = T_max, "
         "cos(pi * t / T_max)."),
        (lambda t: eta_min + (base_lr - eta_min) * (1 + _cos(_pi * (t - shift) / (T_max - 1))) / 2,
         "the period is T_max - 1: the rate reaches eta_min at exactly t = T_max, "
         "cos(pi * t / T_max)."),
    ]


def check_cosine_annealing_lr(cosine_annealing_lr, **options):
    """Compare `cosine_annealing_lr(epoch, *, base_lr, T_max, eta_min=0.0)` with torch's
    CosineAnnealingLR for epochs 0 to T_max. Options: base_lr, T_max, eta_min, steps (epochs
    checked, at most T_max + 1)."""
    __tracebackhide__ = True
    name = _name(cosine_annealing_lr, "cosine_annealing_lr")
    for scenario in _scenarios(COSINE_ANNEALING_LR_SCENARIOS, options,
                               ("base_lr", "T_max", "eta_min", "steps")):
        kwargs, count = _split(scenario, lambda k: k["T_max"] + 1)
        base_lr, T_max, eta_min = kwargs["base_lr"], kwargs["T_max"], kwargs.get("eta_min", 0.0)

        def mistakes(n, base_lr=base_lr, T_max=T_max, eta_min=eta_min):
            return _mistake_list(_cosine_mistakes(base_lr, T_max, eta_min), n)

        _check_closed_form(
            cosine_annealing_lr, name, kwargs, count, "CosineAnnealingLR",
            lambda optimizer, T=T_max, e=eta_min: _lr_scheduler.CosineAnnealingLR(optimizer, T, e),
            base_lr, mistakes, "base_lr", "and eta_min is reached at step T_max", COSINE_HINT)


# ------------------------------------------------------------------------ warmup_cosine_lr

WARMUP_COSINE_LR_SCENARIOS = [
    {"base_lr": 0.1, "warmup_steps": 5, "total_steps": 20},
    {"base_lr": 1.0, "warmup_steps": 3, "total_steps": 12, "start_factor": 0.25},
    {"base_lr": 0.1, "warmup_steps": 4, "total_steps": 10, "eta_min": 0.01},
    {"base_lr": 0.5, "warmup_steps": 1, "total_steps": 6, "start_factor": 0.5},
]


def _warmup_cosine_parts(base_lr, warmup_steps, total_steps, start_factor, eta_min):
    def warmup(t, length=warmup_steps):
        return base_lr * (start_factor + (1 - start_factor) * t / length)

    def cosine(t, T_max=total_steps - warmup_steps, e=eta_min):
        return _cosine(t, base_lr, T_max, e)

    return warmup, cosine


def check_warmup_cosine_lr(warmup_cosine_lr, **options):
    """Compare `warmup_cosine_lr(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
    eta_min=0.0)` with torch's SequentialLR(LinearLR(start_factor, 1.0, warmup_steps),
    CosineAnnealingLR(total_steps - warmup_steps, eta_min), milestones=[warmup_steps]) for
    steps 0 to total_steps. Options: base_lr, warmup_steps, total_steps, start_factor,
    eta_min, steps."""
    __tracebackhide__ = True
    name = _name(warmup_cosine_lr, "warmup_cosine_lr")
    for scenario in _scenarios(WARMUP_COSINE_LR_SCENARIOS, options,
                               ("base_lr", "warmup_steps", "total_steps", "start_factor",
                                "eta_min", "steps")):
        kwargs, count = _split(scenario, lambda k: k["total_steps"] + 1)
        base_lr, warmup_steps, total_steps = (kwargs["base_lr"], kwargs["warmup_steps"],
                                              kwargs["total_steps"])
        start_factor, eta_min = kwargs.get("start_factor", 0.1), kwargs.get("eta_min", 0.0)

        def make(optimizer, w=warmup_steps, T=total_steps - warmup_steps, s=start_factor,
                 e=eta_min):
            return _lr_scheduler.SequentialLR(optimizer, [
                _lr_scheduler.LinearLR(optimizer, start_factor=s, end_factor=1.0, total_iters=w),
                _lr_scheduler.CosineAnnealingLR(optimizer, T_max=T, eta_min=e)], milestones=[w])

        def mistakes(n, base_lr=base_lr, w=warmup_steps, total=total_steps, s=start_factor,
                     e=eta_min):
            warmup, cosine = _warmup_cosine_parts(base_lr, w, total, s, e)

            def joined(warm, cos_of_t):
                return lambda t: warm(t) if t < w else cos_of_t(t)

            pairs = [
                (joined(lambda t: warmup(t, w - 1) if t < w - 1 else base_lr,
                        lambda t: cosine(t - w)),
                 "the warmup reaches base_lr one step early: torch's LinearLR multiplies by "
                 "start_factor + (1 - start_factor) * step / warmup_steps, which is 1 at step "
                 "warmup_steps."),
                (joined(lambda t: warmup(t, w + 1), lambda t: cosine(t - w)),
                 "the warmup reaches base_lr one step late: the factor is start_factor + (1 - "
                 "start_factor) * step / warmup_steps, 1 at step warmup_steps."),
                (joined(lambda t: base_lr * t / w, lambda t: cosine(t - w)),
                 "the warmup starts from 0 instead of start_factor * base_lr: the factor is "
                 "start_factor + (1 - start_factor) * step / warmup_steps."),
                (joined(lambda t: base_lr * s * t / w if t else base_lr * s,
                        lambda t: cosine(t - w)),
                 "the warmup factor is start_factor * step / warmup_steps: it is start_factor + "
                 "(1 - start_factor) * step / warmup_steps."),
                (joined(warmup, lambda t: cosine(t - w + 1)),
                 "the cosine phase starts one step early, at step warmup_steps - 1: the cosine's "
                 "own step count is step - warmup_steps, 0 at the milestone."),
                (joined(warmup, lambda t: cosine(t - w - 1)),
                 "the cosine phase starts one step late: at the milestone, step warmup_steps, "
                 "the cosine restarts at its own step 0 (rate base_lr)."),
                (joined(warmup, lambda t: _cosine(t - w, base_lr, total, e)),
                 "T_max = total_steps: the cosine phase lasts total_steps - warmup_steps steps, "
                 "so that it reaches eta_min at step total_steps."),
                (joined(warmup, lambda t: _cosine(t, base_lr, total, e)),
                 "the cosine is not restarted at the milestone: it runs on its own step count, "
                 "step - warmup_steps, with T_max = total_steps - warmup_steps."),
                (joined(warmup, lambda t: _cosine(t, base_lr, total - w, e)),
                 "the cosine is not restarted at the milestone: it runs on its own step count, "
                 "step - warmup_steps."),
                (joined(warmup, lambda t: _cosine(t - w, base_lr, total - w, 0.0)),
                 "eta_min is ignored in the cosine phase."),
                (joined(warmup, lambda t: _cosine(t - w, base_lr - e, total - w, 0.0)),
                 "eta_min is not added back: eta_min + (base_lr - eta_min) * (1 + cos(...)) / 2."),
                (joined(warmup,
                        lambda t: e + base_lr * (1 + _cos(_pi * (t - w) / (total - w))) / 2),
                 "the cosine's amplitude is base_lr instead of base_lr - eta_min."),
                (joined(warmup, lambda t: e + (base_lr - e) * _cos(_pi * (t - w) / (total - w))),
                 "cos(pi * t / T_max) without (1 + ...) / 2 in the cosine phase."),
            ]
            return _mistake_list(pairs, n)

        _check_closed_form(
            warmup_cosine_lr, name, kwargs, count, "SequentialLR(LinearLR, CosineAnnealingLR)",
            make, base_lr, mistakes, "start_factor * base_lr",
            "it reaches base_lr at step warmup_steps, where the cosine phase starts at its own "
            "step 0",
            "for step < warmup_steps: base_lr * (start_factor + (1 - start_factor) * step / "
            "warmup_steps); from then on cosine annealing of step - warmup_steps with T_max = "
            "total_steps - warmup_steps: eta_min + (base_lr - eta_min) * (1 + cos(pi * (step - "
            "warmup_steps) / T_max)) / 2")


# ---------------------------------------------------------------------------- one_cycle_lr

ONE_CYCLE_LR_SCENARIOS = [
    {"max_lr": 0.1, "total_steps": 20},
    {"max_lr": 1.0, "total_steps": 16, "pct_start": 0.25},
    {"max_lr": 0.1, "total_steps": 20, "div_factor": 10.0, "final_div_factor": 100.0},
    {"max_lr": 0.1, "total_steps": 20, "three_phase": True},
    {"max_lr": 0.5, "total_steps": 11, "pct_start": 0.4, "div_factor": 5.0,
     "final_div_factor": 50.0, "three_phase": True},
]


def _annealing_cos(start, end, pct):
    return end + (start - end) / 2.0 * (1 + _cos(_pi * pct))


def _annealing_linear(start, end, pct):
    return (end - start) * pct + start


def _one_cycle(t, max_lr, total_steps, pct_start, div_factor, final_div_factor, three_phase,
               *, phase_shift=-1.0, min_lr=None, anneal=_annealing_cos):
    """torch's OneCycleLR at step t; the keywords make the usual mistakes."""
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor if min_lr is None else min_lr
    if three_phase:
        phases = [(float(pct_start * total_steps) + phase_shift, initial_lr, max_lr),
                  (float(2 * pct_start * total_steps) + 2 * phase_shift, max_lr, initial_lr),
                  (total_steps - 1, initial_lr, min_lr)]
    else:
        phases = [(float(pct_start * total_steps) + phase_shift, initial_lr, max_lr),
                  (total_steps - 1, max_lr, min_lr)]
    start_step = 0
    for index, (end_step, start, end) in enumerate(phases):
        if t <= end_step or index == len(phases) - 1:
            return anneal(start, end, (t - start_step) / (end_step - start_step))
        start_step = end_step
    raise AssertionError("unreachable")


def check_one_cycle_lr(one_cycle_lr, **options):
    """Compare `one_cycle_lr(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
    final_div_factor=1e4, three_phase=False)` with torch's OneCycleLR (cosine annealing,
    cycle_momentum=False) for steps 0 to total_steps - 1. Options: max_lr, total_steps,
    pct_start, div_factor, final_div_factor, three_phase, steps."""
    __tracebackhide__ = True
    name = _name(one_cycle_lr, "one_cycle_lr")
    for scenario in _scenarios(ONE_CYCLE_LR_SCENARIOS, options,
                               ("max_lr", "total_steps", "pct_start", "div_factor",
                                "final_div_factor", "three_phase", "steps")):
        kwargs, count = _split(scenario, lambda k: k["total_steps"])
        settings = (kwargs["max_lr"], kwargs["total_steps"], kwargs.get("pct_start", 0.3),
                    kwargs.get("div_factor", 25.0), kwargs.get("final_div_factor", 1e4),
                    kwargs.get("three_phase", False))
        max_lr, total_steps, pct_start, div_factor, final_div_factor, three_phase = settings

        def make(optimizer, s=settings):
            return _lr_scheduler.OneCycleLR(
                optimizer, max_lr=s[0], total_steps=s[1], pct_start=s[2], anneal_strategy="cos",
                cycle_momentum=False, div_factor=s[3], final_div_factor=s[4], three_phase=s[5])

        def mistakes(n, s=settings):
            def variant(**how):
                return lambda t: _one_cycle(t, *s, **how)

            pairs = [
                (variant(phase_shift=0.0),
                 "the warm-up phase ends at step pct_start * total_steps: torch ends it at "
                 "float(pct_start * total_steps) - 1, so that the phases' ends count steps from "
                 "0 (and the last phase ends at total_steps - 1)."),
                (variant(min_lr=s[0] / s[4]),
                 "the lowest rate is max_lr / final_div_factor: it is initial_lr / "
                 "final_div_factor, with initial_lr = max_lr / div_factor."),
                (variant(anneal=_annealing_linear),
                 "the rate changes linearly: anneal with a cosine, end + (start - end) / 2 * "
                 "(1 + cos(pi * pct)), pct the fraction of the phase done."),
                (variant(min_lr=s[0] / s[3]),
                 "the last phase ends at initial_lr: it goes down to initial_lr / "
                 "final_div_factor."),
                (lambda t: _one_cycle(t, *s[:5], not s[5]),
                 "three_phase is ignored: with three_phase=True the rate goes up to max_lr, back "
                 "down to initial_lr by step 2 * pct_start * total_steps - 2, then down to "
                 "initial_lr / final_div_factor." if s[5] else
                 "the cycle has three phases although three_phase=False: by default the rate "
                 "goes up to max_lr, then down to initial_lr / final_div_factor."),
            ]
            return _mistake_list(pairs, n)

        _check_closed_form(
            one_cycle_lr, name, kwargs, count, "OneCycleLR", make, max_lr, mistakes,
            "max_lr / div_factor", "max_lr is reached at step pct_start * total_steps - 1",
            "phases end at steps float(pct_start * total_steps) - 1 (and, with three_phase, "
            "float(2 * pct_start * total_steps) - 2) and total_steps - 1; within a phase from "
            "start to end, pct = (step - phase_start) / (phase_end - phase_start) and the rate is "
            "end + (start - end) / 2 * (1 + cos(pi * pct)).")


# ------------------------------------------------------------------------------- cyclic_lr

# Three cycles of the default 2000 + 2000 steps take ~0.1 s to check; longer cycles are
# checked up to here unless the caller asks for more steps.
CYCLIC_MAX_STEPS = 12001
CYCLIC_LR_SCENARIOS = [
    {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4},
    {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 5},
    {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "triangular2"},
    {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "exp_range", "gamma": 0.9},
    {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 1},
]


def _cyclic(t, base_lr, max_lr, up, down, mode, gamma, *, scale=None, whole_rate=False):
    """torch's CyclicLR at step t; `scale` (a function of cycle and t) and `whole_rate`
    make the usual mistakes."""
    down = up if down is None else down
    total_size = float(up) + float(down)
    step_ratio = float(up) / total_size
    cycle = _floor(1 + t / total_size)
    x = 1.0 + t / total_size - cycle
    scale_factor = x / step_ratio if x <= step_ratio else (x - 1) / (step_ratio - 1)
    if scale is None:
        scale = {"triangular": lambda c, i: 1.0,
                 "triangular2": lambda c, i: 1 / (2.0 ** (c - 1)),
                 "exp_range": lambda c, i: gamma ** i}[mode]
    factor = scale(cycle, t)
    if whole_rate:
        return (base_lr + (max_lr - base_lr) * scale_factor) * factor
    return base_lr + (max_lr - base_lr) * scale_factor * factor


def check_cyclic_lr(cyclic_lr, **options):
    """Compare `cyclic_lr(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
    mode="triangular", gamma=1.0)` with torch's CyclicLR (cycle_momentum=False) over three
    cycles (at most 12001 steps unless `steps` says otherwise). Options: base_lr, max_lr,
    step_size_up, step_size_down, mode, gamma, steps."""
    __tracebackhide__ = True
    name = _name(cyclic_lr, "cyclic_lr")
    for scenario in _scenarios(CYCLIC_LR_SCENARIOS, options,
                               ("base_lr", "max_lr", "step_size_up", "step_size_down", "mode",
                                "gamma", "steps")):
        def default_steps(k):
            up = k.get("step_size_up", 2000)
            down = k.get("step_size_down")
            return min(3 * (up + (up if down is None else down)) + 1, CYCLIC_MAX_STEPS)

        kwargs, count = _split(scenario, default_steps)
        settings = (kwargs["base_lr"], kwargs["max_lr"], kwargs.get("step_size_up", 2000),
                    kwargs.get("step_size_down"), kwargs.get("mode", "triangular"),
                    kwargs.get("gamma", 1.0))
        base_lr, max_lr, up, down, mode, gamma = settings

        def make(optimizer, s=settings):
            return _lr_scheduler.CyclicLR(
                optimizer, base_lr=s[0], max_lr=s[1], step_size_up=s[2], step_size_down=s[3],
                mode=s[4], gamma=s[5], cycle_momentum=False)

        def mistakes(n, s=settings):
            def variant(**how):
                return lambda t: _cyclic(t, *s, **how)

            pairs = [(lambda t: _cyclic(t, s[0], s[1], s[2], None, s[4], s[5]),
                      "step_size_down is ignored: the rate rises for step_size_up steps, then "
                      "falls for step_size_down steps (step_size_up if None); a cycle is their "
                      "sum.")]
            if s[4] == "triangular2":
                pairs += [
                    (variant(scale=lambda c, i: 1 / 2.0 ** c),
                     "the amplitude is halved already in the first cycle: it is (max_lr - "
                     "base_lr) / 2 ** (cycle - 1), with cycle counted from 1."),
                    (variant(scale=lambda c, i: 1 / 2.0 ** (c - 1) if c > 1 else 1.0,
                             whole_rate=True),
                     "the whole rate is halved: only the amplitude max_lr - base_lr is, the rate "
                     "still starts each cycle at base_lr."),
                    (variant(scale=lambda c, i: 1 / (2.0 * (c - 1)) if c > 1 else 1.0),
                     "the amplitude is divided by 2 * (cycle - 1): it is halved each cycle, "
                     "divided by 2 ** (cycle - 1)."),
                    (variant(scale=lambda c, i: 1.0),
                     "mode='triangular2' is treated like 'triangular': halve the amplitude "
                     "every cycle."),
                ]
            if s[4] == "exp_range":
                pairs += [
                    (variant(scale=lambda c, i: s[5] ** c),
                     "the amplitude is scaled by gamma ** cycle: torch scales it by gamma ** "
                     "step, the number of steps so far (gamma ** last_epoch)."),
                    (variant(scale=lambda c, i: s[5] ** (c - 1)),
                     "the amplitude is scaled by gamma ** (cycle - 1): torch scales it by "
                     "gamma ** step, the number of steps so far (gamma ** last_epoch)."),
                    (variant(scale=lambda c, i: s[5] ** i, whole_rate=True),
                     "the whole rate is scaled by gamma ** step: only the amplitude max_lr - "
                     "base_lr is."),
                    (variant(scale=lambda c, i: 1.0),
                     "mode='exp_range' is treated like 'triangular': scale the amplitude by "
                     "gamma ** step."),
                ]
            pairs.append(
                (lambda t: s[0] + (s[1] - s[0]) * (1.0 + t / (float(s[2]) + float(
                    s[2] if s[3] is None else s[3])) - _floor(t / (float(s[2]) + float(
                        s[2] if s[3] is None else s[3])))),
                 "x, the position within the cycle, is used as the rate's fraction directly: "
                 "the rate rises for x <= step_ratio (x / step_ratio) and falls after "
                 "((x - 1) / (step_ratio - 1))."))
            return _mistake_list(pairs, n)

        _check_closed_form(
            cyclic_lr, name, kwargs, count, "CyclicLR", make, max_lr, mistakes,
            "base_lr", "max_lr is reached at step step_size_up",
            "with cycle = floor(1 + step / (up + down)) and x = 1 + step / (up + down) - cycle, "
            "the fraction of the amplitude is x / step_ratio while x <= step_ratio = up / (up + "
            "down), then (x - 1) / (step_ratio - 1); the rate is base_lr + (max_lr - base_lr) * "
            "fraction * scale, scale 1, 1 / 2 ** (cycle - 1) or gamma ** step for the three modes.")


# ----------------------------------------------------------------------- ReduceLROnPlateau

class _Optimizer(object):
    """What the student's ReduceLROnPlateau gets: just a learning rate."""

    def __init__(self, lr):
        self.lr = lr

    def __repr__(self):
        return f"optimizer(lr={self.lr!r})"


_FLAT = [0.8] * 12
PLATEAU_SCENARIOS = [
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
]


def _plateau_lrs(metrics, lr, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, *, mistake=None):
    """optimizer.lr after each step of ReduceLROnPlateau written with `mistake` (for naming
    causes: the right one comes from torch)."""
    if mistake == "rel/abs swapped":
        threshold_mode = "abs" if threshold_mode == "rel" else "rel"
    if mistake == "mode ignored":
        mode = "min"
    best = float("inf") if mode == "min" else -float("inf")
    bad = cooldown_counter = 0
    rates = []
    for value in metrics:
        if mistake == "threshold ignored":
            better = value < best if mode == "min" else value > best
        elif threshold_mode == "rel":
            better = (value < best * (1 - threshold) if mode == "min"
                      else value > best * (1 + threshold))
        else:
            better = value < best - threshold if mode == "min" else value > best + threshold
        if better:
            if mistake != "best not updated" or best in (float("inf"), -float("inf")):
                best = value
            bad = 0
        else:
            bad += 1
        if cooldown_counter > 0 and mistake != "cooldown ignored":
            cooldown_counter -= 1
            bad = 0
        limit = {"reduces at patience": patience - 1, "patience + 1": patience + 1}.get(
            mistake, patience)
        if bad > limit:
            lr = lr * factor if mistake == "min_lr ignored" else _larger(lr * factor, min_lr)
            cooldown_counter = cooldown + {"cooldown too long": 1, "cooldown too short": -1}.get(
                mistake, 0)
            if mistake != "counter not reset":
                bad = 0
        rates.append(lr)
    return rates


def _larger(a, b):
    return a if a >= b else b


PLATEAU_MISTAKES = {
    "reduces at patience": "patience is off by one: the rate drops when the number of bad "
                           "epochs in a row EXCEEDS patience (patience + 1 bad epochs), not "
                           "when it reaches patience.",
    "patience + 1": "patience is off by one: the rate drops after patience + 1 bad epochs in a "
                    "row (num_bad_epochs > patience), not patience + 2.",
    "rel/abs swapped": "threshold_mode is swapped: 'rel' means better than best * (1 - "
                       "threshold) (mode='min'), 'abs' better than best - threshold.",
    "threshold ignored": "the threshold is ignored: an epoch counts as an improvement only if "
                         "the metric beats the best by more than the threshold, e.g. metric < "
                         "best * (1 - threshold) for mode='min', threshold_mode='rel'.",
    "mode ignored": "mode='max' is ignored: then higher is better, metric > best * (1 + "
                    "threshold), and best starts at -inf.",
    "best not updated": "best is never updated: set best = metric whenever the metric improves.",
    "counter not reset": "the count of bad epochs is not reset after a reduction: set it to 0, "
                         "so that the next reduction waits another patience + 1 bad epochs.",
    "cooldown ignored": "cooldown is ignored: after a reduction, for cooldown epochs no epoch "
                        "counts as bad (the counter stays at 0).",
    "cooldown too long": "the cooldown lasts one epoch too long: after a reduction, exactly "
                         "cooldown epochs don't count as bad (cooldown_counter = cooldown, and "
                         "each step while it is above 0 decreases it and sets the bad-epoch "
                         "count to 0).",
    "cooldown too short": "the cooldown is one epoch short: after a reduction, exactly cooldown "
                          "epochs don't count as bad (cooldown_counter = cooldown, and each step "
                          "while it is above 0 decreases it and sets the bad-epoch count to 0).",
    "min_lr ignored": "min_lr is ignored: the new rate is max(lr * factor, min_lr).",
}


def _torch_plateau_lrs(kwargs, lr, metrics, eps):
    parameter = _torch_zeros(1, dtype=_torch_float64, requires_grad=True)
    optimizer = _TorchSGD([parameter], lr=lr)
    rates = []
    with pristine(_PRISTINE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = _lr_scheduler.ReduceLROnPlateau(optimizer, **dict(kwargs), eps=eps)
        for value in metrics:
            scheduler.step(value)
            rates.append(float(optimizer.param_groups[0]["lr"]))
    return rates


def _plateau_rate(optimizer, described):
    __tracebackhide__ = True
    rate = getattr(optimizer, "lr", None)
    if isinstance(rate, _Tensor) or isinstance(rate, bool) or not isinstance(
            rate, (int, float, np.number)):
        fail(f"{described}, optimizer.lr is {kind_of(rate)}: the scheduler must set "
             f"optimizer.lr to the new rate, a number.")
    return float(rate)


def check_reduce_lr_on_plateau(ReduceLROnPlateau, **options):
    """Build `ReduceLROnPlateau(optimizer, **keywords)` on an object with an `lr` attribute,
    call step(metric) for each metric of a stream and compare optimizer.lr after every step
    with torch's ReduceLROnPlateau. Scenarios: patience and factor, the defaults, relative and
    absolute thresholds, mode="max", cooldown, min_lr. Options: the constructor's keywords
    (mode, factor, patience, threshold, threshold_mode, cooldown, min_lr), plus lr (initial
    rate, default 0.1) and metrics (a list of numbers); given any, only that scenario runs."""
    __tracebackhide__ = True
    allowed = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr",
               "lr", "metrics")
    unknown = [key for key in options if key not in allowed]
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; the options are {list(allowed)}")
    if options:
        kwargs = {key: value for key, value in options.items() if key not in ("lr", "metrics")}
        metrics = options.get("metrics", PLATEAU_SCENARIOS[0][2])
        scenarios = [(kwargs, options.get("lr", 0.1), list(metrics))]
    else:
        scenarios = PLATEAU_SCENARIOS
    name = _name(ReduceLROnPlateau, "ReduceLROnPlateau")
    writes_lr = False  # whether a scenario passed shows that optimizer.lr gets written
    for kwargs, lr, metrics in scenarios:
        reduced = _check_plateau_scenario(ReduceLROnPlateau, name, dict(kwargs), float(lr),
                                          list(metrics), writes_lr)
        writes_lr = writes_lr or reduced


def _check_plateau_scenario(ReduceLROnPlateau, name, kwargs, lr, metrics, writes_lr):
    """Whether the rate changed, if the student's class follows torch's on `metrics`;
    otherwise a failure naming the first epoch that differs and the likely causes."""
    __tracebackhide__ = True
    arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
    construction = f"{name}(optimizer{arguments}) with optimizer.lr = {number(lr)} at the start"
    optimizer = _Optimizer(lr)
    try:
        scheduler = ReduceLROnPlateau(optimizer, **dict(kwargs))
    except Exception as error:
        _crashed(construction, error)
    # torch skips a reduction smaller than its eps=1e-8; the student's class need not have
    # eps, so torch without it (eps=0) is the oracle, and torch's default passes too
    expected = _torch_plateau_lrs(kwargs, lr, metrics, 0.0)
    actual = []
    for index, value in enumerate(metrics):
        described = f"{construction}: after step({value!r}) (epoch {index + 1})"
        try:
            scheduler.step(value)
        except Exception as error:
            _crashed(f"{construction}: step({value!r}) at epoch {index + 1}", error)
        actual.append(_plateau_rate(optimizer, described))
    step = _first_difference(actual, expected, lr)
    if step is None or _agree(actual, _torch_plateau_lrs(kwargs, lr, metrics, 1e-8), lr):
        return not _all_equal(actual, lr)
    stream = ", ".join(number(value) for value in metrics[:step + 1])
    got, wanted = _two_numbers(actual[step], expected[step])
    message = (f"{construction}, fed the metrics {stream}: after step({number(metrics[step])}) "
               f"(epoch {step + 1}) optimizer.lr is {got}, torch's ReduceLROnPlateau gives "
               f"{wanted} "
               + ("(the epochs before match)." if step else "(already after the first step)."))
    causes = []
    for mistake, explanation in PLATEAU_MISTAKES.items():
        mistaken = _plateau_lrs(metrics, lr, **dict(kwargs), mistake=mistake)
        if _agree(actual, mistaken, lr) and not _agree(expected, mistaken, lr):
            causes.append(explanation)
    if _all_equal(actual, lr) and not writes_lr:
        causes.insert(0, "optimizer.lr never changes — write the new rate into the optimizer, "
                         "self.optimizer.lr = new_lr, not only into an attribute of the "
                         "scheduler.")
    if causes:
        message += " Likely cause: " + " Or: ".join(causes[:2])
    fail(message, "an epoch improves if the metric beats best by more than the threshold; "
                  "after more than patience bad epochs in a row, lr = max(lr * factor, "
                  "min_lr), then cooldown epochs during which no epoch counts as bad.")


def _all_equal(values, value):
    for item in values:
        if item != value:
            return False
    return True
