"""The check of hashed n-grams (assignment 07, Exercise 5): `hashed_ngrams(ids, vocab_size,
buckets, n=2)` — one review's token ids — returns an int64 numpy array: the ids themselves,
then, for each start position i in order and each length k = 2..n that fits, the id of the
n-gram ids[i:i + k] — fastText's Dictionary::addWordNgrams on vocabulary ids: h = ids[i],
then h = (h * 116049371 + ids[j]) mod 2**64 for j = i + 1 .. i + k - 1 (C's uint64_t
arithmetic), and the n-gram's id is vocab_size + h % buckets.

Scenarios, simplest first: three ids with the default bigrams; a single id (no n-grams); no
ids; small ids up to trigrams; n=1 (the ids alone); large ids, whose trigram hashes pass
2**64; a review-like sequence of 50 ids drawn from `seed` up to 4-grams; a numpy array with
every argument by position; a numpy array of large ids drawn from `seed` with bigrams. The
bucket counts are not powers of two, so a signed 64-bit wrap does not agree with the
unsigned one by chance. The expected ids are the check's own, in Python integers reduced
mod 2**64 by hand.

After every scenario has run, the first wrong one is reported: a cause is named only when
one of the usual mistakes — each a small wrong hashed_ngrams next to its explanation —
gives the answer's ids in every scenario; otherwise the message says which n-gram's id
differs first.

The answer runs through the harness, on copies of its ids, under the delegation watch: it
must not run its course_lib reference.
"""
from builtins import all, bool, callable, enumerate, int, isinstance, len, list, min, range, tuple
from types import SimpleNamespace

import torch

from course_lib.data import sequences as _sequences

from ._trusted import default_rng, np
from .failure import fail, kind_of, mistake
from .harness import Answer, exercise
from .lists import difference, first_difference, shown

HASHED_NGRAMS = exercise(_sequences.hashed_ngrams)

MULTIPLIER = 116049371
WRAP = 2**64
RECIPE = ("start with the ids; then for i in range(len(ids)): h = ids[i], and for j from i + 1 while j < len(ids) and "
          "j < i + n: h = (h * 116049371 + ids[j]) % 2**64, append vocab_size + h % buckets. In numpy, np.uint64 "
          "arithmetic wraps at 2**64 by itself; Python's integers never wrap.")


def _scenario(words, ids, vocab_size, buckets, n=None, by_position=False):
    """`ids` (or a function of the random generator drawing them); n None is left out."""
    draw = ids if callable(ids) else (lambda rng: list(ids))
    return SimpleNamespace(words=words, draw=draw, vocab_size=vocab_size, buckets=buckets, n=n,
                           by_position=by_position)


def _random_ids(count, below, as_array):
    def draw(rng):
        ids = rng.integers(0, below, count).astype(np.int64)
        return ids if as_array else ids.tolist()
    return draw


SCENARIOS = [
    _scenario("three ids and the default bigrams", [3, 1, 4], 10, 7),
    _scenario("a single id, which has no n-grams", [5], 10, 7),
    _scenario("no ids", [], 10, 7),
    _scenario("small ids, up to trigrams", [2, 5, 7, 1], 9, 1000, n=3),
    _scenario("n=1, the ids alone", [4, 2, 8], 10, 7, n=1),
    _scenario("large ids, whose trigram hashes pass 2**64", [90_000, 80_000, 70_000, 60_000], 100_000, 2_000_003,
              n=3),
    _scenario("50 review-like ids drawn at random, up to 4-grams", _random_ids(50, 20_000, as_array=False), 20_000,
              2_000_000, n=4),
    _scenario("a numpy array of ids, every argument by position", lambda rng: np.asarray([7, 29_999, 123, 4_567, 8]),
              30_000, 500_009, n=3, by_position=True),
    _scenario("a numpy array of 30 large ids drawn at random, bigrams", _random_ids(30, 1_000_000, as_array=True),
              1_000_000, 2_000_000, n=2),
]


# ---------------------------------------------------------------------------- expected

def _step(h, token):
    return (h * MULTIPLIER + token) % WRAP


def _ngram_ids(ids, vocab_size, buckets, n=2, *, step=_step, reduce=None, offset=True, unigrams=True,
               stop_before_last=False, reverse=False, lengths=None, by_length=False):
    """The answer's array as a list — or, with one keyword changed, a mistaken one:
    `step(h, token)` combines the hash with the next id, `reduce(h, buckets)` maps a
    hash to its bucket, `lengths(n)` the n-gram lengths made."""
    ids = [int(token) for token in ids]
    made = []  # (length, start, id)
    for start in range(len(ids)):
        end = min(start + n, len(ids) - 1 if stop_before_last else len(ids))
        window = ids[start:end]
        if reverse:
            window = window[::-1]
        h = window[0] if window else 0
        for position in range(1, len(window)):
            h = step(h, window[position])
            length = position + 1
            if lengths is None or length in lengths(n):
                bucket = h % buckets if reduce is None else reduce(h, buckets)
                made.append((length, start, (vocab_size if offset else 0) + bucket))
    if by_length:
        made.sort(key=lambda item: (item[0], item[1]))
    return (ids if unigrams else []) + [ngram_id for _, _, ngram_id in made]


def _layout(ids, n):
    """What each position of the right answer holds: ('id', i) or ('ngram', start, length)."""
    layout = [("id", position) for position in range(len(ids))]
    for start in range(len(ids)):
        for length in range(2, n + 1):
            if start + length <= len(ids):
                layout.append(("ngram", start, length))
    return layout


# ---------------------------------------------------------------------------- mistakes

