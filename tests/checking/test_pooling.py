import pytest
import torch

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.pooling import MISTAKES, SCENARIOS, check_masked_mean
from course_lib.models import pooling
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "masked_mean"


# ------------------------------------------------ right answers, as students write them

def by_weights(hidden, mask):
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)


def by_masked_fill(hidden, mask):
    summed = hidden.masked_fill(~mask.unsqueeze(-1), 0).sum(dim=1)
    counts = mask.sum(dim=1, keepdim=True).clamp(min=1)
    return summed / counts


def by_a_loop(hidden, mask):
    rows = []
    for row, real in zip(hidden, mask):
        rows.append(row[real].mean(dim=0) if real.any() else torch.zeros(hidden.shape[2], dtype=hidden.dtype))
    return torch.stack(rows)


def by_an_epsilon(hidden, mask):
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return torch.where(mask.unsqueeze(-1), hidden, 0).sum(dim=1) / (weights.sum(dim=1) + 1e-8)


def by_einsum(hidden, mask):
    weights = mask.to(hidden.dtype)
    return torch.einsum("btd,bt->bd", hidden, weights) / torch.maximum(weights.sum(1), torch.ones(())).unsqueeze(1)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_weights, by_masked_fill, by_a_loop, by_an_epsilon, by_einsum])
def test_right_answers_pass(answer, seed, capsys):
    check_masked_mean(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, by_weights))
    check_masked_mean(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_vectors():
    seen = {}

    def recording(hidden, mask):
        seen.setdefault(seed, []).append(hidden.detach().clone())
        return by_weights(hidden, mask)

    for seed in (0, 1):
        check_masked_mean(named(NAME, recording), seed=seed)
    assert seen[0][0].shape == seen[1][0].shape and not torch.equal(seen[0][0], seen[1][0])


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_masked_mean(named(NAME, by_weights)))


def test_the_courses_pooling_is_not_an_answer():
    with pytest.raises(DelegationFailure, match=r"called course_lib\.models\.(pooling\.)?masked_mean, the course's own"):
        check_masked_mean(named(NAME, lambda hidden, mask: pooling.masked_mean(hidden, mask)))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(hidden, mask):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_masked_mean, named(NAME, blank))


def test_zeroing_the_padding_in_place_is_told():
    def in_place(hidden, mask):
        hidden.data[~mask] = 0
        return by_weights(hidden, mask)

    assert "changed its argument hidden in place" in failure_message(check_masked_mean, named(NAME, in_place))


# ------------------------------------------------------------------------------- mistakes

def sums(hidden, mask):
    return (hidden * mask.unsqueeze(-1).to(hidden.dtype)).sum(dim=1)


def divided_by_the_padded_length(hidden, mask):
    return sums(hidden, mask) / hidden.shape[1]


def mean_of_every_position(hidden, mask):
    return hidden.mean(dim=1)


def inverted(hidden, mask):
    return by_weights(hidden, ~mask)


def inverted_without_clamp(hidden, mask):
    return sums(hidden, ~mask) / (~mask).sum(dim=1, keepdim=True)


def nan_for_an_empty_sequence(hidden, mask):
    return sums(hidden, mask) / mask.sum(dim=1, keepdim=True)


def summed(hidden, mask):
    return sums(hidden, mask)


def divided_by_the_batchs_tokens(hidden, mask):
    return sums(hidden, mask) / mask.sum()


def first_positions(hidden, mask):
    lengths = mask.sum(dim=1).tolist()
    return torch.stack([hidden[row, :length].mean(0) if length else torch.zeros(hidden.shape[2], dtype=hidden.dtype)
                        for row, length in enumerate(lengths)])


FIRST = "masked_mean(hidden, mask) with two sequences padded at the end (hidden (2, 5, 4), lengths [3, 5]): "
PRE = ("masked_mean(hidden, mask) with padding before the tokens, as pad_sequences' padding='pre' puts it "
       "(hidden (4, 6, 3), lengths [2, 6, 4, 1]): ")
