import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.checking.binary_cross_entropy import MISTAKES, SCENARIOS, check_binary_cross_entropy_with_logits
from course_lib.checking.failure import DelegationFailure
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "binary_cross_entropy_with_logits"


def reduced(losses, reduction):
    return {"mean": losses.mean, "sum": losses.sum, "none": lambda: losses}[reduction]()


# ------------------------------------------------ right answers, as students write them

def by_clamp(input, target, reduction="mean"):
    losses = input.clamp(min=0) - input * target + torch.log1p(torch.exp(-input.abs()))
    return reduced(losses, reduction)


def by_relu_and_log(input, target, reduction="mean"):
    losses = torch.relu(input) - input * target + torch.log(1 + torch.exp(-torch.abs(input)))
    if reduction == "mean":
        return losses.sum() / input.numel()
    return losses.sum() if reduction == "sum" else losses


def by_log_sigmoid_by_hand(input, target, reduction="mean"):
    def log_sigmoid(z):
        return -(torch.relu(-z) + torch.log1p(torch.exp(-z.abs())))
    return reduced(-(target * log_sigmoid(input) + (1 - target) * log_sigmoid(-input)), reduction)


def by_logaddexp(input, target, reduction="mean"):
    return reduced(torch.logaddexp(torch.zeros_like(input), -input) + (1 - target) * input, reduction)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_clamp, by_relu_and_log, by_log_sigmoid_by_hand, by_logaddexp])
def test_right_answers_pass(answer, seed, capsys):
    check_binary_cross_entropy_with_logits(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, by_clamp))
    check_binary_cross_entropy_with_logits(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_logits_and_targets():
    seen = {}

    def recording(input, target, reduction="mean"):
        seen.setdefault(seed, []).append((input.detach().clone(), target.clone()))
        return by_clamp(input, target, reduction)

    for seed in (0, 1):
        check_binary_cross_entropy_with_logits(named(NAME, recording), seed=seed)
    (input_0, target_0), (input_1, target_1) = seen[0][0], seen[1][0]
    assert input_0.shape == input_1.shape and not torch.equal(input_0, input_1)
    assert not torch.equal(target_0, target_1)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_binary_cross_entropy_with_logits(named(NAME, by_clamp)))


@pytest.mark.parametrize("function, called", [
    (lambda input, target, reduction="mean": F.binary_cross_entropy_with_logits(input, target, reduction=reduction),
     "torch.nn.functional.binary_cross_entropy_with_logits"),
    (lambda input, target, reduction="mean": torch.nn.BCEWithLogitsLoss(reduction=reduction)(input, target),
     "torch.nn.BCEWithLogitsLoss"),
    (lambda input, target, reduction="mean": reduced(-(target * F.logsigmoid(input)
                                                       + (1 - target) * F.logsigmoid(-input)), reduction),
     "torch.nn.functional.logsigmoid"),
    (lambda input, target, reduction="mean": reduced(F.softplus(input) - input * target, reduction),
     "torch.nn.functional.softplus"),
    (lambda input, target, reduction="mean": F.binary_cross_entropy(torch.sigmoid(input), target, reduction=reduction),
     "torch.nn.functional.binary_cross_entropy"),
    (lambda input, target, reduction="mean": torch.as_tensor(
        scratch.binary_cross_entropy_with_logits(input.detach().numpy(), target.numpy(), reduction=reduction)),
     "course_lib.scratch.binary_cross_entropy_with_logits"),
])
def test_torchs_loss_and_its_stable_pieces_are_not_an_answer(function, called):
    with pytest.raises(DelegationFailure, match=f"called {called}, which does what this exercise asks"):
        check_binary_cross_entropy_with_logits(named(NAME, function))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(input, target, reduction="mean"):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_binary_cross_entropy_with_logits,
                                                                        named(NAME, blank))


# ------------------------------------------------------------------------------- mistakes

def naive(input, target, reduction="mean"):
    p = torch.sigmoid(input)
    return reduced(-(target * torch.log(p) + (1 - target) * torch.log(1 - p)), reduction)


