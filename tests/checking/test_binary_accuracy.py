import pytest
import torch

from course_lib import metrics
from course_lib.checking.binary_accuracy import MISTAKES, SCENARIOS, check_binary_accuracy
from course_lib.checking.failure import DelegationFailure
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "binary_accuracy"


# ------------------------------------------------ right answers, as students write them

def by_the_sign(logits, targets):
    predictions = (logits.reshape(-1) > 0).long()
    return (predictions == targets.long()).float().mean().item()


def by_the_probability(logits, targets):
    predictions = torch.sigmoid(logits.squeeze(1) if logits.ndim == 2 else logits) > 0.5
    return (predictions == targets.bool()).sum().item() / len(targets)


def by_rounding(logits, targets):
    return float((torch.round(torch.sigmoid(logits.flatten())) == targets).double().mean())


def by_a_loop(logits, targets):
    right = 0
    for logit, target in zip(logits.reshape(-1).tolist(), targets.tolist()):
        right += int((logit > 0) == (target == 1))
    return right / len(targets)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_the_sign, by_the_probability, by_rounding, by_a_loop])
def test_right_answers_pass(answer, seed, capsys):
    check_binary_accuracy(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, by_the_sign))
    check_binary_accuracy(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_logits_and_targets():
    seen = {}

    def recording(logits, targets):
        seen.setdefault(seed, []).append((logits.clone(), targets.clone()))
        return by_the_sign(logits, targets)

    for seed in (0, 1):
        check_binary_accuracy(named(NAME, recording), seed=seed)
    (logits_0, targets_0), (logits_1, targets_1) = seen[0][0], seen[1][0]
    assert logits_0.shape == logits_1.shape and not torch.equal(logits_0, logits_1)
    assert not torch.equal(targets_0, targets_1)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_binary_accuracy(named(NAME, by_the_sign)))


@pytest.mark.parametrize("function, called", [
    (lambda logits, targets: metrics.binary_accuracy(logits, targets),
     "course_lib.metrics.binary_accuracy, the course's own solution"),
    (lambda logits, targets: metrics.accuracy(logits, targets), "course_lib.metrics.accuracy, which does what"),
    (lambda logits, targets: metrics.count_correct(logits, targets) / len(targets),
     "course_lib.metrics.count_correct, which does what"),
])
def test_the_courses_accuracy_is_not_an_answer(function, called):
    with pytest.raises(DelegationFailure, match=f"called {called}"):
        check_binary_accuracy(named(NAME, function))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(logits, targets):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_binary_accuracy, named(NAME, blank))


# ------------------------------------------------------------------------------- mistakes

def threshold_a_half(logits, targets):
    return ((logits.reshape(-1) > 0.5).long() == targets.long()).float().mean().item()


def at_least_zero(logits, targets):
    return ((logits.reshape(-1) >= 0).long() == targets.long()).float().mean().item()


def sigmoid_at_least_a_half(logits, targets):
    return ((torch.sigmoid(logits.reshape(-1)) >= 0.5).long() == targets.long()).float().mean().item()


def count(logits, targets):
    return ((logits.reshape(-1) > 0).long() == targets.long()).sum().item()


def broadcast(logits, targets):
    return ((logits > 0).float() == targets).float().mean().item()


def predicted_positive(logits, targets):
    return (logits > 0).float().mean().item()


def sign_flipped(logits, targets):
    return ((logits.reshape(-1) < 0).long() == targets.long()).float().mean().item()


def error_rate(logits, targets):
    return ((logits.reshape(-1) > 0).long() != targets.long()).float().mean().item()


FIRST = "binary_accuracy(logits, targets) with float32 logits [N] and int64 targets (10 samples)"
MISTAKE_CASES = [
    (threshold_a_half, FIRST, "the threshold 0.5 is applied to the logits"),
    (at_least_zero, "with logits of exactly 0", "a logit of exactly 0 is counted as class 1"),
    (sigmoid_at_least_a_half, "with logits of exactly 0", "a logit of exactly 0 is counted as class 1"),
    (count, FIRST, "that is the number of right predictions"),
    (broadcast, "with logits [N, 1], as nn.Linear(..., 1) gives them, and targets [N] (10 samples)",
     "broadcast to an N × N table of every logit against every target"),
    (predicted_positive, FIRST, "the fraction of samples predicted positive"),
    (sign_flipped, FIRST, "class 1 is predicted for negative logits"),
    (error_rate, FIRST, "that is the error rate"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_binary_accuracy, named(NAME, function))
    assert where in message.split(" returned ")[0]
    assert phrase in message
    assert "Hint: predictions = logits.reshape(-1) > 0" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_binary_accuracy, named(NAME, function), seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_broadcast_mistake_gives_the_mean_over_the_n_by_n_table(seed):
    # five targets of each class: every predicted class agrees with half of the 10 targets
    assert " returned 0.5, expected 0.8: " in failure_message(check_binary_accuracy, named(NAME, broadcast), seed=seed)


def test_an_unknown_mistake_says_what_differs_without_a_cause():
    def first_sample_dropped(logits, targets):
        return by_the_sign(logits[1:], targets[1:])

    message = failure_message(check_binary_accuracy, named(NAME, first_sample_dropped))
    assert " returned 0." in message and ", expected 0." in message
    for wrong in MISTAKES:
        assert wrong.explanation not in message


@pytest.mark.parametrize("function, phrase", [
    (lambda logits, targets: ((logits.reshape(-1) > 0).long() == targets.long()).float().mean(),
     f"{FIRST} returned a torch.Tensor of shape (), but a number is expected: .item() takes the number out."),
    (lambda logits, targets: None, "did the function end without a `return` statement?"),
    (lambda logits, targets: (logits.reshape(-1) > 0) == targets, "is a sum or a mean missing?"),
])
def test_a_result_that_is_no_number_is_told(function, phrase):
    assert phrase in failure_message(check_binary_accuracy, named(NAME, function))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered(builtin_names=("abs", "all", "any", "round", "sum", "max", "min")):
        check_binary_accuracy(named(NAME, by_the_sign))
        assert "that is the error rate" in failure_message(check_binary_accuracy, named(NAME, error_rate))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_binary_accuracy, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "the threshold 0.5 is applied to the logits" in message
