"""step_lr's and exponential_lr's wrong answers, as students write them, fail with their mistake named."""
import math

import pytest

from course_lib.checking.schedules import check_exponential_lr, check_step_lr
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.schedules.answers import exponential_lr, step_lr


WRONG_STEP_LRS = [
    (lambda epoch, *, base_lr, step_size, gamma=0.1: step_lr(epoch + 1, base_lr=base_lr, step_size=step_size, gamma=gamma),
     ["step_lr(2, base_lr=0.1, step_size=3) returned 0.01, torch's StepLR gives 0.1 (steps 0-1 match)",
      "one step ahead", "at step 0 the rate is base_lr, the first decay comes after step_size steps"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.1: base_lr * gamma ** math.ceil(epoch / step_size),
     ["step_lr(1, base_lr=0.1, step_size=3) returned 0.01", "gamma ** ceil(epoch / step_size)"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.1: base_lr * gamma ** (epoch / step_size),
     ["a continuous decay"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.1: base_lr * gamma ** epoch, ["decays every epoch"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.1: step_lr(max(epoch - 1, 0), base_lr=base_lr, step_size=step_size, gamma=gamma),
     ["step_lr(3, base_lr=0.1, step_size=3) returned 0.1", "(steps 0-2 match)", "one step behind"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.5: step_lr(epoch, base_lr=base_lr, step_size=step_size, gamma=gamma),
     ["step_lr(3, base_lr=0.1, step_size=3) returned 0.05, torch's StepLR gives 0.01",
      "Hint: base_lr * gamma ** (epoch // step_size)"]),
]


@pytest.mark.parametrize("function, parts", WRONG_STEP_LRS, ids=range(len(WRONG_STEP_LRS)))
def test_wrong_step_lrs_fail_with_the_reason(function, parts):
    assert_fails_with(check_step_lr, named("step_lr", function), parts)


def exponential(staircase_rule=None, exponent=None):
    def wrong(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
        if exponent is not None:
            return base_lr * gamma ** exponent(epoch, decay_epochs, staircase)
        return exponential_lr(epoch, base_lr=base_lr, gamma=gamma, decay_epochs=decay_epochs,
                              staircase=staircase_rule(staircase))
    return named("exponential_lr", wrong)


WRONG_EXPONENTIAL_LRS = [
    (exponential(lambda staircase: False),
     ["exponential_lr(1, base_lr=1.0, gamma=0.5, decay_epochs=3, staircase=True) returned 0.793701, torch's "
      "StepLR gives 1", "staircase=True is ignored"]),
    (exponential(lambda staircase: True),
     ["exponential_lr(1, base_lr=1.0, gamma=0.5, decay_epochs=4) returned 1, torch's ExponentialLR gives 0.840896",
      "rounded down although staircase=False"]),
    (exponential(exponent=lambda epoch, d, staircase: epoch), ["decay_epochs is ignored"]),
    (exponential(exponent=lambda epoch, d, staircase: epoch * d), ["the exponent is epoch * decay_epochs"]),
    (exponential(exponent=lambda epoch, d, staircase: math.ceil(epoch / d) if staircase else epoch / d),
     ["ceil(epoch / decay_epochs) instead of floor"]),
    (exponential(exponent=lambda epoch, d, staircase: (epoch + 1) // d if staircase else epoch / d),
     ["one step ahead"]),
]


@pytest.mark.parametrize("function, parts", WRONG_EXPONENTIAL_LRS, ids=range(len(WRONG_EXPONENTIAL_LRS)))
def test_wrong_exponential_lrs_fail_with_the_reason(function, parts):
    assert_fails_with(check_exponential_lr, function, parts)


def test_new_slips_of_step_lr_are_named():
    assert_fails_with(check_step_lr, named("step_lr", lambda epoch, *, base_lr, step_size, gamma=0.1:
                                           base_lr * gamma ** epoch // step_size),
                      ["step_lr(0, base_lr=0.1, step_size=3) returned 0, torch's StepLR gives 0.1",
                       "Likely cause: ** binds tighter than //"])
    assert_fails_with(check_step_lr, named("step_lr", lambda epoch, *, base_lr, step_size, gamma=0.1:
                                           base_lr * gamma ** (epoch % step_size)),
                      ["Likely cause: epoch % step_size, the remainder"])


def test_rounding_the_staircase_is_named():
    def exponential_lr_rounded(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
        exponent = epoch / decay_epochs
        return base_lr * gamma ** (round(exponent) if staircase else exponent)

    assert_fails_with(check_exponential_lr, named("exponential_lr", exponential_lr_rounded), [
        "exponential_lr(2, base_lr=1.0, gamma=0.5, decay_epochs=3, staircase=True) returned 0.5",
        "Likely cause: with staircase=True the exponent is rounded to the nearest whole number"])
