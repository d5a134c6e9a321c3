import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.checking.failure import DelegationFailure
from course_lib.checking.normalization_backward import check_batch_norm_backward
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ right answers, as students write them

def batch_norm_backward(grad_output, input, weight, eps=1e-5):
    n = input.shape[0]
    std = np.sqrt(input.var(axis=0) + eps)
    normalized = (input - input.mean(axis=0)) / std
    g = grad_output * weight
    grad_input = (n * g - g.sum(axis=0) - normalized * (g * normalized).sum(axis=0)) / (n * std)
    return grad_input, (grad_output * normalized).sum(axis=0), grad_output.sum(axis=0)


def batch_norm_backward_by_chain_rule(grad_output, input, weight, eps=1e-5):
    """The step-by-step form of the backward pass: also right."""
    n = input.shape[0]
    mean = input.mean(axis=0)
    centred = input - mean
    var = (centred ** 2).mean(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    grad_normalized = grad_output * weight
    grad_var = (grad_normalized * centred).sum(axis=0) * -0.5 * inv_std ** 3
    grad_mean = -(grad_normalized * inv_std).sum(axis=0) - 2 * grad_var * centred.mean(axis=0)
    grad_input = grad_normalized * inv_std + grad_var * 2 * centred / n + grad_mean / n
    return grad_input, (grad_output * centred * inv_std).sum(axis=0), grad_output.sum(axis=0)


RIGHT_ANSWERS = [batch_norm_backward, batch_norm_backward_by_chain_rule]


@pytest.mark.parametrize("function", RIGHT_ANSWERS)
def test_right_answers_pass(function, capsys):
    for seed in SEEDS:
        check_batch_norm_backward(function, seed=seed)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("function", RIGHT_ANSWERS)
@pytest.mark.parametrize("options", [
    {"shape": (2, 1)}, {"shape": (2, 7)}, {"shape": (30, 3)}, {"shape": (5, 5)},
    {"dtype": np.float32}, {"seed": 3, "shape": (4, 2), "dtype": np.float32}, {"eps": 0.5, "shape": (3, 2)}])
def test_right_answers_pass_for_other_shapes_dtypes_and_eps(function, options):
    check_batch_norm_backward(function, **options)


def test_test_authors_errors_are_not_student_failures():
    with pytest.raises(ValueError, match="float32 or float64"):
        check_batch_norm_backward(batch_norm_backward, dtype=np.int64)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_batch_norm_backward(batch_norm_backward))


def test_each_scenario_calls_the_answer_once():
    """Ordinary data; N = 2; constant columns; eps=0.1; float32."""
    answer = counted(batch_norm_backward)
    check_batch_norm_backward(answer)
    assert answer.calls == 5


def backward_by_autograd(grad_output, input, weight, eps=1e-5):
    x, w = torch.from_numpy(input).requires_grad_(), torch.from_numpy(weight).requires_grad_()
    b = torch.zeros_like(w, requires_grad=True)
    output = F.batch_norm(x, None, None, w, b, training=True, eps=eps)
    return tuple(g.numpy() for g in torch.autograd.grad(output, (x, w, b), torch.from_numpy(grad_output)))


def backward_by_the_course(grad_output, input, weight, eps=1e-5):
    n, c = input.shape
    _, cache = scratch.batch_norm_forward(input, np.zeros(c), np.ones(c), weight, np.zeros(c), training=True, eps=eps)
    return scratch.batch_norm_backward(grad_output, cache)


@pytest.mark.parametrize("delegating, name", [(backward_by_autograd, "torch.autograd.grad"),
                                              (backward_by_the_course, "course_lib.scratch.batch_norm_backward")])
def test_autograd_and_the_courses_backward_are_not_an_answer(delegating, name):
    with pytest.raises(DelegationFailure, match=f"called {name}"):
        check_batch_norm_backward(named("batch_norm_backward", delegating))


def test_the_forward_pass_of_an_earlier_exercise_is_a_building_block():
    """course_lib's forward pass (the reference of exercise 4) may compute x_hat."""
    def with_the_courses_forward(grad_output, input, weight, eps=1e-5):
        c = input.shape[1]
        normalized = scratch.batch_norm(input, np.zeros(c), np.ones(c), training=True, eps=eps)
        n, std = input.shape[0], np.sqrt(input.var(axis=0) + eps)
        g = grad_output * weight
        grad_input = (n * g - g.sum(axis=0) - normalized * (g * normalized).sum(axis=0)) / (n * std)
        return grad_input, (grad_output * normalized).sum(axis=0), grad_output.sum(axis=0)

    check_batch_norm_backward(with_the_courses_forward)


# ------------------------------------------------------------------------------- mistakes

def backward_with(*, grad_input=None, grad_weight=None, grad_bias=None, var=lambda x: x.var(axis=0)):
    def batch_norm_backward(grad_output, input, weight, eps=1e-5):
        n = input.shape[0]
        std = np.sqrt(var(input) + eps)
        xhat = (input - input.mean(axis=0)) / std
        g = grad_output * weight
        right = (n * g - g.sum(0) - xhat * (g * xhat).sum(0)) / (n * std)
        return ((right if grad_input is None else grad_input(grad_output, g, xhat, std, n)),
                (grad_output * xhat).sum(0) if grad_weight is None else grad_weight(grad_output, input, xhat),
                grad_output.sum(0) if grad_bias is None else grad_bias(grad_output))
    return batch_norm_backward


