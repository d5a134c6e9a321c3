"""Adam's, AdamW's and Adamax's wrong answers, as students write them, fail with their mistake named."""
import numpy as np
import pytest

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.optimizers import check_adam_update, check_adamax_update, check_adamw_update
from tests.checking.failures import assert_fails_with, named
from tests.checking.optimizers.answers import adam_update

# the wrong implementations under test divide by zero on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


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


def adam_correcting_with_default_betas(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                       weight_decay=0.0):
    beta1, beta2 = betas
    state["step"] = t = state.get("step", 0) + 1
    g = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * g * g
    param -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + eps)


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


def adamw_with_adams_defaults(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def adam_without_defaults(param, grad, state, *, lr, betas, eps, weight_decay):
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def adam_with_other_eps(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def adam_reading_missing_keys(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                              weight_decay=0.0):
    state["exp_avg"] = betas[0] * state["exp_avg"] + (1 - betas[0]) * grad
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


WRONG_ANSWERS = [
    (check_adam_update, adam_with(correct=False), "adam_update", [
        "adam_update(param, grad, state): step 1 differs from torch.optim.Adam(lr=0.001, betas=(0.9, 0.999), "
        "eps=1e-08, weight_decay=0)", "Hint: the bias correction is missing"]),
    (check_adam_update, adam_with(increment_first=False), "adam_update", [
        "param[0, 0] is nan", "Hint: the first step used t = 0, and 1 - beta**0 = 0 divides by zero. "
        "Is the bias correction using t = 1, 2, 3, ...? state['step'] must count this parameter's updates, "
        "starting at 1 on the first."]),
    (check_adam_update, adam_counting_in_python_floats, "adam_update", [
        "adam_update(param, grad, state) on step 1 raised ZeroDivisionError: float division by zero\n",
        "Hint: t = 0 makes 1 - beta**t zero."]),
    (check_adam_update, adam_with(t_start=1), "adam_update", ["Hint: the first step used t = 2."]),
    (check_adam_update, adam_with(stuck=True, t_start=1), "adam_update", [
        "step 1 matches", "step 2 diverges", "Hint: t stays 1"]),
    (check_adam_update, adam_with(eps_inside=True), "adam_update", ["Hint: eps is inside the square root"]),
    (check_adam_update, adam_with(decoupled=True), "adam_update", [
        "weight_decay=0.1", "Hint: weight decay is decoupled, param *= 1 - lr * weight_decay, as in AdamW"]),
    (check_adam_update, adam_correcting_with_default_betas, "adam_update", [
        "adam_update(param, grad, state, betas=(0.8, 0.99)): step 1 differs",
        "Hint: the bias correction uses torch's default betas"]),
    (check_adamw_update, adamw_with_l2, "adamw_update", ["Hint: that is Adam with L2"]),
    (check_adamw_update, adamw_without_lr, "adamw_update", ["Hint: the decay is not multiplied by lr"]),
    (check_adamw_update, adamw_decay_after, "adamw_update", ["Hint: the decay is applied after the Adam step"]),
    (check_adamw_update, adamw_with_adams_defaults, "adamw_update", [
        "adamw_update's default is weight_decay=0.0, but torch.optim.AdamW's is weight_decay=0.01."]),
    (check_adamax_update, adamax_eps_outside, "adamax_update", ["Hint: eps is added after the maximum"]),
    (check_adamax_update, adamax_uncorrected, "adamax_update", ["Hint: m is not bias-corrected"]),
    (check_adam_update, adam_with_other_eps, "adam_update", [
        "adam_update's default is eps=1e-06, but torch.optim.Adam's is eps=1e-08.",
        "Hint: use the signature adam_update(param, grad, state, *, lr=0.001, betas=(0.9, 0.999), eps=1e-08, "
        "weight_decay=0)."]),
    (check_adam_update, adam_without_defaults, "adam_update", [
        "adam_update(param, grad, state) on step 1 raised TypeError", "missing 4 required keyword-only arguments",
        "Hint: the check passes hyperparameters by keyword; the signature is adam_update(param, grad, state, *, "
        "lr=0.001"]),
    (check_adam_update, adam_reading_missing_keys, "adam_update", [
        "adam_update(param, grad, state) on step 1 raised KeyError: 'exp_avg'\n",
        "Hint: state is an empty dict before a parameter's first step"]),
]


@pytest.mark.parametrize("check, function, name, parts", WRONG_ANSWERS, ids=range(len(WRONG_ANSWERS)))
def test_wrong_answers_fail_with_the_reason(check, function, name, parts):
    assert_fails_with(check, named(name, function), parts)


@pytest.mark.parametrize("shape", [(), (1,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("check, function, name, hint", [
    (check_adam_update, adam_with(correct=False), "adam_update", "Hint: the bias correction is missing"),
    (check_adam_update, adam_with(increment_first=False), "adam_update", "Hint: the first step used t = 0"),
    (check_adamw_update, adamw_with_l2, "adamw_update", "Hint: that is Adam with L2"),
])
def test_mistakes_are_named_for_any_shape_and_float32(check, function, name, hint, shape, dtype):
    assert_fails_with(check, named(name, function), [hint], shape=shape, dtype=dtype)


def test_adamw_may_run_the_handed_out_adam_update():
    """The notebook hands course_lib's adam_update out for AdamW, as reference_adam_update."""
    from course_lib.optim import adam_update as reference_adam_update

    def adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        param *= 1 - lr * weight_decay
        reference_adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=0.0)

    check_adamw_update(adamw_update)


def test_adam_may_not_run_the_reference_of_adamw_nor_torchs_adam():
    from course_lib.optim import adamw_update as reference_adamw_update

    def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        reference_adamw_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=0.0)

    with pytest.raises(DelegationFailure, match="adam_update\\(param, grad, state\\) on step 1 called course_lib"):
        check_adam_update(adam_update)
