"""Compare an answer with the expected value and, if they differ, say how.

`check_array`, `check_scalar` and `check_integer` return None when the answer is right
and otherwise raise a CheckFailure naming the first problem found, the most basic first:
the wrong kind of object, then the wrong shape or dtype, nan or inf, then the values.
For wrong values they try, in order, the test author's `known_mistakes` (wrong answer ->
explanation), all zeros, a flipped sign, a constant factor (named with `factor_hints`,
e.g. {"the batch size": 32}), and finally report the largest error and where it is.
"""
from builtins import abs, bool, float, hasattr, int, isinstance, len, list, repr, round, tuple

import torch

from ._trusted import as_index, isclose, np
from .failure import fail, kind_of, number, verb

FACTOR_RTOL = 1e-3  # how near a measured factor must be to a hint's value to take its name
NEARLY_RIGHT = 1e-3  # relative error below which a wrong value counts as "close"


def _values(x):
    """The numbers in an array, tensor or scalar, as a numpy array (bool as 0.0 / 1.0)."""
    values = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return values.astype(np.float64) if values.dtype.kind == "b" else values


def _mistakes(known_mistakes):
    """(wrong answer, explanation) pairs, from a dict or from a sequence of pairs."""
    if known_mistakes is None:
        return []
    if hasattr(known_mistakes, "items"):
        return list(known_mistakes.items())
    return list(known_mistakes)


def _factor_words(factor, factor_hints):
    """('≈ 32 (the batch size)', True) when a hint fits `factor`, ('≈ 2.5', False) otherwise."""
    sign = "-" if factor < 0 else ""
    magnitude = abs(factor)
    for label, value in (factor_hints or {}).items():
        if isclose(magnitude, value, rtol=FACTOR_RTOL, atol=0):
            return f"≈ {sign}{number(value)} ({label})", True
        if isclose(magnitude, 1 / value, rtol=FACTOR_RTOL, atol=0):
            return f"≈ {sign}1/{number(value)} (1 / {label})", True
    if magnitude < 1 and isclose(1 / magnitude, round(1 / magnitude), rtol=FACTOR_RTOL, atol=0):
        return f"≈ {sign}1/{round(1 / magnitude)}", False
    return f"≈ {sign}{magnitude:.4g}", False


# ---------------------------------------------------------------------------- arrays

def _container_problem(name, actual, expected):
    wants_tensor = isinstance(expected, torch.Tensor)
    shape = _values(expected).shape
    if wants_tensor and isinstance(actual, torch.Tensor):
        return None
    if not wants_tensor and isinstance(actual, np.ndarray):
        return None
    if (not wants_tensor and shape == () and isinstance(actual, (int, float, np.number))
            and not isinstance(actual, bool)):
        return None
    wanted = "a torch.Tensor" if wants_tensor else "a numpy array"
    problem = f"{name} {verb(name)} {kind_of(actual)}, but {wanted} of shape {shape} is expected"
    if actual is None:
        return f"{problem}: did the function end without a `return` statement?"
    if isinstance(actual, (list, tuple)):
        return (f"{problem}: compute with numpy operations throughout "
                f"(np.array(...) converts a list).")
    if isinstance(actual, torch.Tensor):
        return f"{problem}: this part is numpy only, so compute with np. functions."
    if isinstance(actual, np.ndarray):
        return (f"{problem}: torch.from_numpy(...) converts an array, or compute with "
                f"torch throughout.")
    if isinstance(actual, (int, float, np.number)) and not isinstance(actual, bool):
        return f"{problem}: did a sum or mean reduce over every axis instead of one (axis=...)?"
    return f"{problem}."


def _without_ones(shape):
    return tuple(size for size in shape if size != 1)


def _entries(shape):
    count = 1
    for size in shape:
        count *= size
    return count


