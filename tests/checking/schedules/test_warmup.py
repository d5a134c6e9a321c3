"""warmup_cosine_lr's wrong answers, as students write them, fail with their mistake named."""
import math

import pytest

from course_lib.checking.schedules import check_warmup_cosine_lr
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.schedules.answers import cosine


def warmup_with(warm=None, cos=None):
    """warmup_cosine_lr with its warmup factor or its cosine phase replaced."""
    def wrong(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
        w, total = warmup_steps, total_steps
        if step < w:
            return base_lr * (warm(step, w, start_factor) if warm else start_factor + (1 - start_factor) * step / w)
        return cos(step, w, total, base_lr, eta_min) if cos else cosine(step - w, base_lr, total - w, eta_min)
    return named("warmup_cosine_lr", wrong)


WRONG_WARMUPS = [
    (warmup_with(warm=lambda t, w, s: s + (1 - s) * min(t / (w - 1), 1)),
     ["warmup_cosine_lr(1, base_lr=0.1, warmup_steps=5, total_steps=20) returned 0.0325, torch's "
      "SequentialLR(LinearLR, CosineAnnealingLR) gives 0.028 (step 0 matches)", "reaches base_lr one step early"]),
    (warmup_with(warm=lambda t, w, s: s + (1 - s) * t / (w + 1)), ["reaches base_lr one step late"]),
    (warmup_with(warm=lambda t, w, s: t / w), ["the warmup starts from 0"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(t - w + 1, b, total - w, e)),
     ["warmup_cosine_lr(5, base_lr=0.1, warmup_steps=5, total_steps=20) returned 0.0989074", "(steps 0-4 match)",
      "the cosine phase starts one step early, at step warmup_steps - 1"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(t - w, b, total, e)), ["T_max = total_steps"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(t, b, total, e)), ["the cosine is not restarted at the milestone"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(t - w, b, total - w, 0.0)),
     ["warmup_cosine_lr(5, base_lr=0.1, warmup_steps=4, total_steps=10, eta_min=0.01)", "eta_min is ignored"]),
]


@pytest.mark.parametrize("function, parts", WRONG_WARMUPS, ids=range(len(WRONG_WARMUPS)))
def test_wrong_warmup_cosines_fail_with_the_reason(function, parts):
    assert_fails_with(check_warmup_cosine_lr, function, parts)


def test_warmup_of_one_step_is_checked():
    early = warmup_with(cos=lambda t, w, total, b, e: cosine(t - w + 1, b, total - w, e) if w == 1
                        else cosine(t - w, b, total - w, e))
    message = failure_message(check_warmup_cosine_lr, early, base_lr=0.5, warmup_steps=1, total_steps=6, start_factor=0.5)
    assert message.startswith("warmup_cosine_lr(1, base_lr=0.5, warmup_steps=1, total_steps=6, start_factor=0.5) returned")
    assert "the cosine phase starts one step early" in message


NEW_SLIPS = [
    (warmup_with(cos=lambda t, w, total, b, e: b - (b - e) * (t - w) / (total - w)),
     ["warmup_cosine_lr(6, base_lr=0.1, warmup_steps=5, total_steps=20) returned 0.0933333, torch's "
      "SequentialLR(LinearLR, CosineAnnealingLR) gives 0.0989074 (steps 0-5 match)",
      "Likely cause: after the warmup the rate falls in a straight line"]),
    (warmup_with(warm=lambda t, w, s: s + (1 - s) * (t + 1) / w), ["Likely cause: the warmup runs one step ahead"]),
    (warmup_with(warm=lambda t, w, s: s + t / w), ["Likely cause: the warmup factor is start_factor + step / "
                                                   "warmup_steps, which overshoots base_lr"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(2 * (t - w), b, total - w, e)),
     ["Likely cause: the cosine phase runs over a whole period"]),
]


@pytest.mark.parametrize("function, parts", NEW_SLIPS, ids=range(len(NEW_SLIPS)))
def test_more_slips_are_named(function, parts):
    assert_fails_with(check_warmup_cosine_lr, function, parts)
