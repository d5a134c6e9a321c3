import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.checking.normalization import (
    check_batch_norm_backward, check_batch_norm_forward, check_update_running_stats,
)
from tests.grading.wrong_answers import defined_by
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ right answers, as students write them

def batch_norm_forward(input, weight, bias, eps=1e-5):
    mean = input.mean(axis=0)
    var = input.var(axis=0)
    return (input - mean) / np.sqrt(var + eps) * weight + bias


def update_running_stats(running_mean, running_var, input, momentum=0.1):
    running_mean *= 1 - momentum
    running_mean += momentum * input.mean(axis=0)
    running_var[:] = (1 - momentum) * running_var + momentum * input.var(axis=0, ddof=1)


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


CHECKS = [(check_batch_norm_forward, batch_norm_forward),
          (check_update_running_stats, update_running_stats),
          (check_batch_norm_backward, batch_norm_backward),
          (check_batch_norm_backward, batch_norm_backward_by_chain_rule)]


# ---------------------------------------------------------------------- right answers pass

@pytest.mark.parametrize("check, function", CHECKS)
def test_right_answers_pass(check, function, capsys):
    for seed in SEEDS:
        check(function, seed=seed)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("check, function", CHECKS)
@pytest.mark.parametrize("options", [
    {"shape": (2, 1)}, {"shape": (2, 7)}, {"shape": (30, 3)}, {"shape": (5, 5)},
    {"dtype": np.float32}, {"seed": 3, "shape": (4, 2), "dtype": np.float32}])
def test_right_answers_pass_for_other_shapes_and_dtypes(check, function, options):
    check(function, **options)


def test_hyperparameters_can_be_given():
    check_batch_norm_forward(batch_norm_forward, eps=1e-3)
    check_batch_norm_backward(batch_norm_backward, eps=0.5, shape=(3, 2))
    check_update_running_stats(update_running_stats, momentum=0.5, batches=5)
    check_update_running_stats(update_running_stats, momentum=1.0, batches=1)
    check_update_running_stats(update_running_stats, momentum=0.0)


def test_test_authors_errors_are_not_student_failures():
    with pytest.raises(ValueError, match="N >= 2"):
        check_batch_norm_forward(batch_norm_forward, shape=(1, 3))
    with pytest.raises(ValueError, match="float32 or float64"):
        check_batch_norm_backward(batch_norm_backward, dtype=np.int64)
    with pytest.raises(ValueError, match="batches"):
        check_update_running_stats(update_running_stats, batches=0)


def test_checks_leave_the_global_random_states_alone():
    for check, function in CHECKS:
        assert_global_random_state_untouched(lambda: check(function))


# ------------------------------------------------------------------- forward: the mistakes

def forward_with(*, var=lambda x: x.var(axis=0), eps_outside=False, affine=lambda z, w, b: z * w + b,
                 axis=0, eps=None, root=np.sqrt):
    def batch_norm_forward(input, weight, bias, eps_=1e-5, **keywords):
        used = keywords.get("eps", eps_) if eps is None else eps
        centred = input - input.mean(axis=axis, keepdims=True)
        spread = var(input) if axis == 0 else input.var(axis=1, keepdims=True)
        normalized = centred / (np.sqrt(spread) + used) if eps_outside else centred / root(spread + used)
        return affine(normalized, weight, bias)
    return batch_norm_forward


FORWARD_MISTAKES = [
    (forward_with(var=lambda x: x.var(axis=0, ddof=1)), "the variance is the unbiased one"),
    (forward_with(eps_outside=True), "eps is added to the standard deviation"),
    (forward_with(axis=1), "taken over each sample's features (axis=1)"),
    (forward_with(affine=lambda z, w, b: z), "weight and bias are ignored"),
    (forward_with(affine=lambda z, w, b: z + b), "weight is ignored"),
    (forward_with(affine=lambda z, w, b: z * w), "bias is ignored"),
    (forward_with(affine=lambda z, w, b: z * b + w), "weight and bias are swapped"),
    (forward_with(var=lambda x: x.std(axis=0)), "the standard deviation is used where the variance goes"),
    (forward_with(root=lambda v: v), "the square root is missing"),
    (forward_with(eps=0.0), "eps is missing"),
    (forward_with(eps=1e-5), "the eps passed in is ignored: 1e-05 was used instead of eps=0.1"),
]


@pytest.mark.parametrize("function, phrase", FORWARD_MISTAKES)
def test_forward_mistakes_are_named(function, phrase, capsys):
    message = failure_message(check_batch_norm_forward, named("batch_norm_forward", function))
    assert message.startswith("batch_norm_forward(input, weight, bias")
    assert phrase in message
    assert capsys.readouterr() == ("", "")


def test_forward_messages_say_the_call_and_the_scenario():
    assert_fails_with(check_batch_norm_forward, named("batch_norm_forward", forward_with(eps_outside=True)), [
        "batch_norm_forward(input, weight, bias) with input of shape (6, 4), weight = 1 and bias = 0: the output has "
        "the wrong values: eps is added to the standard deviation",
        "Hint: each column j"])


