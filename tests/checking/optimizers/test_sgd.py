"""The SGD family's wrong answers, as students write them, fail with their mistake named."""
import numpy as np
import pytest

from course_lib.checking.optimizers import (
    check_ema_momentum_update, check_momentum_update, check_nesterov_update, check_sgd_update,
)
from tests.checking.failures import assert_fails_with, named
from tests.checking.optimizers.answers import momentum_update


def sgd_decay_subtracted(param, grad, state, *, lr, weight_decay=0.0):
    param -= lr * (grad - weight_decay * param)


def sgd_decay_after_step(param, grad, state, *, lr, weight_decay=0.0):
    param -= lr * grad
    param -= lr * weight_decay * param


def momentum_with_lr_in_velocity(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    g = grad + weight_decay * param
    velocity = state.get("velocity", np.zeros_like(param))
    state["velocity"] = momentum * velocity + lr * g
    param -= state["velocity"]


def momentum_dampened_from_zero(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    g = grad + weight_decay * param
    buf = state.get("momentum_buffer", np.zeros_like(param))
    state["momentum_buffer"] = momentum * buf + (1 - dampening) * g
    param -= lr * state["momentum_buffer"]


def momentum_rebinds_state(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    g = grad + weight_decay * param
    if not state:
        state = {"momentum_buffer": g.copy()}
    else:
        state["momentum_buffer"] = momentum * state["momentum_buffer"] + (1 - dampening) * g
    param -= lr * state["momentum_buffer"]


def nesterov_plain(param, grad, state, *, lr, momentum, weight_decay=0.0):
    momentum_update(param, grad, state, lr=lr, momentum=momentum, weight_decay=weight_decay)


def nesterov_cs231n(param, grad, state, *, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    v_prev = state.get("v", np.zeros_like(param))
    state["v"] = v = momentum * v_prev - lr * g
    param += -momentum * v_prev + (1 + momentum) * v


def ema_starts_at_g(param, grad, state, *, lr, beta):
    state["velocity"] = grad.copy() if "velocity" not in state else beta * state["velocity"] + (1 - beta) * grad
    param -= lr * state["velocity"]


def ema_without_one_minus_beta(param, grad, state, *, lr, beta):
    state["velocity"] = beta * state.get("velocity", 0.0) + grad
    param -= lr * state["velocity"]


WRONG_ANSWERS = [
    (check_sgd_update, sgd_decay_subtracted, "sgd_update", [
        "sgd_update(param, grad, state, lr=0.1, weight_decay=0.1): step 1 differs from "
        "torch.optim.SGD(lr=0.1, weight_decay=0.1): param[",
        "Hint: weight decay is subtracted from the gradient"]),
    (check_sgd_update, sgd_decay_after_step, "sgd_update", ["Hint: the decay uses param after the step"]),
    (check_momentum_update, momentum_with_lr_in_velocity, "momentum_update", [
        "momentum_update(param, grad, state, lr=0.05, momentum=0.9) with lr=0.1 on steps 1–4, then 0.05: steps 1–4 match "
        "torch.optim.SGD(lr=0.05, momentum=0.9, dampening=0, weight_decay=0), step 5 diverges: param[",
        "Hint: that is the classic form v = momentum * v + lr * g"]),
    (check_momentum_update, momentum_dampened_from_zero, "momentum_update", [
        "momentum_update(param, grad, state, lr=0.1, momentum=0.9, dampening=0.5): step 1 differs",
        "Hint: dampening is applied on the first step too"]),
    (check_momentum_update, momentum_rebinds_state, "momentum_update", [
        "step 2 diverges", "Hint: every step acts like the parameter's first: the buffers don't carry over",
        "`state = {...}` only rebinds the local name"]),
    (check_nesterov_update, nesterov_plain, "nesterov_update", [
        "step 1 differs from torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0, nesterov=True)",
        "Hint: the step uses buf, plain momentum"]),
    (check_nesterov_update, nesterov_cs231n, "nesterov_update", [
        "with lr=0.1 on steps 1–4, then 0.05: steps 1–4 match", "step 5 diverges",
        "Hint: that is a look-ahead form with lr inside the velocity"]),
    (check_ema_momentum_update, ema_starts_at_g, "ema_momentum_update", [
        "ema_momentum_update(param, grad, state, lr=0.1, beta=0.9): step 1 differs from "
        "torch.optim.SGD(lr=0.01, momentum=0.9)", "Hint: v starts at g on the first step"]),
    (check_ema_momentum_update, ema_without_one_minus_beta, "ema_momentum_update", [
        "Hint: (1 - beta) is missing"]),
]


@pytest.mark.parametrize("check, function, name, parts", WRONG_ANSWERS,
                         ids=[function.__name__ for _, function, _, _ in WRONG_ANSWERS])
def test_wrong_answers_fail_with_the_reason(check, function, name, parts):
    assert_fails_with(check, named(name, function), parts)


@pytest.mark.parametrize("shape", [(), (1,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mistakes_are_named_for_any_shape_and_float32(shape, dtype):
    assert_fails_with(check_momentum_update, named("momentum_update", momentum_with_lr_in_velocity),
                      ["Hint: that is the classic form v = momentum * v + lr * g"], shape=shape, dtype=dtype)


def momentum_keeping_the_first_gradient(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    """The buffer IS the first gradient, then updated in place: the caller's gradient changes."""
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = grad
    else:
        buffer = state["momentum_buffer"]
        buffer *= momentum
        buffer += (1 - dampening) * grad
    param -= lr * state["momentum_buffer"]


def test_a_buffer_that_is_the_callers_gradient_is_caught():
    assert_fails_with(check_momentum_update, named("momentum_update", momentum_keeping_the_first_gradient), [
        "momentum_update(param, grad, state, lr=0.1, momentum=0.9) on step 1 keeps its argument grad itself (or a "
        "view of it) in state['momentum_buffer']", "Store a copy: state['momentum_buffer'] = grad.copy()."])
