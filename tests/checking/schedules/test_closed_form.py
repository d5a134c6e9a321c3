"""What every schedule check does: right answers pass, with any options; a crash, a blank
answer or a result that is not a number is told; every known mistake is told by its own
explanation, and a cause only when it reproduces the answer wherever it is wrong; the
student's function is called once per step; tampering, random state, stderr."""
import contextlib
import io
import math
import warnings

import numpy as np
import pytest
import torch

from course_lib.checking.schedules import (
    check_cosine_annealing_lr, check_cyclic_lr, check_exponential_lr, check_one_cycle_lr,
    check_reduce_lr_on_plateau, check_step_lr, check_warmup_cosine_lr,
)
from course_lib.checking.schedules.cosine import COSINE_ANNEALING_LR
from course_lib.checking.schedules.cyclic import CYCLIC_LR
from course_lib.checking.schedules.decay import EXPONENTIAL_LR, STEP_LR
from course_lib.checking.schedules.one_cycle import ONE_CYCLE_LR
from course_lib.checking.schedules.warmup import WARMUP_COSINE_LR
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.schedules.answers import (
    ReduceLROnPlateau, cosine_annealing_lr, cyclic_lr, exponential_lr, one_cycle_lr, run_every_check, step_lr,
    warmup_cosine_lr,
)
from tests.checking.schedules.test_one_cycle import one_cycle_with
from tests.checking.schedules.test_plateau import NoCooldown, ReducesAtPatience
from tests.strategies import BUILTIN_NAMES, assert_global_random_state_untouched, tampered

SCHEDULES = {schedule.name: (schedule, check) for schedule, check in [
    (STEP_LR, check_step_lr), (EXPONENTIAL_LR, check_exponential_lr), (COSINE_ANNEALING_LR, check_cosine_annealing_lr),
    (WARMUP_COSINE_LR, check_warmup_cosine_lr), (ONE_CYCLE_LR, check_one_cycle_lr), (CYCLIC_LR, check_cyclic_lr)]}


def test_references_pass_every_check():
    run_every_check()


OPTION_SETS = [
    (check_step_lr, step_lr, [dict(base_lr=0.3, step_size=1), dict(base_lr=2.0, step_size=5, gamma=0.7, steps=30)]),
    (check_exponential_lr, exponential_lr,
     [dict(base_lr=0.3, gamma=0.95), dict(base_lr=1.0, gamma=0.1, decay_epochs=10, staircase=True, steps=35),
      dict(base_lr=1.0, gamma=0.1, decay_epochs=7)]),
    (check_cosine_annealing_lr, cosine_annealing_lr,
     [dict(base_lr=0.1, T_max=1), dict(base_lr=0.1, T_max=50, eta_min=0.05), dict(base_lr=3.0, T_max=2, eta_min=1.0)]),
    (check_warmup_cosine_lr, warmup_cosine_lr,
     [dict(base_lr=0.1, warmup_steps=1, total_steps=2), dict(base_lr=0.1, warmup_steps=10, total_steps=11),
      dict(base_lr=1.0, warmup_steps=7, total_steps=40, start_factor=1 / 3, eta_min=0.1)]),
    (check_one_cycle_lr, one_cycle_lr,
     [dict(max_lr=0.1, total_steps=100), dict(max_lr=1.0, total_steps=8, pct_start=0.5, three_phase=True),
      dict(max_lr=0.01, total_steps=30, pct_start=0.1, div_factor=3.0, final_div_factor=1e3)]),
    (check_cyclic_lr, cyclic_lr,
     [dict(base_lr=0.001, max_lr=0.006, step_size_up=1, step_size_down=1),
      dict(base_lr=0.001, max_lr=0.006, step_size_up=2, step_size_down=7, mode="triangular2"),
      dict(base_lr=0.001, max_lr=0.006, step_size_up=5, mode="exp_range", gamma=0.99, steps=100),
      dict(base_lr=0.001, max_lr=0.006)]),
    (check_reduce_lr_on_plateau, ReduceLROnPlateau,
     [dict(patience=0), dict(mode="max", threshold_mode="abs", threshold=0.01, patience=2,
                             metrics=[0.1, 0.2, 0.205, 0.21, 0.215, 0.22, 0.3, 0.3]),
      dict(cooldown=3, patience=1, factor=0.5, lr=1.0, metrics=[5.0] * 20),
      dict(min_lr=0.05, patience=0, factor=0.3, lr=1.0, metrics=[1.0] * 8)]),
]


@pytest.mark.parametrize("check, reference, option_sets", OPTION_SETS, ids=[c.__name__ for c, _, _ in OPTION_SETS])
def test_references_pass_with_options(check, reference, option_sets):
    for options in option_sets:
        check(reference, **options)