def test_nan_in_a_constant_column_is_explained():
    def nan_where_constant(input, weight, bias, eps=1e-5):
        output = batch_norm_forward(input, weight, bias, eps)
        output[:, input.var(axis=0) == 0] = np.nan
        return output

    message = failure_message(check_batch_norm_forward, named("batch_norm_forward", nan_where_constant))
    assert "the output is nan in column 0, where the input is constant (variance 0)" in message
    assert "Hint: add eps inside the square root" in message


def test_float32_input_must_give_float32_output():
    def in_float64(input, weight, bias, eps=1e-5):
        return batch_norm_forward(input.astype(np.float64), weight, bias, eps)

    assert_fails_with(check_batch_norm_forward, named("batch_norm_forward", in_float64), [
        "with input of shape (6, 4) of dtype float32: the output has dtype float64 but should have dtype float32"])


# ------------------------------------------------------------------- running stats: mistakes

def running_with(*, statistic=lambda x: x.var(axis=0, ddof=1), keras=False, momentum=None):
    def update_running_stats(running_mean, running_var, input, momentum_=0.1, **keywords):
        m = keywords.get("momentum", momentum_) if momentum is None else momentum
        old, new = (m, 1 - m) if keras else (1 - m, m)
        running_mean[:] = old * running_mean + new * input.mean(axis=0)
        running_var[:] = old * running_var + new * statistic(input)
    return update_running_stats


def normalized_variance(x):
    return ((x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)).var(0, ddof=1)


RUNNING_MISTAKES = [
    (running_with(statistic=lambda x: x.var(axis=0)), "running_var is fed the biased variance"),
    (running_with(keras=True), "momentum is used the other way round (Keras's convention"),
    (running_with(statistic=normalized_variance), "the variance of the normalised values"),
    (running_with(statistic=lambda x: (x ** 2).mean(axis=0)), "the mean of the squares"),
    (running_with(statistic=lambda x: x.std(axis=0, ddof=1)), "fed the standard deviation"),
    (running_with(momentum=0.1), "the momentum passed in is ignored: 0.1 was used instead of momentum=0.3"),
]


@pytest.mark.parametrize("function, phrase", RUNNING_MISTAKES)
def test_running_stats_mistakes_are_named(function, phrase):
    message = failure_message(check_update_running_stats, named("update_running_stats", function))
    assert message.startswith("update_running_stats(running_mean, running_var, input")
    assert phrase in message


def test_rebinding_is_told():
    def rebinds_var(running_mean, running_var, input, momentum=0.1):
        running_mean *= 1 - momentum
        running_mean += momentum * input.mean(axis=0)
        running_var = (1 - momentum) * running_var + momentum * input.var(axis=0, ddof=1)  # noqa: F841

    def returns_new(running_mean, running_var, input, momentum=0.1):
        return (1 - momentum) * running_mean + momentum * input.mean(0), running_var

    assert_fails_with(check_update_running_stats, named("update_running_stats", rebinds_var), [
        "running_var is unchanged after the call", "only rebinds the local name"])
    assert_fails_with(check_update_running_stats, named("update_running_stats", returns_new), [
        "it returned a tuple and left running_mean and running_var unchanged", "return None"])


def test_a_later_batch_that_differs_is_named():
    calls = []

    def wrong_from_the_second_call(running_mean, running_var, input, momentum=0.1):
        calls.append(1)
        update_running_stats(running_mean, running_var, input, momentum)
        if len(calls) > 2:
            running_var += 1.0

    message = failure_message(check_update_running_stats, named("update_running_stats", wrong_from_the_second_call))
    assert "batch 1 matches torch.nn.BatchNorm1d(4, momentum=0.1), batch 2 differs: running_var" in message


def test_changing_the_input_is_told():
    def centres_input(running_mean, running_var, input, momentum=0.1):
        input -= input.mean(axis=0)
        update_running_stats(running_mean, running_var, input + 0, momentum)

    assert "changed its argument input in place" in failure_message(
        check_update_running_stats, named("update_running_stats", centres_input))


# ------------------------------------------------------------------------ backward: mistakes

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
                                                               "(4,)"),
    (backward_with(grad_bias=lambda go: go.mean(0)), "grad_bias is off by a factor of ≈ 1/6 (1 / the batch size)"),
    (backward_with(grad_input=lambda go, g, xhat, std, n: (n * g - g.sum(0) - xhat * (g * xhat).sum(0)) / std),
     "grad_input is off by a factor of ≈ 6 (the batch size)"),
]


@pytest.mark.parametrize("function, phrase", BACKWARD_MISTAKES)
def test_backward_mistakes_are_named(function, phrase):
    message = failure_message(check_batch_norm_backward, named("batch_norm_backward", function))
    assert message.startswith("batch_norm_backward(grad_output, input, weight")
    assert phrase in message


def test_gradients_in_the_wrong_order_are_told():
    def swapped(grad_output, input, weight, eps=1e-5):
        grad_input, grad_weight, grad_bias = batch_norm_backward(grad_output, input, weight, eps)
        return grad_input, grad_bias, grad_weight

    assert_fails_with(check_batch_norm_backward, named("batch_norm_backward", swapped), [
        "right gradients in the wrong order, (grad_input, grad_bias, grad_weight)"])


