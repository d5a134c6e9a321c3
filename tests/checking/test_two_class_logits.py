import pytest
import torch
import torch.nn.functional as F

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.two_class_logits import MISTAKES, SCENARIOS, check_two_class_logits
from course_lib.training import losses
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "two_class_logits"


# ------------------------------------------------ right answers, as students write them

def zero_then_z(logits):
    return torch.stack([torch.zeros_like(logits), logits], dim=1)


def halves(logits):
    return torch.stack([-logits / 2, logits / 2], dim=1)


def by_concatenation(logits):
    column = logits.unsqueeze(1)
    return torch.cat([torch.zeros_like(column), column], dim=1)


def shifted_by_seven(logits):
    return torch.stack([logits.new_full(logits.shape, 7.0), logits + 7], dim=1)


def log_probabilities(logits):
    return torch.stack([F.logsigmoid(-logits), F.logsigmoid(logits)], dim=1)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [zero_then_z, halves, by_concatenation, shifted_by_seven, log_probabilities])
def test_right_answers_pass(answer, seed, capsys):
    check_two_class_logits(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, zero_then_z))
    check_two_class_logits(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_logits():
    seen = {}

    def recording(logits):
        seen.setdefault(seed, []).append(logits.detach().clone())
        return zero_then_z(logits)

    for seed in (0, 1):
        check_two_class_logits(named(NAME, recording), seed=seed)
    assert seen[0][0].shape == seen[1][0].shape and not torch.equal(seen[0][0], seen[1][0])


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_two_class_logits(named(NAME, zero_then_z)))


def test_the_courses_logits_are_not_an_answer():
    with pytest.raises(DelegationFailure, match="called course_lib.training.two_class_logits, the course's own"):
        check_two_class_logits(named(NAME, lambda logits: losses.two_class_logits(logits)))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(logits):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_two_class_logits, named(NAME, blank))


# ------------------------------------------------------------------------------- mistakes

def swapped(logits):
    return torch.stack([logits, torch.zeros_like(logits)], dim=1)


def one_minus(logits):
    return torch.stack([1 - logits, logits], dim=1)


def doubled(logits):
    return torch.stack([-logits, logits], dim=1)


def probabilities(logits):
    p = torch.sigmoid(logits)
    return torch.stack([1 - p, p], dim=1)


def probability_as_logit(logits):
    return torch.stack([torch.zeros_like(logits), torch.sigmoid(logits)], dim=1)


def log_of_probabilities(logits):
    p = torch.sigmoid(logits)
    return torch.stack([torch.log(1 - p), torch.log(p)], dim=1)


FIRST = "two_class_logits(logits) with 6 logits (logits (6,)): "
EXTREME = "two_class_logits(logits) with logits of ±100 among ordinary ones (logits (8,)): "
MISTAKE_CASES = [
    (swapped, FIRST, "the classes are swapped"),
    (one_minus, FIRST, "[1 - z, z] has the difference 2z - 1"),
    (doubled, FIRST, "[-z, z] has the difference 2z"),
    (probabilities, FIRST, "those are the probabilities [1 - sigmoid(z), sigmoid(z)]"),
    (probability_as_logit, FIRST, "the probability sigmoid(z) is used as the class-1 logit"),
    (log_of_probabilities, EXTREME, "log(1 - sigmoid(z)) = log 0 = -inf"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_two_class_logits, named(NAME, function))
    assert message.startswith(f"{where}F.cross_entropy(two_class_logits(logits), target, reduction='none') is not "
                              f"F.binary_cross_entropy_with_logits(logits, target.float(), reduction='none'): ")
    assert phrase in message
    assert "Hint: softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_two_class_logits, named(NAME, function), seed=seed)


def test_an_unknown_mistake_says_what_differs_without_a_cause():
    def a_little_large(logits):
        return torch.stack([torch.zeros_like(logits), 1.01 * logits], dim=1)

    message = failure_message(check_two_class_logits, named(NAME, a_little_large))
    assert message.startswith(f"{FIRST}softmax(two_class_logits(logits), dim=1) differs from the expected values in "
                              f"12 of 12 entries")
    assert "Expected: [1 - sigmoid(z), sigmoid(z)] per row" in message
    for wrong in MISTAKES:
        assert wrong.explanation not in message


def test_a_gradient_that_differs_is_described():
    def half_the_gradient(logits):  # the right values, half of autograd's way back to logits
        return torch.stack([torch.zeros_like(logits), logits / 2 + logits.detach() / 2], dim=1)

    message = failure_message(check_two_class_logits, named(NAME, half_the_gradient))
    assert message.startswith(f"{FIRST}the values are right, but after F.cross_entropy(...).backward() logits.grad is "
                              f"off by a factor of ≈ 1/2")


@pytest.mark.parametrize("function, phrase", [
    (lambda logits: None, "returned None, but a torch.Tensor of shape (6, 2) is expected: did the function end"),
    (lambda logits: torch.stack([torch.zeros_like(logits), logits]),
     "returned a tensor of shape (2, 6), but (6, 2) is expected: stacked along dim 0"),
    (lambda logits: logits, "returned a tensor of shape (6,), but (6, 2) is expected: one logit per sample is"),
    (lambda logits: torch.stack([torch.zeros(len(logits)), logits.float()], dim=1),
     "returned logits of dtype torch.float32, but torch.float64 (logits') is expected: torch.zeros(N) is float32"),
    (lambda logits: torch.tensor([[0.0, value] for value in logits.tolist()], dtype=logits.dtype),
     "returned logits autograd cannot differentiate (requires_grad=False)"),
])
def test_a_result_of_the_wrong_kind_is_told(function, phrase):
    assert phrase in failure_message(check_two_class_logits, named(NAME, function))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_two_class_logits(named(NAME, zero_then_z))
        assert "the classes are swapped" in failure_message(check_two_class_logits, named(NAME, swapped))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_two_class_logits, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "the classes are swapped: [z, 0]" in message
