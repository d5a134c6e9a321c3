"""Helpers shared by the tests: seeded random shapes and arrays, and a tampered environment."""
import builtins
from contextlib import contextmanager

import numpy as np
import torch

SEEDS = range(6)


def random_shape(rng, max_ndim=3, max_size=5):
    """A shape of 0 to max_ndim dimensions, each of size 1 to max_size."""
    ndim = int(rng.integers(0, max_ndim + 1))
    return tuple(int(size) for size in rng.integers(1, max_size + 1, size=ndim))


def random_array(rng, shape, dtype=np.float64, extremes=False):
    """Standard normal entries; with `extremes`, some of them replaced by ±1000 and ±30."""
    values = rng.standard_normal(shape)
    if extremes:
        values = np.where(rng.random(shape) < 0.3, rng.choice([-1000.0, 1000.0, -30.0, 30.0], shape), values)
    return np.asarray(values, dtype=dtype)


def lie(*args, **kwargs):
    return True


NUMPY_NAMES = ("allclose", "isclose", "array_equal", "all", "any", "isnan", "isfinite", "abs", "absolute",
               "median")
TORCH_NAMES = ("allclose", "equal")
# Lying builtins break torch itself: tests of torch-based checks leave them out.
BUILTIN_NAMES = ("abs", "all", "any", "round", "sum", "max", "min")


@contextmanager
def tampered(builtin_names=BUILTIN_NAMES):
    """numpy, torch and builtins patched to say "equal" the way a student's notebook might, for a moment."""
    patches = [(np, name) for name in NUMPY_NAMES] + [(torch, name) for name in TORCH_NAMES]
    patches += [(np.testing, "assert_allclose"), (torch.testing, "assert_close")]
    patches += [(builtins, name) for name in builtin_names]
    originals = [(owner, name, getattr(owner, name)) for owner, name in patches]
    for owner, name in patches:
        setattr(owner, name, lie)
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def t(array):
    """A torch view of a numpy array (or of a number), for comparing with torch."""
    return torch.from_numpy(np.asarray(array))


def assert_global_random_state_untouched(action):
    """Run `action()` and check that numpy's and torch's global generators go on drawing
    what they would have drawn without it: checks run in the student's kernel, between
    the student's own random draws."""
    np.random.seed(5)
    torch.manual_seed(5)
    expected = np.random.random(3), torch.rand(3)
    np.random.seed(5)
    torch.manual_seed(5)
    action()
    np.testing.assert_array_equal(np.random.random(3), expected[0])
    torch.testing.assert_close(torch.rand(3), expected[1])
