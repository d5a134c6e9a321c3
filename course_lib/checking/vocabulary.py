"""The check of the vocabulary's order (assignment 07, Exercise 2):
`vocabulary_tokens(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None)`
— an iterable of token lists — returns the vocabulary's tokens in id order, a list of str,
as torchtext's build_vocab_from_iterator orders them (its `get_itos()`):

1. count every token of every token list;
2. order them by count, most frequent first, ties alphabetically (by code point);
3. with max_tokens, keep the first max_tokens - len(specials) of that order;
4. take the specials out (wherever they are) and drop the tokens counted fewer than
   min_freq times;
5. put the specials first, in the order given — or last with special_first=False.

Scenarios, simplest first: a few token lists; the course's specials ["<pad>", "<unk>"]; ties
first seen out of alphabetical order; min_freq; max_tokens, which counts the specials;
special_first=False; a special that also occurs in the reviews; max_tokens with such a
special (step 3 before step 4: it uses up a place before it is taken out, as in torchtext);
min_freq, max_tokens and special_first=False together; no token lists at all; a generator of
reviews drawn from `seed`, read once; every argument by position. The expected tokens are
the check's own count, sorted alphabetically and then stably by count, as torchtext once
wrote it.

After every scenario has run, the first wrong one is reported: a cause is named only when
one of the usual mistakes — each a small wrong vocabulary_tokens next to its explanation —
gives the answer's tokens in every scenario; otherwise the message shows where the order
first differs.

The answer runs through the harness, on copies of its lists, under the delegation watch: it
must not run its course_lib reference nor `build_vocab_from_iterator`, which runs it.
`collections.Counter` is a building block it may use.
"""
from builtins import (
    all, callable, dict, enumerate, int, isinstance, len, list, range, repr, set, sorted, str, tuple, zip,
)
from types import SimpleNamespace

from course_lib.data import vocab as _vocab

from ._trusted import default_rng
from .failure import fail, kind_of, mistake
from .harness import Answer, exercise
from .lists import difference

VOCABULARY_TOKENS = exercise(_vocab.vocabulary_tokens, forbidden=(_vocab.build_vocab_from_iterator,))

SPECIALS = ["<pad>", "<unk>"]
RECIPE = ("count every token (collections.Counter); order by count, most frequent first, ties alphabetically — "
          "sorted(counts.items(), key=lambda item: (-item[1], item[0])); with max_tokens keep the first "
          "max_tokens - len(specials); then take the specials out and drop tokens counted fewer than min_freq "
          "times; the specials go first (or last with special_first=False).")
SHOWN_LISTS = 4  # token lists up to this many are shown in messages

REVIEWS = [["good", "film"], ["bad", "film"], ["good", "good", "plot"]]
TIES = [["zany", "plot", "acting"], ["plot", "zany", "acting", "bad"], ["film"]]
RARE_AND_COMMON = [["the", "film", "the", "plot"], ["the", "acting", "film", "dull"], ["the", "film", "odd"]]
SEVERAL_KEPT = [["the", "film", "the", "plot", "good"], ["the", "film", "plot", "good", "dull"],
                ["film", "acting", "good"]]
WITH_UNK = [["<unk>", "film", "<unk>", "good"], ["<unk>", "plot", "film", "<unk>"], ["<unk>", "good"]]
_ZIPF_WORDS = ("the", "a", "film", "movie", "good", "bad", "plot", "acting", "great", "not", "story", "boring",
               "script", "actors", "funny", "scene", "ending", "worst", "best", "music", "love", "waste", "!", "?")


def _scenario(words, token_lists, kwargs=None, args=(), generator=False):
    """`token_lists` (or a function of the random generator drawing them); the answer gets
    them as a list, or as a generator with `generator`; `args` are the options by position."""
    draw = token_lists if callable(token_lists) else (lambda rng: [list(tokens) for tokens in token_lists])
    return SimpleNamespace(words=words, draw=draw, kwargs=kwargs or {}, args=args, generator=generator)


def _reviews(rng):
    """30 reviews of 4 to 15 tokens, the words' frequencies falling off as 1 / rank. (Drawn by
    array methods: Generator.choice(p=...) calls numpy functions a student may have patched.)"""
    cumulative = (1 / (1 + rng.permutation(len(_ZIPF_WORDS)))).cumsum()
    return [[_ZIPF_WORDS[int(index)] for index in
             cumulative.searchsorted(rng.random(int(rng.integers(4, 16))) * cumulative[-1], side="right")]
            for _ in range(30)]


