"""Checks for the update rules of assignment 03 (optimizers), one parameter array at a time.

Each `check_<rule>_update(update, ...)` runs the student's `update(param, grad, state, **hp)`
over a list of SCENARIOS, simplest first (the signature's defaults), then one hyperparameter
or situation at a time (weight_decay, dampening, tiny gradients where eps matters, lr halved
halfway, two parameters updated in turn), so that the first scenario to fail isolates the
mistake. In each, a stream of gradients whose size changes over steps by orders of magnitude
(one step's gradient all zero) goes to the student's function with the same `state` dict on
every call, and in parallel to the torch optimizer the contract names (float64 tensors,
p.grad set, opt.step()). The parameter is compared after every step; at the first
difference the message says which step diverges, what matched before, and — by recomputing
the usual wrong variants on the same stream (in numpy; the right answer always comes from
torch) — which mistake the student's trajectory reproduces.

Every check takes the options `seed` (of the generator of params and gradients), `shape`
(the param's), `steps` (updates per scenario) and `dtype` (np.float32 params are compared
1e-5 relative and must stay float32), and the rule's hyperparameters, which are passed by
keyword to every call and override the scenarios' values.

Tamper-proofing as in the rest of the package: numpy, torch and builtins are bound at
import, the data come from a local generator, and the student's function gets copies of the
gradients and fails if it changes them in place.
"""
from builtins import (
    Exception, KeyError, NotImplementedError, TypeError, ValueError, ZeroDivisionError,
    dict, enumerate, float, getattr, int, isinstance, len, range, repr, str, tuple, type, zip,
)
from inspect import signature as _signature
from types import SimpleNamespace

from numpy import maximum as _maximum
from numpy import minimum as _minimum
from numpy import sqrt as _sqrt
from torch import from_numpy as _from_numpy
from torch.optim import SGD as _SGD
from torch.optim import Adam as _Adam
from torch.optim import Adamax as _Adamax
from torch.optim import AdamW as _AdamW
from torch.optim import RMSprop as _RMSprop

from ._trusted import as_index, default_rng, isclose, np
from .failure import CheckFailure, fail, kind_of, number

RTOL = {"float64": 1e-9, "float32": 1e-5}  # relative to the trajectory's largest entry
# A wrong variant explains the student's trajectory when it is 100 times closer to it than
# torch's is, and at most this far from it (relative to the trajectory's largest entry).
MATCH_RTOL = {"float64": 1e-7, "float32": 1e-4}
EXPLAINED = 0.01
# gradient sizes over steps (cycled): several orders of magnitude, and one all-zero step
MAGNITUDES = (1.0, 1e-2, 10.0, 0.0, 1e-1, 100.0, 1e-3, 1.0)
TINY = 1e-8  # gradients this small make sqrt(v) about eps
LR_CHANGE = 0.5

TWO_PARAMETERS_HINT = (
    "an update used buffers or a step count left by the other parameter: keep them in `state`, "
    "the dict passed with each parameter (one dict per parameter), not in globals or function "
    "attributes.")
OUTSIDE_STATE_HINT = (
    "the same first step with a fresh state dict gave two different results: the function "
    "keeps buffers or a step count outside `state` (a global, a function attribute). Keep them "
    "in `state`, the dict passed with each parameter.")
LR_CHANGE_HINT = ("lr changes between calls here, as under a schedule: use each call's lr, and "
                  "keep it out of the buffers (torch multiplies by lr only in the final step).")
TINY_HINT = ("the gradients here are tiny (about 1e-8), so sqrt(v) is about eps: eps is added to "
             "the square root, outside it, as torch does.")
DECAY_HINT = ("weight_decay is L2 here: add weight_decay * param to the gradient before anything "
              "else, g = grad + weight_decay * param, with param before the update.")
STEP_COUNT = ("Is the bias correction using t = 1, 2, 3, ...? state['step'] must count this "
              "parameter's updates, starting at 1 on the first.")


# ------------------------------------------------------------- wrong variants, in numpy

def _sgd_step(param, grad, state, hp, mistake=None):
    """torch.optim.SGD's update (momentum, dampening, nesterov, weight_decay in hp), or the
    student's `mistake` of it. Used for wrong variants only: the right answer is torch's."""
    lr, decay = hp["lr"], hp.get("weight_decay", 0.0)
    momentum, dampening = hp.get("momentum", 0.0), hp.get("dampening", 0.0)
    g = grad
    if mistake == "decay subtracted":
        g = grad - decay * param
    elif mistake == "decay times lr":
        g = grad + lr * decay * param
    elif mistake not in ("decay ignored", "decay after the step", "decay without lr",
                         "decay after momentum"):
        g = grad + decay * param
    direction = g
    scale = lr if mistake == "velocity includes lr" else 1.0
    if momentum:
        old = state.get("momentum_buffer")
        if old is None:
            weight = {"dampened first step": 1 - dampening, "EMA buffer": 1 - momentum}
            buffer = weight.get(mistake, 1.0) * scale * g
        else:
            weight = {"dampening ignored": 1.0, "EMA buffer": 1 - momentum}
            buffer = momentum * old + weight.get(mistake, 1 - dampening) * scale * g
        state["momentum_buffer"] = buffer
        direction = buffer
        if hp.get("nesterov", False) != (mistake == "nesterov instead"):
            if mistake != "buffer instead of look-ahead":
                direction = scale * g + momentum * buffer
    step = direction if mistake == "velocity includes lr" else lr * direction
    if mistake == "decay after momentum":
        step = step + lr * decay * param
    elif mistake == "decay without lr":
        step = step + decay * param
    elif mistake == "sign flipped":
        step = -step
    param -= step
    if mistake == "decay after the step":
        param -= lr * decay * param


