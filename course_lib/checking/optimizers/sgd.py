"""Checks for the SGD family of assignment 03: plain SGD, momentum, Nesterov momentum, and
momentum as an exponential moving average, each against torch.optim.SGD.

torch's SGD step, for a gradient g = grad + weight_decay * param:
    buf = g (a copy) on the first step, then buf = momentum * buf + (1 - dampening) * g
    param -= lr * buf                     (momentum)
    param -= lr * (g + momentum * buf)    (nesterov=True)
The mistakes below are that step with one slip each.
"""
from torch.optim import SGD as _SGD
from torch.optim.sgd import sgd as _sgd

from course_lib.optim import SGD as _ReferenceSGD
from course_lib.optim import sgd_update as _reference

from .._trusted import np
from ..failure import mistake
from .rule import (
    DECAY, DEFAULTS, LR_HALVED, TWO, Rule, Scenario, averaged, counted, decayed, ignoring_decay,
)
from .stream import check


def along(direction):
    """The SGD-family rule whose step is param -= lr * direction(g, state, hp)."""
    def step(param, grad, state, hp):
        param -= hp["lr"] * direction(decayed(param, grad, hp), state, hp)
    return step


def plain(g, state, hp):
    return g


def buffered(g, state, hp):
    """torch's momentum buffer after this step."""
    old = state.get("momentum_buffer")
    state["momentum_buffer"] = g.copy() if old is None else (
        hp["momentum"] * old + (1 - hp.get("dampening", 0.0)) * g)
    return state["momentum_buffer"]


def looking_ahead(g, state, hp):
    return g + hp["momentum"] * buffered(g, state, hp)


sgd, momentum, nesterov = along(plain), along(buffered), along(looking_ahead)


def decay_slips(direction):
    """The weight-decay slips around an SGD-family direction(g, state, hp)."""
    @mistake("weight decay is subtracted from the gradient: add it, g = grad + weight_decay * "
             "param, so that the step shrinks param.")
    def decay_subtracted(param, grad, state, hp):
        param -= hp["lr"] * direction(grad - hp["weight_decay"] * param, state, hp)

    @mistake("weight decay is multiplied by lr twice: g = grad + weight_decay * param, then "
             "param -= lr * g.")
    def decay_times_lr(param, grad, state, hp):
        param -= hp["lr"] * direction(grad + hp["lr"] * hp["weight_decay"] * param, state, hp)

    @mistake("the decay term is not multiplied by lr: param -= lr * (grad + weight_decay * "
             "param).")
    def decay_without_lr(param, grad, state, hp):
        param -= hp["lr"] * direction(grad, state, hp) + hp["weight_decay"] * param

    @mistake("the decay uses param after the step: fold weight_decay * param into the gradient "
             "first, with param before the update.")
    def decay_after_the_step(param, grad, state, hp):
        param -= hp["lr"] * direction(grad, state, hp)
        param -= hp["lr"] * hp["weight_decay"] * param

    return (ignoring_decay(along(direction)), decay_subtracted, decay_times_lr, decay_without_lr,
            decay_after_the_step)


def decay_after_momentum(direction):
    @mistake("weight decay is added after the momentum buffer: add weight_decay * param to the "
             "gradient before it goes into the buffer.")
    def decay_outside_the_buffer(param, grad, state, hp):
        param -= hp["lr"] * (direction(grad, state, hp) + hp["weight_decay"] * param)
    return decay_outside_the_buffer


# ------------------------------------------------------------------------------------ sgd

@mistake("param moves along the gradient: subtract it, param -= lr * g.")
def sgd_uphill(param, grad, state, hp):
    param += hp["lr"] * decayed(param, grad, hp)


# ------------------------------------------------------------------------------- momentum

@mistake("that is the classic form v = momentum * v + lr * g, param -= v: it matches torch's "
         "only while lr stays the same. Keep lr out of the buffer: buf = momentum * buf + "
         "(1 - dampening) * g, then param -= lr * buf.")
def momentum_with_lr_in_velocity(param, grad, state, hp):
    param -= buffered(hp["lr"] * decayed(param, grad, hp), state, hp)


@mistake("that is Nesterov's step, g + momentum * buf: plain momentum steps along buf.")
def momentum_looking_ahead(param, grad, state, hp):
    nesterov(param, grad, state, hp)


@mistake("the buffer is an average, buf = momentum * buf + (1 - momentum) * g starting at 0: "
         "torch's is buf = g on the first step, then buf = momentum * buf + (1 - dampening) * g.")