SCENARIOS = [
    _scenario("a few token lists", REVIEWS),
    _scenario("the course's specials", REVIEWS, {"specials": SPECIALS}),
    _scenario("ties: tokens counted equally often, first seen out of alphabetical order", TIES, {"specials": SPECIALS}),
    _scenario("min_freq", RARE_AND_COMMON, {"min_freq": 2, "specials": SPECIALS}),
    _scenario("max_tokens, which counts the specials", RARE_AND_COMMON, {"specials": SPECIALS, "max_tokens": 4}),
    _scenario("special_first=False", TIES, {"specials": SPECIALS, "special_first": False}),
    _scenario("a special that also occurs in the reviews", WITH_UNK, {"specials": SPECIALS}),
    _scenario("max_tokens and a special that also occurs in the reviews", WITH_UNK,
              {"specials": SPECIALS, "max_tokens": 4}),
    _scenario("min_freq, max_tokens and special_first=False together", SEVERAL_KEPT,
              {"min_freq": 2, "specials": SPECIALS, "special_first": False, "max_tokens": 5}),
    _scenario("no token lists at all", [], {"specials": SPECIALS}),
    _scenario("a generator of 30 reviews drawn at random, which can be read only once", _reviews,
              {"min_freq": 2, "specials": SPECIALS, "max_tokens": 12}, generator=True),
    _scenario("every argument by position", _reviews, args=(3, ["<unk>"], True, 8)),
]
PARAMETERS = ("min_freq", "specials", "special_first", "max_tokens")
DEFAULTS = {"min_freq": 1, "specials": None, "special_first": True, "max_tokens": None}


def _options(current):
    """The scenario's options as keywords, the defaults filled in."""
    return {**DEFAULTS, **dict(zip(PARAMETERS, current.args)), **current.kwargs}


# ---------------------------------------------------------------------- expected order

def _counts(token_lists):
    counts = {}
    for tokens in token_lists:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    return counts


def _expected(token_lists, min_freq=1, specials=None, special_first=True, max_tokens=None, *,
              order=None, cut_before_taking_out=True, keep=None, cut_size=None, taken_out=True,
              place_specials=None, counts=_counts):
    """The vocabulary's tokens — or, with one keyword changed, a mistaken version of them:
    `order(counts)` the tokens' order, `keep(count, min_freq)` the min_freq rule, `cut_size`
    the number of tokens max_tokens keeps, `place_specials(specials, tokens, special_first)`."""
    specials = list(specials or [])
    counted = counts(token_lists)
    if order is None:
        ordered = sorted(counted)  # alphabetical, then stably by count: ties stay alphabetical
        ordered.sort(key=counted.get, reverse=True)
    else:
        ordered = order(counted)
    if max_tokens is None:
        size = None
    else:
        size = max_tokens - len(specials) if cut_size is None else cut_size(max_tokens, specials)
    if size is not None and cut_before_taking_out:
        ordered = ordered[:size]
    kept = [token for token in ordered
            if (token not in specials or not taken_out)
            and (counted[token] >= min_freq if keep is None else keep(counted[token], min_freq))]
    if size is not None and not cut_before_taking_out:
        kept = kept[:size]
    if place_specials is not None:
        return place_specials(specials, kept, special_first, max_tokens)
    return specials + kept if special_first else kept + specials


# ---------------------------------------------------------------------------- mistakes
# Each takes the token lists and the options as keywords and returns the tokens it gives.

def _variant(explanation, **changes):
    def vocabulary_tokens(token_lists, **options):
        return _expected(token_lists, **options, **changes)
    return mistake(explanation)(vocabulary_tokens)


def _first_seen(counted):
    return sorted(counted, key=lambda token: -counted[token])  # stable: dicts keep first-seen order


def _reverse_alphabetical(counted):
    return sorted(counted, key=lambda token: (counted[token], token), reverse=True)


def _ascending(counted):
    return sorted(counted, key=lambda token: (counted[token], token))


def _once_per_list(token_lists):
    return _counts([set(tokens) for tokens in token_lists])


