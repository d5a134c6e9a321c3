"""The check of EmbeddingBag's input (assignment 07, Exercise 4):
`embedding_bag_offsets(sequences)` — B sequences of token ids — returns (input, offsets),
int64 torch tensors, as `nn.EmbeddingBag(...)(input, offsets)` takes them with its default
include_last_offset=False: input is every sequence's ids one after the other, offsets [B]
where each sequence starts in input, 0 first. An empty sequence is a bag of its own, which
EmbeddingBag gives zeros.

Scenarios, simplest first: three short sequences; one sequence; an empty sequence in the
middle; empty sequences first and last; sequences of equal length; numpy arrays, as a
SequenceDataset holds them, drawn from `seed`; a batch of 16 review-like sequences drawn
from `seed`; only empty sequences. torch is the oracle: the answer's (input, offsets) go
through an nn.EmbeddingBag(mode="sum") with random float64 weights, and its B bag sums
must be each sequence's own, the sum of its ids' rows (zeros for an empty one).

After every scenario has run, the first wrong one is reported: a cause is named only when
one of the usual mistakes — each a small wrong embedding_bag_offsets next to its
explanation — returns exactly the answer's tensors in every scenario; otherwise the message
shows the offsets and what EmbeddingBag made of them.

The answer runs through the harness, on copies of its sequences, under the delegation
watch: it must not run its course_lib reference.
"""
from builtins import (
    IndexError, RuntimeError, all, bool, callable, enumerate, int, isinstance, len, list, range, str, tuple, type,
    zip,
)
from types import SimpleNamespace

import torch
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import int64 as _torch_int64
from torch import no_grad as _no_grad
from torch import tensor as _tensor
from torch.nn.functional import embedding_bag as _embedding_bag

from course_lib.data import sequences as _sequences

from ._trusted import default_rng, isclose, np
from .failure import fail, kind_of, mistake, unpacked
from .harness import Answer, exercise
from .lists import difference, shown

EMBEDDING_BAG_OFFSETS = exercise(_sequences.embedding_bag_offsets)

ROWS, DIMENSIONS = 1000, 4  # the oracle's embedding table
RECIPE = ("input = all the ids one after the other (torch.cat, or np.concatenate then torch.from_numpy); offsets[i] "
          "= where sequence i starts = the sum of the lengths before it: [0, len0, len0 + len1, …], B entries, "
          "the total left out; both int64.")


def _scenario(words, sequences):
    draw = sequences if callable(sequences) else (lambda rng: [list(ids) for ids in sequences])
    return SimpleNamespace(words=words, draw=draw)


def _random(count, longest, as_arrays):
    def draw(rng):
        sequences = [rng.integers(0, ROWS, int(rng.integers(0, longest + 1))) for _ in range(count)]
        return [ids.astype(np.int64) if as_arrays else ids.tolist() for ids in sequences]
    return draw


SCENARIOS = [
    _scenario("three short sequences", [[4, 5], [6], [7, 8, 9]]),
    _scenario("one sequence", [[3, 1, 4, 1, 5]]),
    _scenario("an empty sequence in the middle", [[2, 7], [], [1, 8, 2]]),
    _scenario("empty sequences first and last", [[], [5, 5], [3], []]),
    _scenario("sequences of equal length", [[1, 2], [3, 4], [5, 6]]),
    _scenario("5 numpy arrays of ids drawn at random", _random(5, 8, as_arrays=True)),
    _scenario("16 review-like sequences drawn at random", _random(16, 40, as_arrays=False)),
    _scenario("only empty sequences", [[], []]),
]


# ------------------------------------------------------------------------------ oracle

def _expected_structure(sequences):
    """(input, offsets) as lists: the check's own concatenation and starts."""
    flat, starts = [], []
    for ids in sequences:
        starts.append(len(flat))
        flat += [int(token) for token in ids]
    return flat, starts


def _bag_sums(weight, input, offsets):
    """EmbeddingBag(mode="sum")'s bags for (input, offsets), or the RuntimeError it raised."""
    try:
        with _no_grad():
            return _embedding_bag(input, weight, offsets, mode="sum")
    except (RuntimeError, IndexError) as error:  # offsets or ids EmbeddingBag refuses
        return error


def _own_sums(weight, sequences):
    return [weight[_tensor([int(token) for token in ids], dtype=_torch_int64)].sum(0) for ids in sequences]


# ---------------------------------------------------------------------------- mistakes
# Each takes the sequences and returns the (input, offsets) lists it gives.

def _variant(explanation, offsets_of):
    def embedding_bag_offsets(sequences):
        flat, starts = _expected_structure(sequences)
        lengths = [len(ids) for ids in sequences]
        return flat, offsets_of(starts, lengths)
    return mistake(explanation)(embedding_bag_offsets)


def _running_sums(lengths):
    sums, total = [], 0
    for length in lengths:
        total += length
        sums.append(total)
    return sums


