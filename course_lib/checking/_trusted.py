"""numpy as it was when course_lib.checking was imported, and a closeness test built from it.

See the package docstring for why. `np` here is a fixed namespace of references taken at
import; `isclose` is written with ufuncs and array operators, because `numpy.isclose`
itself looks up the builtin `abs` and `numpy.isfinite` each time it runs.
"""
from builtins import getattr, int, len, setattr, tuple
from contextlib import contextmanager
from types import SimpleNamespace

import numpy

np = SimpleNamespace(**{
    name: getattr(numpy, name) for name in (
        "absolute", "arange", "asarray", "bincount", "bool_", "concatenate", "dtype",
        "errstate", "flatnonzero", "float32", "float64", "floating", "generic", "integer",
        "int64", "isfinite", "isnan", "ndarray", "number", "shares_memory", "unravel_index",
        "zeros",
    )
})
default_rng = numpy.random.default_rng


def _numeric(values):
    values = np.asarray(values)
    # bool arrays can't be subtracted from each other; compare them as 0.0 and 1.0
    return values.astype(np.float64) if values.dtype.kind == "b" else values


def isclose(actual, expected, *, rtol, atol):
    """Elementwise |actual - expected| <= atol + rtol * |expected|, with nan equal to nan."""
    actual, expected = _numeric(actual), _numeric(expected)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is nan: not close
        within_tolerance = np.absolute(actual - expected) <= atol + rtol * np.absolute(expected)
    both_nan = np.isnan(actual) & np.isnan(expected)
    return within_tolerance | (actual == expected) | both_nan


def as_index(flat_position, shape):
    """The position of the flat_position-th entry as a tuple, e.g. (3, 7)."""
    return tuple(int(i) for i in np.unravel_index(flat_position, shape)) if len(shape) else ()


def at_import(owner, names):
    """(owner, name, value) for each name, as they are now — at import, before any student code."""
    return [(owner, name, getattr(owner, name)) for name in names]


@contextmanager
def pristine(originals):
    """Put back the `at_import` values of `originals` while the block runs — torch code that
    looks up math.cos, max or torch.clamp would otherwise compute with a student's patched
    version and agree with it — and the student's replacements afterwards."""
    replaced = [(owner, name, getattr(owner, name), original)
                for owner, name, original in originals if getattr(owner, name) is not original]
    for owner, name, _, original in replaced:
        setattr(owner, name, original)
    try:
        yield
    finally:
        for owner, name, current, _ in replaced:
            setattr(owner, name, current)
