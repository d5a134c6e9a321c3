"""The check for rmsprop_update (assignment 03) against torch.optim.RMSprop (momentum=0,
centered=False):

    g = grad + weight_decay * param
    square_avg = alpha * square_avg + (1 - alpha) * g**2      (from zeros)
    param -= lr * g / (sqrt(square_avg) + eps)

The mistakes below are that step with one slip each.
"""
from numpy import sqrt as _sqrt
from torch.optim import RMSprop as _RMSprop
from torch.optim.rmsprop import rmsprop as _rmsprop

from course_lib.optim import RMSprop as _ReferenceRMSprop
from course_lib.optim import rmsprop_update as _reference

from .._trusted import np
from ..failure import mistake
from .rule import (
    EPS, DECAY, DEFAULTS, LR_HALVED, TINY_GRADIENTS, TWO, Rule, Scenario, averaged, counted, decayed, ignoring_decay,
)
from .stream import check


def squares(state, g, hp):
    return averaged(state, "square_avg", g * g, hp["alpha"], 1 - hp["alpha"])


def rmsprop(param, grad, state, hp):
    g = decayed(param, grad, hp)
    param -= hp["lr"] * g / (_sqrt(squares(state, g, hp)) + hp["eps"])


@mistake("eps is inside the square root: torch divides by sqrt(square_avg) + eps.")
def rmsprop_eps_inside_sqrt(param, grad, state, hp):
    g = decayed(param, grad, hp)
    param -= hp["lr"] * g / _sqrt(squares(state, g, hp) + hp["eps"])


@mistake("(1 - alpha) is missing: square_avg = alpha * square_avg + (1 - alpha) * g**2.")
def rmsprop_without_one_minus_alpha(param, grad, state, hp):
    g = decayed(param, grad, hp)
    square_avg = averaged(state, "square_avg", g * g, hp["alpha"], 1.0)
    param -= hp["lr"] * g / (_sqrt(square_avg) + hp["eps"])


@mistake("alpha and 1 - alpha are swapped: square_avg = alpha * square_avg + (1 - alpha) * g**2.")
def rmsprop_with_alpha_swapped(param, grad, state, hp):
    g = decayed(param, grad, hp)
    square_avg = averaged(state, "square_avg", g * g, 1 - hp["alpha"], hp["alpha"])
    param -= hp["lr"] * g / (_sqrt(square_avg) + hp["eps"])


@mistake("the square root is missing: divide by sqrt(square_avg) + eps.")
def rmsprop_without_sqrt(param, grad, state, hp):
    g = decayed(param, grad, hp)
    param -= hp["lr"] * g / (squares(state, g, hp) + hp["eps"])


@mistake("that divides by the size of the average gradient: square_avg averages the squares, "
         "g**2, not g.")
def rmsprop_averaging_g(param, grad, state, hp):
    g = decayed(param, grad, hp)
    average = averaged(state, "square_avg", g, hp["alpha"], 1 - hp["alpha"])
    param -= hp["lr"] * g / (np.absolute(average) + hp["eps"])


@mistake("square_avg starts at g**2: in torch it starts at 0, so the first step gives "
         "(1 - alpha) * g**2.")
def rmsprop_starting_at_g_squared(param, grad, state, hp):
    g = decayed(param, grad, hp)
    if "square_avg" in state:
        squares(state, g, hp)
    else:
        state["square_avg"] = g * g
    param -= hp["lr"] * g / (_sqrt(state["square_avg"]) + hp["eps"])


@mistake("square_avg is bias-corrected, as in Adam: RMSprop has no correction.")
def rmsprop_bias_corrected(param, grad, state, hp):
    g, t = decayed(param, grad, hp), counted(state)
    corrected = squares(state, g, hp) / (1 - hp["alpha"] ** t)
    param -= hp["lr"] * g / (_sqrt(corrected) + hp["eps"])


@mistake("weight decay is added after the division: add weight_decay * param to the gradient "
         "first, g = grad + weight_decay * param.")
def rmsprop_decay_after(param, grad, state, hp):
    step = hp["lr"] * grad / (_sqrt(squares(state, grad, hp)) + hp["eps"])
    param -= step + hp["lr"] * hp["weight_decay"] * param


RMSPROP = Rule(
    name="rmsprop_update", oracle=_RMSprop, right=rmsprop, reference=_reference,
    forbidden=(_ReferenceRMSprop, _RMSprop, _rmsprop),
    defaults={"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0}, required=(),
    scenarios=(DEFAULTS, TINY_GRADIENTS, Scenario(options={"alpha": 0.9}), EPS, DECAY,
               LR_HALVED, TWO),
    mistakes=(ignoring_decay(rmsprop), rmsprop_eps_inside_sqrt, rmsprop_without_one_minus_alpha,
              rmsprop_with_alpha_swapped, rmsprop_without_sqrt, rmsprop_averaging_g,
              rmsprop_starting_at_g_squared, rmsprop_bias_corrected, rmsprop_decay_after),
    formula="g = grad + weight_decay * param; square_avg = alpha * square_avg + (1 - alpha) "
            "* g**2 (from 0); param -= lr * g / (sqrt(square_avg) + eps).")


def check_rmsprop_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `rmsprop_update(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8,
    weight_decay=0.0)` against torch.optim.RMSprop: scenarios the defaults; tiny gradients;
    alpha=0.9; eps=1e-3; weight_decay=0.1; lr halved halfway; two parameters.
    Hyperparameter options: lr, alpha, eps, weight_decay (see the package docstring)."""
    __tracebackhide__ = True
    check(RMSPROP, update, seed, shape, steps, dtype, options)