def naive_with_its_own_sigmoid(input, target, reduction="mean"):
    p = 1 / (1 + torch.exp(-input))
    return reduced(-(target * torch.log(p) + (1 - target) * torch.log(1 - p)), reduction)


def naive_by_target(input, target, reduction="mean"):
    p = torch.sigmoid(input)
    return reduced(torch.where(target == 1, -torch.log(p), -torch.log(1 - p)), reduction)


def softplus_of_minus_z(input, target, reduction="mean"):
    return reduced(torch.log(1 + torch.exp(-input)) + (1 - target) * input, reduction)


def softplus_of_z(input, target, reduction="mean"):
    return reduced(torch.log1p(torch.exp(input)) - input * target, reduction)


def sign_flipped(input, target, reduction="mean"):
    return by_clamp(-input, target, reduction)


def targets_swapped(input, target, reduction="mean"):
    return by_clamp(input, 1 - target, reduction)


def no_sigmoid(input, target, reduction="mean"):
    return reduced(-(target * torch.log(input) + (1 - target) * torch.log(1 - input)), reduction)


def sum_for_the_mean(input, target, reduction="mean"):
    return by_clamp(input, target, "sum" if reduction == "mean" else reduction)


def divided_by_the_rows(input, target, reduction="mean"):
    losses = by_clamp(input, target, "none")
    return losses.sum() / len(input) if reduction == "mean" else reduced(losses, reduction)


def mean_for_the_sum(input, target, reduction="mean"):
    return by_clamp(input, target, "mean" if reduction == "sum" else reduction)


FIRST = "binary_cross_entropy_with_logits(input, target) with the default reduction, the mean (input (6,))"
EXTREME = ("binary_cross_entropy_with_logits(input, target, reduction='none') with logits of ±100, each with "
           "target 0 and 1 (input (8,))")
FLOAT32 = ("binary_cross_entropy_with_logits(input, target, reduction='mean') with logits of ±100 among ordinary "
           "ones in float32 (input (8,))")
