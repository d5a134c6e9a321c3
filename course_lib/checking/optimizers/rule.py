"""What a check of an update rule knows about it: a `Rule`, its `Scenario`s, and the
pieces its wrong variants are written with.

A rule's mistakes are small wrong update functions, `wrong(param, grad, state, hp)` with
`hp` every hyperparameter by name, each decorated with `@mistake(explanation)`: the
sentence the student reads when the answer's trajectory is the wrong function's. They are
written with the shared pieces below (`decayed`, `averaged`, `counted`), so that each one
shows only its mistake. None of them decides what is right: the expected values always
come from torch.
"""
from builtins import bool, callable, dict, getattr, object, property, str, tuple, type
from dataclasses import dataclass, field, replace

from .._trusted import np
from ..failure import mistake
from ..harness import exercise
from .words import signature_words


@dataclass(frozen=True)
class Scenario:
    """One situation a rule is checked in: hyperparameters the scenario sets (`options`),
    tiny gradients, lr halved halfway, two parameters in turn; `words` describe it in a
    message, `hint` is the advice when no mistake explains a failure here."""
    words: str = ""
    options: dict = field(default_factory=dict)
    tiny: bool = False
    lr_change: bool = False
    two: bool = False
    hint: str = None


TWO_PARAMETERS_HINT = (
    "an update used buffers or a step count left by the other parameter: keep them in `state`, "
    "the dict passed with each parameter (one dict per parameter), not in globals or function "
    "attributes.")
LR_CHANGE_HINT = ("lr changes between calls here, as under a schedule: use each call's lr, and "
                  "keep it out of the buffers (torch multiplies by lr only in the final step).")
TINY_HINT = ("the gradients here are tiny (about 1e-8), so sqrt(v) is about eps: eps is added to "
             "the square root, outside it, as torch does.")
DECAY_HINT = ("weight_decay is L2 here: add weight_decay * param to the gradient before anything "
              "else, g = grad + weight_decay * param, with param before the update.")

DEFAULTS = Scenario()
TINY_GRADIENTS = Scenario("with tiny gradients (about 1e-8), where eps matters", tiny=True,
                          hint=TINY_HINT)
LR_HALVED = Scenario(lr_change=True, hint=LR_CHANGE_HINT)  # its words tell the rates used
TWO = Scenario("updating two parameters in turn, each with its own state dict", two=True,
               hint=TWO_PARAMETERS_HINT)
DECAY = Scenario(options={"weight_decay": 0.1}, hint=DECAY_HINT)
BETAS = Scenario(options={"betas": (0.8, 0.99)},
                 hint="betas = (beta1, beta2): beta1 averages g, beta2 averages g**2.")
EPS = Scenario(options={"eps": 1e-3}, hint="use the eps passed in, added to the square root.")
ADAPTIVE = (DEFAULTS, TINY_GRADIENTS, BETAS, EPS, DECAY, LR_HALVED, TWO)


@dataclass(frozen=True)
class Rule:
    """An exercise's update rule: its name, torch's optimizer (`oracle`, built with
    `to_torch(hp)`), the rule in numpy (`right`, for the variants built from it),
    hyperparameters in signature order with torch's defaults, those without a default,
    the scenarios in the order they are checked, the wrong variants, and the formula the
    student is reminded of when no variant explains a failure.

    `reference` is the rule's course_lib twin (sgd_update also for momentum and Nesterov)
    and `forbidden` what else the answer must not run — torch's optimizer class and its
    functional form, course_lib's optimizer class —; with them the rule builds its
    harness `exercise`, which changes param and state in place."""
    name: str
    oracle: type
    right: callable
    defaults: dict
    required: tuple
    scenarios: tuple
    mistakes: tuple
    formula: str
    reference: callable
    forbidden: tuple
    to_torch: callable = dict
    stateful: bool = True
    exercise: object = field(init=False)

    def __post_init__(self):
        declared = exercise(self.reference, forbidden=self.forbidden, mutates=("param", "state"))
        object.__setattr__(self, "exercise", replace(
            declared, name=self.name,
            signature=signature_words(self.name, self.defaults, self.required)))

    @property
    def oracle_name(self):
        return f"torch.optim.{self.oracle.__name__}"


