"""From a review's raw text to its tokens (assignment 07, Exercise 1 is `tokenize`).

IMDB reviews are HTML fragments typed by people: line breaks are `<br />` tags, apostrophes
are sometimes typographic (’), and letters are not all ASCII ("Amélie", "Fräulein").

- `normalize(text)`: every `<br />`, `<br/>` or `<br>` (any case) becomes a space, ’ and ‘
  become ', and the text is lowercased with `str.lower`, which knows Unicode ("Amélie" →
  "amélie").
- `tokenize(text)`: the normalized text's tokens, in order — runs of Unicode letters and
  digits, joined across inner apostrophes ("don't" is one token, "'quoted'" gives "quoted"),
  and each "!" and "?" on its own, since they carry sentiment; everything else separates.
  An empty text has no tokens.
- `ngrams(tokens, n)`: the contiguous n-token tuples, as a list.

The patterns are compiled once, here. Tokenising both IMDB splits — 50 000 reviews, 65 M
characters, 11.6 M tokens; texts already loaded — took 6.5 to 8.2 s of CPU time, and 10.5 s
wall in one run, 17 to 24 s in others, the machine's two cores shared with other jobs (load
average up to 9), measured with
`OMP_NUM_THREADS=1 python -c "from course_lib.data import load_imdb, tokenize; import time;
texts = load_imdb('train')[0] + load_imdb('test')[0]; t = time.perf_counter();
[tokenize(x) for x in texts]; print(time.perf_counter() - t)"` (time.process_time() for the
CPU time). About a fifth of it is `normalize`, the rest the regular expression.
"""
import re

# `<br />`, `<br/>`, `<br>`: IMDB's line breaks, 201 941 of them in the 50 000 reviews; other tags
# (<i>, <em>, <spoiler>) appear fewer than ten times each and are tokenised as text ("<i>" gives "i")
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TYPOGRAPHIC_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
# [^\W_] is \w without the underscore: a Unicode letter or digit
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[!?]")
# the same pattern for a lowercased ASCII text, where a letter or digit is one of a-z, 0-9
_ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[!?]")


def normalize(text):
    """`text` with line-break tags as spaces, typographic apostrophes as ', lowercased."""
    if not isinstance(text, str):
        raise TypeError(f"normalize takes one review as a str, got {type(text).__name__}: tokenise a list "
                        f"of reviews one at a time, [tokenize(text) for text in texts]")
    return _LINE_BREAK.sub(" ", text).translate(_TYPOGRAPHIC_APOSTROPHES).lower()


def tokenize(text):
    """The tokens of `text` (a str) as a list of str: see the module docstring."""
    if isinstance(text, str) and text.isascii():
        # nine reviews in ten: no typographic apostrophes to translate, and the ASCII pattern is
        # faster than the Unicode one (a quarter less CPU time, the same tokens on all 50 000)
        return _ASCII_TOKEN.findall(_LINE_BREAK.sub(" ", text.lower()))
    return _TOKEN.findall(normalize(text))


def ngrams(tokens, n):
    """The contiguous n-grams of `tokens` as tuples, in order: ngrams(["a", "b", "c"], 2) is
    [("a", "b"), ("b", "c")]; none when there are fewer than n tokens."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n is the number of tokens in an n-gram, a positive int; got {n!r}")
    tokens = list(tokens)
    return list(zip(*(tokens[start:] for start in range(n))))
