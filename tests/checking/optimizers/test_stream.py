"""What every update-rule check does, whatever the rule: right answers pass for any shape,
dtype and hyperparameters; in-place updates, untouched gradients, state kept in `state`;
crashes and blank answers; causes named only when they reproduce the answer; the student's
function called once per step; tampering and random state."""
import numpy as np
import pytest

from course_lib.checking.failure import CheckFailure
from course_lib.checking.optimizers import (
    RULES, check_adam_update, check_adamax_update, check_adamw_update, check_ema_momentum_update,
    check_momentum_update, check_nesterov_update, check_rmsprop_update, check_sgd_update,
)
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.optimizers.answers import (
    CHECKS, adam_update, adamax_update, adamw_update, ema_momentum_update, ema_momentum_update_as_torch,
    momentum_update, nesterov_update, rmsprop_update, sgd_update,
)
from tests.checking.optimizers.test_adam import adam_with
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

# the wrong implementations under test divide by zero on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


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


# ------------------------------------------------------------- in place, and what comes back

def sgd_rebinds(param, grad, state, *, lr, weight_decay=0.0):
    param = param - lr * (grad + weight_decay * param)  # noqa: F841


def sgd_returns_new(param, grad, state, *, lr, weight_decay=0.0):
    return param - lr * (grad + weight_decay * param)


def sgd_changes_grad(param, grad, state, *, lr, weight_decay=0.0):
    grad += weight_decay * param
    param -= lr * grad


@pytest.mark.parametrize("function, parts", [
    (sgd_rebinds, ["sgd_update(param, grad, state, lr=0.1) left param unchanged on step 1, but torch.optim.SGD "
                   "changes it.", "Hint: `param = param - ...` makes a new array and only rebinds the local name"]),
    (sgd_returns_new, ["sgd_update(param, grad, state, lr=0.1) returned a new array and left param unchanged on "
                       "step 1.", "Hint: update param in place"]),
    (sgd_changes_grad, ["sgd_update(param, grad, state, lr=0.1, weight_decay=0.1) on step 1 changed its argument "
                        "grad in place: `grad -= ...`", "Compute a new array instead"]),
], ids=["rebinds", "returns new", "changes grad"])
def test_updates_in_place_only_of_param(function, parts):
    assert_fails_with(check_sgd_update, named("sgd_update", function), parts)


# --------------------------------------------------------------------------- crashes

def not_implemented(param, grad, state, **hyperparameters):
    raise NotImplementedError()


@pytest.mark.parametrize("check, update", CHECKS)
def test_the_blank_notebook_gets_a_message_not_a_crash(check, update):
    message = failure_message(check, named(update.__name__, not_implemented))
    assert f"{update.__name__}(param, grad, state" in message
    assert message.endswith(" on step 1 raised NotImplementedError: replace `raise NotImplementedError()` in the "
                            "answer cell with your implementation, then run that cell again before this one.")


# --------------------------------------------------------------------- state kept in `state`

OUTSIDE_STATE = ("Hint: the same first step with a fresh state dict gave two different results: the function keeps "
                 "buffers or a step count outside `state` (a global, a function attribute).")

BUFFER = None


