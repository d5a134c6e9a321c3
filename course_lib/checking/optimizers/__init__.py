"""Checks for the update rules of assignment 03 (optimizers), one parameter array at a time.

Each `check_<rule>_update(update, ...)` runs the student's `update(param, grad, state, **hp)`
over the rule's scenarios, simplest first (the signature's defaults), then one hyperparameter
or situation at a time (weight_decay, dampening, tiny gradients where eps matters, lr halved
halfway, two parameters updated in turn), so that the first scenario to fail isolates the
mistake. In each, a stream of gradients whose size changes over steps by orders of magnitude
(one step's gradient all zero) goes to the student's function with the same `state` dict on
every call, and in parallel to the torch optimizer the exercise names (float64 tensors,
p.grad set, opt.step()). The parameter is compared after every step; at the first
difference the message says which step diverges, what matched before, and — when one of
the rule's usual mistakes, written out as a small wrong update function, reproduces the
student's trajectory there and in every other scenario where the student's is wrong too —
which mistake it is. The right answer always comes from torch.

Every check takes the options `seed` (of the generator of params and gradients), `shape`
(the param's), `steps` (updates per scenario) and `dtype` (np.float32 params are compared
1e-5 relative and must stay float32), and the rule's hyperparameters, which are passed by
keyword to every call and override the scenarios' values.

Modules: `rule` (what a rule is, its scenarios, the pieces and generic wrong variants),
`stream` (running the student's function next to torch's optimizer, the failures), `words`,
and one module per family with its rules, mistakes and checks: `sgd` (SGD, momentum,
Nesterov, EMA momentum), `rmsprop`, `adam` (Adam, AdamW, Adamax).

Tamper-proofing as in the rest of the package: numpy, torch and builtins are bound at
import, the data come from a local generator, and the student's function gets copies of the
gradients and fails if it changes them in place.
"""
from .adam import ADAM, ADAMAX, ADAMW, check_adam_update, check_adamax_update, check_adamw_update
from .rmsprop import RMSPROP, check_rmsprop_update
from .sgd import (
    EMA_MOMENTUM, MOMENTUM, NESTEROV, SGD, check_ema_momentum_update, check_momentum_update,
    check_nesterov_update, check_sgd_update,
)

RULES = {rule.name: rule for rule in (SGD, MOMENTUM, NESTEROV, EMA_MOMENTUM, RMSPROP, ADAM, ADAMW,
                                      ADAMAX)}

__all__ = [
    "RULES", "check_adam_update", "check_adamax_update", "check_adamw_update",
    "check_ema_momentum_update", "check_momentum_update", "check_nesterov_update",
    "check_rmsprop_update", "check_sgd_update",
]