def _nesterov_step(param, grad, state, hp, mistake=None):
    _sgd_step(param, grad, state, {**hp, "nesterov": True}, mistake)


def _ema_step(param, grad, state, hp, mistake=None):
    """The velocity form v = beta * v + (1 - beta) * g (v from 0), p -= lr * v, or a mistake."""
    lr, beta = hp["lr"], hp["beta"]
    scale = lr if mistake == "velocity includes lr" else 1.0
    old_weight, new_weight = {"(1 - beta) missing": (beta, 1.0),
                              "beta swapped": (1 - beta, beta)}.get(mistake, (beta, 1 - beta))
    t = state.get("t", 0) + 1
    velocity = state.get("velocity")
    if velocity is None:
        velocity = grad if mistake == "starts at g" else new_weight * scale * grad
    else:
        velocity = old_weight * velocity + new_weight * scale * grad
    state["velocity"], state["t"] = velocity, t
    step = velocity if mistake == "velocity includes lr" else lr * velocity
    if mistake == "bias corrected":
        step = step / (1 - beta ** t)
    elif mistake == "(1 - beta) twice":
        step = (1 - beta) * step
    param -= step


def _rmsprop_step(param, grad, state, hp, mistake=None):
    """torch.optim.RMSprop's update (centered=False, momentum=0), or a mistake."""
    lr, alpha, eps, decay = hp["lr"], hp["alpha"], hp["eps"], hp["weight_decay"]
    g = grad if mistake in ("decay ignored", "decay after") else grad + decay * param
    t = state.get("step", 0) + 1
    statistic = g if mistake == "square of the average" else g * g
    old_weight, new_weight = {"(1 - alpha) missing": (alpha, 1.0),
                              "alpha swapped": (1 - alpha, alpha)}.get(mistake, (alpha, 1 - alpha))
    average = state.get("square_avg")
    if average is None:
        average = statistic if mistake == "starts at g**2" else new_weight * statistic
    else:
        average = old_weight * average + new_weight * statistic
    state["square_avg"], state["step"] = average, t
    if mistake == "bias corrected":
        average = average / (1 - alpha ** t)
    if mistake == "square of the average":
        denominator = np.absolute(average) + eps
    elif mistake == "eps inside sqrt":
        denominator = _sqrt(average + eps)
    elif mistake == "no sqrt":
        denominator = average + eps
    else:
        denominator = _sqrt(average) + eps
    step = lr * g / denominator
    if mistake == "decay after":
        step = step + lr * decay * param
    param -= step


def _step_count(state, mistake):
    """(t this step uses, the count to store) for the step counter or a mistake with it."""
    count = state.get("step", 1 if mistake == "t from 2" else 0) + 1
    t = {"t from 0": count - 1, "t stuck at 1": 1}.get(mistake, count)
    return np.float64(t), count


def _decays(param, grad, hp, mistake, decoupled):
    """g after L2 weight decay, applying decoupled decay to param in place first where due."""
    lr, decay = hp["lr"], hp["weight_decay"]
    l2 = mistake in ("L2 decay", "decay and L2") if decoupled else mistake not in (
        "decoupled decay", "decay ignored")
    g = grad + decay * param if l2 else grad
    if decoupled and mistake not in ("L2 decay", "decay ignored", "decay after the step") or (
            mistake == "decoupled decay"):
        param *= 1 - (decay if mistake == "decay without lr" else lr * decay)
    return g


def _adam_step(param, grad, state, hp, mistake=None, decoupled=False):
    """torch.optim.Adam's update (AdamW's with `decoupled`), or a mistake."""
    lr, (beta1, beta2), eps = hp["lr"], hp["betas"], hp["eps"]
    if mistake == "betas swapped":
        beta1, beta2 = beta2, beta1
    t, state["step"] = _step_count(state, mistake)
    g = _decays(param, grad, hp, mistake, decoupled)
    weight1 = 1.0 if mistake == "(1 - beta1) missing" else 1 - beta1
    weight2 = 1.0 if mistake == "(1 - beta2) missing" else 1 - beta2
    m = beta1 * state.get("exp_avg", 0.0 * g) + weight1 * g
    v = beta2 * state.get("exp_avg_sq", 0.0 * g) + weight2 * g * g
    state["exp_avg"], state["exp_avg_sq"] = m, v
    one = np.float64(1.0)
    correction1 = one if mistake in ("no bias correction", "v corrected only") else one - beta1 ** t
    correction2 = one if mistake in ("no bias correction", "m corrected only") else one - beta2 ** t
    if mistake == "eps inside sqrt":
        denominator = _sqrt(v / correction2 + eps)
    elif mistake == "eps before correction":
        denominator = (_sqrt(v) + eps) / _sqrt(correction2)
    else:
        denominator = _sqrt(v) / _sqrt(correction2) + eps
    param -= lr / correction1 * m / denominator
    if decoupled and mistake == "decay after the step":
        param *= 1 - lr * hp["weight_decay"]


def _adamw_step(param, grad, state, hp, mistake=None):
    _adam_step(param, grad, state, hp, mistake, decoupled=True)


def _adamax_step(param, grad, state, hp, mistake=None):
    """torch.optim.Adamax's update, or a mistake."""
    lr, (beta1, beta2), eps = hp["lr"], hp["betas"], hp["eps"]
    if mistake == "betas swapped":
        beta1, beta2 = beta2, beta1
    t, state["step"] = _step_count(state, mistake)
    g = _decays(param, grad, hp, mistake, False)
    m = beta1 * state.get("exp_avg", 0.0 * g) + (1 - beta1) * g
    size = g if mistake == "abs missing" else np.absolute(g)
    old = (1.0 if mistake == "beta2 missing" else beta2) * state.get("exp_inf", 0.0 * g)
    u = _maximum(old, size) if mistake == "eps outside the max" else _maximum(old, size + eps)
    state["exp_avg"], state["exp_inf"] = m, u
    one = np.float64(1.0)
    correction = one if mistake == "m not corrected" else one - beta1 ** t
    denominator = u + eps if mistake == "eps outside the max" else u
    if mistake == "u corrected":
        denominator = denominator / (one - beta2 ** t)
    param -= lr / correction * m / denominator