# ------------------------------------------------------- pieces the variants are written with

def decayed(param, grad, hp):
    """The gradient with L2 weight decay folded in, with param before the update."""
    return grad + hp.get("weight_decay", 0.0) * param


def averaged(state, key, value, keep, add):
    """state[key] = keep * state[key] + add * value, state[key] starting at zeros."""
    state[key] = keep * state.get(key, 0.0 * value) + add * value
    return state[key]


def counted(state):
    """This parameter's update count, 1 on its first, as a numpy float: a wrong t of 0
    then gives inf and nan, as in a student's numpy code, not a ZeroDivisionError."""
    state["step"] = state.get("step", 0) + 1
    return np.float64(state["step"])


def without_decay(hp):
    return {**hp, "weight_decay": 0.0}


# ---------------------------------------------------- wrong variants of any rule, built from it

DECAY_IGNORED = ("weight_decay is ignored: add weight_decay * param to the gradient, "
                 "g = grad + weight_decay * param.")


def ignoring_decay(right, explanation=DECAY_IGNORED):
    @mistake(explanation)
    def decay_ignored(param, grad, state, hp):
        right(param, grad, state, without_decay(hp))
    return decay_ignored


def decoupled(adam_step):
    """AdamW from an Adam step, right or wrong (keeping its explanation): param shrinks
    first, then the step runs without weight decay."""
    def shrinking_first(param, grad, state, hp):
        param *= 1 - hp["lr"] * hp["weight_decay"]
        adam_step(param, grad, state, without_decay(hp))
    shrinking_first.explanation = getattr(adam_step, "explanation", None)
    return shrinking_first


def swapping_betas(right):
    @mistake("beta1 and beta2 are swapped: beta1 averages g, beta2 averages g**2.")
    def betas_swapped(param, grad, state, hp):
        beta1, beta2 = hp["betas"]
        right(param, grad, state, {**hp, "betas": (beta2, beta1)})
    return betas_swapped


STEP_COUNT = ("Is the bias correction using t = 1, 2, 3, ...? state['step'] must count this "
              "parameter's updates, starting at 1 on the first.")


def miscounting(right_at):
    """The step-count slips of a bias-corrected rule `right_at(param, grad, state, hp, t)`."""
    @mistake(f"the first step used t = 0, and 1 - beta**0 = 0 divides by zero. {STEP_COUNT}")
    def counting_from_0(param, grad, state, hp):
        t = state.get("step", 0)
        state["step"] = t + 1
        right_at(param, grad, state, hp, np.float64(t))

    @mistake(f"the first step used t = 2. {STEP_COUNT}")
    def counting_from_2(param, grad, state, hp):
        state["step"] = state.get("step", 1) + 1
        right_at(param, grad, state, hp, np.float64(state["step"]))

    @mistake(f"t stays 1: increment state['step'] on every call. {STEP_COUNT}")
    def stuck_at_1(param, grad, state, hp):
        counted(state)
        right_at(param, grad, state, hp, np.float64(1.0))

    return (counting_from_0, counting_from_2, stuck_at_1)


def forgetting_state(right):
    """The variants every rule with buffers has: buffers that don't carry over, and a
    learning rate kept from the first call."""
    @mistake("every step acts like the parameter's first: the buffers don't carry over. Store "
             "them in the dict you are given (state['...'] = ...); `state = {...}` only rebinds "
             "the local name.")
    def fresh_state(param, grad, state, hp):
        right(param, grad, {}, hp)

    @mistake("the update keeps the first call's lr: use the lr passed to each call.")
    def first_lr(param, grad, state, hp):
        right(param, grad, state, {**hp, "lr": state.setdefault("first lr", hp["lr"])})

    return (fresh_state, first_lr)


def variants(rule):
    """The rule's wrong variants, in the order they are tried."""
    return rule.mistakes + (forgetting_state(rule.right) if rule.stateful else ())
