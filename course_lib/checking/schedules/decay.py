"""Checks for step_lr and exponential_lr (assignment 04): decays by a factor gamma, once
every step_size epochs (torch's StepLR) or smoothly, gamma ** (epoch / decay_epochs) —
TensorFlow's exponential_decay, torch's ExponentialLR(gamma ** (1 / decay_epochs)), and
with staircase=True torch's StepLR(decay_epochs, gamma).

The mistakes are wrong functions with the student's signature, each next to the sentence
that tells it.
"""
from builtins import round
from math import ceil as _ceil

from torch.optim import lr_scheduler as _lr_scheduler

from course_lib.optim import lr_scheduler as _reference

from ..failure import mistake
from .closed_form import Schedule, check

# ---------------------------------------------------------------------------------- step_lr


@mistake("gamma ** ceil(epoch / step_size) instead of gamma ** floor(epoch / step_size): the "
         "first decay comes after step_size whole epochs, use epoch // step_size.")
def step_lr_with_ceil(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** _ceil(epoch / step_size)


@mistake("epoch / step_size is rounded to the nearest whole number: the rate drops halfway "
         "through a period. Round down, epoch // step_size.")
def step_lr_with_round(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** round(epoch / step_size)


@mistake("a continuous decay gamma ** (epoch / step_size): StepLR is a staircase, "
         "gamma ** (epoch // step_size) with integer division.")
def step_lr_continuous(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** (epoch / step_size)


@mistake("the rate decays every epoch (gamma ** epoch): it decays once every step_size epochs, "
         "gamma ** (epoch // step_size).")
def step_lr_every_epoch(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** epoch


@mistake("gamma times the number of decays: the decays multiply, gamma ** (epoch // "
         "step_size).")
def step_lr_times_decays(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma * (epoch // step_size) if epoch >= step_size else base_lr


@mistake("epoch % step_size, the remainder, instead of epoch // step_size, the number of whole "
         "periods: the rate must not come back up.")
def step_lr_with_remainder(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** (epoch % step_size)


@mistake("** binds tighter than //: base_lr * gamma ** epoch // step_size is (base_lr * gamma "
         "** epoch) // step_size, a whole number. Write gamma ** (epoch // step_size).")
def step_lr_without_parentheses(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** epoch // step_size


@mistake("the rate is decayed already at epoch 0: it starts at base_lr, and the first decay "
         "comes at epoch step_size, gamma ** (epoch // step_size).")
def step_lr_decayed_from_the_start(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** (epoch // step_size + 1)


STEP_LR = Schedule(
    name="step_lr", variable="epoch", reference=_reference.StepLR,
    forbidden=(_lr_scheduler.StepLR,), defaults={"base_lr": None, "step_size": None, "gamma": 0.1},
    scenarios=({"base_lr": 0.1, "step_size": 3},
               {"base_lr": 1.0, "step_size": 4, "gamma": 0.5},
               {"base_lr": 0.5, "step_size": 1, "gamma": 0.9}),
    scheduler=lambda optimizer, s: _lr_scheduler.StepLR(optimizer, s["step_size"], s["gamma"]),
    torch_name="StepLR", scale="base_lr", steps=lambda s: 3 * s["step_size"] + 2,
    mistakes=(step_lr_with_ceil, step_lr_with_round, step_lr_continuous, step_lr_every_epoch,
              step_lr_times_decays, step_lr_with_remainder, step_lr_without_parentheses,
              step_lr_decayed_from_the_start),
    start_words="base_lr", later_words="the first decay comes after step_size steps",
    formula="base_lr * gamma ** (epoch // step_size)")


def check_step_lr(step_lr, **options):
    """Compare `step_lr(epoch, *, base_lr, step_size, gamma=0.1)` with torch's StepLR for
    epochs 0 to `steps` - 1 (default: 3 step sizes and a bit). Options: base_lr, step_size,
    gamma, steps — given any, only that scenario runs; without, the built-in ones."""
    __tracebackhide__ = True
    check(STEP_LR, step_lr, options)


# --------------------------------------------------------------------------- exponential_lr

@mistake("decay_epochs is ignored: the exponent is epoch / decay_epochs, so gamma is reached "
         "after decay_epochs epochs.")
def exponential_lr_every_epoch(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    return base_lr * gamma ** epoch


@mistake("the exponent is epoch * decay_epochs: it is epoch / decay_epochs.")
def exponential_lr_times_decay_epochs(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    return base_lr * gamma ** (epoch * decay_epochs)


@mistake("the exponent is decay_epochs / epoch: it is epoch / decay_epochs.")
def exponential_lr_upside_down(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    return base_lr * gamma ** (decay_epochs / epoch) if epoch else base_lr


@mistake("staircase=True is ignored: then the exponent is floor(epoch / decay_epochs), "
         "epoch // decay_epochs, so the rate drops in steps.")
def exponential_lr_never_staircase(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    return base_lr * gamma ** (epoch / decay_epochs)


@mistake("ceil(epoch / decay_epochs) instead of floor: the first drop comes after decay_epochs "
         "whole epochs.")
def exponential_lr_with_ceil(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    exponent = _ceil(epoch / decay_epochs) if staircase else epoch / decay_epochs
    return base_lr * gamma ** exponent


@mistake("with staircase=True the exponent is rounded to the nearest whole number: round it "
         "down, epoch // decay_epochs, so that each drop comes after decay_epochs whole epochs.")
def exponential_lr_with_round(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    exponent = round(epoch / decay_epochs) if staircase else epoch / decay_epochs
    return base_lr * gamma ** exponent


@mistake("the exponent is rounded down although staircase=False: only staircase=True uses "
         "floor(epoch / decay_epochs); otherwise the rate decays smoothly, epoch / "
         "decay_epochs.")
def exponential_lr_always_staircase(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    return base_lr * gamma ** (epoch // decay_epochs)


@mistake("** binds tighter than /: base_lr * gamma ** epoch / decay_epochs divides the rate by "
         "decay_epochs. Write gamma ** (epoch / decay_epochs).")
def exponential_lr_without_parentheses(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    return base_lr * gamma ** (epoch // decay_epochs if staircase else epoch) / decay_epochs


def _exponential_scheduler(optimizer, s):
    if s["staircase"]:
        return _lr_scheduler.StepLR(optimizer, s["decay_epochs"], s["gamma"])
    return _lr_scheduler.ExponentialLR(optimizer, s["gamma"] ** (1 / s["decay_epochs"]))


EXPONENTIAL_LR = Schedule(
    name="exponential_lr", variable="epoch", reference=_reference.ExponentialLR,
    forbidden=(_lr_scheduler.ExponentialLR, _lr_scheduler.StepLR, _reference.StepLR),
    defaults={"base_lr": None, "gamma": None, "decay_epochs": 1, "staircase": False},
    scenarios=({"base_lr": 0.1, "gamma": 0.9},
               {"base_lr": 1.0, "gamma": 0.5, "decay_epochs": 4},
               {"base_lr": 1.0, "gamma": 0.5, "decay_epochs": 3, "staircase": True},
               {"base_lr": 0.2, "gamma": 0.8, "staircase": True}),
    scheduler=_exponential_scheduler,
    torch_name=lambda s: "StepLR" if s["staircase"] else "ExponentialLR",
    scale="base_lr", steps=lambda s: 3 * s["decay_epochs"] + 5,
    mistakes=(exponential_lr_every_epoch, exponential_lr_times_decay_epochs,
              exponential_lr_upside_down, exponential_lr_never_staircase, exponential_lr_with_ceil,
              exponential_lr_with_round, exponential_lr_always_staircase,
              exponential_lr_without_parentheses),
    start_words="base_lr", later_words="gamma ** (epoch / decay_epochs) after that",
    formula=lambda s: "base_lr * gamma ** ({})".format(
        "epoch // decay_epochs" if s["staircase"] else "epoch / decay_epochs"))


def check_exponential_lr(exponential_lr, **options):
    """Compare `exponential_lr(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False)`
    with torch: ExponentialLR(gamma ** (1 / decay_epochs)), or StepLR(step_size=decay_epochs,
    gamma) with staircase=True. Options: base_lr, gamma, decay_epochs, staircase, steps."""
    __tracebackhide__ = True
    check(EXPONENTIAL_LR, exponential_lr, options)
