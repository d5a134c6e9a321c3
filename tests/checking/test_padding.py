import numpy as np
import pytest
import torch

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.padding import MISTAKES, SCENARIOS, check_pad_sequences
from course_lib.data import sequences
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "pad_sequences"


# ------------------------------------------------ right answers, as students write them

def row_by_row(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    if maxlen is None:
        maxlen = max((len(ids) for ids in sequences), default=0)
    padded = np.full((len(sequences), maxlen), value, dtype=np.int64)
    for row, ids in enumerate(sequences):
        ids = list(ids)
        kept = ids[len(ids) - maxlen:] if truncating == "pre" and len(ids) > maxlen else ids[:maxlen]
        if not kept:
            continue
        if padding == "pre":
            padded[row, -len(kept):] = kept
        else:
            padded[row, :len(kept)] = kept
    return padded


def by_lists(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    width = maxlen if maxlen is not None else max(len(ids) for ids in sequences)
    rows = []
    for ids in sequences:
        ids = [int(token) for token in ids]
        if len(ids) > width:
            ids = ids[-width:] if truncating == "pre" else ids[:width]
        filler = [value] * (width - len(ids))
        rows.append(filler + ids if padding == "pre" else ids + filler)
    return np.array(rows, dtype=np.int64).reshape(len(sequences), width)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [row_by_row, by_lists])
def test_right_answers_pass(answer, seed, capsys):
    check_pad_sequences(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, row_by_row))
    check_pad_sequences(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_sequences():
    seen = {}

    def recording(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
        seen.setdefault(seed, []).append([list(ids) for ids in sequences])
        return row_by_row(sequences, maxlen, padding, truncating, value)

    for seed in (0, 1):
        check_pad_sequences(named(NAME, recording), seed=seed)
    assert seen[0][:-2] == seen[1][:-2]
    assert seen[0][-1] != seen[1][-1] and seen[0][-2] != seen[1][-2]


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_pad_sequences(named(NAME, row_by_row)))


def test_the_courses_and_torchs_padding_are_not_answers():
    def by_torch(given, maxlen=None, padding="pre", truncating="pre", value=0):
        rows = [torch.as_tensor(list(ids), dtype=torch.int64) for ids in given]
        return torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=value).numpy()

    with pytest.raises(DelegationFailure, match="called course_lib.data.pad_sequences, the course's own solution"):
        check_pad_sequences(named(NAME, lambda seqs, *options: sequences.pad_sequences(seqs, *options)))
    with pytest.raises(DelegationFailure, match="called torch.nn.utils.rnn.pad_sequence"):
        check_pad_sequences(named(NAME, by_torch))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_pad_sequences, named(NAME, blank))


