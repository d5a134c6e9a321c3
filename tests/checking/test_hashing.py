import numpy as np
import pytest
import torch

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.hashing import MISTAKES, SCENARIOS, check_hashed_ngrams
from course_lib.data import sequences
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "hashed_ngrams"
M = 116049371


# ------------------------------------------------ right answers, as students write them

def fasttext_loop(ids, vocab_size, buckets, n, *, step=lambda h, token: (h * M + token) % 2**64,
                  bucket=lambda h, buckets: h % buckets, end=len):
    """addWordNgrams as a student writes it in Python; the keywords are what the mistakes change."""
    ids = [int(token) for token in ids]
    result = list(ids)
    for i in range(len(ids)):
        h = ids[i]
        for j in range(i + 1, min(i + n, end(ids))):
            h = step(h, ids[j])
            result.append(vocab_size + bucket(h, buckets))
    return np.array(result, dtype=np.int64)


def in_python(ids, vocab_size, buckets, n=2):
    return fasttext_loop(ids, vocab_size, buckets, n)


def in_uint64(ids, vocab_size, buckets, n=2):
    ids = np.asarray(ids, dtype=np.uint64)
    result = [ids.astype(np.int64)]
    for i in range(len(ids)):
        h = ids[i]
        for j in range(i + 1, min(i + n, len(ids))):
            h = h * np.uint64(M) + ids[j]  # a numpy scalar wraps (and warns, which the harness silences)
            result.append(np.array([vocab_size + int(h % np.uint64(buckets))], dtype=np.int64))
    return np.concatenate(result)


def vectorised(ids, vocab_size, buckets, n=2):
    ids = np.asarray(ids, dtype=np.uint64)
    table = np.full((len(ids), max(n - 1, 0)), -1, dtype=np.int64)
    h = ids
    for k in range(2, n + 1):
        h = h[:-1] * np.uint64(M) + ids[k - 1:]
        table[:len(h), k - 2] = vocab_size + (h % np.uint64(buckets)).astype(np.int64)
    return np.concatenate([ids.astype(np.int64), table[table >= 0]])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [in_python, in_uint64, vectorised])
def test_right_answers_pass(answer, seed, capsys):
    check_hashed_ngrams(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, in_python))
    check_hashed_ngrams(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_ids():
    seen = {}

    def recording(ids, vocab_size, buckets, n=2):
        seen.setdefault(seed, []).append([int(token) for token in ids])
        return in_python(ids, vocab_size, buckets, n)

    for seed in (0, 1):
        check_hashed_ngrams(named(NAME, recording), seed=seed)
    assert seen[0][:6] == seen[1][:6] and seen[0][7] == seen[1][7]
    assert seen[0][6] != seen[1][6] and seen[0][8] != seen[1][8]


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_hashed_ngrams(named(NAME, in_python)))


def test_the_courses_hashing_is_not_an_answer():
    with pytest.raises(DelegationFailure, match="called course_lib.data.hashed_ngrams, the course's own solution"):
        check_hashed_ngrams(named(NAME, lambda ids, vocab_size, buckets, n=2: sequences.hashed_ngrams(
            ids, vocab_size, buckets, n)))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(ids, vocab_size, buckets, n=2):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_hashed_ngrams, named(NAME, blank))


def test_changing_the_ids_in_place_is_told():
    def extends(ids, vocab_size, buckets, n=2):
        result = in_python(ids, vocab_size, buckets, n)
        if isinstance(ids, list):
            ids.extend(result[len(ids):].tolist())
        return result

    assert "changed the list ids" in failure_message(check_hashed_ngrams, named(NAME, extends))


# ------------------------------------------------------------------------------- mistakes
# Each is in_python (or a numpy version) with one thing written wrong.

def no_wrap(ids, vocab_size, buckets, n=2):
    return fasttext_loop(ids, vocab_size, buckets, n, step=lambda h, token: h * M + token)


def reduced_every_step(ids, vocab_size, buckets, n=2):
    return fasttext_loop(ids, vocab_size, buckets, n, step=lambda h, token: (h * M + token) % buckets,
                         bucket=lambda h, buckets: h)


def signed(ids, vocab_size, buckets, n=2):
    ids = np.asarray(ids, dtype=np.int64)
    table = np.full((len(ids), max(n - 1, 0)), -1, dtype=np.int64)
    h = ids
    for k in range(2, n + 1):
        h = h[:-1] * M + ids[k - 1:]
        table[:len(h), k - 2] = vocab_size + h % buckets
    return np.concatenate([ids, table[table >= 0]])


def no_offset(ids, vocab_size, buckets, n=2):
    words = len(ids)
    result = in_python(ids, vocab_size, buckets, n)
    result[words:] -= vocab_size
    return result


def last_dropped(ids, vocab_size, buckets, n=2):
    return fasttext_loop(ids, vocab_size, buckets, n, end=lambda ids: len(ids) - 1)


def new_id_multiplied(ids, vocab_size, buckets, n=2):
    return fasttext_loop(ids, vocab_size, buckets, n, step=lambda h, token: (h + token * M) % 2**64)


