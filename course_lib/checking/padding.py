"""The check of padding to a fixed length (assignment 07, Exercise 3):
`pad_sequences(sequences, maxlen=None, padding="pre", truncating="pre", value=0)` — N
sequences of token ids — returns an int64 numpy array [N, maxlen] as Keras's
`keras.utils.pad_sequences` does: maxlen None is the longest sequence's length; a sequence
longer than maxlen loses ids at its start (truncating="pre") or its end ("post"); a shorter
one gets `value` before it (padding="pre") or after it ("post"); an empty sequence becomes a
row of `value`.

Scenarios, simplest first: Keras's own examples (the defaults; padding="post"; maxlen=2);
truncating="post"; value=-1 with a maxlen longer than every sequence; an empty sequence;
numpy arrays as sequences; every argument by position; two batches of review-like sequences
drawn from `seed`, one cut at the start and padded after, one cut at the end and padded
before. The expected arrays come from torch: each sequence cut to maxlen by slicing, then
`torch.nn.utils.rnn.pad_sequence(..., padding_side=...)` pads them.

After every scenario has run, the first wrong one is reported: a cause is named only when
one of the usual mistakes — each a small wrong pad_sequences next to its explanation —
gives the answer's array in every scenario; otherwise the message shows the first row
that differs.

The answer runs through the harness, on copies of its sequences, under the delegation
watch: it must not run its course_lib reference nor torch's pad_sequence.
"""
from builtins import (
    ValueError, all, bool, dict, enumerate, int, isinstance, len, list, max, range, set, str, tuple, zip,
)
from types import SimpleNamespace

import torch
from torch import int64 as _torch_int64
from torch import tensor as _tensor
from torch import zeros as _torch_zeros
from torch.nn.utils.rnn import pad_sequence as _pad_sequence

from course_lib.data import sequences as _sequences

from ._trusted import default_rng, np
from .failure import fail, kind_of, mistake
from .harness import Answer, exercise
from .lists import shown

PAD_SEQUENCES = exercise(_sequences.pad_sequences, forbidden=(
    torch.nn.utils.rnn.pad_sequence, ("torch._C._nn.pad_sequence", torch._C._nn.pad_sequence)))

RECIPE = ("width = maxlen, or the longest sequence's length when maxlen is None; out = np.full((N, width), value, "
          "dtype=np.int64); for each sequence keep its last `width` ids (truncating=\"pre\") or its first "
          "(\"post\"), then write them at the end of its row (padding=\"pre\") or at the start (\"post\").")
KERAS_EXAMPLE = [[1], [2, 3], [4, 5, 6]]
PARAMETERS = ("maxlen", "padding", "truncating", "value")
DEFAULTS = {"maxlen": None, "padding": "pre", "truncating": "pre", "value": 0}


def _scenario(words, sequences, kwargs=None, args=()):
    """`sequences` (or a function of the random generator drawing them); `args`: the options
    by position."""
    draw = sequences if not isinstance(sequences, list) else (lambda rng: [list(ids) for ids in sequences])
    return SimpleNamespace(words=words, draw=draw, kwargs=kwargs or {}, args=args)


def _reviews(count, longest):
    """`count` review-like sequences of 0 to `longest` ids below 20 000."""
    def draw(rng):
        return [rng.integers(2, 20_000, int(rng.integers(0, longest + 1))).tolist() for _ in range(count)]
    return draw


SCENARIOS = [
    _scenario("Keras's example, the defaults", KERAS_EXAMPLE),
    _scenario("Keras's example", KERAS_EXAMPLE, {"padding": "post"}),
    _scenario("Keras's example, maxlen shorter than the longest", KERAS_EXAMPLE, {"maxlen": 2}),
    _scenario("sequences cut at their end", [[1, 2, 3, 4], [5, 6], [7, 8, 9]], {"maxlen": 3, "truncating": "post"}),
    _scenario("value=-1 and a maxlen longer than every sequence", [[3, 1], [4, 1, 5], [9]],
              {"maxlen": 5, "padding": "post", "value": -1}),
    _scenario("an empty sequence", [[5, 6], [], [7]]),
    _scenario("numpy arrays as sequences",
              lambda rng: [np.asarray(ids, dtype=np.int64) for ids in ([1, 2, 3, 4, 5], [6], [7, 8, 9])],
              {"maxlen": 3, "padding": "post", "truncating": "post"}),
    _scenario("every argument by position", [[1, 2, 3, 4, 5], [6, 7], [8]], args=(4, "post", "pre", 9)),
    _scenario("20 review-like sequences drawn at random", _reviews(20, 60),
              {"maxlen": 30, "padding": "post", "truncating": "pre"}),
    _scenario("15 review-like sequences drawn at random", _reviews(15, 60),
              {"maxlen": 40, "padding": "pre", "truncating": "post"}),
]


