"""Check for Kaiming initialisation (assignment 02).

`check_kaiming_normal` fills arrays with the student's `kaiming_normal_` under several
settings and tests what can be told from a large sample: filled in place and returned,
reproducible from the generator, mean 0, the standard deviation gain / sqrt(fan) — with
the usual wrong ones named by the one the sample shows — and normal rather than uniform.
Bounds are 5 standard errors of each sample statistic: a right answer fails one of the
18 tests by chance about once in 100,000 seeds, and a small tensor is only checked loosely.
The answer runs through the harness, filling the tensor in place by design; it must not run
course_lib's or torch's kaiming_normal_.
"""
import math
from builtins import (
    AttributeError, ValueError, abs, all, float, int, isinstance, len, sorted, str, tuple,
)

import torch

from course_lib.scratch import init as _init

from ._trusted import default_rng, isclose, np
from .failure import fail, kind_of, number
from .harness import Answer, exercise

KAIMING_NORMAL = exercise(_init.kaiming_normal_, mutates=("tensor",),
                          forbidden=(torch.nn.init.kaiming_normal_,))

CALCULATE_GAIN = torch.nn.init.calculate_gain
# Entries start at this value, so that entries left unfilled, or added to, show.
PREFILL = 1.0
STANDARD_ERRORS = 5
# P(|z| > 2) for a standard normal z; a uniform distribution has no values that far out.
BEYOND_TWO_STD = math.erfc(2 / math.sqrt(2))

# keyword arguments of the calls checked, in this order: the signature's defaults first, so
# that a later call's wrong std can be told apart from mistakes an earlier call rules out
SETTINGS = (
    {},
    {"mode": "fan_out"},
    {"nonlinearity": "relu"},
    {"nonlinearity": "tanh"},
    {"nonlinearity": "linear"},
    {"a": math.sqrt(5)},  # what torch.nn.Linear passes to its own (uniform) Kaiming init
)


def _fans(shape):
    receptive_field = 1
    for size in shape[2:]:
        receptive_field *= size
    return shape[1] * receptive_field, shape[0] * receptive_field, receptive_field


def _call(settings):
    arguments = "".join(f", {key}={value!r}" for key, value in settings.items())
    return f"kaiming_normal_(tensor{arguments}, generator=rng)"


def _filled(dtype, shape):
    tensor = np.zeros(shape, dtype=dtype)
    tensor[...] = PREFILL
    return tensor


def _check_in_place(result, tensor, call):
    """tensor itself filled and returned; a new array of another dtype gets its own message."""
    unchanged = tensor == PREFILL
    if unchanged.all() and tensor.size:
        problem = f"{call} left tensor unchanged"
        if isinstance(result, np.ndarray) and result is not tensor:
            problem = f"{call} returned a new array and left tensor unchanged"
            if result.dtype != tensor.dtype:
                problem += (f"; the new array is {result.dtype}, but tensor is {tensor.dtype} — "
                            f"generator.normal always returns float64, and an initialiser "
                            f"must keep the tensor's dtype")
        fail(f"{problem}. Fill it in place: tensor[...] = generator.normal(0.0, std, "
             f"size=tensor.shape) writes into the array it was given (converting to its dtype), "
             f"while tensor = ... only rebinds the local name.")
    if result is not tensor:
        got = kind_of(result) if not isinstance(result, np.ndarray) else "another array"
        fail(f"{call} returned {got} rather than tensor itself: end with `return tensor`, as "
             f"torch's in-place initialisers do, so that W = kaiming_normal_(np.empty(...)) works.")
    if unchanged.any():
        fail(f"{call} left {int(unchanged.sum())} of {tensor.size} entries of tensor as they "
             f"were: fill every entry, tensor[...] = generator.normal(0.0, std, "
             f"size=tensor.shape).")


def _arguments(settings):
    """(a, mode, nonlinearity), the signature's defaults where `settings` leaves them out."""
    return (settings.get("a", 0), settings.get("mode", "fan_in"),
            settings.get("nonlinearity", "leaky_relu"))


def _wanted_std(shape, settings):
    """gain / sqrt(fan), and the words that say how it is made."""
    a, mode, nonlinearity = _arguments(settings)
    gain = CALCULATE_GAIN(nonlinearity, a)
    fan_in, fan_out, _ = _fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return gain / math.sqrt(fan), (
        f"gain / sqrt(fan) with gain = calculate_gain({nonlinearity!r}, {number(a)}) = "
        f"{number(gain)} and fan = {mode} = {fan}")


