"""Checks for adam_update, adamw_update and adamax_update (assignment 03) against
torch.optim.Adam, AdamW and Adamax. With t = state['step'], 1 on a parameter's first update:

    Adam     g = grad + weight_decay * param; m = beta1 * m + (1 - beta1) * g;
             v = beta2 * v + (1 - beta2) * g**2 (both from zeros);
             param -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    AdamW    param *= 1 - lr * weight_decay, then Adam's step without weight decay
    Adamax   m as in Adam; exp_inf = maximum(beta2 * exp_inf, |g| + eps);
             param -= lr / (1 - beta1**t) * m / exp_inf

The mistakes below are these steps with one slip each; AdamW's share Adam's, decoupled.
"""
from numpy import maximum as _maximum
from numpy import sqrt as _sqrt
from torch.optim import Adam as _Adam
from torch.optim import Adamax as _Adamax
from torch.optim import AdamW as _AdamW
from torch.optim.adam import adam as _adam
from torch.optim.adamax import adamax as _adamax
from torch.optim.adamw import adamw as _adamw

from course_lib.optim import Adam as _ReferenceAdam
from course_lib.optim import Adamax as _ReferenceAdamax
from course_lib.optim import AdamW as _ReferenceAdamW
from course_lib.optim import adam_update as _reference_adam
from course_lib.optim import adamax_update as _reference_adamax
from course_lib.optim import adamw_update as _reference_adamw

from .._trusted import np
from ..failure import mistake
from .rule import (
    ADAPTIVE, Rule, averaged, counted, decayed, decoupled, ignoring_decay, miscounting, swapping_betas, without_decay,
)
from .stream import check


def moments(state, g, hp):
    """m and v after this step."""
    beta1, beta2 = hp["betas"]
    return (averaged(state, "exp_avg", g, beta1, 1 - beta1),
            averaged(state, "exp_avg_sq", g * g, beta2, 1 - beta2))


def adam_at(param, grad, state, hp, t):
    """Adam's update as the t-th step."""
    (beta1, beta2), eps = hp["betas"], hp["eps"]
    m, v = moments(state, decayed(param, grad, hp), hp)
    param -= hp["lr"] / (1 - beta1 ** t) * m / (_sqrt(v) / _sqrt(1 - beta2 ** t) + eps)


def adam(param, grad, state, hp):
    adam_at(param, grad, state, hp, counted(state))


@mistake("the bias correction is missing: divide m by 1 - beta1**t and v by 1 - beta2**t.")
def adam_without_bias_correction(param, grad, state, hp):
    counted(state)
    m, v = moments(state, decayed(param, grad, hp), hp)
    param -= hp["lr"] * m / (_sqrt(v) + hp["eps"])


@mistake("only m is bias-corrected: v needs v / (1 - beta2**t) too.")
def adam_correcting_m_only(param, grad, state, hp):
    t, (beta1, _) = counted(state), hp["betas"]
    m, v = moments(state, decayed(param, grad, hp), hp)
    param -= hp["lr"] / (1 - beta1 ** t) * m / (_sqrt(v) + hp["eps"])


@mistake("only v is bias-corrected: m needs m / (1 - beta1**t) too.")
def adam_correcting_v_only(param, grad, state, hp):
    t, (_, beta2) = counted(state), hp["betas"]
    m, v = moments(state, decayed(param, grad, hp), hp)
    param -= hp["lr"] * m / (_sqrt(v / (1 - beta2 ** t)) + hp["eps"])


@mistake("eps is inside the square root: torch divides by sqrt(v_hat) + eps.")
def adam_eps_inside_sqrt(param, grad, state, hp):
    t, (beta1, beta2) = counted(state), hp["betas"]
    m, v = moments(state, decayed(param, grad, hp), hp)
    param -= hp["lr"] / (1 - beta1 ** t) * m / _sqrt(v / (1 - beta2 ** t) + hp["eps"])


@mistake("eps is added before the bias correction of v: divide by sqrt(v / (1 - beta2**t)) + eps.")
def adam_eps_before_correction(param, grad, state, hp):
    t, (beta1, beta2) = counted(state), hp["betas"]
    m, v = moments(state, decayed(param, grad, hp), hp)
    param -= hp["lr"] / (1 - beta1 ** t) * m / ((_sqrt(v) + hp["eps"]) / _sqrt(1 - beta2 ** t))


@mistake("(1 - beta1) is missing: m = beta1 * m + (1 - beta1) * g.")
def adam_without_one_minus_beta1(param, grad, state, hp):
    t, (beta1, beta2) = counted(state), hp["betas"]
    g = decayed(param, grad, hp)
    m = averaged(state, "exp_avg", g, beta1, 1.0)
    v = averaged(state, "exp_avg_sq", g * g, beta2, 1 - beta2)
    param -= hp["lr"] / (1 - beta1 ** t) * m / (_sqrt(v) / _sqrt(1 - beta2 ** t) + hp["eps"])