MISTAKES = (
    _variant("tokens counted equally often are in the order they were first seen (what Counter.most_common() "
             "gives): ties are broken alphabetically — sort by the key (-count, token).", order=_first_seen),
    _variant("tokens counted equally often are in reverse alphabetical order: sorted(..., key=lambda item: "
             "(item[1], item[0]), reverse=True) reverses the tie-break too. Sort by (-count, token) without "
             "reverse.", order=_reverse_alphabetical),
    _variant("the least frequent tokens come first: order by count descending, (-count, token).", order=_ascending),
    _variant("a token used several times in one review was counted once for it: count every occurrence "
             "(counter.update(tokens), not set(tokens)).", counts=_once_per_list),
    _variant("min_freq drops the tokens counted exactly min_freq times too: keep a token when count >= min_freq.",
             keep=lambda count, min_freq: count > min_freq),
    _variant("max_tokens is the number of tokens besides the specials here, but it counts the specials too: "
             "keep max_tokens - len(specials) tokens.", cut_size=lambda max_tokens, specials: max_tokens),
    _variant("the specials were taken out before the list was cut to max_tokens - len(specials): torchtext "
             "cuts the sorted tokens first and takes the specials out afterwards, so a special that occurs in "
             "the reviews uses up one of the places.", cut_before_taking_out=False),
    _variant("the whole list, specials included, was cut to max_tokens at the end, which loses the specials "
             "when they come last: cut the sorted tokens to max_tokens - len(specials) before the specials are "
             "added.", cut_size=lambda max_tokens, specials: None,
             place_specials=lambda specials, kept, first, max_tokens: (
                 (specials + kept if first else kept + specials)[:max_tokens] if max_tokens is not None
                 else (specials + kept if first else kept + specials))),
    _variant("a special that occurs in the reviews is in the list twice — as a special and where its count "
             "puts it: take the specials out of the counted tokens.", taken_out=False),
    _variant("special_first is ignored, the specials always come first: with special_first=False they go at "
             "the end.", place_specials=lambda specials, kept, first, max_tokens: specials + kept),
    _variant("the specials come last: with special_first=True (the default) they go first, in the order "
             "given, so that <pad> is 0 and <unk> is 1.", place_specials=lambda specials, kept, first, max_tokens:
             kept + specials),
)


# ---------------------------------------------------------------------------- checking

def _check_kind(context, result):
    __tracebackhide__ = True
    if not isinstance(result, list):
        cause = (": did the function end without a `return` statement?" if result is None else
                 ": list(...) turns it into one." if isinstance(result, tuple) else
                 ": the exercise asks for the tokens in id order, not a mapping to their ids."
                 if isinstance(result, dict) else ".")
        fail(f"{context} returned {kind_of(result)}, but a list of str (the tokens in id order) is expected{cause}",
             RECIPE)
    for position, token in enumerate(result):
        if isinstance(token, tuple):
            fail(f"{context} returned a list holding {token!r} at position {position}, but a list of str is "
                 f"expected: Counter.most_common() and .items() give (token, count) pairs; keep the tokens only.",
                 RECIPE)
        if not isinstance(token, str):
            fail(f"{context} returned a list holding {kind_of(token)} at position {position}, but every entry is a "
                 f"token, a str.", RECIPE)


def _call_words(current, token_lists):
    shown = [repr(value) for value in current.args] + [f"{key}={value!r}" for key, value in current.kwargs.items()]
    call = f"vocabulary_tokens({', '.join(['token_lists'] + shown)})"
    lists = f", token_lists = {token_lists!r}" if 0 < len(token_lists) <= SHOWN_LISTS else ""
    return f"{call} with {current.words}{lists}"


def check_vocabulary_tokens(vocabulary_tokens, *, seed=0):
    """Check `vocabulary_tokens(iterator, min_freq=1, specials=None, special_first=True,
    max_tokens=None)` (an iterable of token lists; returns a list of str) against the check's
    own count and order, over SCENARIOS with reviews drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(VOCABULARY_TOKENS, vocabulary_tokens)
    runs = []
    for index, current in enumerate(SCENARIOS):
        token_lists = current.draw(default_rng((int(seed), index)))
        context = _call_words(current, token_lists)
        given = (tokens for tokens in token_lists) if current.generator else token_lists
        result = answer.run(context, given, *current.args, **current.kwargs)
        _check_kind(context, result)
        options = _options(current)
        runs.append(SimpleNamespace(context=context, token_lists=token_lists, options=options, result=result,
                                    expected=_expected(token_lists, **options)))
    wrong = [run for run in runs if run.result != run.expected]
    if not wrong:
        return
    first = wrong[0]
    message = f"{first.context} returned {difference(first.result, first.expected, 'token')}"
    for candidate in MISTAKES:
        if all(candidate(run.token_lists, **run.options) == run.result for run in runs):
            fail(f"{message}: {candidate.explanation}", RECIPE)
    fail(f"{message}.", RECIPE)