def _mistaken_stds(shape, settings):
    """{mistake: (the std it gives, what it is)} for formulas students write instead."""
    a, mode, nonlinearity = _arguments(settings)
    gain = CALCULATE_GAIN(nonlinearity, a)
    gain_without_a = CALCULATE_GAIN(nonlinearity)
    fan_in, fan_out, receptive_field = _fans(shape)
    fan, other_fan = (fan_in, fan_out) if mode == "fan_in" else (fan_out, fan_in)
    other_mode = "fan_out" if mode == "fan_in" else "fan_in"
    wanted = gain / math.sqrt(fan)
    return {
        "no gain": (
            1 / math.sqrt(fan),
            f"that is 1 / sqrt(fan) (LeCun's, or Xavier's for a square layer), without the "
            f"gain. Multiply by gain = calculate_gain(nonlinearity, a) = {number(gain)}: for "
            f"ReLU, √2 makes up for the half of the signal ReLU sets to zero."),
        "ReLU's gain": (
            math.sqrt(2) / math.sqrt(fan),
            f"that is sqrt(2 / fan), ReLU's gain √2, whatever the nonlinearity: use gain = "
            f"calculate_gain(nonlinearity, a), which is {number(gain)} for "
            f"nonlinearity={nonlinearity!r}, a={number(a)}."),
        "a left out": (
            gain_without_a / math.sqrt(fan),
            f"that uses calculate_gain({nonlinearity!r}) = {number(gain_without_a)}, for "
            f"torch's default slope 0.01: pass the slope, calculate_gain(nonlinearity, a) = "
            f"{number(gain)}."),
        "variance": (
            gain ** 2 / fan,
            "that is gain² / fan, the variance: the standard deviation is its square root, "
            "gain / sqrt(fan)."),
        "no square root": (gain / fan, "that is gain / fan: the square root of fan is missing."),
        "fans swapped": (
            gain / math.sqrt(other_fan),
            f"that uses {other_mode} = {other_fan} instead of {mode} = {fan}. A weight has shape "
            f"(out_features, in_features, *kernel), as in torch.nn.Linear: fan_in = shape[1] and "
            f"fan_out = shape[0], each times the kernel size. Is mode ignored, or are the two "
            f"swapped?"),
        "mode ignored": (
            gain / math.sqrt(fan_in),
            f"that uses fan_in = {fan_in} although mode={mode!r}: mode chooses the fan, and "
            f"fan_out = {fan_out} here."),
        "Xavier's fan": (
            gain * math.sqrt(2 / (fan_in + fan_out)),
            "that uses Xavier's average (fan_in + fan_out) / 2 for the fan: Kaiming's uses "
            "the one fan that mode names."),
        "kernel left out": (
            gain / math.sqrt(fan // receptive_field),
            f"that leaves out the kernel size: for a weight of shape {shape}, {mode} = "
            f"{fan // receptive_field} × {receptive_field} = {fan}."),
        "uniform": (
            wanted / math.sqrt(3),
            "that is the standard deviation of values uniform in (-std, std): draw from a "
            "normal distribution, generator.normal(0.0, std, size=tensor.shape)."),
        "unscaled": (
            1.0,
            "that is the standard deviation of standard normal values: scale them by "
            "std = gain / sqrt(fan), or pass it to generator.normal(0.0, std, ...)."),
    }


def _fits(std, wanted, relative_tolerance):
    return abs(std / wanted - 1) <= relative_tolerance


def _explain_std(std, shape, settings, settings_passed, relative_tolerance):
    """What the measured std fits: mistakes that give it here and that would have failed
    none of the calls passed before (those give the right std there), closest first."""
    wanted, _ = _wanted_std(shape, settings)
    fitting = [
        (abs(std / mistaken_std - 1), explanation)
        for mistake, (mistaken_std, explanation) in _mistaken_stds(shape, settings).items()
        if not isclose(mistaken_std, wanted, rtol=1e-9, atol=0)
        and _fits(std, mistaken_std, relative_tolerance)
        and all(_fits(_mistaken_stds(shape, passed)[mistake][0], _wanted_std(shape, passed)[0],
                      relative_tolerance) for passed in settings_passed)]
    return " Or, ".join(explanation for _, explanation in sorted(fitting)[:2])


def _check_statistics(tensor, call, settings, settings_passed):
    n = tensor.size
    if n < 2:
        return
    values = tensor.astype(np.float64).reshape(-1)
    mean = values.mean()
    std = float(((values - mean) ** 2).mean() ** 0.5)
    described = f"{call}, with tensor of shape {tensor.shape},"
    if std == 0:
        fail(f"{described} set every entry to {number(values[0])}: draw each from "
             f"N(0, std²) with generator.normal(0.0, std, size=tensor.shape).")
    mean_tolerance = STANDARD_ERRORS * std / math.sqrt(n)  # the spread of a mean of n values
    if abs(mean) > mean_tolerance:
        if abs(mean - PREFILL) <= mean_tolerance:
            fail(f"{described} gave values with mean {number(mean)}, which is what tensor held "
                 f"before the call: assign the values, tensor[...] = ..., rather than adding "
                 f"them with +=.")
        fail(f"{described} gave values with mean {number(mean)}, but they should be centred "
             f"on 0 (within ±{mean_tolerance:.3g} for {n} values): "
             f"generator.normal(loc=0.0, scale=std, size=tensor.shape) — loc is the mean.")
    relative_tolerance = STANDARD_ERRORS / math.sqrt(2 * (n - 1))
    wanted, formula = _wanted_std(tensor.shape, settings)
    if not _fits(std, wanted, relative_tolerance):
        problem = (f"{described} gave values with standard deviation {number(std)}, but it "
                   f"should be {number(wanted)} (within ±{relative_tolerance:.1%}): {formula}.")
        explanation = _explain_std(std, tensor.shape, settings, settings_passed,
                                   relative_tolerance)
        fail(f"{problem} Instead, {explanation}" if explanation else problem)
    beyond = float((np.absolute(values - mean) > 2 * std).mean())
    tolerance = STANDARD_ERRORS * math.sqrt(BEYOND_TWO_STD * (1 - BEYOND_TWO_STD) / n)
    if abs(beyond - BEYOND_TWO_STD) > tolerance:
        fail(f"{described} gave values that are not normally distributed: {beyond:.2%} of them "
             f"lie more than 2 standard deviations from the mean, where a normal distribution "
             f"puts {BEYOND_TWO_STD:.2%} (a uniform one none). Draw them with "
             f"generator.normal(0.0, std, size=tensor.shape).")


def _check_reproducible(answer, first, seed, dtype, shape, call):
    __tracebackhide__ = True
    again = answer.run(call, _filled(dtype, shape), generator=default_rng(seed))
    if not (again == first).all():
        fail(f"{call} gave different values for two generators seeded alike: draw from the "
             f"generator passed in (generator.normal), not from np.random's global state or a "
             f"fresh np.random.default_rng().")
    other = answer.run(call, _filled(dtype, shape), generator=default_rng(seed + 1))
    if first.size and (other == first).all():
        fail(f"{call} gave the same values for generators seeded differently: draw from the "
             f"generator passed in, not from one seeded inside the function.")


def check_kaiming_normal(kaiming_normal_, *, seed=0, shape=(256, 512), dtype=np.float32):
    """Run `kaiming_normal_(tensor, ..., generator=rng)` on arrays of `shape` (2-D, or a
    conv weight (out, in, kh, kw)) and `dtype` for the defaults, mode="fan_out" and other
    nonlinearities and slopes, then once with generator=None."""
    __tracebackhide__ = True
    shape = tuple(int(size) for size in shape)
    if len(shape) < 2:
        raise ValueError(f"fan_in and fan_out need a tensor of at least 2 dimensions, got {shape}")
    answer = Answer(KAIMING_NORMAL, kaiming_normal_, advice=_no_generator_advice)
    settings_passed = []
    for settings in SETTINGS:
        call = _call(settings)
        tensor = _filled(dtype, shape)
        result = answer.run(call, tensor, **settings, generator=default_rng(seed))
        _check_in_place(result, tensor, call)
        _check_statistics(tensor, call, settings, settings_passed)
        if not settings_passed:
            _check_reproducible(answer, tensor, seed, dtype, shape, call)
        settings_passed.append(settings)
    call = "kaiming_normal_(tensor), without a generator,"
    tensor = _filled(dtype, shape)
    _check_in_place(answer.run(call, tensor), tensor, call)


def _no_generator_advice(error):
    if isinstance(error, AttributeError) and "NoneType" in str(error):
        return ("generator defaults to None, and then there is no generator to draw from: use a "
                "fresh one, `if generator is None: generator = np.random.default_rng()`.")
    return None