EMPTY = "masked_mean(hidden, mask) with a sequence with no real token, as an empty review gives (hidden (3, 4, 2), "
MISTAKE_CASES = [
    (divided_by_the_padded_length, FIRST, "divided by T, the padded length"),
    (mean_of_every_position, FIRST, "the mean of every position, padding included"),
    (inverted, FIRST, "the mask is read the other way round"),
    (inverted_without_clamp, FIRST, "PyTorch's key_padding_mask"),
    (nan_for_an_empty_sequence, EMPTY, "a sequence with no real token gets 0 / 0 = nan"),
    (summed, FIRST, "that is the sum over the real positions"),
    (divided_by_the_batchs_tokens, FIRST, "the number of real tokens in the whole batch"),
    (first_positions, PRE, "the padding is not always at the end"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_masked_mean, named(NAME, function))
    assert message.startswith(where)
    assert phrase in message
    assert "Hint: weights = mask.unsqueeze(-1).to(hidden.dtype) is [B, T, 1]" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_masked_mean, named(NAME, function), seed=seed)


def test_branches_on_the_count_give_a_nan_gradient_and_are_told():
    def by_branches(hidden, mask):
        counts = mask.sum(dim=1, keepdim=True)
        return torch.where(counts > 0, sums(hidden, mask) / counts, torch.zeros(()))

    message = failure_message(check_masked_mean, named(NAME, by_branches))
    assert message.startswith(f"{EMPTY}lengths [3, 0, 2]): the result is right but its gradient is nan for the "
                              f"sequence with no real token: torch.where computes both branches")


def test_a_gradient_that_reaches_the_padding_is_described():
    def leaky(hidden, mask):  # the right values, and a gradient at every position
        return by_weights(hidden, mask) + (hidden - hidden.detach()).mean(dim=1)

    message = failure_message(check_masked_mean, named(NAME, leaky))
    assert message.startswith(f"{FIRST}the result is right, but after pooled.backward(weights) hidden.grad differs "
                              f"from the expected values in")
    assert "Expected: weights / length at each real position and 0 at the padding." in message


def test_an_unknown_mistake_says_what_differs_without_a_cause():
    def median(hidden, mask):
        return torch.stack([row[real].median(dim=0).values if real.any() else torch.zeros(hidden.shape[2],
                                                                                        dtype=hidden.dtype)
                            for row, real in zip(hidden, mask)])

    message = failure_message(check_masked_mean, named(NAME, median))
    assert message.startswith(f"{FIRST}the result differs from the expected values in")
    for wrong in MISTAKES:
        assert wrong.explanation not in message


@pytest.mark.parametrize("function, phrase", [
    (lambda hidden, mask: None, "did the function end without a `return` statement?"),
    (lambda hidden, mask: by_weights(hidden, mask).unsqueeze(1),
     "has shape (2, 1, 4) but should have shape (2, 4): it has an extra dimension of size 1"),
    (lambda hidden, mask: sums(hidden, mask) / mask.sum(dim=1).clamp(min=1),
     "raised RuntimeError: The size of tensor a (4) must match the size of tensor b (2)"),
    (lambda hidden, mask: by_weights(hidden.double(), mask),
     "has dtype torch.float64 but should have dtype torch.float32"),
    (lambda hidden, mask: by_weights(hidden.detach(), mask),
     "returned pooled vectors autograd cannot differentiate (requires_grad=False)"),
])
def test_a_result_of_the_wrong_kind_is_told(function, phrase):
    message = failure_message(check_masked_mean, named(NAME, function))
    assert phrase in message
    assert "Hint: weights = mask.unsqueeze(-1)" in message


def test_counts_broadcast_into_a_table_are_told_where_d_is_1():
    def counts_without_their_dimension(hidden, mask):
        if hidden.shape[2] != 1:
            return by_weights(hidden, mask)
        return sums(hidden, mask) / mask.sum(dim=1).clamp(min=1)

    message = failure_message(check_masked_mean, named(NAME, counts_without_their_dimension))
    assert message.startswith("masked_mean(hidden, mask) with D = 1 (hidden (3, 5, 1), lengths [2, 5, 3]) returned a "
                              "tensor of shape (3, 3), but (3, 1) is expected: the counts [B] broadcast")


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_masked_mean(named(NAME, by_weights))
        assert "the mask is read the other way round" in failure_message(check_masked_mean, named(NAME, inverted))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_masked_mean, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "the sum over the real positions is divided by T, the padded length" in message
