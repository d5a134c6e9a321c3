import numpy as np
import pytest
import torch

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.log_count_ratio import MISTAKES, SCENARIOS, check_log_count_ratio
from course_lib.data import text_features
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "log_count_ratio"


# ------------------------------------------------ right answers, as students write them

def by_boolean_rows(features, labels, alpha=1.0):
    p = alpha + features[labels == 1].sum(dim=0)
    q = alpha + features[labels == 0].sum(dim=0)
    return torch.log(p / p.sum()) - torch.log(q / q.sum())


def by_matrix_products(features, labels, alpha=1.0):
    positive = labels.to(features.dtype)
    p = alpha + positive @ features
    q = alpha + (1 - positive) @ features
    return torch.log(p / torch.linalg.norm(p, ord=1)) - torch.log(q / torch.linalg.norm(q, ord=1))


def by_log_differences(features, labels, alpha=1.0):
    p = features[labels.bool()].sum(0) + alpha
    q = features[~labels.bool()].sum(0) + alpha
    return (p.log() - p.sum().log()) - (q.log() - q.sum().log())


def by_numpy(features, labels, alpha=1.0):
    x, y = features.numpy(), labels.numpy()
    p, q = alpha + x[y == 1].sum(axis=0), alpha + x[y == 0].sum(axis=0)
    return torch.from_numpy(np.log(p / np.abs(p).sum()) - np.log(q / np.abs(q).sum()))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_boolean_rows, by_matrix_products, by_log_differences, by_numpy])
def test_right_answers_pass(answer, seed, capsys):
    check_log_count_ratio(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, by_boolean_rows))
    check_log_count_ratio(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_reviews():
    seen = {}

    def recording(features, labels, alpha=1.0):
        seen.setdefault(seed, []).append((features.clone(), labels.clone()))
        return by_boolean_rows(features, labels, alpha)

    for seed in (0, 1):
        check_log_count_ratio(named(NAME, recording), seed=seed)
    (features_0, labels_0), (features_1, labels_1) = seen[0][0], seen[1][0]
    assert features_0.shape == features_1.shape and not torch.equal(features_0, features_1)
    assert not torch.equal(labels_0, labels_1)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_log_count_ratio(named(NAME, by_boolean_rows)))


def test_the_courses_ratio_is_not_an_answer():
    def by_the_course(features, labels, alpha=1.0):
        return text_features.log_count_ratio(features, labels, alpha)

    with pytest.raises(DelegationFailure, match="called course_lib.data.log_count_ratio, the course's"):
        check_log_count_ratio(named(NAME, by_the_course))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(features, labels, alpha=1.0):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_log_count_ratio, named(NAME, blank))


def test_sorting_the_labels_in_place_is_told():
    def sorts(features, labels, alpha=1.0):
        labels[:] = labels.sort().values
        return by_boolean_rows(features, labels, alpha)

    assert "changed its argument labels in place" in failure_message(check_log_count_ratio, named(NAME, sorts))


def test_labels_multiplied_as_int64_get_advice():
    def int64_product(features, labels, alpha=1.0):
        return by_matrix_products(features, labels, alpha) + 0 * (labels @ features)

    message = failure_message(check_log_count_ratio, named(NAME, int64_product))
    assert "raised RuntimeError: expected m1 and m2 to have the same dtype" in message
    assert "Hint: a matrix product of tensors of two dtypes (the labels are int64, the features float64)" in message


# ------------------------------------------------------------------------------- mistakes
# Each is by_boolean_rows with one thing written wrong.

def sums(features, labels):
    return features[labels == 1].sum(0), features[labels == 0].sum(0)


def classes_swapped(features, labels, alpha=1.0):
    return by_boolean_rows(features, 1 - labels, alpha)


def not_normalised(features, labels, alpha=1.0):
    positive, negative = sums(features, labels)
    return torch.log((alpha + positive) / (alpha + negative))


def alpha_left_out(features, labels, alpha=1.0):
    p, q = sums(features, labels)
    return torch.log(p / p.sum()) - torch.log(q / q.sum())


def alpha_ignored(features, labels, alpha=1.0):
    return by_boolean_rows(features, labels)


