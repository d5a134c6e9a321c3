"""The check for cyclic_lr (assignment 04) against torch's CyclicLR (cycle_momentum=False):
a triangle wave between base_lr and max_lr, rising for step_size_up steps and falling for
step_size_down (step_size_up if None), its amplitude scaled by 1 ("triangular"),
1 / 2 ** (cycle - 1) ("triangular2", cycles counted from 1) or gamma ** step ("exp_range").

The mistakes are wrong functions with the student's signature, each next to the sentence
that tells it, written with the pieces below.
"""
from builtins import float
from math import floor as _floor

from torch.optim import lr_scheduler as _lr_scheduler

from course_lib.optim import lr_scheduler as _reference

from ..failure import mistake
from .closed_form import Schedule, check

# Three cycles of the default 2000 + 2000 steps take ~0.1 s to check; longer cycles are
# checked up to here unless the caller asks for more steps.
CYCLIC_MAX_STEPS = 12001


def triangle(step, up, down):
    """torch's (cycle, counted from 1; x, the position in it from 0 to 1; the rising part's
    share of the cycle) at `step`."""
    length = float(up) + float(up if down is None else down)
    cycle = _floor(1 + step / length)
    return cycle, 1.0 + step / length - cycle, float(up) / length


def height(x, ratio):
    """The fraction of the amplitude at position x: rising to 1 at `ratio`, then falling."""
    return x / ratio if x <= ratio else (x - 1) / (ratio - 1)


def scale(mode, cycle, step, gamma):
    if mode == "triangular2":
        return 1 / 2.0 ** (cycle - 1)
    return gamma ** step if mode == "exp_range" else 1.0


@mistake("step_size_down is ignored: the rate rises for step_size_up steps, then falls for "
         "step_size_down steps (step_size_up if None); a cycle is their sum.")
def cyclic_symmetric(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                     mode="triangular", gamma=1.0):
    cycle, x, ratio = triangle(step, step_size_up, None)
    return base_lr + (max_lr - base_lr) * height(x, ratio) * scale(mode, cycle, step, gamma)


@mistake("the rate rises for step_size_down steps and falls for step_size_up: it rises for "
         "step_size_up steps first.")
def cyclic_with_halves_swapped(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                               mode="triangular", gamma=1.0):
    down = step_size_up if step_size_down is None else step_size_down
    cycle, x, ratio = triangle(step, down, step_size_up)
    return base_lr + (max_lr - base_lr) * height(x, ratio) * scale(mode, cycle, step, gamma)


@mistake("the rate falls as fast as it rose, over step_size_up steps: it falls over "
         "step_size_down steps, (x - 1) / (step_ratio - 1) of the amplitude.")
def cyclic_falling_like_rising(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                               mode="triangular", gamma=1.0):
    cycle, x, ratio = triangle(step, step_size_up, step_size_down)
    fraction = x / ratio if x <= ratio else 1 - (x - ratio) / ratio
    return base_lr + (max_lr - base_lr) * fraction * scale(mode, cycle, step, gamma)


@mistake("the triangle is upside down: each cycle starts at base_lr and peaks at max_lr after "
         "step_size_up steps.")
def cyclic_upside_down(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                       mode="triangular", gamma=1.0):
    cycle, x, ratio = triangle(step, step_size_up, step_size_down)
    return base_lr + (max_lr - base_lr) * (1 - height(x, ratio)) * scale(mode, cycle, step, gamma)


@mistake("x, the position within the cycle, is used as the rate's fraction directly: the rate "
         "rises for x <= step_ratio (x / step_ratio) and falls after ((x - 1) / (step_ratio - 1)).")
def cyclic_sawtooth(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                    mode="triangular", gamma=1.0):
    _, x, _ = triangle(step, step_size_up, step_size_down)
    return base_lr + (max_lr - base_lr) * x


@mistake("the amplitude is halved already in the first cycle: it is (max_lr - base_lr) / 2 ** "
         "(cycle - 1), with cycle counted from 1.")
def cyclic_halved_from_the_start(mode, cycle, step, gamma):
    return 1 / 2.0 ** cycle if mode == "triangular2" else scale(mode, cycle, step, gamma)


@mistake("the amplitude is divided by 2 * (cycle - 1): it is halved each cycle, divided by "
         "2 ** (cycle - 1).")
def cyclic_divided_by_twice_the_cycle(mode, cycle, step, gamma):
    if mode == "triangular2":
        return 1 / (2.0 * (cycle - 1)) if cycle > 1 else 1.0
    return scale(mode, cycle, step, gamma)


@mistake("mode='triangular2' is treated like 'triangular': halve the amplitude every cycle.")
def cyclic_never_halved(mode, cycle, step, gamma):
    return 1.0 if mode == "triangular2" else scale(mode, cycle, step, gamma)


@mistake("the amplitude is scaled by gamma ** cycle: torch scales it by gamma ** step, the "
         "number of steps so far (gamma ** last_epoch).")
def cyclic_decayed_per_cycle(mode, cycle, step, gamma):
    return gamma ** cycle if mode == "exp_range" else scale(mode, cycle, step, gamma)