def test_unknown_options_are_the_test_authors_error():
    with pytest.raises(TypeError, match="unknown option"):
        check_step_lr(step_lr, base_lr=0.1, step=3)
    with pytest.raises(TypeError, match="unknown option"):
        check_reduce_lr_on_plateau(ReduceLROnPlateau, eps=1e-8)


def test_other_right_answers_pass():
    """numpy scalars and 0-d arrays are numbers too."""
    check_step_lr(lambda epoch, **k: np.float64(step_lr(epoch, **k)))
    check_cosine_annealing_lr(lambda epoch, **k: np.asarray(cosine_annealing_lr(epoch, **k)))
    check_one_cycle_lr(lambda step, **k: np.float64(one_cycle_lr(step, **k)))


def test_float32_arithmetic_is_told():
    message = failure_message(check_one_cycle_lr, named("one_cycle_lr", lambda step, **k: np.float32(one_cycle_lr(step, **k))))
    assert "Close, but not within the tolerance (relative 1e-09): float32 arithmetic somewhere" in message


def test_a_plateau_with_torchs_eps_passes_too():
    """Reductions below 1e-8 are skipped by torch's eps; a class without eps passes, one with it too."""
    class WithEps(ReduceLROnPlateau):
        def step(self, metrics):
            lr = self.optimizer.lr
            super().step(metrics)
            if lr - self.optimizer.lr <= 1e-8:
                self.optimizer.lr = lr

    for cls in (ReduceLROnPlateau, WithEps):
        check_reduce_lr_on_plateau(cls, patience=0, metrics=[1.0] * 12)


# ------------------------------------------------------------------------ known mistakes

CATALOGUE = [pytest.param(name, wrong, id=f"{name}-{wrong.__name__}")
             for name, (schedule, _) in SCHEDULES.items() for wrong in schedule.mistakes]


@pytest.mark.parametrize("name, wrong", CATALOGUE)
def test_every_known_mistake_is_told_by_its_own_explanation(name, wrong):
    """The check's wrong functions, run as a student's answer: none hides behind another."""
    _, check = SCHEDULES[name]
    assert_fails_with(check, named(name, lambda step, **kwargs: wrong(step, **kwargs)),
                      [f"Likely cause: {wrong.explanation}"])


def test_a_cause_is_named_only_if_it_reproduces_every_scenario_where_the_answer_is_wrong():
    """round(epoch / step_size) gives torch's rates one step ahead when step_size is 3, but not
    when it is 4: the first scenario must not call it "one step ahead"."""
    def rounding(epoch, *, base_lr, step_size, gamma=0.1):
        return base_lr * gamma ** round(epoch / step_size)

    message = assert_fails_with(check_step_lr, named("step_lr", rounding), [
        "step_lr(2, base_lr=0.1, step_size=3) returned 0.01, torch's StepLR gives 0.1 (steps 0-1 match). "
        "Likely cause: epoch / step_size is rounded to the nearest whole number"])
    assert "one step ahead" not in message


