import time

import numpy as np
import pytest

from course_lib.checking import optimizers
from course_lib.checking.failure import CheckFailure
from course_lib.checking.optimizers import (
    check_adam_update, check_adamax_update, check_adamw_update, check_ema_momentum_update,
    check_momentum_update, check_nesterov_update, check_rmsprop_update, check_sgd_update,
)
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

# the wrong implementations under test divide by zero on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# ------------------------------------------------ right answers, as students write them

def sgd_update(param, grad, state, *, lr, weight_decay=0.0):
    param -= lr * (grad + weight_decay * param)


def momentum_update(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    g = grad + weight_decay * param
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = g.copy()
    else:
        state["momentum_buffer"] = momentum * state["momentum_buffer"] + (1 - dampening) * g
    param -= lr * state["momentum_buffer"]


def nesterov_update(param, grad, state, *, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    buf = state.get("momentum_buffer")
    buf = g.copy() if buf is None else momentum * buf + g
    state["momentum_buffer"] = buf
    param -= lr * (g + momentum * buf)


def ema_momentum_update(param, grad, state, *, lr, beta):
    velocity = beta * state.get("velocity", np.zeros_like(param)) + (1 - beta) * grad
    state["velocity"] = velocity
    param -= lr * velocity


def rmsprop_update(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    square_avg = alpha * state.get("square_avg", np.zeros_like(param)) + (1 - alpha) * g * g
    state["square_avg"] = square_avg
    param -= lr * g / (np.sqrt(square_avg) + eps)


def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    state["step"] = t = state.get("step", 0) + 1
    g = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * g * g
    param -= lr / (1 - beta1 ** t) * m / (np.sqrt(v / (1 - beta2 ** t)) + eps)


def adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    param *= 1 - lr * weight_decay
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps)


def adamax_update(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    state["step"] = t = state.get("step", 0) + 1
    g = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    u = state["exp_inf"] = np.maximum(beta2 * state.get("exp_inf", 0.0), abs(g) + eps)  # np.abs is tampered with
    param -= lr / (1 - beta1 ** t) * m / u


def ema_momentum_update_as_torch(param, grad, state, *, lr, beta):
    """Torch's form with the rescaled lr: the same trajectory, so also right."""
    buffer = state.get("momentum_buffer")
    state["momentum_buffer"] = grad.copy() if buffer is None else beta * buffer + grad
    param -= lr * (1 - beta) * state["momentum_buffer"]


CHECKS = [
    (check_sgd_update, sgd_update), (check_momentum_update, momentum_update),
    (check_nesterov_update, nesterov_update), (check_ema_momentum_update, ema_momentum_update),
    (check_rmsprop_update, rmsprop_update), (check_adam_update, adam_update),
    (check_adamw_update, adamw_update), (check_adamax_update, adamax_update),
]


def failure_message(check, function, name, **kwargs):
    function.__name__ = name
    with pytest.raises(CheckFailure) as caught:
        check(function, **kwargs)
    return str(caught.value)


def assert_fails_with(check, function, name, parts, **kwargs):
    message = failure_message(check, function, name, **kwargs)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return message


# ---------------------------------------------------------------------- right answers pass

@pytest.mark.parametrize("check, update", CHECKS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_right_answers_pass(check, update, dtype):
    for seed in SEEDS:
        check(update, seed=seed, dtype=dtype)


@pytest.mark.parametrize("check, update", CHECKS)
@pytest.mark.parametrize("shape, steps", [((), 8), ((1,), 3), ((7,), 1), ((2, 3, 4), 12), ((1, 1), 8)])
def test_right_answers_pass_for_any_shape_and_number_of_steps(check, update, shape, steps):
    check(update, seed=1, shape=shape, steps=steps)


@pytest.mark.parametrize("check, update, options", [
    (check_sgd_update, sgd_update, {"lr": 0.5, "weight_decay": 0.01}),
    (check_momentum_update, momentum_update, {"momentum": 0.99, "dampening": 0.1}),
    (check_nesterov_update, nesterov_update, {"lr": 0.01, "momentum": 0.95}),
    (check_ema_momentum_update, ema_momentum_update, {"beta": 0.99}),
    (check_rmsprop_update, rmsprop_update, {"alpha": 0.5, "eps": 1e-6}),
    (check_adam_update, adam_update, {"lr": 0.1, "betas": (0.5, 0.9), "weight_decay": 0.1}),
    (check_adamw_update, adamw_update, {"weight_decay": 0.5}),
    (check_adamax_update, adamax_update, {"betas": (0.95, 0.9999), "eps": 1e-4}),
])
def test_hyperparameters_can_be_overridden(check, update, options):
    check(update, seed=2, **options)
    check(update, seed=2, dtype=np.float32, **options)


def test_torch_form_of_the_ema_exercise_passes():
    check_ema_momentum_update(ema_momentum_update_as_torch)


def test_unknown_hyperparameters_are_the_test_authors_error():
    with pytest.raises(TypeError, match="momentum"):
        check_sgd_update(sgd_update, momentum=0.9)


def test_float32_params_stay_float32_under_a_float64_assignment():
    def assigns_float64(param, grad, state, *, lr, weight_decay=0.0):
        assert param.dtype == np.float32
        param[...] = param.astype(np.float64) - lr * (grad + weight_decay * param)

    check_sgd_update(assigns_float64, dtype=np.float32)


# ------------------------------------------------------- the check's own catalogue of mistakes

CATALOGUE = [pytest.param(name, mistake, explanation, id=f"{name}-{mistake}")
             for name, rule in optimizers.RULES.items() for mistake, explanation in rule.mistakes]


@pytest.mark.parametrize("name, mistake, explanation", CATALOGUE)
def test_every_known_mistake_is_told_by_its_own_explanation(name, mistake, explanation):
    """The check's numpy variants, run as a student's function: none hides behind another."""
    rule = optimizers.RULES[name]

    def wrong(param, grad, state, **hp):
        rule.step(param, grad, state, {**rule.defaults, **hp}, mistake)

    check = getattr(optimizers, f"check_{name}")
    assert_fails_with(check, wrong, name, [f"Hint: {explanation}"])


# ------------------------------------------------------------- wrong answers, as students write them

def sgd_decay_subtracted(param, grad, state, *, lr, weight_decay=0.0):
    param -= lr * (grad - weight_decay * param)


def sgd_decay_after_step(param, grad, state, *, lr, weight_decay=0.0):
    param -= lr * grad
    param -= lr * weight_decay * param


def sgd_rebinds(param, grad, state, *, lr, weight_decay=0.0):
    param = param - lr * (grad + weight_decay * param)  # noqa: F841


def sgd_returns_new(param, grad, state, *, lr, weight_decay=0.0):
    return param - lr * (grad + weight_decay * param)


def sgd_changes_grad(param, grad, state, *, lr, weight_decay=0.0):
    grad += weight_decay * param
    param -= lr * grad


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


BUFFER = None


def momentum_in_a_global(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    global BUFFER
    g = grad + weight_decay * param
    BUFFER = g.copy() if BUFFER is None else momentum * BUFFER + (1 - dampening) * g
    param -= lr * BUFFER


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


def ema_in_function_attribute(param, grad, state, *, lr, beta):
    ema_in_function_attribute.velocity = beta * ema_in_function_attribute.velocity + (1 - beta) * grad
    param -= lr * ema_in_function_attribute.velocity


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


def adam_with(*, t_start=0, increment_first=True, correct=True, decoupled=False, eps_inside=False,
              stuck=False):
    def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        beta1, beta2 = betas
        t = state.get("step", t_start)
        if increment_first and not stuck:
            t += 1
        state["step"] = t if increment_first else t + 1
        if decoupled:
            param *= 1 - lr * weight_decay
            g = grad
        else:
            g = grad + weight_decay * param
        m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
        v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * g * g
        if correct:
            m, v = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        param -= lr * m / (np.sqrt(v + eps) if eps_inside else np.sqrt(v) + eps)
    return adam_update


def adam_counting_in_python_floats(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                   weight_decay=0.0):
    beta1, beta2 = betas
    t = state.get("step", 0)  # used before it is incremented
    g = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * g * g
    step_size = lr / (1 - beta1 ** t)
    state["step"] = t + 1
    param -= step_size * m / (np.sqrt(v / (1 - beta2 ** t)) + eps)


def adamw_with_l2(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def adamw_without_lr(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    param *= 1 - weight_decay
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps)


def adamw_decay_after(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps)
    param *= 1 - lr * weight_decay


def adamax_eps_outside(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    state["step"] = t = state.get("step", 0) + 1
    g = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    u = state["exp_inf"] = np.maximum(beta2 * state.get("exp_inf", 0.0), np.abs(g))
    param -= lr / (1 - beta1 ** t) * m / (u + eps)


def adamax_uncorrected(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    g = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    u = state["exp_inf"] = np.maximum(beta2 * state.get("exp_inf", 0.0), np.abs(g) + eps)
    param -= lr * m / u


def not_implemented(param, grad, state, **hyperparameters):
    raise NotImplementedError()


def adam_without_defaults(param, grad, state, *, lr, betas, eps, weight_decay):
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def adam_with_other_eps(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def adam_reading_missing_keys(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                              weight_decay=0.0):
    state["exp_avg"] = betas[0] * state["exp_avg"] + (1 - betas[0]) * grad
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


WRONG_ANSWERS = [
    (check_sgd_update, sgd_decay_subtracted, "sgd_update", [
        "sgd_update(param, grad, state, lr=0.1, weight_decay=0.1): step 1 differs from "
        "torch.optim.SGD(lr=0.1, weight_decay=0.1): param[",
        "Hint: weight decay is subtracted from the gradient"]),
    (check_sgd_update, sgd_decay_after_step, "sgd_update", ["Hint: the decay uses param after the step"]),
    (check_sgd_update, sgd_rebinds, "sgd_update", [
        "sgd_update(param, grad, state, lr=0.1) left param unchanged on step 1, but torch.optim.SGD changes it.",
        "Hint: `param = param - ...` makes a new array and only rebinds the local name"]),
    (check_sgd_update, sgd_returns_new, "sgd_update", [
        "sgd_update(param, grad, state, lr=0.1) returned a new array and left param unchanged on step 1.",
        "Hint: update param in place"]),
    (check_sgd_update, sgd_changes_grad, "sgd_update", [
        "sgd_update(param, grad, state, lr=0.1, weight_decay=0.1) changed its argument grad in place on step 1.",
        "g = grad + weight_decay * param"]),
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
    (check_rmsprop_update, rmsprop_eps_inside, "rmsprop_update", [
        "Hint: eps is inside the square root: torch divides by sqrt(square_avg) + eps."]),
    (check_rmsprop_update, rmsprop_square_of_average, "rmsprop_update", [
        "Hint: that divides by the size of the average gradient"]),
    (check_rmsprop_update, rmsprop_without_one_minus_alpha, "rmsprop_update", ["Hint: (1 - alpha) is missing"]),
    (check_adam_update, adam_with(correct=False), "adam_update", [
        "adam_update(param, grad, state): step 1 differs from torch.optim.Adam(lr=0.001, betas=(0.9, 0.999), "
        "eps=1e-08, weight_decay=0)", "Hint: the bias correction is missing"]),
    (check_adam_update, adam_with(increment_first=False), "adam_update", [
        "param[0, 0] is nan", "Hint: the first step used t = 0, and 1 - beta**0 = 0 divides by zero. "
        "Is the bias correction using t = 1, 2, 3, ...? state['step'] must count this parameter's updates, "
        "starting at 1 on the first."]),
    (check_adam_update, adam_counting_in_python_floats, "adam_update", [
        "adam_update(param, grad, state) raised ZeroDivisionError: float division by zero (on step 1).",
        "Hint: t = 0 makes 1 - beta**t zero."]),
    (check_adam_update, adam_with(t_start=1), "adam_update", ["Hint: the first step used t = 2."]),
    (check_adam_update, adam_with(stuck=True, t_start=1), "adam_update", [
        "step 1 matches", "step 2 diverges", "Hint: t stays 1"]),
    (check_adam_update, adam_with(eps_inside=True), "adam_update", ["Hint: eps is inside the square root"]),
    (check_adam_update, adam_with(decoupled=True), "adam_update", [
        "weight_decay=0.1", "Hint: weight decay is decoupled, param *= 1 - lr * weight_decay, as in AdamW"]),
    (check_adamw_update, adamw_with_l2, "adamw_update", ["Hint: that is Adam with L2"]),
    (check_adamw_update, adamw_without_lr, "adamw_update", ["Hint: the decay is not multiplied by lr"]),
    (check_adamw_update, adamw_decay_after, "adamw_update", ["Hint: the decay is applied after the Adam step"]),
    (check_adamw_update, adam_update, "adamw_update", [
        "adamw_update's default is weight_decay=0.0, but torch.optim.AdamW's is weight_decay=0.01."]),
    (check_adamax_update, adamax_eps_outside, "adamax_update", ["Hint: eps is added after the maximum"]),
    (check_adamax_update, adamax_uncorrected, "adamax_update", ["Hint: m is not bias-corrected"]),
    (check_adam_update, adam_with_other_eps, "adam_update", [
        "adam_update's default is eps=1e-06, but torch.optim.Adam's is eps=1e-08.",
        "Hint: use the signature adam_update(param, grad, state, *, lr=0.001, betas=(0.9, 0.999), eps=1e-08, "
        "weight_decay=0)."]),
    (check_adam_update, adam_without_defaults, "adam_update", [
        "adam_update(param, grad, state) raised TypeError", "missing 4 required keyword-only arguments",
        "Hint: the check passes hyperparameters by keyword; the signature is adam_update(param, grad, state, *, "
        "lr=0.001"]),
    (check_adam_update, adam_reading_missing_keys, "adam_update", [
        "adam_update(param, grad, state) raised KeyError: 'exp_avg' (on step 1).",
        "Hint: state is an empty dict before a parameter's first step"]),
]


@pytest.mark.parametrize("check, function, name, parts", WRONG_ANSWERS)
def test_wrong_answers_fail_with_the_reason(check, function, name, parts):
    assert_fails_with(check, function, name, parts)


@pytest.mark.parametrize("shape", [(), (1,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("check, function, name, hint", [
    (check_adam_update, adam_with(correct=False), "adam_update", "Hint: the bias correction is missing"),
    (check_adam_update, adam_with(increment_first=False), "adam_update", "Hint: the first step used t = 0"),
    (check_rmsprop_update, rmsprop_eps_inside, "rmsprop_update", "Hint: eps is inside the square root"),
    (check_momentum_update, momentum_with_lr_in_velocity, "momentum_update",
     "Hint: that is the classic form v = momentum * v + lr * g"),
    (check_adamw_update, adamw_with_l2, "adamw_update", "Hint: that is Adam with L2"),
])
def test_mistakes_are_named_for_any_shape_and_float32(check, function, name, hint, shape, dtype):
    assert_fails_with(check, function, name, [hint], shape=shape, dtype=dtype)


@pytest.mark.parametrize("check, update", CHECKS)
def test_the_blank_notebook_gets_a_message_not_a_crash(check, update):
    message = failure_message(check, not_implemented, update.__name__)
    assert f"{update.__name__}(param, grad, state" in message
    assert "raised NotImplementedError:  (on step 1)." in message
    assert "Hint: replace `raise NotImplementedError()` with your update." in message


OUTSIDE_STATE = ("Hint: the same first step with a fresh state dict gave two different results: the function keeps "
                 "buffers or a step count outside `state` (a global, a function attribute).")


def test_buffers_in_a_global_are_caught():
    global BUFFER
    BUFFER = None
    assert_fails_with(check_momentum_update, momentum_in_a_global, "momentum_update", [
        "momentum_update(param, grad, state, lr=0.1, momentum=0.9) with lr=0.1 on steps 1–4, then 0.05: step 1 differs",
        OUTSIDE_STATE])


def test_buffers_in_a_function_attribute_are_caught():
    ema_in_function_attribute.velocity = 0.0
    assert_fails_with(check_ema_momentum_update, ema_in_function_attribute, "ema_momentum_update", [
        "with lr=0.1 on steps 1–4, then 0.05: step 1 differs", OUTSIDE_STATE])


def test_buffers_shared_between_parameters_are_caught_by_two_parameters():
    buffers = {}

    def momentum_by_shape(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
        """One buffer for all parameters, started afresh on each parameter's first step."""
        g = grad + weight_decay * param
        if not state:
            state["started"] = True
            buffers["buffer"] = g.copy()
        else:
            buffers["buffer"] = momentum * buffers["buffer"] + (1 - dampening) * g
        param -= lr * buffers["buffer"]

    assert_fails_with(check_momentum_update, momentum_by_shape, "momentum_update", [
        "momentum_update(param, grad, state, lr=0.1, momentum=0.9) raised ValueError",
        "(on step 2 of the first parameter, updating two parameters in turn, each with its own state dict).",
        "Hint: an update used buffers or a step count left by the other parameter: keep them in `state`"])


def test_a_global_step_count_is_caught_by_two_parameters():
    steps = {"t": 0}

    def adam_counting_globally(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if not state:
            steps["t"] = 0  # reset on a parameter's first step: passes the one-parameter scenarios
        steps["t"] += 1
        state["step"] = steps["t"] - 1
        adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    assert_fails_with(check_adam_update, adam_counting_globally, "adam_update", [
        "updating two parameters in turn, each with its own state dict: calls 1–3 match torch.optim.Adam",
        "call 4 (step 2 of the second parameter, shape (5,)) diverges: param[",
        "Hint: an update used buffers or a step count left by the other parameter"])


def test_messages_are_one_line_and_a_hint():
    message = failure_message(check_adam_update, adam_with(correct=False), "adam_update")
    assert len(message.splitlines()) == 2


def test_a_tiny_difference_is_shown_with_enough_digits():
    def adam_a_little_off(param, grad, state, **hp):
        adam_update(param, grad, state, **hp)
        param *= 1 + 1e-7

    message = failure_message(check_adam_update, adam_a_little_off, "adam_update")
    got, expected = message.split(" is ")[1].split(" (largest")[0].split(", expected ")
    assert got != expected


# ------------------------------------------------------------------------ robustness

def test_checks_cannot_be_fooled_by_patched_numpy_or_torch():
    with tampered(builtin_names=()):
        for check, update in CHECKS:
            check(update)
        with pytest.raises(CheckFailure) as caught:
            check_adam_update(adam_with(correct=False))
    assert "the bias correction is missing" in str(caught.value)


def test_checks_leave_the_students_random_states_alone():
    assert_global_random_state_untouched(lambda: [check(update) for check, update in CHECKS])


@pytest.mark.parametrize("check, update", CHECKS)
def test_checks_are_fast(check, update):
    check(update)  # warm up torch's optimizer code
    start = time.perf_counter()
    check(update)
    assert time.perf_counter() - start < 0.3