def alpha_per_review(features, labels, alpha=1.0):
    p, q = (features + alpha)[labels == 1].sum(0), (features + alpha)[labels == 0].sum(0)
    return torch.log(p / p.sum()) - torch.log(q / q.sum())


def alpha_after_normalising(features, labels, alpha=1.0):
    p, q = sums(features, labels)
    return torch.log(p / p.sum() + alpha) - torch.log(q / q.sum() + alpha)


def norm_without_alpha(features, labels, alpha=1.0):
    p, q = sums(features, labels)
    return torch.log((p + alpha) / p.sum()) - torch.log((q + alpha) / q.sum())


def means(features, labels, alpha=1.0):
    p, q = alpha + features[labels == 1].mean(0), alpha + features[labels == 0].mean(0)
    return torch.log(p / p.sum()) - torch.log(q / q.sum())


def q_over_all_reviews(features, labels, alpha=1.0):
    p, q = alpha + features[labels == 1].sum(0), alpha + features.sum(0)
    return torch.log(p / p.sum()) - torch.log(q / q.sum())


def no_log(features, labels, alpha=1.0):
    p, q = alpha + features[labels == 1].sum(0), alpha + features[labels == 0].sum(0)
    return (p / p.sum()) / (q / q.sum())


FIRST = ("log_count_ratio(features, labels) with binary features of 8 reviews over 6 words, the default alpha "
         "(8 reviews, 6 words)")
MISTAKE_CASES = [
    (classes_swapped, FIRST, "the classes are swapped"),
    (not_normalised, FIRST, "p and q are not normalised"),
    (alpha_left_out, FIRST, "alpha is left out"),
    (alpha_ignored, "log_count_ratio(features, labels, alpha=0.5) with alpha=0.5", "alpha is ignored"),
    (alpha_per_review, FIRST, "alpha counts once per review: it was added to every review's row before summing"),
    (alpha_after_normalising, FIRST, "alpha is added after dividing by the L1 norm"),
    (norm_without_alpha, FIRST, "the L1 norm is taken of the counts without alpha"),
    (means, FIRST, "or the rows were averaged (.mean(0)) instead of summed"),
    (q_over_all_reviews, FIRST, "q sums every review, not only the negative ones"),
    (no_log, FIRST, "the log is missing"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_log_count_ratio, named(NAME, function))
    assert message.startswith(where)
    assert ": r = [" in message and ", expected [" in message
    assert phrase in message
    assert "Hint: positive = (labels == 1).to(features.dtype); p = alpha + positive @ features" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_log_count_ratio, named(NAME, function), seed=seed)


def test_an_unknown_mistake_says_which_entries_differ_without_a_cause():
    def natural_log_of_counts_plus_one(features, labels, alpha=1.0):
        return by_boolean_rows(features, labels, alpha) + 1e-3 * torch.arange(features.shape[1])

    message = failure_message(check_log_count_ratio, named(NAME, natural_log_of_counts_plus_one))
    assert message.startswith(f"{FIRST}: r differs from the expected values in 5 of 6 entries; the largest "
                              f"difference is at r[5]")
    for wrong in MISTAKES:
        assert wrong.explanation not in message


@pytest.mark.parametrize("function, phrase", [
    (lambda features, labels, alpha=1.0: by_boolean_rows(features, labels, alpha).numpy(),
     f"{FIRST} returned a numpy array, but a torch.Tensor of shape (6,) is expected"),
    (lambda features, labels, alpha=1.0: None, "did the function end without a `return` statement?"),
    (lambda features, labels, alpha=1.0: by_boolean_rows(features, labels, alpha)[None],
     f"{FIRST} has shape (1, 6) but should have shape (6,): it has an extra dimension of size 1"),
    (lambda features, labels, alpha=1.0: by_boolean_rows(features, labels, alpha).float(),
     f"{FIRST} has dtype torch.float32 but should have dtype torch.float64"),
])
def test_a_result_of_the_wrong_kind_is_told_at_once(function, phrase):
    assert phrase in failure_message(check_log_count_ratio, named(NAME, function))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered(builtin_names=("abs", "all", "any", "round", "sum", "max", "min")):
        check_log_count_ratio(named(NAME, by_boolean_rows))
        assert "the classes are swapped" in failure_message(check_log_count_ratio, named(NAME, classes_swapped))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_log_count_ratio, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "alpha is left out" in message