@mistake("(1 - beta2) is missing: v = beta2 * v + (1 - beta2) * g**2.")
def adam_without_one_minus_beta2(param, grad, state, hp):
    t, (beta1, beta2) = counted(state), hp["betas"]
    g = decayed(param, grad, hp)
    m = averaged(state, "exp_avg", g, beta1, 1 - beta1)
    v = averaged(state, "exp_avg_sq", g * g, beta2, 1.0)
    param -= hp["lr"] / (1 - beta1 ** t) * m / (_sqrt(v) / _sqrt(1 - beta2 ** t) + hp["eps"])


@mistake("the bias correction uses torch's default betas, 1 - 0.9**t and 1 - 0.999**t: correct "
         "with the betas passed in, 1 - beta1**t and 1 - beta2**t.")
def adam_correcting_with_default_betas(param, grad, state, hp):
    t = counted(state)
    m, v = moments(state, decayed(param, grad, hp), hp)
    param -= hp["lr"] / (1 - 0.9 ** t) * m / (_sqrt(v) / _sqrt(1 - 0.999 ** t) + hp["eps"])


ADAM_SLIPS = (adam_without_bias_correction, *miscounting(adam_at), adam_correcting_m_only,
              adam_correcting_v_only, adam_eps_inside_sqrt, adam_eps_before_correction,
              swapping_betas(adam), adam_without_one_minus_beta1, adam_without_one_minus_beta2,
              adam_correcting_with_default_betas)


# ----------------------------------------------------------------------------------- AdamW

adamw = decoupled(adam)


@mistake("weight decay is decoupled, param *= 1 - lr * weight_decay, as in AdamW: Adam's is L2, "
         "g = grad + weight_decay * param.")
def adam_decoupled(param, grad, state, hp):
    adamw(param, grad, state, hp)


@mistake("that is Adam with L2, weight decay folded into the gradient: AdamW decouples it, "
         "param *= 1 - lr * weight_decay, and leaves the gradient alone.")
def adamw_as_l2(param, grad, state, hp):
    adam(param, grad, state, hp)


@mistake("the decay is not multiplied by lr: param *= 1 - lr * weight_decay.")
def adamw_decay_without_lr(param, grad, state, hp):
    param *= 1 - hp["weight_decay"]
    adam(param, grad, state, without_decay(hp))


@mistake("the decay is applied after the Adam step: torch applies param *= 1 - lr * "
         "weight_decay first.")
def adamw_decay_after_the_step(param, grad, state, hp):
    adam(param, grad, state, without_decay(hp))
    param *= 1 - hp["lr"] * hp["weight_decay"]


@mistake("weight decay is applied twice, decoupled and as L2 in the gradient: AdamW only "
         "decouples it.")
def adamw_decay_and_l2(param, grad, state, hp):
    param *= 1 - hp["lr"] * hp["weight_decay"]
    adam(param, grad, state, hp)


# ---------------------------------------------------------------------------------- Adamax

def largest(state, size, keep):
    """exp_inf = maximum(keep * exp_inf, size), exp_inf starting at zeros."""
    state["exp_inf"] = _maximum(keep * state.get("exp_inf", 0.0 * size), size)
    return state["exp_inf"]


def adamax_at(param, grad, state, hp, t):
    """Adamax's update as the t-th step."""
    (beta1, beta2), eps = hp["betas"], hp["eps"]
    g = decayed(param, grad, hp)
    m = averaged(state, "exp_avg", g, beta1, 1 - beta1)
    param -= hp["lr"] / (1 - beta1 ** t) * m / largest(state, np.absolute(g) + eps, beta2)


def adamax(param, grad, state, hp):
    adamax_at(param, grad, state, hp, counted(state))


@mistake("eps is added after the maximum: torch adds it inside, exp_inf = maximum(beta2 * "
         "exp_inf, |g| + eps), and divides by exp_inf alone.")
def adamax_eps_outside_the_max(param, grad, state, hp):
    t, (beta1, beta2) = counted(state), hp["betas"]
    g = decayed(param, grad, hp)
    m = averaged(state, "exp_avg", g, beta1, 1 - beta1)
    u = largest(state, np.absolute(g), beta2)
    param -= hp["lr"] / (1 - beta1 ** t) * m / (u + hp["eps"])


@mistake("m is not bias-corrected: the step is lr / (1 - beta1**t) * m / exp_inf.")
def adamax_without_correction(param, grad, state, hp):
    counted(state)
    (beta1, beta2), g = hp["betas"], decayed(param, grad, hp)
    m = averaged(state, "exp_avg", g, beta1, 1 - beta1)
    param -= hp["lr"] * m / largest(state, np.absolute(g) + hp["eps"], beta2)


@mistake("exp_inf is bias-corrected too: a maximum needs no correction, only m does.")
def adamax_correcting_u(param, grad, state, hp):
    t, (beta1, beta2) = counted(state), hp["betas"]
    g = decayed(param, grad, hp)
    m = averaged(state, "exp_avg", g, beta1, 1 - beta1)
    u = largest(state, np.absolute(g) + hp["eps"], beta2) / (1 - beta2 ** t)
    param -= hp["lr"] / (1 - beta1 ** t) * m / u