def _variant(explanation, **changes):
    def hashed_ngrams(ids, vocab_size, buckets, n=2):
        return _ngram_ids(ids, vocab_size, buckets, n, **changes)
    return mistake(explanation)(hashed_ngrams)


def _signed(h, buckets):
    """h % buckets after numpy's int64 (signed) arithmetic, whose % is Python's floor modulo."""
    return (h - WRAP if h >= WRAP // 2 else h) % buckets


MISTAKES = (
    _variant("the hashes never wrap around at 2**64 — Python's integers grow without limit (and reducing h % "
             "buckets at every step gives the same as never wrapping), while fastText's uint64_t and numpy's "
             "np.uint64 keep only the low 64 bits. Only n-grams of three or more ids get that large, which is why "
             "bigrams came out right: reduce h % 2**64 after every step, or compute in np.uint64.",
             step=lambda h, token: h * MULTIPLIER + token),
    _variant("the hashes wrap around as signed 64-bit integers (numpy's int64), so a hash of 2**63 or more turns "
             "negative and h % buckets changes: fastText's hash is unsigned — use np.uint64, or Python integers "
             "reduced % 2**64.", reduce=_signed),
    _variant("the n-grams' ids lack the offset vocab_size: their rows come after the words' own, so an n-gram's id "
             "is vocab_size + h % buckets.", offset=False),
    _variant("the n-grams that end at the last id are missing (for bigrams, the last one): a start i takes the ids "
             "up to i + n - 1 as long as they exist, j < len(ids).", stop_before_last=True),
    _variant("each step multiplies the new id instead of the hash so far: h = h * 116049371 + ids[j].",
             step=lambda h, token: (h + token * MULTIPLIER) % WRAP),
    _variant("the n-gram's ids are combined from last to first: start with h = ids[i] and add the following ids, "
             "h = h * 116049371 + ids[j] for j = i + 1, i + 2, …", reverse=True),
    _variant("the ids themselves are missing: the result starts with the ids, then the n-grams' ids follow.",
             unigrams=False),
    _variant("the n-grams are grouped by length — all bigrams, then all trigrams: fastText goes start by start, "
             "each start's n-grams shortest first.", by_length=True),
    _variant("only the n-grams of exactly n ids are made: n is the longest, every length 2..n is added.",
             lengths=lambda n: (n,)),
)


# ---------------------------------------------------------------------------- checking

def _check_kind(context, result):
    __tracebackhide__ = True
    if not isinstance(result, np.ndarray):
        cause = (": did the function end without a `return` statement?" if result is None else
                 ": np.array(..., dtype=np.int64) turns a list into one." if isinstance(result, (list, tuple)) else
                 ": .numpy() turns a tensor into one." if isinstance(result, torch.Tensor) else ".")
        fail(f"{context} returned {kind_of(result)}, but an int64 numpy array is expected{cause}", RECIPE)
    if result.ndim != 1:
        fail(f"{context} returned an array of shape {result.shape}, but a 1-D array is expected: the ids, then the "
             f"n-grams' ids, one after the other (np.concatenate).", RECIPE)
    if result.dtype != np.int64:
        cause = (": the hashes are np.uint64, but ids for nn.EmbeddingBag are int64 — convert after the modulo, "
                 ".astype(np.int64) (every id is below vocab_size + buckets)." if result.dtype == np.dtype("uint64")
                 else ": ids are integers, int64." if result.dtype.kind == "f" else ": give dtype=np.int64.")
        fail(f"{context} returned an array of dtype {result.dtype}, but int64 is expected{cause}", RECIPE)


def _where(run, position):
    layout = _layout(run.ids, run.n)
    if position >= len(layout):
        return ""
    what = layout[position]
    if what[0] == "id":
        return f" (position {position} is ids[{what[1]}] itself)"
    _, start, length = what
    return (f" (position {position} is the id of the {length}-gram ids[{start}:{start + length}] = "
            f"{shown(run.ids[start:start + length])})")


def check_hashed_ngrams(hashed_ngrams, *, seed=0):
    """Check `hashed_ngrams(ids, vocab_size, buckets, n=2)` (one sequence of ids; returns an
    int64 array) against the check's own fastText hashing, over SCENARIOS with ids drawn from
    `seed`."""
    __tracebackhide__ = True
    answer = Answer(HASHED_NGRAMS, hashed_ngrams)
    runs = []
    for index, current in enumerate(SCENARIOS):
        ids = current.draw(default_rng((int(seed), index)))
        n = 2 if current.n is None else current.n
        if current.by_position:
            args, kwargs = (ids, current.vocab_size, current.buckets, n), {}
        else:
            args = (ids,)
            kwargs = {"vocab_size": current.vocab_size, "buckets": current.buckets,
                      **({} if current.n is None else {"n": n})}
        context = f"{answer.words(*args, **kwargs)} with {current.words}"
        if len(ids) <= 6:
            context += f", ids = {shown(ids)}"
        result = answer.run(context, *args, **kwargs)
        _check_kind(context, result)
        runs.append(SimpleNamespace(context=context, ids=[int(token) for token in ids], n=n, scenario=current,
                                    result=[int(value) for value in result.tolist()],
                                    expected=_ngram_ids(ids, current.vocab_size, current.buckets, n)))
    wrong = [run for run in runs if run.result != run.expected]
    if not wrong:
        return
    first = wrong[0]
    message = (f"{first.context} returned {difference(first.result, first.expected, 'id')}"
               f"{_where(first, first_difference(first.result, first.expected))}")
    for candidate in MISTAKES:
        if all(candidate(run.ids, run.scenario.vocab_size, run.scenario.buckets, run.n) == run.result for run in runs):
            fail(f"{message}: {candidate.explanation}", RECIPE)
    fail(f"{message}.", RECIPE)
