import numpy as np
import pytest
import torch

from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.checking.gradient_check import TEST_EPS, _Cubic, check_numerical_gradient
from course_lib.scratch import gradcheck
from tests.checking import failures
from tests.grading.answer_cells import solution
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

numerical_gradient = solution("02_backprop", "numerical_gradient")

SHAPES = [(3, 4), (), (1,), (0,), (7,), (2, 3, 2), (20, 15)]


def failure_message(function, **kwargs):
    return failures.failure_message(check_numerical_gradient, function, **kwargs)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_the_solution_passes(seed, shape):
    check_numerical_gradient(numerical_gradient, seed=seed, shape=shape)


def test_answers_that_delegate_fail():
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.numerical_gradient"):
        check_numerical_gradient(gradcheck.numerical_gradient)
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.gradcheck._partial_derivatives"):
        check_numerical_gradient(lambda f, x, eps=1e-6: gradcheck._partial_derivatives(
            f, x, range(x.size), eps).reshape(x.shape))


# Right answers written differently.

def nudges_back_by_arithmetic(f, x, eps=1e-6):
    """x[i] + eps - 2 eps + eps comes back to x[i] only up to rounding: close enough."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += eps
        plus = f(x)
        x[index] -= 2 * eps
        minus = f(x)
        x[index] += eps
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def evaluates_copies(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = eps
        grad.flat[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


@pytest.mark.parametrize("function", [nudges_back_by_arithmetic, evaluates_copies])
@pytest.mark.parametrize("shape", [(3, 4), (), (5,)])
def test_other_right_answers_pass(function, shape):
    for seed in SEEDS:
        check_numerical_gradient(function, seed=seed, shape=shape)


# Wrong answers students write.

def differences(kind, *, step=None, restore=True, divisor=None):
    """numerical_gradient with one mistake: the difference taken, a fixed step, x left perturbed."""

    def wrong_numerical_gradient(f, x, eps=1e-6):
        h = eps if step is None else step
        grad = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            original = x[index]
            centre = f(x)
            x[index] = original + h
            plus = f(x)
            x[index] = original - h
            minus = f(x)
            if restore:
                x[index] = original
            grad[index] = {
                "central": (plus - minus) / (2 * h),
                "forward": (plus - centre) / h,
                "backward": (centre - minus) / h,
                "no_half": (plus - minus) / h,
                "precedence": (plus - minus) / 2 * h,
            }[kind]
        return grad

    return wrong_numerical_gradient


def aliases(f, x, eps=1e-6, *, call_f_early=True):
    """x_plus = x and x_minus = x: one array under three names."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x_plus = x
        x_plus[index] += eps
        plus = f(x_plus) if call_f_early else None
        x_minus = x
        x_minus[index] -= eps
        if not call_f_early:
            plus = f(x_plus)
        grad[index] = (plus - f(x_minus)) / (2 * eps)
    return grad