MISTAKES = (
    _variant("offsets holds B + 1 entries, the total length last: with include_last_offset=False — EmbeddingBag's "
             "default — offsets holds only the B starts, so the total makes one more, empty bag. Leave it out.",
             lambda starts, lengths: starts + [len(lengths) and starts[-1] + lengths[-1]]),
    _variant("offsets holds each sequence's length, not where it starts: offsets[i] is the sum of the lengths "
             "before sequence i, [0, len0, len0 + len1, …].", lambda starts, lengths: list(lengths)),
    _variant("offsets holds where each sequence ends (the running sums of the lengths), not where it starts: "
             "shift them by one — start with 0 and leave out the total.",
             lambda starts, lengths: _running_sums(lengths)),
    _variant("each start after the first is one too small — the position of the previous sequence's last id: "
             "sequence i starts at the sum of the lengths before it, with no - 1.",
             lambda starts, lengths: starts[:1] + [start - 1 for start in starts[1:]]),
    _variant("every start is one too large, as if positions counted from 1: the first sequence starts at 0.",
             lambda starts, lengths: [start + 1 for start in starts]),
    _variant("empty sequences got no offset, so every bag after one belongs to the sequence before it: each "
             "sequence, empty or not, gets its start — an empty one the same as the next one's.",
             lambda starts, lengths: [start for start, length in zip(starts, lengths) if length]),
)



# ---------------------------------------------------------------------------- checking

def _tensor_problem(name, value):
    """What is wrong with one of the returned tensors, or None."""
    if not isinstance(value, torch.Tensor):
        fix = ("torch.from_numpy(...) turns an array into one." if isinstance(value, np.ndarray) else
               "torch.tensor(...) turns a list into one." if isinstance(value, (list, tuple)) else "")
        return f"{name} is {kind_of(value)}, but an int64 torch.Tensor is expected. {fix}".rstrip()
    if value.ndim != 1:
        extra = (" — a padded [B, T] batch? EmbeddingBag with offsets takes all the ids in one row, input 1-D."
                 if name == "input" else ".")
        return f"{name} has shape {tuple(value.shape)}, but a 1-D tensor is expected{extra}"
    if value.dtype != _torch_int64:
        cause = (" — np.concatenate of no arrays, or np.array([]), is float64: give dtype=np.int64."
                 if value.dtype.is_floating_point else ": EmbeddingBag wants int64 ids and offsets, .long().")
        return f"{name} has dtype {value.dtype}, but int64 is expected{cause}"
    return None


def _check_kind(context, result):
    __tracebackhide__ = True
    input, offsets = unpacked(f"{context} returned", result, 2, "a tuple (input, offsets)")
    for name, value in (("input", input), ("offsets", offsets)):
        problem = _tensor_problem(name, value)
        if problem is not None:
            fail(f"{context}: {problem}", RECIPE)
    return input, offsets


def _as_list(values):
    return [int(value) for value in values.tolist()]


def _bag_words(run):
    """What EmbeddingBag made of the answer's tensors, against what was expected."""
    got = run.bags
    if isinstance(got, (RuntimeError, IndexError)):
        return f"nn.EmbeddingBag(...)(input, offsets) raised {type(got).__name__}: {str(got).splitlines()[0]}"
    if got.shape[0] != len(run.sequences):
        return f"nn.EmbeddingBag(...)(input, offsets) gives {got.shape[0]} bags for the {len(run.sequences)} sequences"
    bag = [index for index in range(len(run.sequences)) if not _bag_agrees(got[index], run.expected_sums[index])][0]
    return (f"nn.EmbeddingBag(mode=\"sum\")'s bag {bag} is not the sum of sequences[{bag}] = "
            f"{shown(run.sequences[bag])}")


def _bag_agrees(got, wanted):
    return bool(isclose(got.numpy(), wanted.numpy(), rtol=1e-9, atol=1e-12).all())


def _right(run):
    bags = run.bags
    return (not isinstance(bags, (RuntimeError, IndexError)) and bags.shape[0] == len(run.sequences)
            and all(_bag_agrees(bags[index], run.expected_sums[index]) for index in range(len(run.sequences))))


def check_embedding_bag_offsets(embedding_bag_offsets, *, seed=0):
    """Check `embedding_bag_offsets(sequences)` (B sequences of ids; returns int64 tensors
    (input, offsets)) by nn.EmbeddingBag's bag sums, over SCENARIOS with sequences drawn from
    `seed`."""
    __tracebackhide__ = True
    answer = Answer(EMBEDDING_BAG_OFFSETS, embedding_bag_offsets)
    runs = []
    for index, current in enumerate(SCENARIOS):
        rng = default_rng((int(seed), index))
        sequences = current.draw(rng)
        weight = _from_numpy(rng.standard_normal((ROWS, DIMENSIONS))).to(_torch_float64)
        context = f"embedding_bag_offsets(sequences) with {current.words}"
        input, offsets = _check_kind(context, answer.run(context, sequences))
        runs.append(SimpleNamespace(context=context, sequences=sequences, input=_as_list(input),
                                    offsets=_as_list(offsets), bags=_bag_sums(weight, input, offsets),
                                    expected=_expected_structure(sequences),
                                    expected_sums=_own_sums(weight, sequences)))
    wrong = [run for run in runs if not _right(run)]
    if not wrong:
        return
    first = wrong[0]
    expected_input, expected_offsets = first.expected
    shown_input = ("" if first.input == expected_input else
                   f"input = {difference(first.input, expected_input, 'id')}; ")
    shown_offsets = ("the right offsets" if first.offsets == expected_offsets else
                     f"offsets = {difference(first.offsets, expected_offsets, 'offset')}")
    message = f"{first.context} returned {shown_input}{shown_offsets} — {_bag_words(first)}"
    for candidate in MISTAKES:
        if all(list(candidate(run.sequences)) == [run.input, run.offsets] for run in runs):
            fail(f"{message}: {candidate.explanation}", RECIPE)
    fail(f"{message}.", RECIPE)