BACKWARD_MISTAKES = [
    (backward_with(grad_input=lambda go, g, xhat, std, n: g / std), "treated as constants"),
    (backward_with(grad_input=lambda go, g, xhat, std, n: (n * g - xhat * (g * xhat).sum(0)) / (n * std)),
     "the term through the mean is missing"),
    (backward_with(grad_input=lambda go, g, xhat, std, n: (n * g - g.sum(0)) / (n * std)),
     "the term through the variance is missing"),
    (backward_with(grad_input=lambda go, g, xhat, std, n: (n * go - go.sum(0) - xhat * (go * xhat).sum(0)) / (n * std)),
     "weight is missing"),
    (backward_with(grad_weight=lambda go, x, xhat: (go * x).sum(0)), "it is computed from the input"),
    (backward_with(var=lambda x: x.var(axis=0, ddof=1)), "the variance is the unbiased one"),
    (backward_with(grad_input=lambda go, g, xhat, std, n: (n * g - g.sum(1, keepdims=True) - xhat * (
        g * xhat).sum(1, keepdims=True)) / (n * std)), "the sums run over each sample's features (axis=1)"),
    (backward_with(grad_bias=lambda go: go.sum(1)), "grad_bias has shape (6,) but should have shape (4,): it is "
                                                    "summed over the features (axis=1)"),
    (backward_with(grad_weight=lambda go, x, xhat: go * xhat), "grad_weight has shape (6, 4) but should have shape "
                                                               "(4,): each of the 6 samples' terms is there, not yet "
                                                               "summed"),
    (backward_with(grad_bias=lambda go: go.mean(0)), "grad_bias is off by a factor of ≈ 1/6 (1 / the batch size)"),
    (backward_with(grad_input=lambda go, g, xhat, std, n: (n * g - g.sum(0) - xhat * (g * xhat).sum(0)) / std),
     "grad_input is off by a factor of ≈ 6 (the batch size)"),
]


@pytest.mark.parametrize("function, phrase", BACKWARD_MISTAKES)
def test_backward_mistakes_are_named(function, phrase):
    message = failure_message(check_batch_norm_backward, named("batch_norm_backward", function))
    assert message.startswith("batch_norm_backward(grad_output, input, weight")
    assert phrase in message


def test_a_gradient_of_the_wrong_shape_is_blamed_on_an_axis_only_if_that_sum_reproduces_it():
    message = failure_message(check_batch_norm_backward, named(
        "batch_norm_backward", backward_with(grad_bias=lambda go: go.mean(1))))
    assert "grad_bias has shape (6,) but should have shape (4,)" in message
    assert "axis=1" not in message.split("Hint:")[0]


def test_gradients_in_the_wrong_order_are_told():
    def swapped(grad_output, input, weight, eps=1e-5):
        grad_input, grad_weight, grad_bias = batch_norm_backward(grad_output, input, weight, eps)
        return grad_input, grad_bias, grad_weight

    assert_fails_with(check_batch_norm_backward, named("batch_norm_backward", swapped), [
        "right gradients in the wrong order, (grad_input, grad_bias, grad_weight)"])


def test_scaling_grad_output_in_place_is_told():
    def scales_grad_output(grad_output, input, weight, eps=1e-5):
        grad_output *= 1.0
        grad_output += 1.0
        return batch_norm_backward(grad_output - 1.0, input, weight, eps)

    assert "changed its argument grad_output in place" in failure_message(
        check_batch_norm_backward, named("batch_norm_backward", scales_grad_output))


# ------------------------------------------------------------ garbage, crashes, NotImplemented

def test_not_implemented_is_told_to_be_replaced():
    def not_implemented(grad_output, input, weight, eps=1e-5):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(
        check_batch_norm_backward, named("batch_norm_backward", not_implemented))


def test_crashes_are_reported_with_the_error():
    def divides_by_zero(grad_output, input, weight, eps=1e-5):
        raise ZeroDivisionError("oops")

    assert "batch_norm_backward(grad_output, input, weight) raised ZeroDivisionError: oops" in failure_message(
        check_batch_norm_backward, named("batch_norm_backward", divides_by_zero))


@pytest.mark.parametrize("result, phrase", [
    (None, "it returned None, but a tuple of three arrays (grad_input, grad_weight, grad_bias) is expected: did"),
    ((np.zeros((6, 4)), np.zeros(4)), "it returned a tuple of 2 values"),
    ((np.zeros((6, 4)), np.zeros(4), "x"), "grad_bias is a str"),
    ((np.zeros((6, 4)), np.zeros(4), np.full(4, np.nan)), "grad_bias contains nan"),
])
def test_backward_garbage_is_told(result, phrase):
    assert phrase in failure_message(check_batch_norm_backward, named("batch_norm_backward", lambda *a, **k: result))


# ------------------------------------------------------------------------- tamper-proofing

def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        for function in RIGHT_ANSWERS:
            check_batch_norm_backward(function)
        assert "treated as constants" in failure_message(check_batch_norm_backward, named(
            "batch_norm_backward", backward_with(grad_input=lambda go, g, xhat, std, n: g / std)))
    assert capsys.readouterr() == ("", "")


def test_the_notebooks_wrong_answer_fails_with_its_mistake(capsys):
    answer = defined_by("05_regularization", "batch_norm_backward", {"np": np, "torch": torch, "F": F})
    assert "the mean and the variance are treated as constants" in failure_message(check_batch_norm_backward, answer)
    assert capsys.readouterr() == ("", "")