def test_a_mistake_in_one_branch_is_named_though_the_other_branch_is_right():
    """The staircase branch runs one step ahead; without staircase the answer is right."""
    def ahead_in_staircase(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
        return base_lr * gamma ** ((epoch + 1) // decay_epochs if staircase else epoch / decay_epochs)

    assert_fails_with(check_exponential_lr, named("exponential_lr", ahead_in_staircase), [
        "exponential_lr(2, base_lr=1.0, gamma=0.5, decay_epochs=3, staircase=True) returned 0.5", "one step ahead"])


def test_without_a_cause_the_message_says_what_differs():
    """eta_min ignored and a period of T_max + 1: the first scenario (eta_min=0) shows only the
    period, the second both mistakes, which no single known mistake reproduces."""
    def two_mistakes(epoch, *, base_lr, T_max, eta_min=0.0):
        return base_lr * (1 + math.cos(math.pi * epoch / (T_max + 1))) / 2

    assert failure_message(check_cosine_annealing_lr, named("cosine_annealing_lr", two_mistakes)) == (
        "cosine_annealing_lr(1, base_lr=0.1, T_max=10) returned 0.0979746, torch's CosineAnnealingLR gives "
        "0.0975528 (step 0 matches).\nHint: eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2")


# ------------------------------------------------------------------ what comes back, and crashes

def blank(*args, **kwargs):
    raise NotImplementedError()


class BlankPlateau:
    def __init__(self, optimizer, **kwargs):
        raise NotImplementedError()


CHECKS = [(check_step_lr, "step_lr"), (check_exponential_lr, "exponential_lr"),
          (check_cosine_annealing_lr, "cosine_annealing_lr"), (check_warmup_cosine_lr, "warmup_cosine_lr"),
          (check_one_cycle_lr, "one_cycle_lr"), (check_cyclic_lr, "cyclic_lr")]


@pytest.mark.parametrize("check, name", CHECKS, ids=[name for _, name in CHECKS])
def test_the_blank_answer_fails_with_a_helpful_message(check, name):
    message = failure_message(check, named(name, blank))
    assert message.startswith(f"{name}(0, ")
    assert "raised NotImplementedError: replace `raise NotImplementedError()` in the answer cell" in message
    message = failure_message(check_reduce_lr_on_plateau, BlankPlateau)
    assert "BlankPlateau(optimizer, patience=2, factor=0.5) with optimizer.lr = 0.1 at the start raised " \
           "NotImplementedError: replace" in message


@pytest.mark.parametrize("result, part", [
    (None, "returned None, but a number, the learning rate, is expected: did the function end without a `return`"),
    ([0.1], "returned a list, but a number, the learning rate, is expected: return the rate at this one step"),
    (np.array([0.1]), "returned a numpy array"),
    (torch.tensor(0.1), "returned a torch.Tensor: return a plain number"),
    (float("nan"), "returned nan"),
    ("0.1", "returned a str"),
    (True, "returned a bool"),
])
def test_a_result_that_is_not_a_number_is_named(result, part):
    message = failure_message(check_step_lr, named("step_lr", lambda epoch, **kwargs: result))
    assert message.startswith("step_lr(0, base_lr=0.1, step_size=3) ") and part in message


def test_a_crash_names_the_call_and_a_division_by_zero():
    message = failure_message(check_cosine_annealing_lr, named("cosine_annealing_lr", lambda epoch, **k: 1 / 0))
    assert message.startswith("cosine_annealing_lr(0, base_lr=0.1, T_max=10) raised ZeroDivisionError")
    assert "Hint: a division by zero" in message


def test_a_lambda_is_called_by_the_exercise_name():
    assert failure_message(check_step_lr, lambda epoch, **kwargs: 0.0).startswith("step_lr(0, ")


def test_checks_leave_the_students_random_state_alone():
    assert_global_random_state_untouched(run_every_check)


def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered(builtin_names=tuple(name for name in BUILTIN_NAMES if name != "max")):  # the reference uses max
        run_every_check()
        assert "one step ahead" in failure_message(check_step_lr, named("step_lr", lambda e, **k: step_lr(e + 1, **k)))
        assert "patience is off by one" in failure_message(check_reduce_lr_on_plateau, ReducesAtPatience)
    with tampered(builtin_names=("max",)):  # the reference's max(lr * factor, min_lr) is True
        assert "after step(0.8) (epoch 6), optimizer.lr is a bool: the scheduler must set optimizer.lr to the new " \
               "rate, a number." in failure_message(check_reduce_lr_on_plateau, ReduceLROnPlateau)



def test_nothing_reaches_stderr_nor_warns():
    stderr = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(stderr):
        warnings.simplefilter("error")
        run_every_check()
        failure_message(check_one_cycle_lr, one_cycle_with(shift=0))
        failure_message(check_reduce_lr_on_plateau, NoCooldown)
    assert stderr.getvalue() == ""



# ---------------------------------------------------------- calls of the student's function

@pytest.mark.parametrize("name", SCHEDULES)
def test_a_right_answer_is_called_once_per_step_of_each_scenario(name):
    schedule, check = SCHEDULES[name]
    reference = {"step_lr": step_lr, "exponential_lr": exponential_lr, "cosine_annealing_lr": cosine_annealing_lr,
                 "warmup_cosine_lr": warmup_cosine_lr, "one_cycle_lr": one_cycle_lr, "cyclic_lr": cyclic_lr}[name]
    answer = counted(reference)
    check(answer)
    assert answer.calls == sum(scenario.get("steps") or schedule.steps({**schedule.defaults, **scenario})
                                for scenario in schedule.scenarios)


def test_a_wrong_answer_is_called_once_per_step_of_each_scenario_for_the_diagnosis():
    """Failing in the first scenario, where a known mistake reproduces it, the answer runs once
    through every scenario: the failing one to find the first difference, the others to
    confirm the cause."""
    answer = counted(named("step_lr", lambda epoch, *, base_lr, step_size, gamma=0.1:
                             base_lr * gamma ** math.ceil(epoch / step_size)))
    failure_message(check_step_lr, answer)
    assert answer.calls == sum(3 * scenario["step_size"] + 2 for scenario in STEP_LR.scenarios)


def test_a_plateau_class_is_built_once_and_stepped_once_per_metric():
    built, steps = [], []

    class Counted(ReduceLROnPlateau):
        def __init__(self, optimizer, **kwargs):
            built.append(1)
            super().__init__(optimizer, **kwargs)

        def step(self, metrics):
            steps.append(1)
            super().step(metrics)

    from course_lib.checking.schedules.plateau import SCENARIOS
    check_reduce_lr_on_plateau(Counted)
    assert len(built) == len(SCENARIOS) and len(steps) == sum(len(metrics) for _, _, metrics in SCENARIOS)