# ------------------------------------------------------------ garbage, crashes, NotImplemented

def not_implemented(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("check", [check_batch_norm_forward, check_update_running_stats, check_batch_norm_backward])
def test_not_implemented_is_told_to_be_replaced(check):
    assert "replace `raise NotImplementedError()`" in failure_message(check, named("f", not_implemented))


def test_crashes_are_reported_with_the_error():
    def crashes(input, weight, bias, eps=1e-5):
        return input / input.sum(axis=1)

    assert_fails_with(check_batch_norm_forward, named("batch_norm_forward", crashes), [
        "batch_norm_forward(input, weight, bias) raised ValueError: operands could not be broadcast",
        "Hint: input is [N, C]"])

    def divides_by_zero(grad_output, input, weight, eps=1e-5):
        raise ZeroDivisionError("oops")

    assert "batch_norm_backward(grad_output, input, weight) raised ZeroDivisionError: oops" in failure_message(
        check_batch_norm_backward, named("batch_norm_backward", divides_by_zero))


@pytest.mark.parametrize("result, phrase", [
    (None, "the output is None, but a numpy array of shape (6, 4) is expected: did the function end without a `return`"),
    ("text", "the output is a str"),
    ((np.zeros((6, 4)), None), "returned a tuple of 2 values, but only the output is expected"),
    (np.zeros((4, 6)), "the output has shape (4, 6) but should have shape (6, 4): it looks transposed"),
    (np.full((6, 4), np.nan), "the output contains nan"),
    (np.zeros((6, 4), dtype=int), "the output has dtype int64 but should have dtype float64"),
])
def test_forward_garbage_is_told(result, phrase):
    assert phrase in failure_message(check_batch_norm_forward, named("batch_norm_forward", lambda *a, **k: result))


def test_a_torch_tensor_is_told_to_be_numpy():
    message = failure_message(check_batch_norm_forward, named(
        "batch_norm_forward", lambda x, w, b, eps=1e-5: torch.from_numpy(batch_norm_forward(x, w, b, eps))))
    assert "is a torch.Tensor, but a numpy array of shape (6, 4) is expected" in message


@pytest.mark.parametrize("result, phrase", [
    (None, "it returned None, but a tuple of three arrays (grad_input, grad_weight, grad_bias) is expected: did"),
    ((np.zeros((6, 4)), np.zeros(4)), "it returned a tuple of 2 values"),
    ((np.zeros((6, 4)), np.zeros(4), "x"), "grad_bias is a str"),
    ((np.zeros((6, 4)), np.zeros(4), np.full(4, np.nan)), "grad_bias contains nan"),
])
def test_backward_garbage_is_told(result, phrase):
    assert phrase in failure_message(check_batch_norm_backward, named("batch_norm_backward", lambda *a, **k: result))


def test_modifying_the_input_is_told():
    def normalises_in_place(input, weight, bias, eps=1e-5):
        input -= input.mean(axis=0)
        input /= np.sqrt(input.var(axis=0) + eps)
        return input * weight + bias

    assert_fails_with(check_batch_norm_forward, named("batch_norm_forward", normalises_in_place), [
        "batch_norm_forward(input, weight, bias) changed its argument input in place"])

    def scales_grad_output(grad_output, input, weight, eps=1e-5):
        grad_output *= 1.0
        grad_output += 1.0
        return batch_norm_backward(grad_output - 1.0, input, weight, eps)

    assert "changed its argument grad_output in place" in failure_message(
        check_batch_norm_backward, named("batch_norm_backward", scales_grad_output))


# ------------------------------------------------------------------------- tamper-proofing

def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        for check, function in CHECKS:
            check(function)
        assert "eps is added to the standard deviation" in failure_message(
            check_batch_norm_forward, named("batch_norm_forward", forward_with(eps_outside=True)))
        assert "Keras" in failure_message(check_update_running_stats, named("update_running_stats",
                                                                            running_with(keras=True)))
        assert "treated as constants" in failure_message(check_batch_norm_backward, named(
            "batch_norm_backward", backward_with(grad_input=lambda go, g, xhat, std, n: g / std)))
    assert capsys.readouterr() == ("", "")


# --------------------------------------------------------------- the notebook's wrong answers

@pytest.mark.parametrize("grade_id, check, phrase", [
    ("batch_norm_forward", check_batch_norm_forward, "eps is added to the standard deviation"),
    ("update_running_stats", check_update_running_stats, "running_mean and running_var are unchanged after the call"),
    ("batch_norm_backward", check_batch_norm_backward, "the mean and the variance are treated as constants"),
])
def test_wrong_answer_cells_fail_with_their_mistake(grade_id, check, phrase, capsys):
    assert phrase in failure_message(check, defined_by("05_regularization", grade_id, {"np": np, "torch": torch, "F": F}))
    assert capsys.readouterr() == ("", "")
