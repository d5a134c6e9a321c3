"""The check for one_cycle_lr (assignment 04) against torch's OneCycleLR
(anneal_strategy="cos", cycle_momentum=False): half cosines from max_lr / div_factor up to
max_lr, then down to max_lr / div_factor / final_div_factor (with three_phase, first back
down to max_lr / div_factor), the phases ending at steps float(pct_start * total_steps) - 1,
(float(2 * pct_start * total_steps) - 2) and total_steps - 1.

The mistakes are wrong functions with the student's signature, each next to the sentence
that tells it, written with the pieces below.
"""
from builtins import enumerate, float, int, len
from math import cos as _cos
from math import pi as _pi

from torch.optim import lr_scheduler as _lr_scheduler

from course_lib.optim import lr_scheduler as _reference

from ..failure import mistake
from .closed_form import Schedule, check


def cosine_from(start, end, pct):
    """torch's half cosine from `start` (pct = 0) to `end` (pct = 1)."""
    return end + (start - end) / 2.0 * (1 + _cos(_pi * pct))


def line_from(start, end, pct):
    return (end - start) * pct + start


def phases(max_lr, total_steps, pct_start, div_factor, three_phase, final_lr, first_end):
    """(end step, start rate, end rate) of each phase, the first ending at `first_end`."""
    initial_lr = max_lr / div_factor
    if three_phase:
        return [(first_end, initial_lr, max_lr), (2 * first_end, max_lr, initial_lr),
                (total_steps - 1, initial_lr, final_lr)]
    return [(first_end, initial_lr, max_lr), (total_steps - 1, max_lr, final_lr)]


def rate_at(step, phases, anneal=cosine_from, gap=0):
    """The rate at `step` along `phases`, each starting `gap` steps after the last ended."""
    start_step = 0
    for index, (end_step, start, end) in enumerate(phases):
        if step <= end_step or index == len(phases) - 1:
            return anneal(start, end, (step - start_step) / (end_step - start_step))
        start_step = end_step + gap


def torch_phases(max_lr, total_steps, pct_start, div_factor, final_div_factor, three_phase):
    return phases(max_lr, total_steps, pct_start, div_factor, three_phase,
                  max_lr / div_factor / final_div_factor, float(pct_start * total_steps) - 1)


@mistake("the warm-up phase ends at step pct_start * total_steps: torch ends it at "
         "float(pct_start * total_steps) - 1, so that the phases' ends count steps from 0 (and "
         "the last phase ends at total_steps - 1).")
def one_cycle_ending_phases_late(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                                 final_div_factor=1e4, three_phase=False):
    return rate_at(step, phases(max_lr, total_steps, pct_start, div_factor, three_phase,
                                max_lr / div_factor / final_div_factor,
                                float(pct_start * total_steps)))


@mistake("the lowest rate is max_lr / final_div_factor: it is initial_lr / final_div_factor, "
         "with initial_lr = max_lr / div_factor.")
def one_cycle_to_max_lr_over_final(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                                   final_div_factor=1e4, three_phase=False):
    return rate_at(step, phases(max_lr, total_steps, pct_start, div_factor, three_phase,
                                max_lr / final_div_factor, float(pct_start * total_steps) - 1))


@mistake("the rate changes linearly: anneal with a cosine, end + (start - end) / 2 * (1 + "
         "cos(pi * pct)), pct the fraction of the phase done.")
def one_cycle_linear(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                     final_div_factor=1e4, three_phase=False):
    return rate_at(step, torch_phases(max_lr, total_steps, pct_start, div_factor,
                                      final_div_factor, three_phase), anneal=line_from)


@mistake("the last phase ends at initial_lr: it goes down to initial_lr / final_div_factor.")
def one_cycle_to_initial_lr(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                            final_div_factor=1e4, three_phase=False):
    return rate_at(step, phases(max_lr, total_steps, pct_start, div_factor, three_phase,
                                max_lr / div_factor, float(pct_start * total_steps) - 1))


@mistake("three_phase is ignored: with three_phase=True the rate goes up to max_lr, back down to "
         "initial_lr by step 2 * pct_start * total_steps - 2, then down to initial_lr / "
         "final_div_factor.")
def one_cycle_always_two_phases(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                                final_div_factor=1e4, three_phase=False):
    return rate_at(step, torch_phases(max_lr, total_steps, pct_start, div_factor,
                                      final_div_factor, False))


@mistake("the cycle has three phases although three_phase=False: by default the rate goes up to "
         "max_lr, then down to initial_lr / final_div_factor.")
def one_cycle_always_three_phases(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                                  final_div_factor=1e4, three_phase=False):
    return rate_at(step, torch_phases(max_lr, total_steps, pct_start, div_factor,
                                      final_div_factor, True))


@mistake("each phase starts one step after the previous one ends: in torch a phase's pct counts "
         "from the previous phase's end step, (step - previous_end) / (end - previous_end).")