MISTAKE_CASES = [
    (naive, EXTREME, "returned a loss that differs from torch's in 2 of 8 entries: that is log(sigmoid(z))"),
    (naive_with_its_own_sigmoid, EXTREME, "0 * -inf = nan"),
    (naive_by_target, "with probabilities as targets", "picks log(sigmoid(z)) or log(1 - sigmoid(z)) by whether the target is 1"),
    (softplus_of_minus_z, FLOAT32, "returned a loss of inf, expected 2"),
    (softplus_of_minus_z, FLOAT32, "log(1 + exp(...)) overflows: exp of a logit of ±100 is inf in float32"),
    (softplus_of_z, FLOAT32, "log(1 + exp(...)) overflows: exp of a logit of ±100 is inf in float32"),
    (sign_flipped, FIRST, "the loss of the other class"),
    (targets_swapped, FIRST, "the loss of the other class"),
    (no_sigmoid, FIRST, "the logits are used as probabilities"),
    (sum_for_the_mean, FIRST, "reduction='mean' gave the sum"),
    (divided_by_the_rows, "with a [4, 3] batch", "divided by the number of rows, len(input)"),
    (mean_for_the_sum, "reduction='sum') with reduction='sum'", "reduction='sum' gave the mean"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_binary_cross_entropy_with_logits, named(NAME, function))
    assert where in message.split(" returned ")[0]
    assert phrase in message
    assert "Hint: the loss of each element is max(z, 0) - z * y + log1p(exp(-|z|))" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        if not phrase.startswith("returned"):
            assert phrase in failure_message(check_binary_cross_entropy_with_logits, named(NAME, function), seed=seed)


def test_branches_by_the_sign_of_z_give_a_nan_gradient_and_are_told():
    def by_branches(input, target, reduction="mean"):
        losses = torch.where(input >= 0, torch.log1p(torch.exp(-input)) + (1 - target) * input,
                             torch.log1p(torch.exp(input)) - target * input)
        return reduced(losses, reduction)

    message = failure_message(check_binary_cross_entropy_with_logits, named(NAME, by_branches))
    assert message.startswith(f"{FLOAT32}: the loss is right but its gradient is nan at the logits of ±100: "
                              f"torch.where computes both branches")


def test_a_gradient_that_differs_otherwise_is_described():
    def detached_log_term(input, target, reduction="mean"):
        return reduced(input.clamp(min=0) - input * target + torch.log1p(torch.exp(-input.abs())).detach(), reduction)

    message = failure_message(check_binary_cross_entropy_with_logits, named(NAME, detached_log_term))
    assert message.startswith(f"{FIRST}: the loss is right, but after loss.backward() input.grad differs from the "
                              f"expected values in 6 of 6 entries")
    assert "Expected: F.binary_cross_entropy_with_logits's gradient, sigmoid(z) - y" in message
    assert "torch.where" not in message


def test_an_unknown_mistake_says_what_differs_without_a_cause():
    def clipped(input, target, reduction="mean"):  # Keras' epsilon: finite, but wrong far out
        p = torch.sigmoid(input).clamp(1e-7, 1 - 1e-7)
        return reduced(-(target * torch.log(p) + (1 - target) * torch.log(1 - p)), reduction)

    message = failure_message(check_binary_cross_entropy_with_logits, named(NAME, clipped))
    assert message.startswith(f"{EXTREME}: the loss differs from the expected values in 4 of 8 entries; the largest "
                              f"difference is at the loss[")  # 1e-7 where the loss is 3.7e-44, and
    assert ": 16.1181 instead of 100." in message  # 16.1181 where it is 100
    for wrong in MISTAKES:
        assert wrong.explanation not in message


@pytest.mark.parametrize("function, phrase", [
    (lambda input, target, reduction="mean": by_clamp(input, target, reduction).sum().item(),
     f"{FIRST} returned a float, but a torch.Tensor is expected: loss.item() and float() take the number out"),
    (lambda input, target, reduction="mean": None, "did the function end without a `return` statement?"),
    (lambda input, target, reduction="mean": by_clamp(input, target, "none"),
     f"{FIRST} returned a loss of shape (6,), but a 0-d tensor is expected: that is the loss of each element"),
    (lambda input, target, reduction="mean": by_clamp(input, target, "mean"),
     "reduction='none') with reduction='none', the loss of each element (input (6,)) returned a loss of shape (), "
     "but (6,) is expected: reduction='none' asks for the loss of each element"),
    (lambda input, target, reduction="mean": (by_clamp(input, target, "none").mean(dim=-1) if reduction == "mean"
                                              else by_clamp(input, target, reduction)),
     "with a [4, 3] batch, the mean over all 12 elements (input (4, 3)) returned a loss of shape (4,), but a 0-d "
     "tensor is expected: reduction='mean' reduces over all the elements, .mean() without a dim."),
    (lambda input, target, reduction="mean": by_clamp(input.detach(), target, reduction),
     "returned a loss autograd cannot differentiate (requires_grad=False)"),
])
def test_a_loss_of_the_wrong_kind_is_told(function, phrase):
    assert phrase in failure_message(check_binary_cross_entropy_with_logits, named(NAME, function))


def test_float32_must_stay_float32():
    def in_float64(input, target, reduction="mean"):
        return by_clamp(input.double(), target.double(), reduction)

    message = failure_message(check_binary_cross_entropy_with_logits, named(NAME, in_float64))
    assert message.startswith(FLOAT32)
    assert "returned a loss of dtype torch.float64, but torch.float32 (input's) is expected" in message


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_binary_cross_entropy_with_logits(named(NAME, by_clamp))
        assert "reduction='mean' gave the sum" in failure_message(check_binary_cross_entropy_with_logits,
                                                                  named(NAME, sum_for_the_mean))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_binary_cross_entropy_with_logits, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "that is log(sigmoid(z)) and log(1 - sigmoid(z)) as written" in message