def test_changing_a_sequence_in_place_is_told():
    def pops(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
        for ids in sequences:
            while maxlen is not None and len(ids) > maxlen:
                ids.pop(0)
        return row_by_row(sequences, maxlen, padding, truncating, value)

    assert "changed the list sequences" in failure_message(check_pad_sequences, named(NAME, pops))


# ------------------------------------------------------------------------------- mistakes
# Each is row_by_row with one thing written wrong.

def padding_swapped(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    return row_by_row(sequences, maxlen, "post" if padding == "pre" else "pre", truncating, value)


def truncating_swapped(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    return row_by_row(sequences, maxlen, padding, "post" if truncating == "pre" else "pre", value)


def both_swapped(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    return row_by_row(sequences, maxlen, "post" if padding == "pre" else "pre",
                      "post" if truncating == "pre" else "pre", value)


def post_defaults(sequences, maxlen=None, padding="post", truncating="post", value=0):
    return row_by_row(sequences, maxlen, padding, truncating, value)


def maxlen_ignored(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    return row_by_row(sequences, None, padding, truncating, value)


def one_column_too_many(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    width = (maxlen if maxlen is not None else max(len(ids) for ids in sequences)) + 1
    return row_by_row(sequences, width, padding, truncating, value)


def slice_off_by_one(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    if maxlen is None:
        maxlen = max(len(ids) for ids in sequences)
    padded = np.full((len(sequences), maxlen), value, dtype=np.int64)
    for row, ids in enumerate(sequences):
        ids = list(ids)
        kept = ids[-(maxlen - 1):] if truncating == "pre" else ids[:maxlen - 1]
        if kept:
            if padding == "pre":
                padded[row, maxlen - len(kept):] = kept
            else:
                padded[row, :len(kept)] = kept
    return padded


def zeros_always(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    return row_by_row(sequences, maxlen, padding, truncating)


MISTAKE_CASES = [
    (padding_swapped, "with Keras's example, the defaults", "padding's sides are swapped"),
    (truncating_swapped, "with Keras's example, maxlen shorter than the longest",
     "truncating's sides are swapped: truncating="),
    (both_swapped, "with Keras's example, the defaults", "both padding's and truncating's sides are swapped"),
    (post_defaults, "with Keras's example, the defaults", "Keras's are \"pre\" for both"),
    (maxlen_ignored, "with Keras's example, maxlen shorter than the longest", "maxlen is ignored"),
    (one_column_too_many, "with Keras's example, the defaults", "every row is one longer than it should be"),
    (slice_off_by_one, "with Keras's example, the defaults", "keeps one id too few"),
    (zeros_always, "with value=-1", "the padding is always 0"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_pad_sequences, named(NAME, function))
    assert where in message.split(" returned ")[0]
    assert phrase in message
    assert "Hint: width = maxlen" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_pad_sequences, named(NAME, function), seed=seed)


def test_every_mistake_has_a_case():
    assert len(MISTAKES) == len(MISTAKE_CASES)
    for mistake in MISTAKES:
        assert sum(phrase in mistake.explanation for _, _, phrase in MISTAKE_CASES) == 1


def test_the_first_wrong_row_is_shown_with_its_sequence():
    message = failure_message(check_pad_sequences, named(NAME, padding_swapped))
    assert message.startswith("pad_sequences(sequences) with Keras's example, the defaults returned row 0 = [1, 0, 0] "
                              "for sequences[0] = [1], expected [0, 0, 1] (2 of 3 rows differ): ")


def test_an_unknown_mistake_says_which_row_differs_without_a_cause():
    def last_id_doubled(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
        padded = row_by_row(sequences, maxlen, padding, truncating, value)
        if len(sequences) > 10:
            padded[3, -1] = padded[3, -2]
        return padded

    message = failure_message(check_pad_sequences, named(NAME, last_id_doubled))
    assert message.startswith("pad_sequences(sequences, maxlen=30, padding='post', truncating='pre') with 20 "
                              "review-like sequences drawn at random returned row 3 = [")
    assert "(1 of 20 rows differ)." in message
    for wrong in MISTAKES:
        assert wrong.explanation not in message


def test_an_empty_sequence_that_crashes_gets_advice():
    def negative_zero(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
        if maxlen is None:
            maxlen = max(len(ids) for ids in sequences)
        padded = np.full((len(sequences), maxlen), value, dtype=np.int64)
        for row, ids in enumerate(sequences):
            kept = list(ids)[-maxlen:] if truncating == "pre" else list(ids)[:maxlen]
            if padding == "pre":
                padded[row, -len(kept):] = kept
            else:
                padded[row, :len(kept)] = kept
        return padded

    message = failure_message(check_pad_sequences, named(NAME, negative_zero))
    assert message.startswith("pad_sequences(sequences) with an empty sequence raised ValueError: could not broadcast")
    assert "Hint: an empty sequence: row[-len(ids):] is row[-0:], which is the whole row" in message


@pytest.mark.parametrize("convert, phrase", [
    (lambda padded: padded.astype(np.float64), "returned an array of dtype float64, but int64 is expected: np.zeros "
                                               "and np.full make float64"),
    (lambda padded: padded.astype(np.int32), "returned an array of dtype int32, but int64 is expected"),
    (lambda padded: padded.tolist(), "returned a list, but a numpy array of shape (3, 3) is expected: np.array(rows)"),
    (lambda padded: torch.from_numpy(padded), "returned a torch.Tensor, but a numpy array of shape (3, 3) is "
                                              "expected: .numpy()"),
    (lambda padded: None, "returned None, but a numpy array of shape (3, 3) is expected: did the function end"),
])
def test_a_result_of_the_wrong_kind_is_told(convert, phrase):
    def converted(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
        return convert(row_by_row(sequences, maxlen, padding, truncating, value))

    message = failure_message(check_pad_sequences, named(NAME, converted))
    assert message.startswith(f"pad_sequences(sequences) with Keras's example, the defaults {phrase}")


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered(builtin_names=("abs", "all", "any", "round", "sum", "min")):  # the answers use max
        check_pad_sequences(named(NAME, by_lists))
        assert "truncating's sides are swapped" in failure_message(check_pad_sequences, named(NAME, truncating_swapped))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_pad_sequences, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "truncating's sides are swapped" in message