def first_axis_only(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in range(len(x)):
        original = x.flat[i]
        x.flat[i] = original + eps
        plus = f(x)
        x.flat[i] = original - eps
        minus = f(x)
        x.flat[i] = original
        grad.flat[i] = (plus - minus) / (2 * eps)
    return grad


def all_at_once(f, x, eps=1e-6):
    return np.full(x.shape, (f(x + eps) - f(x - eps)) / (2 * eps))


def flattened(f, x, eps=1e-6):
    return numerical_gradient(f, x, eps).reshape(-1)


def in_float32(f, x, eps=1e-6):
    return numerical_gradient(f, x, eps).astype(np.float32)


def as_a_list(f, x, eps=1e-6):
    return numerical_gradient(f, x, eps).tolist()


def returns_nothing(f, x, eps=1e-6):
    numerical_gradient(f, x, eps)


def negated(f, x, eps=1e-6):
    return -numerical_gradient(f, x, eps)


def calls_f_on_a_flat_copy(f, x, eps=1e-6):
    return evaluates_copies(lambda values: f(values.reshape(-1)), x, eps)


def wrong_default_eps(f, x, eps=1e-1):
    return numerical_gradient(f, x, eps)


WRONG = [
    (differences("forward"), "numerical_gradient(f, x, eps=0.01) has the wrong values: these are forward differences, (f(x + eps) - f(x)) / eps, which are off by about eps·f''/2"),
    (differences("backward"), "has the wrong values: these are backward differences"),
    (differences("no_half"), "each is twice the central difference: divide by 2*eps — the two evaluations, at x + eps and x - eps, are 2*eps apart."),
    (differences("precedence"), "/ 2 * eps multiplies by eps instead of dividing by it: write / (2 * eps)."),
    (differences("central", step=1e-6), "these are central differences for eps=1e-06, not for the eps=0.01 passed in: use the eps argument"),
    (differences("forward", step=1e-6), "these are forward differences with a fixed step of 1e-06"),
    (differences("central", restore=False), "numerical_gradient(f, x, eps=0.01) changed x: x[0, 0] is"),
    (aliases, "has the wrong values: these are (f(x + eps) - f(x)) / (2·eps): f(x - eps) was evaluated at x itself. x_minus = x makes no copy"),
    (lambda f, x, eps=1e-6: aliases(f, x, eps, call_f_early=False),
     "numerical_gradient(f, x, eps=0.01) is all zeros: f gave the same value on both sides of every entry"),
    (first_axis_only, "numerical_gradient(f, x, eps=0.01) left 9 of 12 entries at 0, at [0, 3], [1, 0], [1, 1], … (9 in all); the others are right"),
    (all_at_once, "numerical_gradient(f, x, eps=0.01) gave every entry the same value"),
    (flattened, "numerical_gradient(f, x, eps=0.01) has shape (12,) but should have the shape of x, (3, 4): the values are right"),
    (in_float32, "numerical_gradient(f, x, eps=0.01) has dtype float32 but should have dtype float64, like x: store the differences in np.zeros_like(x)"),
    (as_a_list, "numerical_gradient(f, x, eps=0.01) returned a list, but a numpy array of shape (3, 4) is expected"),
    (returns_nothing, "numerical_gradient(f, x, eps=0.01) returned None"),
    (negated, "the opposite sign"),
    (calls_f_on_a_flat_copy, "numerical_gradient called f with an array of shape (12,), but x has shape (3, 4): call f with the whole x"),
    (wrong_default_eps, "numerical_gradient(f, x) differs from the expected values"),
]


@pytest.mark.parametrize("function, message", WRONG, ids=[f"{i}" for i in range(len(WRONG))])
def test_wrong_answers_fail_with_the_reason(function, message):
    assert message in failure_message(function)


def test_wrong_default_eps_is_named_in_the_hint():
    assert failure_message(wrong_default_eps).endswith(
        "Hint: called without eps, numerical_gradient should use the default eps=1e-06, as in its "
        "signature numerical_gradient(f, x, eps=1e-06).")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["forward", "backward", "no_half"])
def test_mistakes_are_named_for_any_seed_and_shape(seed, kind):
    for shape in [(5,), (2, 3, 2), (20, 15)]:
        assert "has the wrong values" in failure_message(differences(kind), seed=seed, shape=shape)


def test_closed_form_differences_match_differences_taken():
    """The check's formulas for each kind of difference are what the code above computes."""
    rng = np.random.default_rng(7)
    f = _Cubic(rng, (4, 3))
    x = rng.standard_normal((4, 3))
    t = torch.from_numpy(x).requires_grad_()
    ((torch.from_numpy(f.a) * t ** 3).sum() / 3 + (torch.from_numpy(f.w) * t).sum() ** 2 / 2).backward()
    np.testing.assert_allclose(f.gradient(x), t.grad.numpy(), rtol=1e-13)
    for kind, expected in [("central", f.central(x, TEST_EPS)),
                           ("forward", f.central(x, TEST_EPS) + f.one_sided_error(x, TEST_EPS)),
                           ("backward", f.central(x, TEST_EPS) - f.one_sided_error(x, TEST_EPS))]:
        np.testing.assert_allclose(differences(kind)(f, x.copy(), TEST_EPS), expected, rtol=1e-10, atol=1e-12)


def test_check_leaves_the_students_random_state_alone():
    assert_global_random_state_untouched(lambda: check_numerical_gradient(numerical_gradient))


def test_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    forward = differences("forward")
    with tampered():
        check_numerical_gradient(evaluates_copies)
        with pytest.raises(CheckFailure) as caught:
            check_numerical_gradient(forward)
    assert "these are forward differences" in str(caught.value)
