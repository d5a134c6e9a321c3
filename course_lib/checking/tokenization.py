"""The check of the tokenizer (assignment 07, Exercise 1): `tokenize(text)` — one review, a
str — returns its tokens, a list of str: the text normalized (every `<br />`, `<br/>` or
`<br>`, any case, a space; ’ and ‘ turned into '; lowercased with str.lower), then its runs
of Unicode letters and digits, joined across inner apostrophes ("don't" is one token,
"'great'" gives "great"), and each "!" and "?" as a token of its own; everything else
separates — re.findall(r"[^\\W_]+(?:'[^\\W_]+)*|[!?]", normalized text).

Scenarios, simplest first: a plain sentence; punctuation; line-break tags; apostrophes
(straight and typographic, inner and around a quoted word); "!" and "?"; letters beyond
ASCII; digits, underscores and other symbols; an empty review; a review of markup and
punctuation only; then two reviews put together from pieces drawn from `seed` — a long one
and a shorter one — each piece's tokens known, so that the expected tokens are assembled
with the text, independently of any tokenizer. The fixed scenarios' tokens are written out
here.

After every scenario has run, the first wrong one is reported: a cause is named only when
one of the usual mistakes — each a small wrong tokenizer next to its explanation — gives
the answer's tokens in every scenario; otherwise the message shows where the tokens first
differ and the text around it.

The answer runs through the harness under the delegation watch: it must not run its
course_lib reference. `course_lib.data.normalize` and `re` are building blocks it may use.
"""
import re
import string
from builtins import all, enumerate, int, isinstance, len, list, max, min, ord, range, str, tuple
from types import SimpleNamespace

from course_lib.data import text as _text

from ._trusted import default_rng
from .failure import fail, kind_of, mistake
from .harness import Answer, exercise
from .lists import difference, first_difference

TOKENIZE = exercise(_text.tokenize)

RECIPE = ("normalize first — re.sub(r\"<br\\s*/?>\", \" \", text, flags=re.IGNORECASE), ’ and ‘ replaced by ', "
          ".lower() — then re.findall(r\"[^\\W_]+(?:'[^\\W_]+)*|[!?]\", normalized): [^\\W_] is a Unicode letter "
          "or digit (\\w without the underscore), (?:'[^\\W_]+)* joins the parts of don't, and [!?] makes each "
          "! and ? a token.")
TEXT_SHOWN = 70  # characters of a review shown around a difference


def _scenario(words, text, tokens):
    return SimpleNamespace(words=words, draw=lambda rng: (text, tokens, None))


# ------------------------------------------------------------------- generated reviews
# (surface text, its tokens): pieces joined by separators, which are never tokens

_WORDS = ("movie", "film", "plot", "acting", "great", "terrible", "boring", "actors", "scene", "story",
          "ending", "director", "script", "not", "good", "bad", "the", "a", "was", "really", "and", "but")
_PIECES = (
    ("don't", ["don't"]), ("Don\u2019t", ["don't"]), ("isn't", ["isn't"]), ("it's", ["it's"]),
    ("O'Brien's", ["o'brien's"]), ("'classic'", ["classic"]), ("\u2018cult\u2019", ["cult"]),
    ("Amélie", ["amélie"]), ("Fräulein", ["fräulein"]), ("Björk", ["björk"]), ("naïve", ["naïve"]),
    ("café", ["café"]), ("10/10", ["10", "10"]), ("1950s", ["1950s"]), ("2nd", ["2nd"]),
    ("!!!", ["!", "!", "!"]), ("?!", ["?", "!"]), ("?", ["?"]), ("!", ["!"]),
    ("<br /><br />", []), ("<BR>", []), ("...", []), ("--", []), ("(", []), (")", []), ("B-movie", ["b", "movie"]),
)
_SEPARATORS = (" ", " ", " ", "  ", ", ", ". ", "<br /><br />", "<br/>", " - ", "; ", "\n", ": ")