def _options(current):
    return {**DEFAULTS, **dict(zip(PARAMETERS, current.args)), **current.kwargs}



# ------------------------------------------------------------------------- torch's rows

def _width(sequences, maxlen):
    return max((len(ids) for ids in sequences), default=0) if maxlen is None else maxlen


def _expected(sequences, maxlen, padding, truncating, value):
    width = _width(sequences, maxlen)
    kept = [list(ids)[max(len(ids) - width, 0):] if truncating == "pre" else list(ids)[:width] for ids in sequences]
    rows = [_tensor(ids, dtype=_torch_int64) for ids in kept] + [_torch_zeros(width, dtype=_torch_int64)]
    side = "left" if padding == "pre" else "right"
    return _pad_sequence(rows, batch_first=True, padding_value=value, padding_side=side)[:-1].numpy()


# ---------------------------------------------------------------------------- mistakes

def _variant(explanation, *, sides=None, maxlen_used=True, extra_width=0, kept_fewer=0, value_used=True,
             defaults=None):
    """pad_sequences with one decision made wrong: `sides(padding, truncating)` the sides used,
    `defaults` other defaults for the options left out, maxlen or value ignored, a width one
    too large or one id fewer kept than fits."""
    def pad_sequences(sequences, scenario_options, given):
        options = {**scenario_options, **{key: value for key, value in (defaults or {}).items() if key not in given}}
        padding, truncating = options["padding"], options["truncating"]
        if sides is not None:
            padding, truncating = sides(padding, truncating)
        width = _width(sequences, options["maxlen"] if maxlen_used else None) + extra_width
        value = options["value"] if value_used else 0
        out = np.zeros((len(sequences), width), dtype=np.int64)
        out.fill(value)
        for row, ids in zip(out, sequences):
            fits = width - kept_fewer if len(ids) > width - kept_fewer else len(ids)
            kept = list(ids)[len(ids) - fits:] if truncating == "pre" else list(ids)[:fits]
            if kept:
                if padding == "pre":
                    row[width - len(kept):] = kept
                else:
                    row[:len(kept)] = kept
        return out
    return mistake(explanation)(pad_sequences)


def _swapped(side):
    return "post" if side == "pre" else "pre"


MISTAKES = (
    _variant("padding's sides are swapped: padding=\"pre\" puts the padding before the ids (at the start of the "
             "row) and \"post\" after them.", sides=lambda padding, truncating: (_swapped(padding), truncating)),
    _variant("truncating's sides are swapped: truncating=\"pre\" removes ids from the start of a long sequence "
             "(keeping its last maxlen ids, sequence[-maxlen:]) and \"post\" from its end (sequence[:maxlen]).",
             sides=lambda padding, truncating: (padding, _swapped(truncating))),
    _variant("both padding's and truncating's sides are swapped: \"pre\" acts at the start of a sequence, "
             "\"post\" at its end.", sides=lambda padding, truncating: (_swapped(padding), _swapped(truncating))),
    _variant("the defaults are padding=\"post\" and truncating=\"post\" here; Keras's are \"pre\" for both.",
             defaults={"padding": "post", "truncating": "post"}),
    _variant("maxlen is ignored: every row is as long as the longest sequence. With maxlen given, every row is "
             "maxlen long, longer sequences cut.", maxlen_used=False),
    _variant("every row is one longer than it should be (maxlen + 1, or the longest length + 1): the width is "
             "maxlen, or the longest sequence's length when maxlen is None.", extra_width=1),
    _variant("a sequence that fills its row, or is longer, keeps one id too few (an off-by-one in the slice, "
             "e.g. sequence[-maxlen + 1:]): it keeps maxlen ids, sequence[-maxlen:] or sequence[:maxlen].",
             kept_fewer=1),
    _variant("the padding is always 0: pad with `value`, np.full((N, width), value).", value_used=False),
)


