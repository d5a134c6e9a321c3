"""rmsprop_update's wrong answers, as students write them, fail with their mistake named."""
import numpy as np
import pytest

from course_lib.checking.optimizers import check_rmsprop_update
from tests.checking.failures import assert_fails_with, named


def rmsprop_eps_inside(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g ** 2
    param -= lr * g / np.sqrt(state["square_avg"] + eps)


def rmsprop_square_of_average(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g
    param -= lr * g / (np.sqrt(state["square_avg"] ** 2) + eps)


def rmsprop_without_one_minus_alpha(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    state["square_avg"] = alpha * state.get("square_avg", 0.0) + g ** 2
    param -= lr * g / (np.sqrt(state["square_avg"]) + eps)


WRONG_ANSWERS = [
    (rmsprop_eps_inside, ["Hint: eps is inside the square root: torch divides by sqrt(square_avg) + eps."]),
    (rmsprop_square_of_average, ["Hint: that divides by the size of the average gradient"]),
    (rmsprop_without_one_minus_alpha, ["Hint: (1 - alpha) is missing"]),
]


@pytest.mark.parametrize("function, parts", WRONG_ANSWERS, ids=[function.__name__ for function, _ in WRONG_ANSWERS])
def test_wrong_answers_fail_with_the_reason(function, parts):
    assert_fails_with(check_rmsprop_update, named("rmsprop_update", function), parts)


@pytest.mark.parametrize("shape", [(), (1,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mistakes_are_named_for_any_shape_and_float32(shape, dtype):
    assert_fails_with(check_rmsprop_update, named("rmsprop_update", rmsprop_eps_inside),
                      ["Hint: eps is inside the square root"], shape=shape, dtype=dtype)
