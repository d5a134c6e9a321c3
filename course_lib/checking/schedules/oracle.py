"""torch's schedulers as the oracle: the rates they give, computed with math and the
builtins as they were when the package was imported (torch's schedulers look up
math.cos, max, ... when they run, and a student's notebook may have replaced them), and
with their warnings silenced (nbgrader counts any output on stderr as a failure)."""
import builtins
import math
import warnings
from builtins import ValueError, dict, float, range

from torch import float64 as _float64
from torch import zeros as _zeros
from torch.optim import SGD as _SGD
from torch.optim import lr_scheduler

from .._trusted import at_import, pristine

_PRISTINE = at_import(math, ("cos", "floor", "inf", "pi", "log")) + at_import(builtins, (
    "abs", "all", "any", "float", "int", "isinstance", "len", "max", "min", "round", "sum"))


def _optimizer(lr):
    """An SGD optimizer over one float64 parameter, with learning rate `lr`."""
    return _SGD([_zeros(1, dtype=_float64, requires_grad=True)], lr=lr)


def torch_rates(make_scheduler, lr, count):
    """The first `count` rates of the torch scheduler `make_scheduler(optimizer)` builds (or
    fewer, if torch refuses to step further), read with get_last_lr() before each step():
    step t is the rate after t calls of step(), step 0 the one right after construction."""
    optimizer = _optimizer(lr)
    rates = []
    with pristine(_PRISTINE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = make_scheduler(optimizer)
        for _ in range(count):
            rates.append(float(scheduler.get_last_lr()[0]))
            try:
                scheduler.step()
            except ValueError:  # OneCycleLR past total_steps
                break
    return rates


def torch_plateau_rates(kwargs, lr, metrics, eps):
    """The optimizer's rate after each step(metric) of torch's ReduceLROnPlateau(**kwargs)."""
    optimizer = _optimizer(lr)
    rates = []
    with pristine(_PRISTINE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, **dict(kwargs), eps=eps)
        for value in metrics:
            scheduler.step(value)
            rates.append(float(optimizer.param_groups[0]["lr"]))
    return rates