@mistake("the maximum is over g, not |g|: exp_inf = maximum(beta2 * exp_inf, |g| + eps).")
def adamax_without_abs(param, grad, state, hp):
    t, (beta1, beta2) = counted(state), hp["betas"]
    g = decayed(param, grad, hp)
    m = averaged(state, "exp_avg", g, beta1, 1 - beta1)
    param -= hp["lr"] / (1 - beta1 ** t) * m / largest(state, g + hp["eps"], beta2)


@mistake("the old maximum is not decayed: exp_inf = maximum(beta2 * exp_inf, |g| + eps).")
def adamax_without_beta2(param, grad, state, hp):
    t, (beta1, _) = counted(state), hp["betas"]
    g = decayed(param, grad, hp)
    m = averaged(state, "exp_avg", g, beta1, 1 - beta1)
    param -= hp["lr"] / (1 - beta1 ** t) * m / largest(state, np.absolute(g) + hp["eps"], 1.0)


@mistake("weight decay is decoupled, as in AdamW: Adamax's is L2, g = grad + weight_decay * "
         "param.")
def adamax_decoupled(param, grad, state, hp):
    decoupled(adamax)(param, grad, state, hp)


# ----------------------------------------------------------------------------------- rules

ADAM = Rule(
    name="adam_update", oracle=_Adam, right=adam, required=(), reference=_reference_adam,
    forbidden=(_ReferenceAdam, _reference_adamw, _ReferenceAdamW, _Adam, _adam, _AdamW, _adamw),
    defaults={"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    scenarios=ADAPTIVE,
    mistakes=(ignoring_decay(adam), adam_decoupled, *ADAM_SLIPS),
    formula="t = state['step'] (counting from 1); g = grad + weight_decay * param; "
            "m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g**2; "
            "param -= lr * m / (1 - beta1**t) / (sqrt(v / (1 - beta2**t)) + eps).")

ADAMW = Rule(
    name="adamw_update", oracle=_AdamW, right=adamw, required=(), reference=_reference_adamw,
    # not course_lib's adam_update nor its Adam class (whose update_rule it is): the notebook
    # hands adam_update out for this exercise, as reference_adam_update
    forbidden=(_ReferenceAdamW, _AdamW, _adamw, _Adam, _adam),
    defaults={"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2},
    scenarios=ADAPTIVE,
    mistakes=(ignoring_decay(adam, "weight_decay is ignored: AdamW shrinks param first, "
                                   "param *= 1 - lr * weight_decay."),
              adamw_as_l2, adamw_decay_without_lr, adamw_decay_after_the_step, adamw_decay_and_l2,
              *(decoupled(slip) for slip in ADAM_SLIPS)),
    formula="param *= 1 - lr * weight_decay first; then Adam's step with grad itself: "
            "m, v from grad, param -= lr * m_hat / (sqrt(v_hat) + eps).")

ADAMAX = Rule(
    name="adamax_update", oracle=_Adamax, right=adamax, required=(), reference=_reference_adamax,
    forbidden=(_ReferenceAdamax, _Adamax, _adamax),
    defaults={"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    scenarios=ADAPTIVE,
    mistakes=(ignoring_decay(adamax), adamax_eps_outside_the_max,
              adamax_without_correction, adamax_correcting_u, adamax_without_abs,
              adamax_without_beta2, adamax_decoupled, *miscounting(adamax_at),
              swapping_betas(adamax)),
    formula="g = grad + weight_decay * param; m = beta1 * m + (1 - beta1) * g; exp_inf = "
            "maximum(beta2 * exp_inf, |g| + eps); param -= lr / (1 - beta1**t) * m / "
            "exp_inf.")


def check_adam_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=0.0)` against torch.optim.Adam: scenarios the defaults; tiny gradients;
    betas=(0.8, 0.99); eps=1e-3; weight_decay=0.1; lr halved halfway; two parameters.
    Hyperparameter options: lr, betas, eps, weight_decay (see the package docstring)."""
    __tracebackhide__ = True
    check(ADAM, update, seed, shape, steps, dtype, options)


def check_adamw_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=1e-2)` against torch.optim.AdamW: scenarios the defaults; tiny gradients;
    betas=(0.8, 0.99); eps=1e-3; weight_decay=0.1; lr halved halfway; two parameters.
    Hyperparameter options: lr, betas, eps, weight_decay (see the package docstring)."""
    __tracebackhide__ = True
    check(ADAMW, update, seed, shape, steps, dtype, options)


def check_adamax_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `adamax_update(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=0.0)` against torch.optim.Adamax: scenarios the defaults; tiny gradients;
    betas=(0.8, 0.99); eps=1e-3; weight_decay=0.1; lr halved halfway; two parameters.
    Hyperparameter options: lr, betas, eps, weight_decay (see the package docstring)."""
    __tracebackhide__ = True
    check(ADAMAX, update, seed, shape, steps, dtype, options)