def _shape_problem(name, actual_shape, expected_shape):
    if actual_shape == expected_shape:
        return None
    problem = f"{name} has shape {actual_shape} but should have shape {expected_shape}"
    if len(actual_shape) >= 2 and actual_shape == expected_shape[::-1]:
        return (f"{problem}: it looks transposed — a product with its factors swapped, "
                f"or a .T too many or too few?")
    if _without_ones(actual_shape) == _without_ones(expected_shape):
        if len(actual_shape) > len(expected_shape):
            return (f"{problem}: it has an extra dimension of size 1 — keepdims=True, "
                    f"a 2-D bias, or a column where a vector is meant? "
                    f"Reshape it to {expected_shape}.")
        if len(actual_shape) < len(expected_shape):
            return (f"{problem}: a dimension of size 1 is missing — keepdims=True in a "
                    f"sum or mean, or x[:, None], keeps it.")
    n = _entries(expected_shape)
    if actual_shape == (n, n) and n > 1 and len(_without_ones(expected_shape)) == 1:
        return (f"{problem}: a ({n}, 1) column and a ({n},) vector broadcast against each other "
                f"into a ({n}, {n}) matrix — give both the same shape.")
    if _entries(actual_shape) == n:
        return (f"{problem}: it has the right number of entries, so check the reshape "
                f"or the axis order.")
    return f"{problem}."


def _dtype_problem(name, actual, dtype):
    is_tensor = isinstance(actual, torch.Tensor)
    if not is_tensor:
        actual = np.asarray(actual)  # a Python number stands for a 0-d array
    if not is_tensor and actual.dtype.kind not in "biufc":
        return (f"{name} has dtype {actual.dtype}, which holds no numbers: an array of Python "
                f"objects, e.g. from np.array of lists of different lengths?")
    if dtype is None:
        return None
    wanted = dtype if is_tensor else np.dtype(dtype)
    if actual.dtype == wanted:
        return None
    problem = f"{name} has dtype {actual.dtype} but should have dtype {wanted}"
    if is_tensor and wanted == torch.float32 and actual.dtype == torch.float64:
        return (f"{problem}: a tensor made from float64 numpy data (torch.from_numpy, "
                f"torch.tensor) stays float64 — .float() converts it.")
    if not is_tensor and wanted == np.float32 and actual.dtype == np.float64:
        return (f"{problem}: numpy 2 keeps float32 arithmetic in float32 unless something float64 "
                f"joins in — an array made without dtype= (np.zeros, np.ones, np.array of Python "
                f"floats) or a np.float64 scalar. Plain Python numbers such as 0.5 don't promote.")
    if is_tensor:
        integers_for_floats = wanted.is_floating_point and not actual.is_floating_point()
    else:
        integers_for_floats = wanted.kind == "f" and actual.dtype.kind in "iu"
    if integers_for_floats:
        return (f"{problem}: it holds integers — was it built from an integer array, "
                f"e.g. np.zeros(n, dtype=int) or torch.arange(n)?")
    return f"{problem}."


def _nonfinite_problem(name, actual, expected):
    unexpected_nan = np.isnan(actual) & ~np.isnan(expected)
    unexpected_inf = ~np.isfinite(actual) & ~np.isnan(actual) & np.isfinite(expected)
    for bad, what, causes in (
            (unexpected_nan, "nan",
             "0/0, inf - inf, 0 * inf, or the log or square root of a negative number"),
            (unexpected_inf, "inf",
             "an overflow, e.g. exp of a large number, or a division by zero")):
        if bad.any():
            if actual.ndim == 0:
                return f"{name} {verb(name)} {what}; {what} comes from {causes}."
            first = as_index(np.flatnonzero(bad)[0], actual.shape)
            return (f"{name} contains {what} in {int(bad.sum())} of {actual.size} entries, "
                    f"the first at {name}{list(first)}; {what} comes from {causes}.")
    return None


def _constant_factor(actual, expected, rtol, atol):
    """(c, how many entries support it) when actual ≈ c * expected entry by entry, else None."""
    informative = np.absolute(expected) > atol  # entries whose ratio means something
    if not informative.any():
        return None
    largest = int(np.absolute(expected).argmax())  # its ratio is the least disturbed by rounding
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        factor = float(actual.flat[largest] / expected.flat[largest])
        if isclose(actual, factor * expected, rtol=rtol, atol=atol).all():
            return factor, int(informative.sum())
    return None