# ------------------------------------------------------------------------ the rules

def _scenario(words="", options=None, *, tiny=False, lr_change=False, two=False, hint=None):
    return SimpleNamespace(words=words, options=options or {}, tiny=tiny, lr_change=lr_change,
                           two=two, hint=hint)


DEFAULTS = _scenario()
TINY_GRADIENTS = _scenario("with tiny gradients (about 1e-8), where eps matters", tiny=True,
                           hint=TINY_HINT)
LR_HALVED = _scenario(lr_change=True, hint=LR_CHANGE_HINT)  # words: see _scenario_words
TWO = _scenario("updating two parameters in turn, each with its own state dict", two=True,
                hint=TWO_PARAMETERS_HINT)
DECAY = _scenario(options={"weight_decay": 0.1}, hint=DECAY_HINT)
BETAS = _scenario(options={"betas": (0.8, 0.99)},
                  hint="betas = (beta1, beta2): beta1 averages g, beta2 averages g**2.")
EPS = _scenario(options={"eps": 1e-3}, hint="use the eps passed in, added to the square root.")
ADAPTIVE = (DEFAULTS, TINY_GRADIENTS, BETAS, EPS, DECAY, LR_HALVED, TWO)

DECAY_MISTAKES = [
    ("decay ignored", "weight_decay is ignored: add weight_decay * param to the gradient, "
                      "g = grad + weight_decay * param."),
]
T_MISTAKES = [
    ("t from 0", f"the first step used t = 0, and 1 - beta**0 = 0 divides by zero. {STEP_COUNT}"),
    ("t from 2", f"the first step used t = 2. {STEP_COUNT}"),
    ("t stuck at 1", f"t stays 1: increment state['step'] on every call. {STEP_COUNT}"),
]
SGD_DECAY_MISTAKES = DECAY_MISTAKES + [
    ("decay subtracted", "weight decay is subtracted from the gradient: add it, "
                         "g = grad + weight_decay * param, so that the step shrinks param."),
    ("decay times lr", "weight decay is multiplied by lr twice: g = grad + weight_decay * param, "
                       "then param -= lr * g."),
    ("decay without lr", "the decay term is not multiplied by lr: param -= lr * (grad + "
                         "weight_decay * param)."),
    ("decay after the step", "the decay uses param after the step: fold weight_decay * param "
                             "into the gradient first, with param before the update."),
]
MOMENTUM_MISTAKES = SGD_DECAY_MISTAKES + [
    ("velocity includes lr", "that is the classic form v = momentum * v + lr * g, param -= v: it "
     "matches torch's only while lr stays the same. Keep lr out of the buffer: buf = momentum * "
     "buf + (1 - dampening) * g, then param -= lr * buf."),
    ("EMA buffer", "the buffer is an average, buf = momentum * buf + (1 - momentum) * g "
     "starting at 0: torch's is buf = g on the first step, then buf = momentum * buf + "
     "(1 - dampening) * g."),
    ("dampened first step", "dampening is applied on the first step too: torch starts with buf = g "
                            "(a copy), and dampens only later steps."),
    ("dampening ignored", "dampening is ignored: buf = momentum * buf + (1 - dampening) * g."),
    ("decay after momentum", "weight decay is added after the momentum buffer: add "
     "weight_decay * param to the gradient before it goes into the buffer."),
]
NESTEROV_MISTAKES = SGD_DECAY_MISTAKES + [
    ("velocity includes lr", "that is a look-ahead form with lr inside the velocity: it matches "
     "torch's only while lr stays the same. Keep lr out of the buffer: buf = momentum * buf + g, "
     "then param -= lr * (g + momentum * buf)."),
    ("buffer instead of look-ahead", "the step uses buf, plain momentum: Nesterov's uses "
                                     "g + momentum * buf, with buf already updated."),
    ("decay after momentum", "weight decay is added after the momentum buffer: add "
     "weight_decay * param to the gradient before it goes into the buffer."),
]
MOMENTUM_MISTAKES.insert(len(SGD_DECAY_MISTAKES) + 1, (
    "nesterov instead", "that is Nesterov's step, g + momentum * buf: plain momentum steps "
                        "along buf."))
