"""The check for warmup_cosine_lr (assignment 04): a linear warmup from start_factor *
base_lr to base_lr over warmup_steps steps, then cosine annealing of step - warmup_steps
down to eta_min over total_steps - warmup_steps steps — torch's SequentialLR of
LinearLR(start_factor, 1.0, warmup_steps) and CosineAnnealingLR, milestone warmup_steps.

The mistakes are wrong functions with the student's signature, each next to the sentence
that tells it; each changes one phase and writes the other as it should be.
"""
from math import cos as _cos
from math import pi as _pi

from torch.optim import lr_scheduler as _lr_scheduler

from course_lib.optim import lr_scheduler as _reference

from ..failure import mistake
from .closed_form import Schedule, check
from .cosine import cosine


def warmup(step, base_lr, warmup_steps, start_factor):
    return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)


def annealed(step, base_lr, warmup_steps, total_steps, eta_min):
    """The right rate after the warmup."""
    return cosine(step - warmup_steps, base_lr, total_steps - warmup_steps, eta_min)


# --------------------------------------------------------------------------- the warmup

@mistake("the warmup reaches base_lr one step early: torch's LinearLR multiplies by "
         "start_factor + (1 - start_factor) * step / warmup_steps, which is 1 at step "
         "warmup_steps.")
def warmup_one_step_short(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                          eta_min=0.0):
    if step < warmup_steps - 1:
        return warmup(step, base_lr, warmup_steps - 1, start_factor)
    if step < warmup_steps:
        return base_lr
    return annealed(step, base_lr, warmup_steps, total_steps, eta_min)


@mistake("the warmup reaches base_lr one step late: the factor is start_factor + (1 - "
         "start_factor) * step / warmup_steps, 1 at step warmup_steps.")
def warmup_one_step_long(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                         eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps + 1, start_factor)
    return annealed(step, base_lr, warmup_steps, total_steps, eta_min)


@mistake("the warmup runs one step ahead, (step + 1) / warmup_steps: at step 0 the rate is "
         "start_factor * base_lr, the factor start_factor + (1 - start_factor) * step / "
         "warmup_steps.")
def warmup_one_step_ahead(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                          eta_min=0.0):
    if step < warmup_steps:
        return warmup(step + 1, base_lr, warmup_steps, start_factor)
    return annealed(step, base_lr, warmup_steps, total_steps, eta_min)


@mistake("the warmup starts from 0 instead of start_factor * base_lr: the factor is "
         "start_factor + (1 - start_factor) * step / warmup_steps.")