def one_cycle_with_gaps(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                        final_div_factor=1e4, three_phase=False):
    return rate_at(step, torch_phases(max_lr, total_steps, pct_start, div_factor,
                                      final_div_factor, three_phase), gap=1)


@mistake("the phase ends are rounded down to whole steps, int(pct_start * total_steps) - 1: "
         "torch keeps the fraction, float(pct_start * total_steps) - 1.")
def one_cycle_with_whole_phase_ends(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                                    final_div_factor=1e4, three_phase=False):
    return rate_at(step, phases(max_lr, total_steps, pct_start, div_factor, three_phase,
                                max_lr / div_factor / final_div_factor,
                                int(pct_start * total_steps) - 1))


@mistake("the last phase ends at step total_steps: the steps are 0 to total_steps - 1, and the "
         "final rate is reached at step total_steps - 1.")
def one_cycle_ending_at_total_steps(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                                    final_div_factor=1e4, three_phase=False):
    right = torch_phases(max_lr, total_steps, pct_start, div_factor, final_div_factor, three_phase)
    _, start, end = right[-1]
    return rate_at(step, right[:-1] + [(total_steps, start, end)])


@mistake("each half cosine runs the wrong way, from the phase's end rate to its start rate: "
         "at pct = 0 the rate is the phase's start, end + (start - end) / 2 * (1 + cos(pi * "
         "pct)).")
def one_cycle_reversed(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                       final_div_factor=1e4, three_phase=False):
    return rate_at(step, torch_phases(max_lr, total_steps, pct_start, div_factor,
                                      final_div_factor, three_phase),
                   anneal=lambda start, end, pct: cosine_from(end, start, pct))


@mistake("the second phase ends at 2 * pct_start * total_steps - 1: torch ends it at "
         "float(2 * pct_start * total_steps) - 2, twice the first phase's end plus one.")
def one_cycle_middle_phase_late(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                                final_div_factor=1e4, three_phase=False):
    right = torch_phases(max_lr, total_steps, pct_start, div_factor, final_div_factor, three_phase)
    if three_phase:
        end_step, start, end = right[1]
        right[1] = (end_step + 1, start, end)
    return rate_at(step, right)


ONE_CYCLE_LR = Schedule(
    name="one_cycle_lr", variable="step", reference=_reference.OneCycleLR,
    forbidden=(_lr_scheduler.OneCycleLR,),
    defaults={"max_lr": None, "total_steps": None, "pct_start": 0.3, "div_factor": 25.0,
              "final_div_factor": 1e4, "three_phase": False},
    scenarios=({"max_lr": 0.1, "total_steps": 20},
               {"max_lr": 1.0, "total_steps": 16, "pct_start": 0.25},
               {"max_lr": 0.1, "total_steps": 20, "div_factor": 10.0, "final_div_factor": 100.0},
               {"max_lr": 0.1, "total_steps": 20, "three_phase": True},
               {"max_lr": 0.5, "total_steps": 11, "pct_start": 0.4, "div_factor": 5.0,
                "final_div_factor": 50.0, "three_phase": True}),
    scheduler=lambda optimizer, s: _lr_scheduler.OneCycleLR(
        optimizer, max_lr=s["max_lr"], total_steps=s["total_steps"], pct_start=s["pct_start"],
        anneal_strategy="cos", cycle_momentum=False, div_factor=s["div_factor"],
        final_div_factor=s["final_div_factor"], three_phase=s["three_phase"]),
    torch_name="OneCycleLR", scale="max_lr", steps=lambda s: s["total_steps"],
    mistakes=(one_cycle_ending_phases_late, one_cycle_to_max_lr_over_final, one_cycle_linear,
              one_cycle_to_initial_lr, one_cycle_always_two_phases, one_cycle_always_three_phases,
              one_cycle_with_gaps, one_cycle_with_whole_phase_ends,
              one_cycle_ending_at_total_steps, one_cycle_reversed, one_cycle_middle_phase_late),
    start_words="max_lr / div_factor", later_words="max_lr is reached at step pct_start * "
                                                   "total_steps - 1",
    formula="phases end at steps float(pct_start * total_steps) - 1 (and, with three_phase, "
            "float(2 * pct_start * total_steps) - 2) and total_steps - 1; within a phase from "
            "start to end, pct = (step - phase_start) / (phase_end - phase_start) and the rate is "
            "end + (start - end) / 2 * (1 + cos(pi * pct)).")


def check_one_cycle_lr(one_cycle_lr, **options):
    """Compare `one_cycle_lr(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
    final_div_factor=1e4, three_phase=False)` with torch's OneCycleLR (cosine annealing,
    cycle_momentum=False) for steps 0 to total_steps - 1. Options: max_lr, total_steps,
    pct_start, div_factor, final_div_factor, three_phase, steps."""
    __tracebackhide__ = True
    check(ONE_CYCLE_LR, one_cycle_lr, options)