def _error_summary(name, actual, expected, close, rtol, atol):
    shape = actual.shape
    # flat copies, so that 0-d values index like the rest
    actual, expected, close = actual.reshape(-1), expected.reshape(-1), close.reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        errors = np.absolute(actual.astype(np.float64) - expected)
        relative = errors / np.absolute(expected)
    errors[close] = 0
    errors[np.isnan(errors)] = np.float64("inf")  # a nan expected where a number came back
    worst = int(errors.argmax())
    got, wanted = actual[worst], expected[worst]
    if shape == ():
        summary = f"{name} {verb(name)} {number(got)}, expected {number(wanted)}"
    else:
        summary = (f"{name} differs from the expected values in {int((~close).sum())} of "
                   f"{actual.size} entries; the largest difference is at "
                   f"{name}{list(as_index(worst, shape))}: {number(got)} instead of "
                   f"{number(wanted)}")
    return f"{summary}.{_nearly_right_note(relative[~close].max(), rtol, atol)}"


def _nearly_right_note(largest_relative_error, rtol, atol):
    if largest_relative_error >= NEARLY_RIGHT:
        return ""
    return (f" Close (relative error up to {largest_relative_error:.1e}) but outside the "
            f"tolerance (rtol={rtol}, atol={atol}): float32 arithmetic where float64 is "
            f"expected, or a small change to the formula such as an added epsilon?")


def _value_problem(name, actual, expected, *, rtol, atol, factor_hints, known_mistakes):
    close = isclose(actual, expected, rtol=rtol, atol=atol)
    if close.all():
        return None
    for wrong, explanation in _mistakes(known_mistakes):
        wrong = _values(wrong)
        if wrong.shape == actual.shape and isclose(actual, wrong, rtol=rtol, atol=atol).all():
            return f"{name} has the wrong values: {explanation}"
    if (np.absolute(actual) <= atol).all():
        return f"{name} is all zeros, but the expected values are not: was it computed at all?"
    found = _constant_factor(actual, expected, rtol, atol)
    if found is not None:
        factor, support = found
        if isclose(factor, -1, rtol=FACTOR_RTOL, atol=0):
            return (f"{name} has the right size but the opposite sign: a difference taken "
                    f"the wrong way round (y - prediction instead of prediction - y), or a "
                    f"step added instead of subtracted?")
        words, named = _factor_words(factor, factor_hints)
        if named or support >= 2:  # one entry always fits some factor: that proves nothing
            return (f"{name} is off by a factor of {words}: each entry is that multiple "
                    f"of the expected one.")
    return _error_summary(name, actual, expected, close, rtol, atol)


def check_array(name, actual, expected, *, rtol=1e-5, atol=1e-8, dtype=None,
                factor_hints=None, known_mistakes=None, hint=None):
    """Pass if `actual` matches `expected` (a numpy array or a torch tensor, and `actual`
    must be the same kind) within rtol/atol; raise a CheckFailure saying why not otherwise.

    `dtype`: if given, the dtype `actual` must have. `factor_hints`: {"the batch size": 32}
    names factors the answer may be off by. `known_mistakes`: (wrong answer, explanation)
    pairs, reported when `actual` matches the wrong answer. `hint`: advice appended to any
    failure.
    """
    __tracebackhide__ = True
    problem = _container_problem(name, actual, expected)
    if problem is None:
        actual_values, expected_values = _values(actual), _values(expected)
        problem = (_shape_problem(name, actual_values.shape, expected_values.shape)
                   or _dtype_problem(name, actual, dtype)
                   or _nonfinite_problem(name, actual_values, expected_values)
                   or _value_problem(name, actual_values, expected_values, rtol=rtol, atol=atol,
                                     factor_hints=factor_hints, known_mistakes=known_mistakes))
    if problem is not None:
        fail(problem, hint)


# --------------------------------------------------------------------------- numbers

