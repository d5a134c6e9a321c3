import numpy as np
import pytest
import torch

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.offsets import MISTAKES, SCENARIOS, check_embedding_bag_offsets
from course_lib.data import sequences
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "embedding_bag_offsets"


# ------------------------------------------------ right answers, as students write them

def by_cumsum(sequences):
    lengths = [len(ids) for ids in sequences]
    input = torch.tensor([int(token) for ids in sequences for token in ids], dtype=torch.int64)
    if not sequences:
        return input, torch.zeros(0, dtype=torch.int64)
    offsets = torch.tensor([0] + lengths[:-1], dtype=torch.int64).cumsum(0)
    return input, offsets


def by_a_loop(sequences):
    flat, starts = [], []
    for ids in sequences:
        starts.append(len(flat))
        flat.extend(int(token) for token in ids)
    return torch.tensor(flat, dtype=torch.long), torch.tensor(starts, dtype=torch.long)


def by_numpy(sequences):
    arrays = [np.asarray(ids, dtype=np.int64) for ids in sequences]
    lengths = np.array([len(ids) for ids in arrays], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return torch.from_numpy(np.concatenate(arrays)), torch.from_numpy(starts)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_cumsum, by_a_loop, by_numpy])
def test_right_answers_pass(answer, seed, capsys):
    check_embedding_bag_offsets(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_order_within_a_bag_does_not_matter_to_embedding_bag():
    def reversed_bags(sequences):
        input, offsets = by_a_loop([list(ids)[::-1] for ids in sequences])
        return input, offsets

    check_embedding_bag_offsets(named(NAME, reversed_bags))


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, by_a_loop))
    check_embedding_bag_offsets(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_sequences():
    seen = {}

    def recording(sequences):
        seen.setdefault(seed, []).append([list(map(int, ids)) for ids in sequences])
        return by_a_loop(sequences)

    for seed in (0, 1):
        check_embedding_bag_offsets(named(NAME, recording), seed=seed)
    assert seen[0][:5] == seen[1][:5] and seen[0][-1] == seen[1][-1]
    assert seen[0][5] != seen[1][5] and seen[0][6] != seen[1][6]


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_embedding_bag_offsets(named(NAME, by_a_loop)))


def test_the_courses_offsets_are_not_an_answer():
    with pytest.raises(DelegationFailure, match="called course_lib.data.embedding_bag_offsets, the course's own"):
        check_embedding_bag_offsets(named(NAME, lambda given: sequences.embedding_bag_offsets(given)))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(sequences):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_embedding_bag_offsets, named(NAME, blank))


def test_emptying_the_sequences_is_told():
    def pops(sequences):
        result = by_a_loop(sequences)
        sequences.clear()
        return result

    assert "changed the list sequences" in failure_message(check_embedding_bag_offsets, named(NAME, pops))


# ------------------------------------------------------------------------------- mistakes

def with_the_total(sequences):
    lengths = torch.tensor([len(ids) for ids in sequences], dtype=torch.int64)
    input = torch.tensor([int(token) for ids in sequences for token in ids], dtype=torch.int64)
    return input, torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)])


def lengths_as_offsets(sequences):
    input, _ = by_a_loop(sequences)
    return input, torch.tensor([len(ids) for ids in sequences], dtype=torch.int64)


def ends(sequences):
    input, _ = by_a_loop(sequences)
    return input, torch.tensor([len(ids) for ids in sequences], dtype=torch.int64).cumsum(0)


def last_positions(sequences):
    input, starts = by_a_loop(sequences)
    return input, torch.cat([starts[:1], starts[1:] - 1])


def from_one(sequences):
    input, starts = by_a_loop(sequences)
    return input, starts + 1


def empty_skipped(sequences):
    return by_a_loop([ids for ids in sequences if len(ids)])


MISTAKE_CASES = [
    (with_the_total, "offsets = [0, 2, 3, 6], expected [0, 2, 3] — nn.EmbeddingBag(...)(input, offsets) gives 4 bags "
                     "for the 3 sequences", "holds B + 1 entries"),
    (lengths_as_offsets, "raised RuntimeError: offsets[0] has to be 0", "holds each sequence's length"),
    (ends, "raised RuntimeError: offsets[0] has to be 0", "where each sequence ends"),
    (last_positions, "offsets = [0, 1, 2], expected [0, 2, 3]", "each start after the first is one too small"),
    (from_one, "offsets = [1, 3, 4], expected [0, 2, 3]", "as if positions counted from 1"),
    (empty_skipped, "with an empty sequence in the middle returned offsets = [0, 2], expected [0, 2, 2]",
     "empty sequences got no offset"),
]