def _generated(pieces):
    """A review of `pieces` pieces drawn from the generator: (text, tokens, where), where[i]
    the position in the text of the piece token i comes from."""
    def draw(rng):
        parts, tokens, where, length = [], [], [], 0
        for index in range(pieces):
            if index:
                separator = _SEPARATORS[int(rng.integers(len(_SEPARATORS)))]
                parts.append(separator)
                length += len(separator)
            if rng.random() < 0.7:
                word = _WORDS[int(rng.integers(len(_WORDS)))]
                surface = (word.capitalize(), word.upper(), word)[int(rng.integers(3))]
                piece_tokens = [word]
            else:
                surface, piece_tokens = _PIECES[int(rng.integers(len(_PIECES)))]
            parts.append(surface)
            tokens += piece_tokens
            where += [length] * len(piece_tokens)
            length += len(surface)
        return "".join(parts), tokens, where
    return SimpleNamespace(words=f"a review of {pieces} words, marks and tags drawn at random", draw=draw)


SCENARIOS = [
    _scenario("a plain sentence", "This movie was great", ["this", "movie", "was", "great"]),
    _scenario("punctuation", "A truly GREAT film. Loved it, really; (simply) wonderful.",
              ["a", "truly", "great", "film", "loved", "it", "really", "simply", "wonderful"]),
    _scenario("line-break tags", "The end.<br /><br />Then the credits<br/>rolled<BR>on",
              ["the", "end", "then", "the", "credits", "rolled", "on"]),
    _scenario("apostrophes", "I don't think it's 'great', but it isn\u2019t bad \u2014 rock 'n' roll",
              ["i", "don't", "think", "it's", "great", "but", "it", "isn't", "bad", "rock", "n", "roll"]),
    _scenario("exclamation and question marks", "Awful!!! Why did I watch it?! Never again?",
              ["awful", "!", "!", "!", "why", "did", "i", "watch", "it", "?", "!", "never", "again", "?"]),
    _scenario("letters beyond ASCII",
              "Amélie and Fräulein Björk: naïve, façade, Ñandú, søster \u2014 東京物語",
              ["amélie", "and", "fräulein", "björk", "naïve", "façade", "ñandú", "søster", "東京物語"]),
    _scenario("digits, underscores and other symbols", "10/10 \u2014 the 1950s' best B-movie, rock_and_roll #1 @ $5",
              ["10", "10", "the", "1950s", "best", "b", "movie", "rock", "and", "roll", "1", "5"]),
    _scenario("an empty review", "", []),
    _scenario("a review of markup and punctuation only", "<br /><br />... -- ***<br />", []),
    _generated(300),
    _generated(40),
]


# ---------------------------------------------------------------------------- mistakes
# Each takes the text and returns the tokens it gives.

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_APOSTROPHES = {ord("\u2019"): "'", ord("\u2018"): "'"}
_NO_PUNCTUATION = {ord(mark): None for mark in string.punctuation}


def _normalized(text):
    return _LINE_BREAK.sub(" ", text).translate(_APOSTROPHES).lower()


def _with_pattern(pattern, normalize=_normalized):
    compiled = re.compile(pattern)
    return lambda text: compiled.findall(normalize(text))


_split_on_spaces = mistake(
    "the text was split at whitespace only, so punctuation sticks to the words (\"film.\", \"it,\") and "
    "\"<br\" and \"/><br\" come out as tokens: find the tokens with a regular expression instead — runs of "
    "letters and digits, and each ! and ? on its own."
)(lambda text: text.lower().split())

_punctuation_deleted = mistake(
    "string.punctuation was deleted before splitting at whitespace: that glues \"don't\" into \"dont\", turns "
    "\"<br />\" into a token \"br\" and loses every ! and ?. Keep the apostrophes inside words, make ! and ? "
    "tokens, and let everything else separate."
)(lambda text: text.translate(_NO_PUNCTUATION).lower().split())

_line_breaks_kept = mistake(
    "the <br /> tags were not removed, so each leaves a token \"br\": replace every <br />, <br/> and <br> "
    "(any case) with a space before finding the tokens."
)(_with_pattern(r"[^\W_]+(?:'[^\W_]+)*|[!?]", lambda text: text.translate(_APOSTROPHES).lower()))

_apostrophes_split = mistake(
    "words are split at their apostrophes (\"don't\" gave \"don\" and \"t\"): let a token go on across an "
    "apostrophe between letters, [^\\W_]+(?:'[^\\W_]+)*."
)(_with_pattern(r"[^\W_]+|[!?]"))