# ---------------------------------------------------------------------------- checking

def _advice(error):
    text = str(error)
    if isinstance(error, ValueError) and "could not broadcast input array from shape (0,)" in text:
        return ("an empty sequence: row[-len(ids):] is row[-0:], which is the whole row (-0 is 0), so nothing can "
                "fill it. Skip empty sequences, or write the ids at row[width - len(ids):].")
    if isinstance(error, ValueError) and ("zero-size array" in text or "empty" in text):
        return ("an empty sequence or an empty list: max() of no lengths, or an empty sequence's ids, needs "
                "care — an empty sequence becomes a row of value.")
    return None


def _check_kind(context, result, expected):
    """A result that is no int64 array of the expected shape, told at once."""
    __tracebackhide__ = True
    if not isinstance(result, np.ndarray):
        cause = (": did the function end without a `return` statement?" if result is None else
                 ": np.array(rows) turns a list of rows into one." if isinstance(result, (list, tuple)) else
                 ": .numpy() turns a tensor into one." if isinstance(result, torch.Tensor) else ".")
        fail(f"{context} returned {kind_of(result)}, but a numpy array of shape {expected.shape} is expected{cause}",
             RECIPE)
    if result.dtype != np.int64:
        cause = (": np.zeros and np.full make float64 unless told otherwise — give dtype=np.int64, since "
                 "nn.Embedding takes integer ids." if result.dtype.kind == "f" else
                 ": token ids are int64, what nn.Embedding takes — give dtype=np.int64.")
        fail(f"{context} returned an array of dtype {result.dtype}, but int64 is expected{cause}", RECIPE)


def _row_difference(run):
    """The first row that differs, with its sequence, or the shape that differs."""
    if run.result.shape != run.expected.shape:
        return (f"an array of shape {run.result.shape}, expected {run.expected.shape} (N = {len(run.sequences)} "
                f"sequences, width maxlen={run.options['maxlen']}"
                f"{' → the longest length' if run.options['maxlen'] is None else ''})")
    rows = [index for index in range(len(run.expected)) if not (run.result[index] == run.expected[index]).all()]
    row = rows[0]
    return (f"row {row} = {shown(run.result[row])} for sequences[{row}] = {shown(run.sequences[row])}, expected "
            f"{shown(run.expected[row])} ({len(rows)} of {len(run.expected)} rows differ)")



def _same(result, wanted):
    return wanted is not None and result.shape == wanted.shape and bool((result == wanted).all())


def check_pad_sequences(pad_sequences, *, seed=0):
    """Check `pad_sequences(sequences, maxlen=None, padding="pre", truncating="pre", value=0)`
    (a list of sequences of ids; returns an int64 array [N, maxlen]) against torch's
    pad_sequence on the cut sequences, over SCENARIOS with sequences drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(PAD_SEQUENCES, pad_sequences, advice=_advice)
    runs = []
    for index, current in enumerate(SCENARIOS):
        sequences = current.draw(default_rng((int(seed), index)))
        context = f"{answer.words(sequences, *current.args, **current.kwargs)} with {current.words}"
        result = answer.run(context, sequences, *current.args, **current.kwargs)
        options = _options(current)
        expected = _expected(sequences, **options)
        _check_kind(context, result, expected)
        runs.append(SimpleNamespace(context=context, sequences=sequences, options=options, result=result,
                                    expected=expected, given=set(current.kwargs) | set(PARAMETERS[:len(current.args)])))
    wrong = [run for run in runs if not _same(run.result, run.expected)]
    if not wrong:
        return
    first = wrong[0]
    message = f"{first.context} returned {_row_difference(first)}"
    for candidate in MISTAKES:
        if all(_same(run.result, candidate(run.sequences, run.options, run.given)) for run in runs):
            fail(f"{message}: {candidate.explanation}", RECIPE)
    fail(f"{message}.", RECIPE)