EMA_MISTAKES = [
    ("velocity includes lr", "lr is inside the velocity, v = beta * v + (1 - beta) * lr * g: it "
     "matches only while lr stays the same. Keep lr out of v, then param -= lr * v."),
    ("starts at g", "v starts at g on the first step (torch's convention for its buffer): in this "
                    "form v starts at 0, so the first step is v = (1 - beta) * g."),
    ("(1 - beta) missing", "(1 - beta) is missing: v = beta * v + (1 - beta) * grad, an average "
                           "of the gradients."),
    ("beta swapped", "beta and 1 - beta are swapped: v = beta * v + (1 - beta) * grad keeps "
                     "most of the old velocity."),
    ("(1 - beta) twice", "the step is scaled by (1 - beta) twice: v already has it, so "
                         "param -= lr * v."),
    ("bias corrected", "the step is bias-corrected, divided by 1 - beta**t, as in Adam: this "
                       "form has no correction, param -= lr * v."),
]
RMSPROP_MISTAKES = DECAY_MISTAKES + [
    ("eps inside sqrt", "eps is inside the square root: torch divides by sqrt(square_avg) + eps."),
    ("(1 - alpha) missing", "(1 - alpha) is missing: square_avg = alpha * square_avg + "
                            "(1 - alpha) * g**2."),
    ("alpha swapped", "alpha and 1 - alpha are swapped: square_avg = alpha * square_avg + "
                      "(1 - alpha) * g**2."),
    ("no sqrt", "the square root is missing: divide by sqrt(square_avg) + eps."),
    ("square of the average", "that divides by the size of the average gradient: square_avg "
     "averages the squares, g**2, not g."),
    ("starts at g**2", "square_avg starts at g**2: in torch it starts at 0, so the first step "
                       "gives (1 - alpha) * g**2."),
    ("bias corrected", "square_avg is bias-corrected, as in Adam: RMSprop has no correction."),
    ("decay after", "weight decay is added after the division: add weight_decay * param to the "
                    "gradient first, g = grad + weight_decay * param."),
]
ADAM_COMMON_MISTAKES = [
    ("no bias correction", "the bias correction is missing: divide m by 1 - beta1**t and v by "
                           "1 - beta2**t."),
    *T_MISTAKES,
    ("m corrected only", "only m is bias-corrected: v needs v / (1 - beta2**t) too."),
    ("v corrected only", "only v is bias-corrected: m needs m / (1 - beta1**t) too."),
    ("eps inside sqrt", "eps is inside the square root: torch divides by sqrt(v_hat) + eps."),
    ("eps before correction", "eps is added before the bias correction of v: divide by "
                              "sqrt(v / (1 - beta2**t)) + eps."),
    ("betas swapped", "beta1 and beta2 are swapped: beta1 averages g, beta2 averages g**2."),
    ("(1 - beta1) missing", "(1 - beta1) is missing: m = beta1 * m + (1 - beta1) * g."),
    ("(1 - beta2) missing", "(1 - beta2) is missing: v = beta2 * v + (1 - beta2) * g**2."),
]
ADAM_MISTAKES = DECAY_MISTAKES + [
    ("decoupled decay", "weight decay is decoupled, param *= 1 - lr * weight_decay, as in AdamW: "
                        "Adam's is L2, g = grad + weight_decay * param."),
] + ADAM_COMMON_MISTAKES
ADAMW_MISTAKES = [
    ("decay ignored", "weight_decay is ignored: AdamW shrinks param first, "
                      "param *= 1 - lr * weight_decay."),
    ("L2 decay", "that is Adam with L2, weight decay folded into the gradient: AdamW decouples "
                 "it, param *= 1 - lr * weight_decay, and leaves the gradient alone."),
    ("decay without lr", "the decay is not multiplied by lr: param *= 1 - lr * weight_decay."),
    ("decay after the step", "the decay is applied after the Adam step: torch applies "
                             "param *= 1 - lr * weight_decay first."),
    ("decay and L2", "weight decay is applied twice, decoupled and as L2 in the gradient: "
                     "AdamW only decouples it."),
] + ADAM_COMMON_MISTAKES
ADAMAX_MISTAKES = DECAY_MISTAKES + [
    ("eps outside the max", "eps is added after the maximum: torch adds it inside, "
                            "exp_inf = maximum(beta2 * exp_inf, |g| + eps), and divides by "
                            "exp_inf alone."),
    ("m not corrected", "m is not bias-corrected: the step is lr / (1 - beta1**t) * m / exp_inf."),
    ("u corrected", "exp_inf is bias-corrected too: a maximum needs no correction, only m does."),
    ("abs missing", "the maximum is over g, not |g|: exp_inf = maximum(beta2 * exp_inf, "
                    "|g| + eps)."),
    ("beta2 missing", "the old maximum is not decayed: exp_inf = maximum(beta2 * exp_inf, "
                      "|g| + eps)."),
    ("decoupled decay", "weight decay is decoupled, as in AdamW: Adamax's is L2, "
                        "g = grad + weight_decay * param."),
] + [entry for entry in ADAM_COMMON_MISTAKES if entry[0] in (
    "t from 0", "t from 2", "t stuck at 1", "betas swapped")]