_ascii_only = mistake(
    "letters beyond ASCII are dropped or split words (\"amélie\" gave \"am\" and \"lie\"): [a-z] is ASCII "
    "only. [^\\W_] matches any Unicode letter or digit."
)(_with_pattern(r"[a-z0-9]+(?:'[a-z0-9]+)*|[!?]"))

_marks_dropped = mistake(
    "the ! and ? marks are missing: they carry sentiment, so each is a token of its own — add |[!?] to the "
    "pattern."
)(_with_pattern(r"[^\W_]+(?:'[^\W_]+)*"))

_underscores_kept = mistake(
    "\\w matches the underscore too, so \"rock_and_roll\" stayed one token: [^\\W_] is \\w without it."
)(_with_pattern(r"\w+(?:'\w+)*|[!?]"))

_case_kept = mistake(
    "the tokens keep their capitals (\"This\", \"GREAT\"): lowercase the text with .lower() first, so that "
    "\"Great\" and \"great\" are one token."
)(_with_pattern(r"[^\W_]+(?:'[^\W_]+)*|[!?]", lambda text: _LINE_BREAK.sub(" ", text).translate(_APOSTROPHES)))

_typographic_apostrophes_kept = mistake(
    "the typographic apostrophe ’ was not turned into ', so \"isn’t\" split into \"isn\" and \"t\": replace ’ "
    "and ‘ by ' first."
)(_with_pattern(r"[^\W_]+(?:'[^\W_]+)*|[!?]", lambda text: _LINE_BREAK.sub(" ", text).lower()))

MISTAKES = (_split_on_spaces, _punctuation_deleted, _line_breaks_kept, _apostrophes_split, _ascii_only,
            _marks_dropped, _underscores_kept, _case_kept, _typographic_apostrophes_kept)


# ---------------------------------------------------------------------------- checking

def _check_kind(context, result):
    """A result that is no list of str, told at once."""
    __tracebackhide__ = True
    if not isinstance(result, list):
        cause = (": did the function end without a `return` statement?" if result is None else
                 ": list(...) turns it into one." if isinstance(result, tuple) else ".")
        fail(f"{context} returned {kind_of(result)}, but a list of str (the tokens) is expected{cause}", RECIPE)
    for position, token in enumerate(result):
        if isinstance(token, tuple):
            fail(f"{context} returned a list of tuples ({token!r} at position {position}), but a list of str is "
                 f"expected: re.findall returns the groups when the pattern has capturing groups (...). Make "
                 f"them non-capturing, (?:...).", RECIPE)
        if not isinstance(token, str):
            fail(f"{context} returned a list holding {kind_of(token)} at position {position}, but every token is "
                 f"a str.", RECIPE)


def _text_around(run, position):
    """The review, or the part of it around the piece token `position` comes from."""
    text = run.text
    if len(text) <= TEXT_SHOWN:
        return f"text = {text!r}"
    where = run.where[min(position, len(run.where) - 1)] if run.where else 0
    start = max(where - TEXT_SHOWN // 2, 0)
    shown = text[start:start + TEXT_SHOWN]
    return f"text = {'…' if start else ''}{shown!r}{'…' if start + TEXT_SHOWN < len(text) else ''} around there"


def check_tokenize(tokenize, *, seed=0):
    """Check `tokenize(text)` (a str; returns a list of str) against the tokens written out for
    SCENARIOS, two reviews drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(TOKENIZE, tokenize)
    runs = []
    for index, current in enumerate(SCENARIOS):
        text, expected, where = current.draw(default_rng((int(seed), index)))
        context = f"tokenize(text) with {current.words}"
        result = answer.run(context, text)
        _check_kind(context, result)
        runs.append(SimpleNamespace(context=context, text=text, result=result, expected=expected, where=where))
    wrong = [run for run in runs if run.result != run.expected]
    if not wrong:
        return
    first = wrong[0]
    message = (f"{first.context} returned {difference(first.result, first.expected, 'token')}; "
               f"{_text_around(first, first_difference(first.result, first.expected))}")
    for candidate in MISTAKES:
        if all(candidate(run.text) == run.result for run in runs):
            fail(f"{message}: {candidate.explanation}", RECIPE)
    fail(f"{message}.", RECIPE)
