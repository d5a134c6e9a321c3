"""Checks for cosine_annealing_lr and warmup_cosine_lr (assignment 04): cosine annealing from
base_lr to eta_min over T_max steps (torch's CosineAnnealingLR), and a linear warmup from
start_factor * base_lr followed by it (torch's SequentialLR of LinearLR and
CosineAnnealingLR, milestone warmup_steps).

The mistakes are wrong functions with the student's signature, each next to the sentence
that tells it.
"""
from math import cos as _cos
from math import pi as _pi

from torch.optim import lr_scheduler as _lr_scheduler

from course_lib.optim import lr_scheduler as _reference

from ..failure import mistake
from .closed_form import Schedule, check


def cosine(t, base_lr, T_max, eta_min):
    return eta_min + (base_lr - eta_min) * (1 + _cos(_pi * t / T_max)) / 2


# ---------------------------------------------------------------------- cosine_annealing_lr

@mistake("eta_min is ignored: the rate goes from base_lr down to eta_min, eta_min + (base_lr - "
         "eta_min) * (1 + cos(...)) / 2.")
def cosine_to_zero(epoch, *, base_lr, T_max, eta_min=0.0):
    return base_lr * (1 + _cos(_pi * epoch / T_max)) / 2


@mistake("eta_min is not added back: eta_min + (base_lr - eta_min) * (1 + cos(...)) / 2.")
def cosine_without_eta_min_added(epoch, *, base_lr, T_max, eta_min=0.0):
    return (base_lr - eta_min) * (1 + _cos(_pi * epoch / T_max)) / 2


@mistake("the amplitude is base_lr instead of base_lr - eta_min, so the rate starts at "
         "base_lr + eta_min.")
def cosine_with_base_lr_amplitude(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min + base_lr * (1 + _cos(_pi * epoch / T_max)) / 2


@mistake("eta_min is applied as a factor: it is the lowest rate, added, eta_min + (base_lr - "
         "eta_min) * (1 + cos(...)) / 2.")
def cosine_times_eta_min(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min * base_lr * (1 + _cos(_pi * epoch / T_max)) / 2


@mistake("cos(pi * t / T_max) without (1 + ...) / 2: the cosine runs from 1 to -1, and "
         "(1 + cos) / 2 maps it onto 1 to 0.")
def cosine_without_one_plus_half(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * _cos(_pi * epoch / T_max)


@mistake("(1 + cos(...)) without the / 2: it runs from 2 to 0, and the rate must start at "
         "base_lr.")
def cosine_without_half(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + _cos(_pi * epoch / T_max))


@mistake("cos(t / T_max) without pi: the cosine must run over half a period, pi * t / T_max.")
def cosine_without_pi(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + _cos(epoch / T_max)) / 2


@mistake("the cosine runs over a whole period, cos(2 * pi * t / T_max), and comes back up to "
         "base_lr: annealing is half a period, cos(pi * t / T_max), ending at eta_min.")
def cosine_over_a_whole_period(epoch, *, base_lr, T_max, eta_min=0.0):
    return cosine(2 * epoch, base_lr, T_max, eta_min)


@mistake("the period is T_max + 1: the rate reaches eta_min at exactly t = T_max, "
         "cos(pi * t / T_max).")
def cosine_over_T_max_plus_1(epoch, *, base_lr, T_max, eta_min=0.0):
    return cosine(epoch, base_lr, T_max + 1, eta_min)


@mistake("the period is T_max - 1: the rate reaches eta_min at exactly t = T_max, "
         "cos(pi * t / T_max).")
def cosine_over_T_max_minus_1(epoch, *, base_lr, T_max, eta_min=0.0):
    return cosine(epoch, base_lr, T_max - 1, eta_min)


@mistake("the rate rises from eta_min to base_lr: (1 - cos(...)) / 2 instead of (1 + cos(...)) "
         "/ 2, which starts at base_lr.")
def cosine_rising(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 - _cos(_pi * epoch / T_max)) / 2


@mistake("the rate falls in a straight line: cosine annealing follows (1 + cos(pi * t / T_max)) "
         "/ 2, slow at the start and the end.")
def cosine_as_a_line(epoch, *, base_lr, T_max, eta_min=0.0):
    return base_lr - (base_lr - eta_min) * epoch / T_max


@mistake("epoch // T_max, integer division, inside the cosine: it is 0 until T_max, so the rate "
         "jumps. Divide, epoch / T_max.")
def cosine_of_whole_periods(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + _cos(_pi * (epoch // T_max))) / 2


COSINE_ANNEALING_LR = Schedule(
    name="cosine_annealing_lr", variable="epoch", reference=_reference.CosineAnnealingLR,
    forbidden=(_lr_scheduler.CosineAnnealingLR,),
    defaults={"base_lr": None, "T_max": None, "eta_min": 0.0},
    scenarios=({"base_lr": 0.1, "T_max": 10},
               {"base_lr": 0.1, "T_max": 10, "eta_min": 0.001},
               {"base_lr": 1.0, "T_max": 7, "eta_min": 0.2},
               {"base_lr": 0.5, "T_max": 1, "eta_min": 0.05}),
    scheduler=lambda optimizer, s: _lr_scheduler.CosineAnnealingLR(optimizer, s["T_max"],
                                                                   s["eta_min"]),
    torch_name="CosineAnnealingLR", scale="base_lr", steps=lambda s: s["T_max"] + 1,
    mistakes=(cosine_to_zero, cosine_without_eta_min_added, cosine_with_base_lr_amplitude,
              cosine_times_eta_min, cosine_without_one_plus_half, cosine_without_half,
              cosine_without_pi, cosine_over_a_whole_period, cosine_over_T_max_plus_1,
              cosine_over_T_max_minus_1, cosine_rising, cosine_as_a_line,
              cosine_of_whole_periods),
    start_words="base_lr", later_words="and eta_min is reached at step T_max",
    formula="eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2")


def check_cosine_annealing_lr(cosine_annealing_lr, **options):
    """Compare `cosine_annealing_lr(epoch, *, base_lr, T_max, eta_min=0.0)` with torch's
    CosineAnnealingLR for epochs 0 to T_max. Options: base_lr, T_max, eta_min, steps (epochs
    checked, at most T_max + 1)."""
    __tracebackhide__ = True
    check(COSINE_ANNEALING_LR, cosine_annealing_lr, options)
