import builtins

import numpy as np
import pytest

from course_lib.checking import _trusted
from course_lib.checking._trusted import as_index, isclose
from tests.strategies import SEEDS, random_array, random_shape


@pytest.mark.parametrize("seed", SEEDS)
def test_isclose_agrees_with_numpy_isclose(seed):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    expected = random_array(rng, shape, extremes=True)
    actual = expected * (1 + rng.choice([0, 1e-7, 1e-4], shape)) + rng.choice([0, 1e-9, 1e-6], shape)
    special = rng.random(shape) < 0.2
    actual = np.where(special, rng.choice([np.nan, np.inf, -np.inf], shape), actual)
    expected = np.where(special & (rng.random(shape) < 0.5), actual, expected)
    np.testing.assert_array_equal(isclose(actual, expected, rtol=1e-5, atol=1e-8),
                                  np.isclose(actual, expected, rtol=1e-5, atol=1e-8, equal_nan=True))


def test_isclose_compares_bools_and_ints():
    assert isclose(np.array([True, False]), np.array([True, True]), rtol=0, atol=0).tolist() == [True, False]
    assert isclose(3, 3.0, rtol=0, atol=0)


def test_captured_numpy_survives_patching(monkeypatch):
    for name in ("isfinite", "isnan", "absolute", "abs", "isclose", "asarray"):
        monkeypatch.setattr(np, name, lambda *args, **kwargs: True)
    monkeypatch.setattr(builtins, "abs", lambda value: 0)
    assert _trusted.np.asarray is not np.asarray
    assert not isclose(np.array([1.0, 2.0]), np.array([1.0, 3.0]), rtol=1e-5, atol=1e-8).all()


def test_as_index_names_an_entry_by_its_position():
    assert as_index(7, (3, 4)) == (1, 3)
    assert as_index(0, ()) == ()