def momentum_as_an_average(param, grad, state, hp):
    g = decayed(param, grad, hp)
    param -= hp["lr"] * averaged(state, "momentum_buffer", g, hp["momentum"], 1 - hp["momentum"])


@mistake("dampening is applied on the first step too: torch starts with buf = g (a copy), and "
         "dampens only later steps.")
def momentum_dampened_from_zero(param, grad, state, hp):
    g = decayed(param, grad, hp)
    param -= hp["lr"] * averaged(state, "momentum_buffer", g, hp["momentum"], 1 - hp["dampening"])


@mistake("dampening is ignored: buf = momentum * buf + (1 - dampening) * g.")
def momentum_without_dampening(param, grad, state, hp):
    momentum(param, grad, state, {**hp, "dampening": 0.0})


# ------------------------------------------------------------------------------- nesterov

@mistake("that is a look-ahead form with lr inside the velocity: it matches torch's only while "
         "lr stays the same. Keep lr out of the buffer: buf = momentum * buf + g, then "
         "param -= lr * (g + momentum * buf).")
def nesterov_with_lr_in_velocity(param, grad, state, hp):
    step = hp["lr"] * decayed(param, grad, hp)
    param -= step + hp["momentum"] * buffered(step, state, hp)


@mistake("the step uses buf, plain momentum: Nesterov's uses g + momentum * buf, with buf "
         "already updated.")
def nesterov_without_look_ahead(param, grad, state, hp):
    momentum(param, grad, state, hp)


# ---------------------------------------------------------------------- momentum as an EMA

def ema(param, grad, state, hp):
    """v = beta * v + (1 - beta) * grad from v = 0; param -= lr * v."""
    param -= hp["lr"] * averaged(state, "velocity", grad, hp["beta"], 1 - hp["beta"])


@mistake("lr is inside the velocity, v = beta * v + (1 - beta) * lr * g: it matches only while "
         "lr stays the same. Keep lr out of v, then param -= lr * v.")
def ema_with_lr_in_velocity(param, grad, state, hp):
    param -= averaged(state, "velocity", hp["lr"] * grad, hp["beta"], 1 - hp["beta"])


@mistake("v starts at g on the first step (torch's convention for its buffer): in this form v "
         "starts at 0, so the first step is v = (1 - beta) * g.")
def ema_starting_at_g(param, grad, state, hp):
    if "velocity" in state:
        averaged(state, "velocity", grad, hp["beta"], 1 - hp["beta"])
    else:
        state["velocity"] = grad.copy()
    param -= hp["lr"] * state["velocity"]


@mistake("(1 - beta) is missing: v = beta * v + (1 - beta) * grad, an average of the gradients.")
def ema_without_one_minus_beta(param, grad, state, hp):
    param -= hp["lr"] * averaged(state, "velocity", grad, hp["beta"], 1.0)


@mistake("beta and 1 - beta are swapped: v = beta * v + (1 - beta) * grad keeps most of the old "
         "velocity.")
def ema_with_beta_swapped(param, grad, state, hp):
    param -= hp["lr"] * averaged(state, "velocity", grad, 1 - hp["beta"], hp["beta"])


@mistake("the step is scaled by (1 - beta) twice: v already has it, so param -= lr * v.")
def ema_with_one_minus_beta_twice(param, grad, state, hp):
    beta = hp["beta"]
    param -= (1 - beta) * hp["lr"] * averaged(state, "velocity", grad, beta, 1 - beta)


@mistake("the step is bias-corrected, divided by 1 - beta**t, as in Adam: this form has no "
         "correction, param -= lr * v.")
def ema_bias_corrected(param, grad, state, hp):
    beta, t = hp["beta"], counted(state)
    param -= hp["lr"] * averaged(state, "velocity", grad, beta, 1 - beta) / (1 - beta ** t)


# ----------------------------------------------------------------------------------- rules

# SGD in every form: course_lib's sgd_update (the reference of all four exercises) and SGD,
# torch's SGD and its functional form
FORBIDDEN = (_ReferenceSGD, _SGD, _sgd)

SGD = Rule(
    name="sgd_update", oracle=_SGD, right=sgd,
    reference=_reference, forbidden=FORBIDDEN, stateful=False,
    defaults={"lr": 0.1, "weight_decay": 0.0}, required=("lr",),
    scenarios=(DEFAULTS, DECAY, TWO),
    mistakes=decay_slips(plain) + (sgd_uphill,),
    formula="param -= lr * (grad + weight_decay * param), in place.")