RULES = {
    "sgd_update": SimpleNamespace(
        oracle=_SGD, oracle_name="torch.optim.SGD", step=_sgd_step,
        required=("lr",), defaults={"lr": 0.1, "weight_decay": 0.0},
        to_torch=dict, stateful=False,
        scenarios=(DEFAULTS, DECAY, TWO),
        mistakes=SGD_DECAY_MISTAKES + [("sign flipped", "param moves along the gradient: "
                                                        "subtract it, param -= lr * g.")],
        formula="param -= lr * (grad + weight_decay * param), in place."),
    "momentum_update": SimpleNamespace(
        oracle=_SGD, oracle_name="torch.optim.SGD", step=_sgd_step,
        required=("lr", "momentum"),
        defaults={"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
        to_torch=dict, stateful=True,
        scenarios=(DEFAULTS, LR_HALVED, _scenario(options={"momentum": 0.5}),
                   _scenario(options={"dampening": 0.5}), DECAY, TWO),
        mistakes=MOMENTUM_MISTAKES,
        formula="g = grad + weight_decay * param; buf = g (a copy) on the first step, then "
                "buf = momentum * buf + (1 - dampening) * g; param -= lr * buf."),
    "nesterov_update": SimpleNamespace(
        oracle=_SGD, oracle_name="torch.optim.SGD", step=_nesterov_step,
        required=("lr", "momentum"), defaults={"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0},
        to_torch=lambda hp: {**hp, "nesterov": True}, stateful=True,
        scenarios=(DEFAULTS, LR_HALVED, _scenario(options={"momentum": 0.5}), DECAY, TWO),
        mistakes=NESTEROV_MISTAKES,
        formula="g = grad + weight_decay * param; buf = g on the first step, then buf = "
                "momentum * buf + g; param -= lr * (g + momentum * buf)."),
    "ema_momentum_update": SimpleNamespace(
        oracle=_SGD, oracle_name="torch.optim.SGD", step=_ema_step,
        required=("lr", "beta"), defaults={"lr": 0.1, "beta": 0.9},
        to_torch=lambda hp: {"lr": hp["lr"] * (1 - hp["beta"]), "momentum": hp["beta"]},
        stateful=True, scenarios=(DEFAULTS, LR_HALVED, _scenario(options={"beta": 0.5}), TWO),
        mistakes=EMA_MISTAKES,
        formula="v = beta * v + (1 - beta) * grad, with v = 0 before the first step; "
                "param -= lr * v."),
    "rmsprop_update": SimpleNamespace(
        oracle=_RMSprop, oracle_name="torch.optim.RMSprop", step=_rmsprop_step,
        required=(), defaults={"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0},
        to_torch=dict, stateful=True,
        scenarios=(DEFAULTS, TINY_GRADIENTS, _scenario(options={"alpha": 0.9}), EPS, DECAY,
                   LR_HALVED, TWO),
        mistakes=RMSPROP_MISTAKES,
        formula="g = grad + weight_decay * param; square_avg = alpha * square_avg + (1 - alpha) "
                "* g**2 (from 0); param -= lr * g / (sqrt(square_avg) + eps)."),
    "adam_update": SimpleNamespace(
        oracle=_Adam, oracle_name="torch.optim.Adam", step=_adam_step,
        required=(), defaults={"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                               "weight_decay": 0.0},
        to_torch=dict, stateful=True, scenarios=ADAPTIVE,
        mistakes=ADAM_MISTAKES,
        formula="t = state['step'] (counting from 1); g = grad + weight_decay * param; "
                "m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g**2; "
                "param -= lr * m / (1 - beta1**t) / (sqrt(v / (1 - beta2**t)) + eps)."),
    "adamw_update": SimpleNamespace(
        oracle=_AdamW, oracle_name="torch.optim.AdamW", step=_adamw_step,
        required=(), defaults={"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                               "weight_decay": 1e-2},
        to_torch=dict, stateful=True, scenarios=ADAPTIVE,
        mistakes=ADAMW_MISTAKES,
        formula="param *= 1 - lr * weight_decay first; then Adam's step with grad itself: "
                "m, v from grad, param -= lr * m_hat / (sqrt(v_hat) + eps)."),
    "adamax_update": SimpleNamespace(
        oracle=_Adamax, oracle_name="torch.optim.Adamax", step=_adamax_step,
        required=(), defaults={"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                               "weight_decay": 0.0},
        to_torch=dict, stateful=True, scenarios=ADAPTIVE,
        mistakes=ADAMAX_MISTAKES,
        formula="g = grad + weight_decay * param; m = beta1 * m + (1 - beta1) * g; exp_inf = "
                "maximum(beta2 * exp_inf, |g| + eps); param -= lr / (1 - beta1**t) * m / "
                "exp_inf."),
}


# ------------------------------------------------------------------------- words

def _value_words(value):
    if isinstance(value, (tuple, list)):
        return f"({', '.join(_value_words(item) for item in value)})"
    if isinstance(value, bool):
        return repr(value)
    return number(value)


def _arguments_words(hp):
    return ", ".join(f"{key}={_value_words(value)}" for key, value in hp.items())


def _signature_words(name, rule):
    arguments = ", ".join(key if key in rule.required else f"{key}={_value_words(value)}"
                          for key, value in rule.defaults.items())
    return f"{name}(param, grad, state, *, {arguments})"


def _name(function, default):
    name = getattr(function, "__name__", default)
    return name if name.isidentifier() else default


def _ordinal(j):
    return ("first", "second")[j]


# ----------------------------------------------------------------------- running

def _other_shape(shape):
    """The second parameter's shape: where it can be, one that doesn't broadcast with
    `shape`, so that a buffer shared by the two raises."""
    return (shape[-1] + 1,) if len(shape) and shape[-1] > 1 else (3, 2)


def _setup(rule, scenario, rng, shape, steps, dtype, options):
    """Initial params, their gradient streams, the calls [(step, parameter)] and each
    step's hyperparameters."""
    shapes = [shape, _other_shape(shape)] if scenario.two else [shape]
    # asarray: a draw of shape () is a number, not an array
    initial = [np.asarray(rng.standard_normal(size), dtype=dtype) for size in shapes]
    scale = TINY if scenario.tiny else 1.0
    gradients = [[np.asarray(rng.standard_normal(size) * (scale * MAGNITUDES[k % len(MAGNITUDES)]),
                             dtype=dtype) for k in range(steps)] for size in shapes]
    calls = [(k, j) for k in range(steps) for j in range(len(shapes))]
    base = {**rule.defaults, **scenario.options, **options}
    change = steps // 2 if scenario.lr_change else steps
    hyper = [{**base, "lr": base["lr"] * (LR_CHANGE if k >= change else 1.0)}
             for k in range(steps)]
    passed = [key for key in rule.defaults if key in rule.required or key in scenario.options
              or key in options or (key == "lr" and scenario.lr_change)]
    return shapes, initial, gradients, calls, hyper, passed


def _torch_trajectory(rule, initial, gradients, calls, hyper):
    """Each parameter's values after each call, from the torch optimizer (float64)."""
    tensors = [_from_numpy(values.astype(np.float64)).requires_grad_() for values in initial]
    optimizers = [rule.oracle([tensor], **rule.to_torch(hyper[0])) for tensor in tensors]
    trajectory = []
    for k, j in calls:
        optimizers[j].param_groups[0]["lr"] = rule.to_torch(hyper[k])["lr"]
        tensors[j].grad = _from_numpy(gradients[j][k].astype(np.float64))
        optimizers[j].step()
        trajectory.append(tensors[j].detach().numpy().copy())
    return trajectory


def _numpy_trajectory(step, initial, gradients, calls, hyper, count):
    """The first `count` calls' values of a wrong variant `step(param, grad, state, hp)`."""
    params = [values.astype(np.float64) for values in initial]
    states = [{} for _ in initial]
    trajectory = []
    with np.errstate(all="ignore"):
        for k, j in calls[:count]:
            step(params[j], gradients[j][k].astype(np.float64), states[j], hyper[k])
            trajectory.append(params[j].copy())
    return trajectory


def _close(actual, wanted, rtol, scale):
    return isclose(actual, wanted, rtol=rtol, atol=rtol * scale).all()


def _variants(rule):
    """(wrong update(param, grad, state, hp), explanation) for the rule's usual mistakes."""
    def with_mistake(mistake):
        return lambda param, grad, state, hp: rule.step(param, grad, state, hp, mistake)

    def fresh_state(param, grad, state, hp):
        rule.step(param, grad, {}, hp)

    def first_lr(param, grad, state, hp):
        rule.step(param, grad, state, {**hp, "lr": state.setdefault("first lr", hp["lr"])})

    variants = [(with_mistake(mistake), explanation) for mistake, explanation in rule.mistakes]
    if rule.stateful:
        variants += [
            (fresh_state, "every step acts like the parameter's first: the buffers don't carry "
                          "over. Store them in the dict you are given (state['...'] = ...); "
                          "`state = {...}` only rebinds the local name."),
            (first_lr, "the update keeps the first call's lr: use the lr passed to each call."),
        ]
    return variants


def _distance(first, second):
    """The largest difference between two trajectories; nan against nan and inf against
    inf count as 0, nan or inf against anything else as inf."""
    largest = 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        for a, b in zip(first, second):
            difference = np.asarray(np.absolute(a - b))  # an array also for shape ()
            difference[np.isnan(difference)] = float("inf")
            difference[(a == b) | np.isnan(a) & np.isnan(b)] = 0.0
            largest = float(_maximum(largest, difference.max()))
    return largest


def _keeps_state_elsewhere(update, setup):
    """Whether two first steps from the same inputs, each with a fresh state dict, differ."""
    _, initial, gradients, _, hyper, passed = setup
    results = []
    for _ in range(2):
        param = initial[0].copy()
        try:
            update(param, gradients[0][0].copy(), {}, **{key: hyper[0][key] for key in passed})
        except Exception:
            return False
        results.append(param)
    first, second = results
    return not ((first == second) | np.isnan(first) & np.isnan(second)).all()


def _explain(update, rule, scenario, recorded, expected, setup, rtol, match_rtol, scale):
    """The explanation of the first wrong variant whose trajectory the student's reproduces
    (and that differs from torch's here), else the scenario's hint or the rule's formula."""
    if _keeps_state_elsewhere(update, setup):
        return OUTSIDE_STATE_HINT
    _, initial, gradients, calls, hyper, _ = setup
    count = len(recorded)
    deviation = _distance(recorded, expected)
    within = float(_maximum(EXPLAINED * deviation, rtol * scale))
    within = float(_minimum(within, match_rtol * scale))
    if not scenario.two:
        for step, explanation in _variants(rule):
            trajectory = _numpy_trajectory(step, initial, gradients, calls, hyper, count)
            if (_distance(recorded, trajectory) <= within
                    and _distance(trajectory, expected[:count]) > rtol * scale):
                return explanation
    return scenario.hint or rule.formula


def _progress_words(rule, setup, c):
    """'step 1 differs from torch.optim.X(...)' or 'steps 1–3 match ..., step 4 diverges'."""
    shapes, _, _, calls, hyper, _ = setup
    k, j = calls[c]
    torch_call = f"{rule.oracle_name}({_arguments_words(rule.to_torch(hyper[k]))})"
    if len(shapes) == 1:
        which, unit = f"step {k + 1}", "step"
    else:
        which = f"call {c + 1} (step {k + 1} of the {_ordinal(j)} parameter, shape {shapes[j]})"
        unit = "call"
    if c == 0:
        return f"{which} differs from {torch_call}"
    matched = f"{unit} 1 matches" if c == 1 else f"{unit}s 1–{c} match"
    return f"{matched} {torch_call}, {which} diverges"


def _scenario_words(scenario, setup, before):
    """' with tiny gradients ...', or for a changing lr ' with lr=0.1 on steps 1–4, then 0.05',
    after `before` (' ' or ', '); '' for the defaults."""
    hyper = setup[4]
    if scenario.lr_change:
        change = _lr_change_step(hyper)
        steps = "step 1" if change == 1 else f"steps 1–{change}"
        return (f"{before}with lr={number(hyper[0]['lr'])} on {steps}, then "
                f"{number(hyper[change]['lr'])}")
    return f"{before}{scenario.words}" if scenario.words else ""


def _lr_change_step(hyper):
    """The first step whose lr differs from the first step's."""
    for k, step_hyper in enumerate(hyper):
        if step_hyper["lr"] != hyper[0]["lr"]:
            return k
    return len(hyper)


def _apart(got, wanted):
    """Two numbers with just enough digits to tell them apart: '0.99412', '0.99501'."""
    for digits in range(6, 18):
        got_words, wanted_words = f"{float(got):.{digits}g}", f"{float(wanted):.{digits}g}"
        if got_words != wanted_words:
            break
    return got_words, wanted_words


def _call_words(name, hp, passed):
    arguments = "".join(f", {key}={_value_words(hp[key])}" for key in passed)
    return f"{name}(param, grad, state{arguments})"


def _fail_mismatch(update, rule, name, scenario, setup, c, recorded, expected, tolerance):
    """Call `c` is the first whose param differs from torch's; `recorded` goes on after it."""
    __tracebackhide__ = True
    shapes, _, _, calls, hyper, passed = setup
    k, j = calls[c]
    actual, wanted = recorded[c], expected[c]
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.asarray(np.absolute(actual - wanted))  # an array also for shape ()
    difference[~np.isfinite(actual)] = float("inf")
    position = int(difference.reshape(-1).argmax())
    index = as_index(position, shapes[j])
    where = f"param[{', '.join(str(i) for i in index)}]" if index else "param"
    words = _scenario_words(scenario, setup, " ")
    got, want = _apart(actual.reshape(-1)[position], wanted.reshape(-1)[position])
    message = (f"{_call_words(name, hyper[k], passed)}{words}: {_progress_words(rule, setup, c)}: "
               f"{where} is {got}, expected {want} (largest difference "
               f"{float(difference.max()):.2g}).")
    fail(message, _explain(update, rule, scenario, recorded, expected, setup, *tolerance))


def _fail_raised(rule, name, scenario, setup, error, c):
    __tracebackhide__ = True
    _, _, _, calls, hyper, passed = setup
    k, j = calls[c]
    where = f"step {k + 1}" + (f" of the {_ordinal(j)} parameter" if scenario.two else "")
    words = _scenario_words(scenario, setup, ", ")
    message = (f"{_call_words(name, hyper[k], passed)} raised {type(error).__name__}: {error} "
               f"(on {where}{words}).")
    if isinstance(error, NotImplementedError):
        hint = "replace `raise NotImplementedError()` with your update."
    elif isinstance(error, TypeError) and "argument" in str(error):
        hint = (f"the check passes hyperparameters by keyword; the signature is "
                f"{_signature_words(name, rule)}.")
    elif scenario.two and (j == 1 or k > 0):
        hint = TWO_PARAMETERS_HINT
    elif isinstance(error, KeyError):
        hint = ("state is an empty dict before a parameter's first step: create the buffers "
                "then (`if not state:` or state.get(...)), and read them on later steps.")
    elif isinstance(error, ZeroDivisionError) and "betas" in rule.defaults:
        hint = f"t = 0 makes 1 - beta**t zero. {STEP_COUNT}"
    elif isinstance(error, ValueError):
        hint = ("grad and every buffer have the shape of param; build buffers with "
                "np.zeros_like(param).")
    else:
        hint = None
    raise CheckFailure(message if hint is None else f"{message}\nHint: {hint}") from error


def _fail_in_place(rule, name, setup, passed_hp, result, k, words):
    __tracebackhide__ = True
    call = _call_words(name, passed_hp, setup[5])
    when = f"on step {k + 1}{words}"
    if result is None:
        fail(f"{call} left param unchanged {when}, but {rule.oracle_name} changes it.",
             "`param = param - ...` makes a new array and only rebinds the local name: write "
             "into the caller's array, param -= lr * update (or param[...] = new_value).")
    got = "a new array" if isinstance(result, np.ndarray) else kind_of(result)
    fail(f"{call} returned {got} and left param unchanged {when}.",
         "update param in place, param -= lr * update (or param[...] = new_value), and return "
         "None: the caller keeps its own array, as with torch's optimizer.step().")


def _check_defaults(update, name, rule):
    """A default in the student's signature that differs from torch's fails first."""
    __tracebackhide__ = True
    try:
        parameters = _signature(update).parameters
    except (TypeError, ValueError):
        return
    for key, wanted in rule.defaults.items():
        parameter = parameters.get(key)
        if key in rule.required or parameter is None or parameter.default is parameter.empty:
            continue
        default = parameter.default
        same = (tuple(default) == wanted if isinstance(default, (tuple, list))
                else isinstance(default, (int, float)) and default == wanted)
        if not same:
            fail(f"{name}'s default is {key}={default!r}, but {rule.oracle_name}'s is "
                 f"{key}={_value_words(wanted)}.",
                 f"use the signature {_signature_words(name, rule)}.")


def _check_scenario(rule, update, name, scenario, rng, shape, steps, dtype, options):
    __tracebackhide__ = True
    setup = _setup(rule, scenario, rng, shape, steps, dtype, options)
    shapes, initial, gradients, calls, hyper, passed = setup
    expected = _torch_trajectory(rule, initial, gradients, calls, hyper)
    scale = 1e-30
    for values in expected:
        scale = float(_maximum(scale, np.absolute(values).max()))
    rtol, match_rtol = RTOL[dtype.name], MATCH_RTOL[dtype.name]
    words = _scenario_words(scenario, setup, ", ")
    params = [values.copy() for values in initial]
    torch_before = [values.astype(np.float64) for values in initial]
    states = [{} for _ in shapes]
    recorded = []
    for c, (k, j) in enumerate(calls):
        grad = gradients[j][k].copy()
        before = params[j].copy()
        hp = {key: hyper[k][key] for key in passed}
        try:
            result = update(params[j], grad, states[j], **hp)
        except Exception as error:
            _fail_raised(rule, name, scenario, setup, error, c)
        if not (grad == gradients[j][k]).all():
            fail(f"{_call_words(name, hyper[k], passed)} changed its argument grad in place on "
                 f"step {k + 1}{words}.",
                 "`grad += ...` or `grad *= ...` writes into the caller's gradient: compute a new "
                 "array, g = grad + weight_decay * param.")
        if (params[j] == before).all() and not (expected[c] == torch_before[j]).all():
            _fail_in_place(rule, name, setup, hyper[k], result, k, words)
        torch_before[j] = expected[c]
        recorded.append(params[j].astype(np.float64))
        if not _close(recorded[-1], expected[c], rtol, scale):
            # run on (without the checks above) to see which mistake the trajectory follows
            for k_next, j_next in calls[c + 1:]:
                try:
                    update(params[j_next], gradients[j_next][k_next].copy(), states[j_next],
                           **{key: hyper[k_next][key] for key in passed})
                except Exception:
                    break
                recorded.append(params[j_next].astype(np.float64))
            _fail_mismatch(update, rule, name, scenario, setup, c, recorded, expected,
                           (rtol, match_rtol, scale))


def _check(rule_name, update, seed, shape, steps, dtype, options):
    __tracebackhide__ = True
    rule = RULES[rule_name]
    unknown = [key for key in options if key not in rule.defaults]
    if unknown:
        raise TypeError(f"check_{rule_name} takes the hyperparameters "
                        f"{', '.join(rule.defaults)}, not {', '.join(unknown)}")
    shape, steps, dtype = tuple(int(size) for size in shape), int(steps), np.dtype(dtype)
    if dtype.name not in RTOL or steps < 1:
        raise ValueError(f"dtype must be float32 or float64 and steps at least 1, got {dtype.name} "
                         f"and {steps}")
    name = _name(update, rule_name)
    _check_defaults(update, name, rule)
    for index, scenario in enumerate(rule.scenarios):
        if scenario.lr_change and steps < 2:
            continue
        _check_scenario(rule, update, name, scenario, default_rng((int(seed), index)), shape,
                        steps, dtype, options)


def check_sgd_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `sgd_update(param, grad, state, *, lr, weight_decay=0.0)` against
    torch.optim.SGD(lr, weight_decay): scenarios lr=0.1; weight_decay=0.1; two parameters.
    Hyperparameter options: lr, weight_decay (see the module docstring)."""
    __tracebackhide__ = True
    _check("sgd_update", update, seed, shape, steps, dtype, options)


def check_momentum_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `momentum_update(param, grad, state, *, lr, momentum, dampening=0.0,
    weight_decay=0.0)` against torch.optim.SGD(lr, momentum, dampening, weight_decay):
    scenarios lr=0.1, momentum=0.9; lr halved halfway; momentum=0.5; dampening=0.5;
    weight_decay=0.1; two parameters.
    Hyperparameter options: lr, momentum, dampening, weight_decay (see the module docstring)."""
    __tracebackhide__ = True
    _check("momentum_update", update, seed, shape, steps, dtype, options)


def check_nesterov_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `nesterov_update(param, grad, state, *, lr, momentum, weight_decay=0.0)` against
    torch.optim.SGD(lr, momentum, weight_decay, nesterov=True): scenarios lr=0.1,
    momentum=0.9; lr halved halfway; momentum=0.5; weight_decay=0.1; two parameters.
    Hyperparameter options: lr, momentum, weight_decay (see the module docstring)."""
    __tracebackhide__ = True
    _check("nesterov_update", update, seed, shape, steps, dtype, options)


def check_ema_momentum_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64,
                              **options):
    """Check `ema_momentum_update(param, grad, state, *, lr, beta)` (v = beta * v + (1 - beta)
    * grad from v = 0, param -= lr * v) against torch.optim.SGD(lr=lr * (1 - beta),
    momentum=beta), the same trajectory: scenarios lr=0.1, beta=0.9; lr halved halfway;
    beta=0.5; two parameters.
    Hyperparameter options: lr, beta (see the module docstring)."""
    __tracebackhide__ = True
    _check("ema_momentum_update", update, seed, shape, steps, dtype, options)


def check_rmsprop_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `rmsprop_update(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8,
    weight_decay=0.0)` against torch.optim.RMSprop: scenarios the defaults; tiny gradients;
    alpha=0.9; eps=1e-3; weight_decay=0.1; lr halved halfway; two parameters.
    Hyperparameter options: lr, alpha, eps, weight_decay (see the module docstring)."""
    __tracebackhide__ = True
    _check("rmsprop_update", update, seed, shape, steps, dtype, options)


def check_adam_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=0.0)` against torch.optim.Adam: scenarios the defaults; tiny gradients;
    betas=(0.8, 0.99); eps=1e-3; weight_decay=0.1; lr halved halfway; two parameters.
    Hyperparameter options: lr, betas, eps, weight_decay (see the module docstring)."""
    __tracebackhide__ = True
    _check("adam_update", update, seed, shape, steps, dtype, options)


def check_adamw_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=1e-2)` against torch.optim.AdamW: scenarios the defaults; tiny gradients;
    betas=(0.8, 0.99); eps=1e-3; weight_decay=0.1; lr halved halfway; two parameters.
    Hyperparameter options: lr, betas, eps, weight_decay (see the module docstring)."""
    __tracebackhide__ = True
    _check("adamw_update", update, seed, shape, steps, dtype, options)


def check_adamax_update(update, *, seed=0, shape=(3, 4), steps=8, dtype=np.float64, **options):
    """Check `adamax_update(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=0.0)` against torch.optim.Adamax: scenarios the defaults; tiny gradients;
    betas=(0.8, 0.99); eps=1e-3; weight_decay=0.1; lr halved halfway; two parameters.
    Hyperparameter options: lr, betas, eps, weight_decay (see the module docstring)."""
    __tracebackhide__ = True
    _check("adamax_update", update, seed, shape, steps, dtype, options)