@mistake("the amplitude is scaled by gamma ** (cycle - 1): torch scales it by gamma ** step, the "
         "number of steps so far (gamma ** last_epoch).")
def cyclic_decayed_per_cycle_from_1(mode, cycle, step, gamma):
    return gamma ** (cycle - 1) if mode == "exp_range" else scale(mode, cycle, step, gamma)


@mistake("mode='exp_range' is treated like 'triangular': scale the amplitude by gamma ** step.")
def cyclic_never_decayed(mode, cycle, step, gamma):
    return 1.0 if mode == "exp_range" else scale(mode, cycle, step, gamma)


@mistake("mode is ignored: mode='triangular2' is treated like 'triangular', and so is "
         "mode='exp_range'. Scale the amplitude by 1 / 2 ** (cycle - 1) for 'triangular2', by "
         "gamma ** step for 'exp_range'.")
def cyclic_ignoring_mode(mode, cycle, step, gamma):
    return 1.0


def scaled_wrongly(wrong_scale):
    """cyclic_lr whose amplitude is scaled by `wrong_scale(mode, cycle, step, gamma)`."""
    @mistake(wrong_scale.explanation)
    def wrong(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
              mode="triangular", gamma=1.0):
        cycle, x, ratio = triangle(step, step_size_up, step_size_down)
        return base_lr + (max_lr - base_lr) * height(x, ratio) * wrong_scale(mode, cycle, step,
                                                                             gamma)
    wrong.__name__ = wrong_scale.__name__
    return wrong


def whole_rate_scaled_in(wrong_mode, explanation):
    """cyclic_lr that scales the whole rate, not only the amplitude, in `wrong_mode`."""
    @mistake(explanation)
    def whole_rate_scaled(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                          mode="triangular", gamma=1.0):
        cycle, x, ratio = triangle(step, step_size_up, step_size_down)
        if mode != wrong_mode:
            return base_lr + (max_lr - base_lr) * height(x, ratio) * scale(mode, cycle, step, gamma)
        return (base_lr + (max_lr - base_lr) * height(x, ratio)) * scale(mode, cycle, step, gamma)
    return whole_rate_scaled


CYCLIC_LR = Schedule(
    name="cyclic_lr", variable="step", reference=_reference.CyclicLR,
    forbidden=(_lr_scheduler.CyclicLR,),
    defaults={"base_lr": None, "max_lr": None, "step_size_up": 2000, "step_size_down": None,
              "mode": "triangular", "gamma": 1.0},
    scenarios=({"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4},
               {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 5},
               # four cycles: the fourth tells 1 / 2 ** 3 from 1 / (2 * 3)
               {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "triangular2",
                "steps": 25},
               {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "exp_range",
                "gamma": 0.9},
               {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 1}),
    scheduler=lambda optimizer, s: _lr_scheduler.CyclicLR(
        optimizer, base_lr=s["base_lr"], max_lr=s["max_lr"], step_size_up=s["step_size_up"],
        step_size_down=s["step_size_down"], mode=s["mode"], gamma=s["gamma"],
        cycle_momentum=False),
    torch_name="CyclicLR", scale="max_lr",
    steps=lambda s: _smaller(3 * (s["step_size_up"] + (
        s["step_size_up"] if s["step_size_down"] is None else s["step_size_down"])) + 1,
        CYCLIC_MAX_STEPS),
    mistakes=(cyclic_symmetric, cyclic_with_halves_swapped, cyclic_falling_like_rising,
              cyclic_upside_down,
              *(scaled_wrongly(wrong_scale) for wrong_scale in (
                  cyclic_halved_from_the_start, cyclic_divided_by_twice_the_cycle,
                  cyclic_never_halved, cyclic_decayed_per_cycle, cyclic_decayed_per_cycle_from_1,
                  cyclic_never_decayed, cyclic_ignoring_mode)),
              whole_rate_scaled_in("triangular2", "the whole rate is halved: only the amplitude "
                                   "max_lr - base_lr is, the rate still starts each cycle at "
                                   "base_lr."),
              whole_rate_scaled_in("exp_range", "the whole rate is scaled by gamma ** step: only "
                                   "the amplitude max_lr - base_lr is."),
              cyclic_sawtooth),
    start_words="base_lr", later_words="max_lr is reached at step step_size_up",
    formula="with cycle = floor(1 + step / (up + down)) and x = 1 + step / (up + down) - cycle, "
            "the fraction of the amplitude is x / step_ratio while x <= step_ratio = up / (up + "
            "down), then (x - 1) / (step_ratio - 1); the rate is base_lr + (max_lr - base_lr) * "
            "fraction * scale, scale 1, 1 / 2 ** (cycle - 1) or gamma ** step for the three modes.")


def _smaller(a, b):
    return a if a <= b else b


def check_cyclic_lr(cyclic_lr, **options):
    """Compare `cyclic_lr(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
    mode="triangular", gamma=1.0)` with torch's CyclicLR (cycle_momentum=False) over three
    cycles (at most 12001 steps unless `steps` says otherwise). Options: base_lr, max_lr,
    step_size_up, step_size_down, mode, gamma, steps."""
    __tracebackhide__ = True
    check(CYCLIC_LR, cyclic_lr, options)