MOMENTUM = Rule(
    name="momentum_update", oracle=_SGD, right=momentum,
    reference=_reference, forbidden=FORBIDDEN,
    defaults={"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
    required=("lr", "momentum"),
    scenarios=(DEFAULTS, LR_HALVED, Scenario(options={"momentum": 0.5}),
               Scenario(options={"dampening": 0.5}), DECAY, TWO),
    mistakes=decay_slips(buffered) + (
        momentum_with_lr_in_velocity, momentum_looking_ahead, momentum_as_an_average,
        momentum_dampened_from_zero, momentum_without_dampening,
        decay_after_momentum(buffered)),
    formula="g = grad + weight_decay * param; buf = g (a copy) on the first step, then "
            "buf = momentum * buf + (1 - dampening) * g; param -= lr * buf.")

NESTEROV = Rule(
    name="nesterov_update", oracle=_SGD, right=nesterov,
    reference=_reference, forbidden=FORBIDDEN,
    defaults={"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0}, required=("lr", "momentum"),
    to_torch=lambda hp: {**hp, "nesterov": True},
    scenarios=(DEFAULTS, LR_HALVED, Scenario(options={"momentum": 0.5}), DECAY, TWO),
    mistakes=decay_slips(looking_ahead) + (
        nesterov_with_lr_in_velocity, nesterov_without_look_ahead,
        decay_after_momentum(looking_ahead)),
    formula="g = grad + weight_decay * param; buf = g on the first step, then buf = "
            "momentum * buf + g; param -= lr * (g + momentum * buf).")

EMA_MOMENTUM = Rule(
    name="ema_momentum_update", oracle=_SGD, right=ema,
    reference=_reference, forbidden=FORBIDDEN,
    defaults={"lr": 0.1, "beta": 0.9}, required=("lr", "beta"),
    to_torch=lambda hp: {"lr": hp["lr"] * (1 - hp["beta"]), "momentum": hp["beta"]},
    scenarios=(DEFAULTS, LR_HALVED, Scenario(options={"beta": 0.5}), TWO),
    mistakes=(ema_with_lr_in_velocity, ema_starting_at_g, ema_without_one_minus_beta,
              ema_with_beta_swapped, ema_with_one_minus_beta_twice, ema_bias_corrected),
    formula="v = beta * v + (1 - beta) * grad, with v = 0 before the first step; "
            "param -= lr * v.")


def check_sgd_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `sgd_update(param, grad, state, *, lr, weight_decay=0.0)` against
    torch.optim.SGD(lr, weight_decay): scenarios lr=0.1; weight_decay=0.1; two parameters.
    Hyperparameter options: lr, weight_decay (see the package docstring)."""
    __tracebackhide__ = True
    check(SGD, update, seed, shape, steps, dtype, options)


def check_momentum_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `momentum_update(param, grad, state, *, lr, momentum, dampening=0.0,
    weight_decay=0.0)` against torch.optim.SGD(lr, momentum, dampening, weight_decay):
    scenarios lr=0.1, momentum=0.9; lr halved halfway; momentum=0.5; dampening=0.5;
    weight_decay=0.1; two parameters.
    Hyperparameter options: lr, momentum, dampening, weight_decay (see the package docstring)."""
    __tracebackhide__ = True
    check(MOMENTUM, update, seed, shape, steps, dtype, options)


def check_nesterov_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `nesterov_update(param, grad, state, *, lr, momentum, weight_decay=0.0)` against
    torch.optim.SGD(lr, momentum, weight_decay, nesterov=True): scenarios lr=0.1,
    momentum=0.9; lr halved halfway; momentum=0.5; weight_decay=0.1; two parameters.
    Hyperparameter options: lr, momentum, weight_decay (see the package docstring)."""
    __tracebackhide__ = True
    check(NESTEROV, update, seed, shape, steps, dtype, options)


def check_ema_momentum_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64,
                              **options):
    """Check `ema_momentum_update(param, grad, state, *, lr, beta)` (v = beta * v + (1 - beta)
    * grad from v = 0, param -= lr * v) against torch.optim.SGD(lr=lr * (1 - beta),
    momentum=beta), the same trajectory: scenarios lr=0.1, beta=0.9; lr halved halfway;
    beta=0.5; two parameters.
    Hyperparameter options: lr, beta (see the package docstring)."""
    __tracebackhide__ = True
    check(EMA_MOMENTUM, update, seed, shape, steps, dtype, options)