def warmup_from_zero(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    return annealed(step, base_lr, warmup_steps, total_steps, eta_min)


@mistake("the warmup factor is start_factor * step / warmup_steps: it is start_factor + "
         "(1 - start_factor) * step / warmup_steps.")
def warmup_scaled_by_start_factor(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                                  eta_min=0.0):
    if step < warmup_steps:
        return base_lr * start_factor * step / warmup_steps if step else base_lr * start_factor
    return annealed(step, base_lr, warmup_steps, total_steps, eta_min)


@mistake("the warmup factor is start_factor + step / warmup_steps, which overshoots base_lr: "
         "the factor rises by 1 - start_factor, start_factor + (1 - start_factor) * step / "
         "warmup_steps.")
def warmup_overshooting(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                        eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + step / warmup_steps)
    return annealed(step, base_lr, warmup_steps, total_steps, eta_min)


# -------------------------------------------------------------------------- the cosine

@mistake("the cosine phase starts one step early, at step warmup_steps - 1: the cosine's own "
         "step count is step - warmup_steps, 0 at the milestone.")
def cosine_one_step_early(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                          eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return annealed(step + 1, base_lr, warmup_steps, total_steps, eta_min)


@mistake("the cosine phase starts one step late: at the milestone, step warmup_steps, the "
         "cosine restarts at its own step 0 (rate base_lr).")
def cosine_one_step_late(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                         eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return annealed(step - 1, base_lr, warmup_steps, total_steps, eta_min)


@mistake("T_max = total_steps: the cosine phase lasts total_steps - warmup_steps steps, so that "
         "it reaches eta_min at step total_steps.")
def cosine_over_total_steps(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                            eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return cosine(step - warmup_steps, base_lr, total_steps, eta_min)


@mistake("the cosine is not restarted at the milestone: it runs on its own step count, "
         "step - warmup_steps, with T_max = total_steps - warmup_steps.")
def cosine_of_the_whole_run(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                            eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return cosine(step, base_lr, total_steps, eta_min)


@mistake("the cosine is not restarted at the milestone: it runs on its own step count, "
         "step - warmup_steps.")
def cosine_not_restarted(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                         eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return cosine(step, base_lr, total_steps - warmup_steps, eta_min)


@mistake("eta_min is ignored in the cosine phase.")
def cosine_to_zero(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return annealed(step, base_lr, warmup_steps, total_steps, 0.0)


@mistake("eta_min is not added back: eta_min + (base_lr - eta_min) * (1 + cos(...)) / 2.")
def cosine_without_eta_min_added(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                                 eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return annealed(step, base_lr - eta_min, warmup_steps, total_steps, 0.0)


@mistake("the cosine's amplitude is base_lr instead of base_lr - eta_min.")
def cosine_with_base_lr_amplitude(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                                  eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return eta_min + annealed(step, base_lr, warmup_steps, total_steps, 0.0)


@mistake("cos(pi * t / T_max) without (1 + ...) / 2 in the cosine phase.")
def cosine_without_one_plus_half(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                                 eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    angle = _pi * (step - warmup_steps) / (total_steps - warmup_steps)
    return eta_min + (base_lr - eta_min) * _cos(angle)


@mistake("the cosine phase runs over a whole period and comes back up: it is half a period, "
         "cos(pi * (step - warmup_steps) / (total_steps - warmup_steps)), ending at eta_min.")
def cosine_over_a_whole_period(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
                               eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return cosine(2 * (step - warmup_steps), base_lr, total_steps - warmup_steps, eta_min)


@mistake("after the warmup the rate falls in a straight line: it follows a cosine, eta_min + "
         "(base_lr - eta_min) * (1 + cos(pi * (step - warmup_steps) / (total_steps - "
         "warmup_steps))) / 2.")
def decay_as_a_line(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return warmup(step, base_lr, warmup_steps, start_factor)
    return base_lr - (base_lr - eta_min) * (step - warmup_steps) / (total_steps - warmup_steps)


def _sequential(optimizer, s):
    return _lr_scheduler.SequentialLR(optimizer, [
        _lr_scheduler.LinearLR(optimizer, start_factor=s["start_factor"], end_factor=1.0,
                               total_iters=s["warmup_steps"]),
        _lr_scheduler.CosineAnnealingLR(optimizer, T_max=s["total_steps"] - s["warmup_steps"],
                                        eta_min=s["eta_min"])], milestones=[s["warmup_steps"]])


WARMUP_COSINE_LR = Schedule(
    name="warmup_cosine_lr", variable="step", reference=_reference.SequentialLR,
    forbidden=(_lr_scheduler.SequentialLR, _lr_scheduler.LinearLR, _lr_scheduler.CosineAnnealingLR,
               _reference.LinearLR, _reference.CosineAnnealingLR),
    defaults={"base_lr": None, "warmup_steps": None, "total_steps": None, "start_factor": 0.1,
              "eta_min": 0.0},
    scenarios=({"base_lr": 0.1, "warmup_steps": 5, "total_steps": 20},
               {"base_lr": 1.0, "warmup_steps": 3, "total_steps": 12, "start_factor": 0.25},
               {"base_lr": 0.1, "warmup_steps": 4, "total_steps": 10, "eta_min": 0.01},
               {"base_lr": 0.5, "warmup_steps": 1, "total_steps": 6, "start_factor": 0.5}),
    scheduler=_sequential, torch_name="SequentialLR(LinearLR, CosineAnnealingLR)",
    scale="base_lr", steps=lambda s: s["total_steps"] + 1,
    mistakes=(warmup_one_step_short, warmup_one_step_long, warmup_one_step_ahead,
              warmup_from_zero, warmup_scaled_by_start_factor, warmup_overshooting,
              cosine_one_step_early, cosine_one_step_late, cosine_over_total_steps,
              cosine_of_the_whole_run, cosine_not_restarted, cosine_to_zero,
              cosine_without_eta_min_added, cosine_with_base_lr_amplitude,
              cosine_without_one_plus_half, cosine_over_a_whole_period, decay_as_a_line),
    start_words="start_factor * base_lr",
    later_words="it reaches base_lr at step warmup_steps, where the cosine phase starts at its "
                "own step 0",
    formula="for step < warmup_steps: base_lr * (start_factor + (1 - start_factor) * step / "
            "warmup_steps); from then on cosine annealing of step - warmup_steps with T_max = "
            "total_steps - warmup_steps: eta_min + (base_lr - eta_min) * (1 + cos(pi * (step - "
            "warmup_steps) / T_max)) / 2")


def check_warmup_cosine_lr(warmup_cosine_lr, **options):
    """Compare `warmup_cosine_lr(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1,
    eta_min=0.0)` with torch's SequentialLR(LinearLR(start_factor, 1.0, warmup_steps),
    CosineAnnealingLR(total_steps - warmup_steps, eta_min), milestones=[warmup_steps]) for
    steps 0 to total_steps. Options: base_lr, warmup_steps, total_steps, start_factor,
    eta_min, steps."""
    __tracebackhide__ = True
    check(WARMUP_COSINE_LR, warmup_cosine_lr, options)
