"""cosine_annealing_lr's wrong answers, as students write them, fail with their mistake named."""
import math

import pytest

from course_lib.checking.schedules import check_cosine_annealing_lr
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.schedules.answers import cosine


def cosine_with(formula):
    def wrong(epoch, *, base_lr, T_max, eta_min=0.0):
        return formula(epoch, base_lr, T_max, eta_min)
    return named("cosine_annealing_lr", wrong)


WRONG_COSINES = [
    (cosine_with(lambda t, b, T, e: cosine(t, b, T, 0.0)),
     ["cosine_annealing_lr(1, base_lr=0.1, T_max=10, eta_min=0.001) returned 0.0975528, torch's CosineAnnealingLR "
      "gives 0.0975773 (step 0 matches)", "eta_min is ignored"]),
    (cosine_with(lambda t, b, T, e: e * cosine(t, b, T, 0.0) if e else cosine(t, b, T, 0.0)),
     ["eta_min is applied as a factor"]),
    (cosine_with(lambda t, b, T, e: e + (b - e) * math.cos(math.pi * t / T)),
     ["cosine_annealing_lr(1, base_lr=0.1, T_max=10) returned 0.0951057", "without (1 + ...) / 2"]),
    (cosine_with(lambda t, b, T, e: (b - e) * (1 + math.cos(math.pi * t / T)) / 2), ["eta_min is not added back"]),
    (cosine_with(lambda t, b, T, e: e + b * (1 + math.cos(math.pi * t / T)) / 2), ["amplitude is base_lr"]),
    (cosine_with(lambda t, b, T, e: cosine(t, b, T + 1, e)), ["the period is T_max + 1"]),
    (cosine_with(lambda t, b, T, e: cosine(t, b, T, e) if t < 5 else b / 3),
     ["cosine_annealing_lr(5, base_lr=0.1, T_max=10) returned 0.0333333, torch's CosineAnnealingLR gives 0.05 "
      "(steps 0-4 match).\nHint: eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2"]),
    (cosine_with(lambda t, b, T, e: cosine(t + 1, b, T, e)), ["one step ahead", "eta_min is reached at step T_max"]),
]


@pytest.mark.parametrize("function, parts", WRONG_COSINES, ids=range(len(WRONG_COSINES)))
def test_wrong_cosine_annealings_fail_with_the_reason(function, parts):
    assert_fails_with(check_cosine_annealing_lr, function, parts)


def test_a_t_max_of_1_is_checked():
    wrong = cosine_with(lambda t, b, T, e: cosine(t, b, T, e) if T > 1 else b)
    message = failure_message(check_cosine_annealing_lr, wrong)
    assert message.startswith("cosine_annealing_lr(1, base_lr=0.5, T_max=1, eta_min=0.05) returned 0.5, torch's "
                              "CosineAnnealingLR gives 0.05 (step 0 matches)")


NEW_SLIPS = [
    (cosine_with(lambda t, b, T, e: b - (b - e) * t / T),
     ["cosine_annealing_lr(1, base_lr=0.1, T_max=10) returned 0.09, torch's CosineAnnealingLR gives 0.0975528",
      "Likely cause: the rate falls in a straight line"]),
    (cosine_with(lambda t, b, T, e: cosine(2 * t, b, T, e)), ["Likely cause: the cosine runs over a whole period"]),
    (cosine_with(lambda t, b, T, e: e + (b - e) * (1 - math.cos(math.pi * t / T)) / 2),
     ["Likely cause: the rate rises from eta_min to base_lr"]),
    (cosine_with(lambda t, b, T, e: cosine(t, b, T - 1, e)), ["Likely cause: the period is T_max - 1"]),
]


@pytest.mark.parametrize("function, parts", NEW_SLIPS, ids=range(len(NEW_SLIPS)))
def test_more_slips_are_named(function, parts):
    assert_fails_with(check_cosine_annealing_lr, function, parts)
