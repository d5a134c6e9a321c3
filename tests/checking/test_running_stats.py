import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.checking.failure import DelegationFailure
from course_lib.checking.running_stats import check_update_running_stats
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ right answers, as students write them

def update_running_stats(running_mean, running_var, input, momentum=0.1):
    running_mean *= 1 - momentum
    running_mean += momentum * input.mean(axis=0)
    running_var[:] = (1 - momentum) * running_var + momentum * input.var(axis=0, ddof=1)


def test_the_right_answer_passes(capsys):
    for seed in SEEDS:
        check_update_running_stats(update_running_stats, seed=seed)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("options", [
    {"shape": (2, 1)}, {"shape": (2, 7)}, {"shape": (30, 3)}, {"shape": (5, 5)},
    {"dtype": np.float32}, {"seed": 3, "shape": (4, 2), "dtype": np.float32},
    {"momentum": 0.5, "batches": 5}, {"momentum": 1.0, "batches": 1}, {"momentum": 0.0}])
def test_the_right_answer_passes_for_other_shapes_dtypes_and_momenta(options):
    check_update_running_stats(update_running_stats, **options)


def test_test_authors_errors_are_not_student_failures():
    with pytest.raises(ValueError, match="batches"):
        check_update_running_stats(update_running_stats, batches=0)
    with pytest.raises(ValueError, match="N >= 2"):
        check_update_running_stats(update_running_stats, shape=(1, 3))


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_update_running_stats(update_running_stats))


def test_the_answer_is_called_once_per_batch():
    """One batch from BatchNorm1d's start, then 3 batches in each of: ordinary data, N = 2,
    constant columns, momentum=0.3, float32."""
    answer = counted(update_running_stats)
    check_update_running_stats(answer)
    assert answer.calls == 1 + 5 * 3


def test_torchs_and_the_courses_batch_norm_are_not_an_answer():
    def by_torch(running_mean, running_var, input, momentum=0.1):
        F.batch_norm(torch.from_numpy(input), torch.from_numpy(running_mean), torch.from_numpy(running_var),
                     training=True, momentum=momentum)

    def by_the_course(running_mean, running_var, input, momentum=0.1):
        scratch.batch_norm_forward(input, running_mean, running_var, training=True, momentum=momentum)

    with pytest.raises(DelegationFailure, match="called torch.nn.functional.batch_norm"):
        check_update_running_stats(named("update_running_stats", by_torch))
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.batch_norm_forward"):
        check_update_running_stats(named("update_running_stats", by_the_course))


# ------------------------------------------------------------------------------- mistakes

def running_with(*, statistic=lambda x: x.var(axis=0, ddof=1), keras=False, momentum=None):
    def update_running_stats(running_mean, running_var, input, momentum_=0.1, **keywords):
        m = keywords.get("momentum", momentum_) if momentum is None else momentum
        old, new = (m, 1 - m) if keras else (1 - m, m)
        running_mean[:] = old * running_mean + new * input.mean(axis=0)
        running_var[:] = old * running_var + new * statistic(input)
    return update_running_stats


def normalized_variance(x):
    return ((x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)).var(0, ddof=1)


RUNNING_MISTAKES = [
    (running_with(statistic=lambda x: x.var(axis=0)), "running_var is fed the biased variance"),
    (running_with(keras=True), "momentum is used the other way round (Keras's convention"),
    (running_with(statistic=normalized_variance), "the variance of the normalised values"),
    (running_with(statistic=lambda x: (x ** 2).mean(axis=0)), "the mean of the squares"),
    (running_with(statistic=lambda x: x.std(axis=0, ddof=1)), "fed the standard deviation"),
    (running_with(momentum=0.1), "the momentum passed in is ignored: 0.1 was used instead of momentum=0.3"),
]


@pytest.mark.parametrize("function, phrase", RUNNING_MISTAKES)
def test_running_stats_mistakes_are_named(function, phrase):
    message = failure_message(check_update_running_stats, named("update_running_stats", function))
    assert message.startswith("update_running_stats(running_mean, running_var, input")
    assert phrase in message


def test_rebinding_is_told():
    def rebinds_var(running_mean, running_var, input, momentum=0.1):
        running_mean *= 1 - momentum
        running_mean += momentum * input.mean(axis=0)
        running_var = (1 - momentum) * running_var + momentum * input.var(axis=0, ddof=1)  # noqa: F841

    def returns_new(running_mean, running_var, input, momentum=0.1):
        return (1 - momentum) * running_mean + momentum * input.mean(0), running_var

    assert_fails_with(check_update_running_stats, named("update_running_stats", rebinds_var), [
        "running_var is unchanged after the call", "only rebinds the local name"])
    assert_fails_with(check_update_running_stats, named("update_running_stats", returns_new), [
        "it returned a tuple and left running_mean and running_var unchanged", "return None"])


def test_a_later_batch_that_differs_is_named():
    calls = []

    def wrong_from_the_second_call(running_mean, running_var, input, momentum=0.1):
        calls.append(1)
        update_running_stats(running_mean, running_var, input, momentum)
        if len(calls) > 2:
            running_var += 1.0

    message = failure_message(check_update_running_stats, named("update_running_stats", wrong_from_the_second_call))
    assert "batch 1 matches torch.nn.BatchNorm1d(4, momentum=0.1), batch 2 differs: running_var" in message


def test_changing_the_input_is_told():
    def centres_input(running_mean, running_var, input, momentum=0.1):
        input -= input.mean(axis=0)
        update_running_stats(running_mean, running_var, input + 0, momentum)

    assert "changed its argument input in place" in failure_message(
        check_update_running_stats, named("update_running_stats", centres_input))


def test_not_implemented_is_told_to_be_replaced():
    def not_implemented(running_mean, running_var, input, momentum=0.1):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(
        check_update_running_stats, named("update_running_stats", not_implemented))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_update_running_stats(update_running_stats)
        assert "Keras" in failure_message(check_update_running_stats, named("update_running_stats",
                                                                            running_with(keras=True)))
    assert capsys.readouterr() == ("", "")


def test_the_notebooks_wrong_answer_fails_with_its_mistake(capsys):
    answer = defined_by("05_regularization", "update_running_stats", {"np": np, "torch": torch, "F": F})
    assert "running_mean and running_var are unchanged after the call" in failure_message(
        check_update_running_stats, answer)
    assert capsys.readouterr() == ("", "")
