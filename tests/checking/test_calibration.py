import numpy as np
import pytest

from course_lib import metrics
from course_lib.checking.calibration import MISTAKES, SCENARIOS, check_expected_calibration_error
from course_lib.checking.failure import DelegationFailure
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "expected_calibration_error"


# ------------------------------------------------ right answers, as students write them

def by_a_loop_over_the_bins(confidences, correct, n_bins=15):
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (confidences > lo) & (confidences <= hi)
        if lo == 0:
            in_bin |= confidences == 0
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidences[in_bin].mean())
    return ece


def by_digitize(confidences, correct, n_bins=15):
    bins = np.digitize(confidences, np.linspace(0, 1, n_bins + 1)[1:-1], right=True)
    counts = np.bincount(bins, minlength=n_bins)
    filled = counts > 0
    accuracy = np.bincount(bins, weights=correct, minlength=n_bins)[filled] / counts[filled]
    confidence = np.bincount(bins, weights=confidences, minlength=n_bins)[filled] / counts[filled]
    return float(np.sum(counts[filled] / len(confidences) * np.abs(accuracy - confidence)))


def by_ceil(confidences, correct, n_bins=15):
    bins = np.maximum(np.ceil(confidences * n_bins).astype(int) - 1, 0)
    total = 0.0
    for b in np.unique(bins):
        members = bins == b
        total += members.sum() * abs(correct[members].mean() - confidences[members].mean())
    return total / len(confidences)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_a_loop_over_the_bins, by_digitize, by_ceil])
def test_right_answers_pass(answer, seed, capsys):
    check_expected_calibration_error(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, by_digitize))
    check_expected_calibration_error(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_predictions():
    seen = {}

    def recording(confidences, correct, n_bins=15):
        seen.setdefault(seed, []).append(confidences.copy())
        return by_digitize(confidences, correct, n_bins)

    for seed in (0, 1):
        check_expected_calibration_error(named(NAME, recording), seed=seed)
    assert not np.array_equal(seen[0][0], seen[1][0])
    assert sorted(seen[0][2]) == sorted(seen[1][2])  # the bin edges' scenario: the same values, shuffled
    assert not np.array_equal(seen[0][2], seen[1][2])


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_expected_calibration_error(named(NAME, by_digitize)))


def test_the_courses_calibration_is_not_an_answer():
    def by_the_course(confidences, correct, n_bins=15):
        return metrics.expected_calibration_error(confidences, correct, n_bins)

    def by_the_courses_bins(confidences, correct, n_bins=15):
        bins = metrics.calibration_bins(confidences, correct, n_bins)
        filled = bins.counts > 0
        return float(np.sum(bins.counts[filled] / len(confidences)
                            * np.abs(bins.accuracy[filled] - bins.confidence[filled])))

    with pytest.raises(DelegationFailure, match="called course_lib.metrics.expected_calibration_error, the course's"):
        check_expected_calibration_error(named(NAME, by_the_course))
    with pytest.raises(DelegationFailure, match="called course_lib.metrics.calibration_bins"):
        check_expected_calibration_error(named(NAME, by_the_courses_bins))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(confidences, correct, n_bins=15):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_expected_calibration_error,
                                                                        named(NAME, blank))


def test_sorting_the_confidences_in_place_is_told():
    def sorts(confidences, correct, n_bins=15):
        confidences.sort()
        return 0.0

    assert "changed its argument confidences in place" in failure_message(check_expected_calibration_error,
                                                                           named(NAME, sorts))


# ------------------------------------------------------------------------------- mistakes
# Each is by_a_loop_over_the_bins, or a vectorised answer, with one thing written wrong.

def per_bin(confidences, correct, n_bins, *, closed_below=False):
    """[(count, accuracy, mean confidence)] of the non-empty bins."""
    edges = np.linspace(0, 1, n_bins + 1)
    bins = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (confidences >= lo) & (confidences < hi) if closed_below else (confidences > lo) & (confidences <= hi)
        if in_bin.any():
            bins.append((in_bin.sum(), correct[in_bin].mean(), confidences[in_bin].mean()))
    return bins


def unweighted(confidences, correct, n_bins=15):
    return np.mean([abs(accuracy - confidence) for _, accuracy, confidence in per_bin(confidences, correct, n_bins)])


def empty_bins_as_zeros(confidences, correct, n_bins=15):
    return sum(abs(accuracy - confidence) for _, accuracy, confidence in per_bin(confidences, correct, n_bins)) / n_bins


def empty_bins_not_skipped(confidences, correct, n_bins=15):
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (confidences > lo) & (confidences <= hi)
        ece += in_bin.mean() * abs(correct[in_bin].mean() - confidences[in_bin].mean())
    return ece


def closed_below(confidences, correct, n_bins=15):
    bins = per_bin(confidences, correct, n_bins, closed_below=True)
    return sum(count / len(confidences) * abs(accuracy - confidence) for count, accuracy, confidence in bins)


