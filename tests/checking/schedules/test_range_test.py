"""lr_range_test's check: right answers pass, in any style and with the hidden tests' options;
every known mistake is told by its own explanation, and without one the message says what
differs; what comes back, crashes, calls of train_step and delegation are told; the check's
definition of the sweep is course_lib's."""
import contextlib
import io
import math
import warnings

import numpy as np
import pytest
import torch

from course_lib.checking import DelegationFailure
from course_lib.checking.schedules import check_lr_range_test
from course_lib.checking.schedules.range_sweep import (
    MISTAKES, LinearRates, NanNotStopping, NeverStopping, StoppingOnTheRawLoss, Sweep, WithoutBiasCorrection,
)
from course_lib.checking.schedules.range_test import SCENARIOS, variant_run
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.schedules.answers import lr_range_test
from tests.strategies import BUILTIN_NAMES, assert_global_random_state_untouched, tampered

VISIBLE_CALL = ("lr_range_test(train_step, start_lr=0.0001, end_lr=10.0, num_iter=100, beta=0.9, "
                "diverge_th=4.0), with train_step returning a loss that falls from 2.3 to 0.4 around "
                "lr = 0.01 and climbs past lr = 0.3, times a fixed noise: ")


def with_numpy(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
    """np.geomspace, numpy arrays returned, the stop written with np.isfinite."""
    lrs = np.geomspace(start_lr, end_lr, num_iter)
    losses, smoothed = np.zeros(num_iter), np.zeros(num_iter)
    average = 0.0
    for i, lr in enumerate(lrs):
        losses[i] = train_step(lr)
        average = beta * average + (1 - beta) * losses[i]
        smoothed[i] = average / (1 - beta ** (i + 1))
        if not np.isfinite(smoothed[i]) or (i and smoothed[i] > diverge_th * smoothed[:i].min()):
            return lrs[:i + 1], losses[:i + 1], smoothed[:i + 1]
    return lrs, losses, smoothed


def test_right_answers_pass():
    check_lr_range_test(lr_range_test)
    check_lr_range_test(named("lr_range_test", with_numpy))


@pytest.mark.parametrize("options", [
    dict(start_lr=1e-4, end_lr=1.0, num_iter=50, beta=0.8),
    dict(num_iter=30, beta=0.5, diverge_th=2.0, losses=[2.0 - 0.05 * i for i in range(25)] + [9.0] * 5),
    dict(start_lr=1e-3, end_lr=100.0, num_iter=300, beta=0.99),
    dict(losses=[1.0, 0.9, float("inf"), 0.8]),
    dict(beta=0.0, num_iter=40),
])
def test_right_answers_pass_with_the_hidden_tests_options(options):
    check_lr_range_test(lr_range_test, **options)
    check_lr_range_test(named("lr_range_test", with_numpy), **options)


def test_the_scenarios_stop_where_they_should():
    """The built-in scenarios hold a diverging sweep, the defaults, one that runs to the end,
    one stopped by nan, and one noisy batch that must not stop it."""
    counts = [len(variant_run(Sweep, scenario)[0]) for scenario in SCENARIOS]
    assert counts[0] < 100 and counts[1] < 1200 and counts[2] == 60 and counts[3] == 7 and counts[4] == 14


# --------------------------------------------------------------------------- known mistakes

def wrong_answer(sweep_class):
    def answer(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
        return sweep_class(start_lr, end_lr, num_iter, beta, diverge_th).run(train_step)
    return named("lr_range_test", answer)


@pytest.mark.parametrize("sweep_class", MISTAKES, ids=[mistake.__name__ for mistake in MISTAKES])
def test_every_known_mistake_is_told_by_its_own_explanation(sweep_class):
    message = failure_message(check_lr_range_test, wrong_answer(sweep_class))
    assert f"Likely cause: {sweep_class.explanation}" in message
    assert "Or:" not in message


def test_the_messages_say_where_the_answer_first_differs():
    assert failure_message(check_lr_range_test, wrong_answer(LinearRates)).startswith(
        VISIBLE_CALL + "at iteration 1 train_step was called with lr = 0.101109, the sweep's rate there is "
        "0.000112332 (iteration 0 matches).")
    assert failure_message(check_lr_range_test, wrong_answer(WithoutBiasCorrection)).startswith(
        VISIBLE_CALL + "smoothed_losses[0] is 0.253643, expected 2.53643, the bias-corrected moving average "
        "of losses[0..0] (the first iteration already differs).")
    assert_fails_with(check_lr_range_test, wrong_answer(StoppingOnTheRawLoss), [
        "the sweep ran 73 iterations, expected 78: the smoothed loss of iteration 72, 1.24489, is not above "
        "diverge_th * the lowest before it = 4 * 0.691929 = 2.76771: the sweep goes on."])
    assert_fails_with(check_lr_range_test, wrong_answer(NanNotStopping), [
        "lr_range_test(train_step, num_iter=12, beta=0.5), with train_step returning the losses 2.3, 2.2, 2, "
        "1.5, 1, 0.8, … in turn: the sweep ran 12 iterations, expected 7: the smoothed loss of iteration 6 is "
        "nan, not finite: the sweep stops there, after recording it."])


def test_a_noisy_batch_must_not_stop_the_sweep():
    """Stopping on the raw loss passes the smooth curves of a hidden test but not one noisy batch."""
    losses = list(SCENARIOS[4].losses)
    assert_fails_with(check_lr_range_test, wrong_answer(StoppingOnTheRawLoss), [
        "the sweep ran 8 iterations, expected 14: the smoothed loss of iteration 7, 1.45106, is not above "
        "diverge_th * the lowest before it = 2 * 1.22765 = 2.45531: the sweep goes on.",
        f"Likely cause: {StoppingOnTheRawLoss.explanation}"], num_iter=14, beta=0.9, diverge_th=2.0, losses=losses)


def test_without_a_cause_the_message_says_what_differs():
    """Two mistakes at once — linear rates and no bias correction — match no single variant."""
    def two_mistakes(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
        lrs = list(np.linspace(start_lr, end_lr, num_iter))
        losses, smoothed, average = [], [], 0.0
        for lr in lrs:
            losses.append(train_step(lr))
            average = beta * average + (1 - beta) * losses[-1]
            smoothed.append(average)
        return lrs, losses, smoothed

    message = failure_message(check_lr_range_test, named("lr_range_test", two_mistakes))
    assert message.startswith(VISIBLE_CALL + "at iteration 1 train_step was called with lr = 0.101109")
    assert "Likely cause" not in message and "\nHint: lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))" \
        in message


def test_defaults_that_are_not_the_signatures_are_named():
    def other_defaults(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.98, diverge_th=5.0):
        return lr_range_test(train_step, start_lr=start_lr, end_lr=end_lr, num_iter=num_iter, beta=beta,
                             diverge_th=diverge_th)

    assert_fails_with(check_lr_range_test, named("lr_range_test", other_defaults), [
        "lr_range_test(train_step), with train_step returning",
        "Likely cause: your signature's defaults differ from the exercise's: beta=0.98 (the signature says 0.95)."])


# --------------------------------------------------------------- what comes back, and crashes

def test_the_blank_answer_fails_with_a_helpful_message():
    def blank(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
        raise NotImplementedError()

    message = failure_message(check_lr_range_test, named("lr_range_test", blank))
    assert message.startswith("lr_range_test(train_step, start_lr=0.0001, end_lr=10.0, num_iter=100, beta=0.9, "
                              "diverge_th=4.0) raised NotImplementedError: replace `raise NotImplementedError()`")


@pytest.mark.parametrize("result, part", [
    (None, "returned None, but three lists, (lrs, losses, smoothed_losses), is expected: did the function end "
           "without a `return` statement?"),
    ({"lrs": []}, "returned a dict, but three lists, (lrs, losses, smoothed_losses), is expected."),
    (([1.0], [2.0]), "returned a tuple of 2 values, but three lists"),
    (([1.0], [2.0], [2.0, 1.0]), "returned lrs, losses and smoothed_losses of lengths 1, 1 and 2: each holds one "
                                 "entry per iteration run."),
    (([1.0], [torch.tensor(2.0)], [2.0]), "returned a torch.Tensor as losses[0]: each entry is a number"),
    (([1.0], 2.0, [2.0]), "returned a float as losses: return a list of numbers, one per iteration run."),
])
def test_a_result_of_the_wrong_kind_is_named(result, part):
    message = failure_message(check_lr_range_test, named("lr_range_test", lambda train_step, **kwargs: result))
    assert message.startswith("lr_range_test(train_step, start_lr=0.0001, ") and part in message


def test_a_division_by_zero_in_the_bias_correction_gets_a_hint():
    def from_zero(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
        average = 0.0
        for i in range(num_iter):
            average = beta * average + (1 - beta) * train_step(start_lr)
            average / (1 - beta ** i)

    assert_fails_with(check_lr_range_test, named("lr_range_test", from_zero), [
        "raised ZeroDivisionError", "Hint: a division by zero — the bias correction 1 - beta ** (i + 1)"])


def test_train_step_must_get_one_rate():
    def all_rates(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
        return train_step(np.geomspace(start_lr, end_lr, num_iter))

    assert_fails_with(check_lr_range_test, named("lr_range_test", all_rates), [
        "called train_step with a numpy array at iteration 0: train_step(lr) takes one learning rate, a number."])


def test_a_sweep_that_goes_on_past_num_iter_is_stopped():
    def endless(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
        lr = start_lr
        while True:
            train_step(lr)
            lr *= (end_lr / start_lr) ** (1 / (num_iter - 1))

    assert_fails_with(check_lr_range_test, named("lr_range_test", endless), [
        "called train_step more than num_iter = 100 times: the sweep takes one step per iteration"])


def test_calling_train_step_twice_an_iteration_is_told():
    def twice(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
        return lr_range_test(lambda lr: train_step(lr) + 0 * train_step(lr), start_lr=start_lr, end_lr=end_lr,
                             num_iter=num_iter, beta=beta, diverge_th=diverge_th)

    assert_fails_with(check_lr_range_test, named("lr_range_test", twice), [
        "called train_step twice with lr = 0.0001, at calls 0 and 1: every call is an optimizer step, so call "
        "train_step once per iteration and keep the loss it returns."])


@pytest.mark.parametrize("delegation", [
    "from course_lib.optim import lr_range_test as sweep\n    return sweep(train_step, start_lr=start_lr, "
    "end_lr=end_lr, num_iter=num_iter, beta=beta, diverge_th=diverge_th)",
    "from course_lib.optim import find_lr_numpy\n    import numpy as np\n    from course_lib.optim import SGD\n"
    "    params = {'W': np.zeros(1)}\n    optimizer = SGD([params['W']], lr=0.1)\n"
    "    def loss_and_gradients(params, X, y):\n        return train_step(optimizer.lr), {'W': np.zeros(1)}\n"
    "    result = find_lr_numpy(params, loss_and_gradients, optimizer, [(None, None)], start_lr=start_lr, "
    "end_lr=end_lr, num_iter=num_iter, beta=beta, diverge_th=diverge_th)\n"
    "    return result.lrs, result.losses, result.smoothed_losses",
])
def test_running_course_libs_range_test_is_a_delegation(delegation):
    namespace = {}
    exec("def lr_range_test(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, "
         f"diverge_th=5.0):\n    {delegation}\n", namespace)
    with pytest.raises(DelegationFailure, match="the exercise asks for your own code"):
        check_lr_range_test(namespace["lr_range_test"])


def test_unknown_options_and_too_few_losses_are_the_test_authors_error():
    with pytest.raises(TypeError, match="unknown option"):
        check_lr_range_test(lr_range_test, smoothing=0.9)
    with pytest.raises(TypeError, match="fewer than num_iter"):
        check_lr_range_test(lr_range_test, num_iter=10, losses=[1.0, 2.0])


# ------------------------------------------------------------------------------ the answer's runs

def test_a_right_answer_runs_once_per_scenario():
    answer = counted(lr_range_test)
    check_lr_range_test(answer)
    assert answer.calls == len(SCENARIOS)


def test_a_wrong_answer_runs_once_per_scenario_for_the_diagnosis():
    answer = counted(wrong_answer(WithoutBiasCorrection))
    failure_message(check_lr_range_test, answer)
    assert answer.calls == len(SCENARIOS)


def test_the_check_leaves_the_students_random_state_alone():
    assert_global_random_state_untouched(lambda: check_lr_range_test(lr_range_test))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered(builtin_names=tuple(BUILTIN_NAMES)):
        check_lr_range_test(lr_range_test)
        assert NeverStopping.explanation in failure_message(check_lr_range_test, wrong_answer(NeverStopping))


def test_nothing_reaches_stderr_nor_warns():
    stderr = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(stderr):
        warnings.simplefilter("error")
        check_lr_range_test(lr_range_test)
        for sweep_class in MISTAKES:
            failure_message(check_lr_range_test, wrong_answer(sweep_class))
    assert stderr.getvalue() == "" and math.isfinite(1.0)