def backwards(ids, vocab_size, buckets, n=2):
    ids = [int(token) for token in ids]
    result = list(ids)
    for i in range(len(ids)):
        window = ids[i:i + n][::-1]
        h = window[0]
        for token in window[1:]:
            h = (h * M + token) % 2**64
            result.append(vocab_size + h % buckets)
    return np.array(result, dtype=np.int64)


def ngrams_only(ids, vocab_size, buckets, n=2):
    return in_python(ids, vocab_size, buckets, n)[len(ids):]


def by_length(ids, vocab_size, buckets, n=2):
    ids = np.asarray(ids, dtype=np.uint64)
    parts, h = [ids.astype(np.int64)], ids
    for k in range(2, n + 1):
        h = h[:-1] * np.uint64(M) + ids[k - 1:]
        parts.append(vocab_size + (h % np.uint64(buckets)).astype(np.int64))
    return np.concatenate(parts)


def exactly_n(ids, vocab_size, buckets, n=2):
    ids = [int(token) for token in ids]
    result = list(ids)
    for i in range(len(ids) - n + 1):
        h = ids[i]
        for j in range(i + 1, i + n):
            h = (h * M + ids[j]) % 2**64
        if n > 1:
            result.append(vocab_size + h % buckets)
    return np.array(result, dtype=np.int64)


LARGE = "with large ids, whose trigram hashes pass 2**64"
FIRST = "with three ids and the default bigrams"
TRIGRAMS = "with small ids, up to trigrams"
MISTAKE_CASES = [
    (no_wrap, LARGE, "the hashes never wrap around at 2**64"),
    (reduced_every_step, LARGE, "the hashes never wrap around at 2**64"),
    (signed, LARGE, "wrap around as signed 64-bit integers"),
    (no_offset, FIRST, "lack the offset vocab_size"),
    (last_dropped, FIRST, "the n-grams that end at the last id are missing"),
    (new_id_multiplied, FIRST, "each step multiplies the new id instead of the hash so far"),
    (backwards, FIRST, "combined from last to first"),
    (ngrams_only, FIRST, "the ids themselves are missing"),
    (by_length, TRIGRAMS, "grouped by length"),
    (exactly_n, TRIGRAMS, "only the n-grams of exactly n ids"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_hashed_ngrams, named(NAME, function))
    assert where in message.split(" returned ")[0]
    assert phrase in message
    assert "Hint: start with the ids" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_hashed_ngrams, named(NAME, function), seed=seed)


def test_every_mistake_has_a_case():
    for mistake in MISTAKES:
        assert any(phrase in mistake.explanation for _, _, phrase in MISTAKE_CASES)


def test_the_message_says_which_ngram_differs():
    message = failure_message(check_hashed_ngrams, named(NAME, no_wrap))
    assert message.startswith(
        "hashed_ngrams(ids, vocab_size=100000, buckets=2000003, n=3) with large ids, whose trigram hashes pass 2**64, "
        "ids = [90000, 80000, 70000, 60000] returned [90000, 80000, 70000, 60000, ")
    assert "(position 5 is the id of the 3-gram ids[0:3] = [90000, 80000, 70000]): the hashes never wrap" in message


def test_an_unknown_mistake_is_told_without_a_cause():
    def one_bucket_off(ids, vocab_size, buckets, n=2):
        result = in_python(ids, vocab_size, buckets, n)
        result[len(ids):] = vocab_size + (result[len(ids):] - vocab_size + 1) % buckets
        return result

    message = failure_message(check_hashed_ngrams, named(NAME, one_bucket_off))
    assert message.startswith("hashed_ngrams(ids, vocab_size=10, buckets=7) with three ids and the default bigrams, "
                              "ids = [3, 1, 4] returned [3, 1, 4, 10, 12], expected [3, 1, 4, 16, 11] (position 3 is "
                              "the id of the 2-gram ids[0:2] = [3, 1]).")
    for wrong in MISTAKES:
        assert wrong.explanation not in message


@pytest.mark.parametrize("convert, phrase", [
    (lambda result: result.astype(np.uint64), "returned an array of dtype uint64, but int64 is expected: the hashes "
                                              "are np.uint64"),
    (lambda result: result.tolist(), "returned a list, but an int64 numpy array is expected: np.array(..., "
                                     "dtype=np.int64)"),
    (lambda result: torch.from_numpy(result), "returned a torch.Tensor, but an int64 numpy array is expected: "
                                              ".numpy()"),
    (lambda result: result[None], "returned an array of shape (1, 5), but a 1-D array is expected"),
])
def test_a_result_of_the_wrong_kind_is_told(convert, phrase):
    message = failure_message(check_hashed_ngrams, named(NAME, lambda ids, vocab_size, buckets, n=2: convert(
        in_python(ids, vocab_size, buckets, n))))
    assert message.startswith(f"hashed_ngrams(ids, vocab_size=10, buckets=7) with three ids and the default bigrams, "
                              f"ids = [3, 1, 4] {phrase}")


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered(builtin_names=("abs", "all", "any", "round", "sum", "max")):  # the answers use min
        check_hashed_ngrams(named(NAME, in_python))
        assert "grouped by length" in failure_message(check_hashed_ngrams, named(NAME, by_length))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_hashed_ngrams, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "the hashes never wrap around at 2**64" in message