def floor_clipped(confidences, correct, n_bins=15):
    bins = np.minimum(np.floor(confidences * n_bins).astype(int), n_bins - 1)
    return sum((bins == b).mean() * abs(correct[bins == b].mean() - confidences[bins == b].mean())
               for b in np.unique(bins))


def signed(confidences, correct, n_bins=15):
    return sum(count / len(confidences) * (accuracy - confidence)
               for count, accuracy, confidence in per_bin(confidences, correct, n_bins))


def signed_the_other_way(confidences, correct, n_bins=15):
    return -signed(confidences, correct, n_bins)


def over_all_samples(confidences, correct, n_bins=15):
    return abs(correct.mean() - confidences.mean())


def largest_gap(confidences, correct, n_bins=15):
    return max(abs(accuracy - confidence) for _, accuracy, confidence in per_bin(confidences, correct, n_bins))


def counts_not_divided(confidences, correct, n_bins=15):
    bins = per_bin(confidences, correct, n_bins)
    return sum(count * abs(accuracy - confidence) for count, accuracy, confidence in bins)


def fifteen_bins_always(confidences, correct, n_bins=15):
    return by_a_loop_over_the_bins(confidences, correct)


FIRST = "expected_calibration_error(confidences, correct) with an overconfident classifier (200 predictions, n_bins=15)"
EDGES = "expected_calibration_error(confidences, correct, 4) with confidences exactly on the bin edges"
MISTAKE_CASES = [
    (unweighted, FIRST, "each bin's gap counts the same"),
    (empty_bins_as_zeros, FIRST, "averaged over all n_bins bins, the empty ones counting as 0"),
    (empty_bins_not_skipped, FIRST, "returned nan, expected 0."),
    (empty_bins_not_skipped, FIRST, "an empty bin's mean confidence and accuracy are 0 / 0 = nan"),
    (closed_below, EDGES, "a confidence of exactly 1.0 falls in no bin"),
    (floor_clipped, EDGES, "the bins are closed below, [lo, hi), so a confidence exactly on an edge such as 0.5 lands"),
    (signed, FIRST, "the absolute value is missing"),
    (signed_the_other_way, FIRST, "the absolute value is missing"),
    (over_all_samples, FIRST, "|accuracy - mean confidence| over all the samples at once"),
    (largest_gap, FIRST, "the largest gap of a bin (the maximum calibration error)"),
    (counts_not_divided, FIRST, "weighted by its count but not divided by the number of samples N"),
    (fifteen_bins_always, "with an underconfident classifier (150 predictions)", "n_bins is ignored"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_expected_calibration_error, named(NAME, function))
    assert where in message.split(" returned ")[0]
    assert phrase in message
    assert "Hint: bin b (of n_bins) holds the confidences in (b / n_bins, (b + 1) / n_bins]" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_expected_calibration_error, named(NAME, function), seed=seed)


def test_the_signed_gap_with_this_sign_is_not_taken_for_the_gap_over_all_samples():
    # overconfident, confidence - accuracy is |accuracy - confidence|: only the underconfident
    # scenario tells the two apart
    message = failure_message(check_expected_calibration_error, named(NAME, signed_the_other_way))
    assert "over all the samples at once" not in message


def test_an_unknown_mistake_says_what_differs_without_a_cause():
    def root_mean_square(confidences, correct, n_bins=15):
        bins = per_bin(confidences, correct, n_bins)
        return np.sqrt(sum(count / len(confidences) * (accuracy - confidence) ** 2
                           for count, accuracy, confidence in bins))

    message = failure_message(check_expected_calibration_error, named(NAME, root_mean_square))
    assert message.startswith(f"{FIRST} returned 0.")
    assert ", expected 0." in message
    for wrong in MISTAKES:
        assert wrong.explanation not in message


def test_a_bin_index_past_the_last_gets_advice():
    def floor_unclipped(confidences, correct, n_bins=15):
        bins = np.floor(confidences * n_bins).astype(int)
        counts = np.zeros(n_bins)
        np.add.at(counts, bins, 1)
        return 0.0

    message = failure_message(check_expected_calibration_error, named(NAME, floor_unclipped))
    assert message.startswith(f"{EDGES} 0.25, 0.5 and 0.75 and at 1.0 (12 predictions) raised IndexError")
    assert "Hint: a bin index of n_bins or more: a confidence of exactly 1.0" in message


def test_arrays_are_told_before_values():
    message = failure_message(check_expected_calibration_error, named(NAME, lambda confidences, correct, n_bins=15: (
        np.array([by_digitize(confidences, correct, n_bins)]))))
    assert "returned a numpy array of shape (1,), but a number is expected: .item() takes the number out" in message


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered(builtin_names=("all", "any", "round", "sum", "max", "min")):
        check_expected_calibration_error(named(NAME, by_a_loop_over_the_bins))
        assert "n_bins is ignored" in failure_message(check_expected_calibration_error,
                                                      named(NAME, fifteen_bins_always))
    assert capsys.readouterr() == ("", "")