@pytest.mark.parametrize("function, shown, phrase", MISTAKE_CASES)
def test_mistakes_are_named_with_what_embedding_bag_made_of_the_offsets(function, shown, phrase):
    message = failure_message(check_embedding_bag_offsets, named(NAME, function))
    assert message.startswith("embedding_bag_offsets(sequences) with ")
    assert shown in message
    assert phrase in message
    assert "Hint: input = all the ids one after the other" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_embedding_bag_offsets, named(NAME, function), seed=seed)


def test_every_mistake_has_a_case():
    assert len(MISTAKES) == len(MISTAKE_CASES)
    for mistake in MISTAKES:
        assert sum(phrase in mistake.explanation for _, _, phrase in MISTAKE_CASES) == 1


def test_an_unknown_mistake_says_which_bag_differs_without_a_cause():
    def last_id_lost(sequences):
        input, offsets = by_a_loop(sequences)
        return (input[:-1], offsets) if len(sequences) > 10 else (input, offsets)

    message = failure_message(check_embedding_bag_offsets, named(NAME, last_id_lost))
    assert message.startswith("embedding_bag_offsets(sequences) with 16 review-like sequences drawn at random returned "
                              "input = ")
    assert "the first difference is at position" in message and "the ids end where" in message
    assert "nn.EmbeddingBag(mode=\"sum\")'s bag 15 is not the sum of sequences[15] = [" in message
    for wrong in MISTAKES:
        assert wrong.explanation not in message


@pytest.mark.parametrize("result, phrase", [
    (lambda sequences: None, "returned None, but a tuple (input, offsets) is expected: did the function end without"),
    (lambda sequences: by_a_loop(sequences)[0], "returned a torch.Tensor, but a tuple (input, offsets) is expected"),
    (lambda sequences: tuple(value.numpy() for value in by_a_loop(sequences)),
     ": input is a numpy array, but an int64 torch.Tensor is expected. torch.from_numpy(...) turns an array into one."),
    (lambda sequences: (by_a_loop(sequences)[0], [0, 2, 3]),
     ": offsets is a list, but an int64 torch.Tensor is expected. torch.tensor(...) turns a list into one."),
    (lambda sequences: (by_a_loop(sequences)[0].int(), by_a_loop(sequences)[1].int()),
     ": input has dtype torch.int32, but int64 is expected: EmbeddingBag wants int64 ids and offsets, .long()."),
    (lambda sequences: (torch.nn.utils.rnn.pad_sequence([torch.tensor(ids) for ids in sequences], batch_first=True),
                        by_a_loop(sequences)[1]),
     ": input has shape (3, 3), but a 1-D tensor is expected — a padded [B, T] batch?"),
])
def test_a_result_of_the_wrong_kind_is_told(result, phrase):
    message = failure_message(check_embedding_bag_offsets, named(NAME, result))
    assert message.startswith(f"embedding_bag_offsets(sequences) with three short sequences{phrase}"
                              if phrase.startswith(":") else f"embedding_bag_offsets(sequences) with three short "
                                                             f"sequences {phrase}")


def test_float_ids_from_an_empty_sequence_are_told():
    def concatenates_floats(sequences):
        input = torch.from_numpy(np.concatenate([np.asarray(ids) for ids in sequences]))
        return input, by_a_loop(sequences)[1]

    message = failure_message(check_embedding_bag_offsets, named(NAME, concatenates_floats))
    assert message.startswith("embedding_bag_offsets(sequences) with an empty sequence in the middle: input has "
                              "dtype torch.float64, but int64 is expected — np.concatenate of no arrays, or "
                              "np.array([]), is float64")


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered():
        check_embedding_bag_offsets(named(NAME, by_a_loop))
        assert "holds B + 1 entries" in failure_message(check_embedding_bag_offsets, named(NAME, with_the_total))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_embedding_bag_offsets, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "offsets holds B + 1 entries, the total length last" in message
