"""cyclic_lr's wrong answers, as students write them, fail with their mistake named."""
import math

import pytest

from course_lib.checking.schedules import check_cyclic_lr
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.schedules.answers import cyclic_lr


def cyclic_with(scale=None, ignore_down=False):
    def wrong(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0):
        down = None if ignore_down else step_size_down
        if scale is None:
            return cyclic_lr(step, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up, step_size_down=down,
                             mode=mode, gamma=gamma)
        triangle = cyclic_lr(step, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up, step_size_down=down)
        cycle = math.floor(1 + step / (step_size_up + (down or step_size_up)))
        return base_lr + (triangle - base_lr) * scale(mode, cycle, step, gamma)
    return named("cyclic_lr", wrong)


WRONG_CYCLICS = [
    (cyclic_with(ignore_down=True),
     ["cyclic_lr(4, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5) returned", "step_size_down is ignored"]),
    (cyclic_with(scale=lambda mode, c, t, g: {"triangular2": 1 / 2 ** c, "exp_range": g ** t}.get(mode, 1.0)),
     ["mode='triangular2'", "halved already in the first cycle"]),
    (cyclic_with(scale=lambda mode, c, t, g: {"triangular2": 1 / 2 ** (c - 1), "exp_range": g ** c}.get(mode, 1.0)),
     ["cyclic_lr(2, base_lr=0.01, max_lr=0.1, step_size_up=3, mode='exp_range', gamma=0.9) returned 0.064, "
      "torch's CyclicLR gives 0.0586 (steps 0-1 match)", "gamma ** cycle", "gamma ** last_epoch"]),
    (cyclic_with(scale=lambda mode, c, t, g: 1.0), ["mode='triangular2' is treated like 'triangular'"]),
    (named("cyclic_lr", lambda step, *, mode="triangular", gamma=1.0, **k:
           cyclic_lr(step, **k) * (gamma ** step if mode == "exp_range" else 1.0) if mode != "triangular2"
           else cyclic_lr(step, mode=mode, **k)),
     ["mode='exp_range'", "the whole rate is scaled by gamma ** step: only the amplitude max_lr - base_lr is."]),
    (cyclic_with(scale=lambda mode, c, t, g: {"triangular2": 1 / 2 ** (c - 1), "exp_range": g ** (t + 1)}.get(mode, 1.0)),
     ["cyclic_lr(1, base_lr=0.01, max_lr=0.1, step_size_up=3, mode='exp_range', gamma=0.9) returned"]),
]


@pytest.mark.parametrize("function, parts", WRONG_CYCLICS, ids=range(len(WRONG_CYCLICS)))
def test_wrong_cyclics_fail_with_the_reason(function, parts):
    assert_fails_with(check_cyclic_lr, function, parts)


def test_cyclic_one_step_ahead_is_named():
    ahead = named("cyclic_lr", lambda step, **k: cyclic_lr(step + 1, **k))
    assert_fails_with(check_cyclic_lr, ahead, ["cyclic_lr(0, base_lr=0.01, max_lr=0.1, step_size_up=4) returned 0.0325",
                                               "one step ahead", "max_lr is reached at step step_size_up"])