def _number_kind_problem(name, actual, wanted):
    problem = f"{name} {verb(name)} {kind_of(actual)}, but {wanted} is expected"
    if actual is None:
        return f"{problem}: did the function end without a `return` statement?"
    if isinstance(actual, (bool, np.bool_)):
        return f"{name} {verb(name)} {actual}, a bool, but {wanted} is expected."
    if isinstance(actual, (torch.Tensor, np.ndarray)):
        problem = (f"{name} {verb(name)} {kind_of(actual)} of shape {tuple(actual.shape)}, "
                   f"but {wanted} is expected")
        if _entries(actual.shape) == 1:
            return f"{problem}: .item() takes the number out."
        return f"{problem}: is a sum or a mean missing?"
    return f"{problem}."


def _is_number(value):
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def _known_number_mistake(actual, known_mistakes):
    for wrong, explanation in _mistakes(known_mistakes):
        if isclose(float(actual), float(wrong), rtol=1e-9, atol=0):
            return explanation
    return None


def check_scalar(name, actual, expected, *, rtol=1e-5, atol=1e-8, factor_hints=None,
                 known_mistakes=None, hint=None):
    """Pass if the number `actual` is `expected` within rtol/atol; raise a CheckFailure
    saying why not otherwise. Options as for `check_array`; a 0-d numpy array counts as
    a number, a tensor does not (`.item()`)."""
    __tracebackhide__ = True
    if isinstance(actual, np.ndarray) and actual.shape == () and actual.dtype.kind in "iuf":
        actual = actual[()]
    if not _is_number(actual):
        fail(_number_kind_problem(name, actual, "a number"), hint)
    nonfinite = _nonfinite_problem(name, _values(actual), _values(expected))
    if nonfinite is not None:
        fail(nonfinite, hint)
    got = f"{name} {verb(name)} {number(actual)}"
    if isclose(actual, expected, rtol=rtol, atol=atol):
        return
    explanation = _known_number_mistake(actual, known_mistakes)
    if explanation is not None:
        fail(f"{got}, expected {number(expected)}: {explanation}", hint)
    if expected != 0 and isclose(actual, -expected, rtol=rtol, atol=atol):
        fail(f"{got}, expected {number(expected)}: the right size but the opposite sign.", hint)
    if expected != 0 and actual != 0:
        words, named = _factor_words(actual / expected, factor_hints)
        if named:
            fail(f"{got}, expected {number(expected)}: off by a factor of {words}.", hint)
    relative_error = abs(actual - expected) / abs(expected) if expected != 0 else float("inf")
    note = _nearly_right_note(relative_error, rtol, atol)
    fail(f"{got}, expected {number(expected)}.{note}", hint)


def check_integer(name, actual, expected, *, known_mistakes=None, hint=None):
    """Pass if `actual` is the int `expected` (a numpy integer will do, a float will not);
    raise a CheckFailure saying why not otherwise. `known_mistakes` maps wrong answers
    (ints or floats) to explanations; `hint` is appended to any failure."""
    __tracebackhide__ = True
    if not _is_number(actual):
        fail(_number_kind_problem(name, actual, "a whole number (an int)"), hint)
    is_float = isinstance(actual, (float, np.floating))
    shown = repr(float(actual)) if is_float else int(actual)  # 16.0 stays visibly a float
    got = f"{name} {verb(name)} {shown}"
    explanation = _known_number_mistake(actual, known_mistakes)
    if explanation is not None:
        fail(f"{got}, expected {expected}: {explanation}", hint)
    if is_float:
        if actual == expected:
            fail(f"{got}, a float, but the int {expected} is expected: `/` and np.ceil give "
                 f"floats; `//`, math.ceil and int() give ints.", hint)
        fail(f"{got}, but the whole number {expected} is expected: a count has no fraction — "
             f"round up with math.ceil or down with //.", hint)
    if actual != expected:
        off_by_one = {-1: " (one too few)", 1: " (one too many)"}.get(int(actual) - expected, "")
        fail(f"{got}, expected {expected}{off_by_one}.", hint)