def momentum_in_a_global(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    global BUFFER
    g = grad + weight_decay * param
    BUFFER = g.copy() if BUFFER is None else momentum * BUFFER + (1 - dampening) * g
    param -= lr * BUFFER


def ema_in_function_attribute(param, grad, state, *, lr, beta):
    ema_in_function_attribute.velocity = beta * ema_in_function_attribute.velocity + (1 - beta) * grad
    param -= lr * ema_in_function_attribute.velocity


def test_buffers_in_a_global_are_caught():
    global BUFFER
    BUFFER = None
    assert_fails_with(check_momentum_update, named("momentum_update", momentum_in_a_global), [
        "momentum_update(param, grad, state, lr=0.1, momentum=0.9) with lr=0.1 on steps 1–4, then 0.05: step 1 differs",
        OUTSIDE_STATE])


def test_buffers_in_a_function_attribute_are_caught():
    ema_in_function_attribute.velocity = 0.0
    assert_fails_with(check_ema_momentum_update, named("ema_momentum_update", ema_in_function_attribute), [
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

    assert_fails_with(check_momentum_update, named("momentum_update", momentum_by_shape), [
        "momentum_update(param, grad, state, lr=0.1, momentum=0.9) on step 2 of the first parameter, updating two "
        "parameters in turn, each with its own state dict raised ValueError",
        "Hint: an update used buffers or a step count left by the other parameter: keep them in `state`"])


def test_a_global_step_count_is_caught_by_two_parameters():
    steps = {"t": 0}

    def adam_counting_globally(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if not state:
            steps["t"] = 0  # reset on a parameter's first step: passes the one-parameter scenarios
        steps["t"] += 1
        state["step"] = steps["t"] - 1
        adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    assert_fails_with(check_adam_update, named("adam_update", adam_counting_globally), [
        "updating two parameters in turn, each with its own state dict: calls 1–3 match torch.optim.Adam",
        "call 4 (step 2 of the second parameter, shape (5,)) diverges: param[",
        "Hint: an update used buffers or a step count left by the other parameter"])


# ------------------------------------------------------------------------------ messages

def test_messages_are_one_line_and_a_hint():
    message = failure_message(check_adam_update, named("adam_update", adam_with(correct=False)))
    assert len(message.splitlines()) == 2


def test_a_tiny_difference_is_shown_with_enough_digits():
    def adam_a_little_off(param, grad, state, **hp):
        adam_update(param, grad, state, **hp)
        param *= 1 + 1e-7

    message = failure_message(check_adam_update, named("adam_update", adam_a_little_off))
    got, expected = message.split(" is ")[1].split(" (largest")[0].split(", expected ")
    assert got != expected


def test_a_cause_found_in_one_scenario_says_what_it_leaves_unexplained():
    """No bias correction and eps fixed at 1e-8: the defaults show the missing correction
    alone, the eps scenario shows both mistakes, which no single variant reproduces."""
    def adam_uncorrected_with_fixed_eps(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                        weight_decay=0.0):
        adam_with(correct=False)(param, grad, state, lr=lr, betas=betas, eps=1e-8, weight_decay=weight_decay)

    assert_fails_with(check_adam_update, named("adam_update", adam_uncorrected_with_fixed_eps), [
        "adam_update(param, grad, state): step 1 differs from torch.optim.Adam",
        "Hint: the bias correction is missing: divide m by 1 - beta1**t and v by 1 - beta2**t. That explains "
        "this scenario but not adam_update(param, grad, state, eps=0.001), where your update differs from "
        "torch's in another way too."])


def test_a_cause_that_reproduces_every_scenario_is_named_plainly():
    message = failure_message(check_adam_update, named("adam_update", adam_with(correct=False)))
    assert message.endswith("Hint: the bias correction is missing: divide m by 1 - beta1**t and v by 1 - beta2**t.")


# ---------------------------------------------------------- calls of the student's function

@pytest.mark.parametrize("check, update", CHECKS)
def test_a_right_answer_is_called_once_per_step_and_parameter(check, update):
    rule = RULES[update.__name__]
    answer = counted(update)
    check(answer, steps=6)
    assert answer.calls == sum(6 * (2 if scenario.two else 1) for scenario in rule.scenarios)


def test_a_wrong_answer_runs_each_stream_once_and_two_first_steps_for_the_diagnosis():
    """It fails in the first scenario: that stream runs to its end, two first steps from a
    fresh state look for state kept elsewhere, and each later scenario runs once to see
    whether a cause explains it too."""
    answer = counted(named("adam_update", adam_with(correct=False)))
    failure_message(check_adam_update, answer, steps=6)
    later = sum(6 * (2 if scenario.two else 1) for scenario in RULES["adam_update"].scenarios[1:])
    assert answer.calls == 6 + 2 + later


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
