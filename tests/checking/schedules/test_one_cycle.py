"""one_cycle_lr's wrong answers, as students write them, fail with their mistake named."""
import math

import pytest

from course_lib.checking.schedules import check_one_cycle_lr
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.schedules.answers import one_cycle_lr


def one_cycle_with(**changes):
    def wrong(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4, three_phase=False):
        initial_lr = max_lr / div_factor
        min_lr = changes.get("min_lr", lambda m, i, f: i / f)(max_lr, initial_lr, final_div_factor)
        shift = changes.get("shift", -1)
        three_phase = changes.get("three_phase", lambda t: t)(three_phase)
        anneal = changes.get("anneal", lambda start, end, pct: end + (start - end) / 2 * (1 + math.cos(math.pi * pct)))
        first_end = pct_start * total_steps + shift
        phases = ([(first_end, initial_lr, max_lr), (2 * pct_start * total_steps + 2 * shift, max_lr, initial_lr),
                   (total_steps - 1, initial_lr, min_lr)] if three_phase
                  else [(first_end, initial_lr, max_lr), (total_steps - 1, max_lr, min_lr)])
        phase_start = 0
        for index, (phase_end, start, end) in enumerate(phases):
            if step <= phase_end or index == len(phases) - 1:
                return anneal(start, end, (step - phase_start) / (phase_end - phase_start))
            phase_start = phase_end
    return named("one_cycle_lr", wrong)


WRONG_ONE_CYCLES = [
    (one_cycle_with(shift=0), ["one_cycle_lr(1, max_lr=0.1, total_steps=20) returned", "OneCycleLR gives",
                               "the warm-up phase ends at step pct_start * total_steps"]),
    (one_cycle_with(min_lr=lambda m, i, f: m / f),
     ["one_cycle_lr(6, max_lr=0.1, total_steps=20) returned 0.0987465209695, torch's OneCycleLR gives 0.0987464006235 (steps 0-5 match)",
      "the lowest rate is max_lr / final_div_factor"]),
    (one_cycle_with(anneal=lambda start, end, pct: start + (end - start) * pct), ["the rate changes linearly"]),
    (one_cycle_with(min_lr=lambda m, i, f: i), ["the last phase ends at initial_lr"]),
    (one_cycle_with(three_phase=lambda t: False),
     ["one_cycle_lr(6, max_lr=0.1, total_steps=20, three_phase=True) returned", "three_phase is ignored"]),
]


@pytest.mark.parametrize("function, parts", WRONG_ONE_CYCLES, ids=range(len(WRONG_ONE_CYCLES)))
def test_wrong_one_cycles_fail_with_the_reason(function, parts):
    assert_fails_with(check_one_cycle_lr, function, parts)


