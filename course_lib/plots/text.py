"""Assignment 07: what a sentiment model learned and where it goes wrong — the n-grams its
weights push hardest towards each class, accuracy by review length, the reviews it is
surest of and wrong about, and its answers to probe sentences such as "not good".

A model's output is its probability that a review is positive (`predict(texts)`, the
sigmoid of its logit); a review counts as predicted positive when that probability is
> 0.5, as a logit > 0 does in `metrics`. Labels are 0 (negative) and 1 (positive), as
`data.load_imdb` gives them. The tables are Markdown, as `training.summary`'s: show one
with `IPython.display.Markdown(...)`.
"""
import math
import re
from typing import NamedTuple

import numpy as np

from ..metrics import _as_numpy
from ._axes import _axes

SPECIALS = ("<pad>", "<unk>")
SENTIMENTS = ("negative", "positive")  # a label's name is SENTIMENTS[label]
POSITIVE_COLOR, NEGATIVE_COLOR = "tab:green", "tab:red"
# the line breaks IMDB's reviews hold, as `data.text.normalize` finds them; the reader's text
# keeps its case, so normalize itself (which lowercases) is not what a table shows
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# characters that Markdown (or JupyterLab's $…$ maths) would read as markup; a backslash
# makes each literal in a table cell
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$&])")


def sentiment(probability):
    """The class a probability positive predicts: "positive" when > 0.5, else "negative"."""
    return SENTIMENTS[int(probability > 0.5)]


def _probabilities(values, count, what):
    """`values` as float64 [count], checked to be probabilities (not logits) of one length."""
    values = _as_numpy(values).astype(np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.reshape(-1)
    if values.shape != (count,):
        raise ValueError(f"{what} must be one probability positive per review, shape ({count},), "
                         f"got shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError(f"{what}: nan among them, the model's training diverged")
    if not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"{what} must be probabilities in [0, 1], but run from {values.min():.3g} "
                         f"to {values.max():.3g}: pass torch.sigmoid(logits), not the logits")
    return values


def _labels(labels):
    labels = _as_numpy(labels)
    if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be one 0 (negative) or 1 (positive) per review")
    return labels.astype(np.int64)


def positive_probabilities(predict, texts):
    """`predict(texts)` as float64 [len(texts)], checked to be one probability positive per
    text (a numpy array, tensor or list; [N, 1] is read as [N])."""
    texts = list(texts)
    return _probabilities(predict(texts), len(texts), "predict(texts)")


# --- the n-grams a linear model weighs most ---

def ngram_label(token):
    """A vocabulary entry as it reads: a word as itself, an n-gram (a tuple of words, as
    `data.text.ngrams` makes them) joined by spaces — ("not", "good") as "not good"."""
    return " ".join(token) if isinstance(token, (tuple, list)) else str(token)


class NgramWeights(NamedTuple):
    """The n-grams with the largest weights each side, as (label, weight) pairs."""
    positive: list  # the largest positive weights, largest first
    negative: list  # the most negative weights, most negative first


def top_ngrams(weights, itos, k=15, *, specials=SPECIALS):
    """The `k` n-grams a linear model's weights push hardest towards a positive review, and
    the `k` hardest towards a negative one.

    `weights` holds one weight per row of the model's input — [V] (or a single output's
    [1, V] / [V, 1] weight matrix), numpy or torch; for NBSVM pass the weights times the
    log-count ratio r, what each n-gram adds to the logit. `itos` names the first rows
    (`vocab.get_itos()`, words or tuples of words); rows beyond it are hashed buckets, whose
    n-grams are unknown, and are left out, as are the `specials`. Only positive weights rank
    as positive and negative as negative, so each side holds at most k (fewer when fewer
    n-grams have a weight of that sign); equal weights keep the vocabulary's order."""
    weights = _as_numpy(weights).astype(np.float64)
    if weights.ndim == 2 and 1 in weights.shape:
        weights = weights.reshape(-1)
    if weights.ndim != 1:
        raise ValueError(f"weights must be one per vocabulary entry, shape [V] (or [1, V] / [V, 1]), got shape "
                         f"{weights.shape}: a model with several outputs has no single weight per n-gram")
    if len(weights) < len(itos):
        raise ValueError(f"{len(itos)} tokens but only {len(weights)} weights: pass the weights of the model "
                         f"trained on this vocabulary")
    if not np.isfinite(weights).all():
        raise ValueError("the weights hold nan or inf: the model's training diverged")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    labels = [ngram_label(token) for token in itos]
    kept = np.array([index for index, label in enumerate(labels) if label not in specials], dtype=np.int64)
    kept_weights = weights[kept]
    # a stable sort keeps equal weights in the vocabulary's order (most frequent first)
    by_weight = kept[np.argsort(kept_weights, kind="stable")]
    by_weight_descending = kept[np.argsort(-kept_weights, kind="stable")]
    positive = [(labels[index], float(weights[index])) for index in by_weight_descending if weights[index] > 0]
    negative = [(labels[index], float(weights[index])) for index in by_weight if weights[index] < 0]
    return NgramWeights(positive[:k], negative[:k])


def plot_top_ngrams(weights, itos, k=15, *, specials=SPECIALS, ax=None, title=None):
    """The n-grams of `top_ngrams(weights, itos, k)` as horizontal bars of their weights:
    the most positive at the top in green, down to the most negative at the bottom in red."""
    table = top_ngrams(weights, itos, k, specials=specials)
    rows = table.positive + table.negative[::-1]
    if not rows:
        raise ValueError("every weight outside the specials is zero: train the model before reading its weights")
    ax = _axes(ax, (7, 0.27 * len(rows) + 1.3))
    positions = np.arange(len(rows))
    ax.barh(positions, [weight for _, weight in rows],
            color=[POSITIVE_COLOR if weight > 0 else NEGATIVE_COLOR for _, weight in rows])
    ax.set_yticks(positions, [label for label, _ in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # reversed: the first row at the top
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("weight (what the n-gram adds to the logit: > 0 towards positive)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(title or f"the {len(table.positive)} most positive and {len(table.negative)} most negative n-grams")
    return ax


# --- accuracy by review length ---

class LengthBins(NamedTuple):
    """Reviews grouped by length in tokens, and each model's accuracy in each group."""
    edges: np.ndarray  # float [B + 1]: bin i holds edges[i] <= length < edges[i + 1], the last also its end
    labels: list  # each bin's lengths as words, "120–179"
    counts: np.ndarray  # int [B]: reviews per bin
    accuracy: dict  # {model: float [B]}, nan for an empty bin
    description: str  # how the edges were chosen, for the axis


def _lengths(lengths):
    lengths = _as_numpy(lengths)
    if lengths.ndim != 1 or len(lengths) == 0 or not np.all((lengths >= 0) & (lengths == np.round(lengths))):
        raise ValueError("lengths must be each review's token count: non-negative integers, one per review")
    return lengths.astype(np.int64)


def _length_edges(lengths, bins):
    """The edges for `bins`: a count of quantile bins, or the edges themselves."""
    if isinstance(bins, (int, np.integer)):
        if bins < 1:
            raise ValueError(f"bins must be a number of bins (at least 1) or a sequence of edges, got {bins}")
        quantiles = np.quantile(lengths, np.linspace(0, 1, bins + 1))
        # lengths are integers: a length falls in [lo, hi) exactly when it is in [ceil(lo), ceil(hi)),
        # so rounding up the inner edges moves no review and makes the labels whole numbers
        edges = np.unique(np.concatenate([[lengths.min()], np.ceil(quantiles[1:-1]), [lengths.max()]]))
        if len(edges) == 1:  # every review has the same length
            edges = np.repeat(edges, 2)
        shown = len(edges) - 1
        asked = f" (of {bins} asked for: many reviews share a length)" if shown < bins else ""
        return (edges.astype(np.float64),
                f"{shown} bin{'s' * (shown != 1)} at quantiles{asked}, about equally many reviews each")
    edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0) or not np.isfinite(edges[0]):
        raise ValueError(f"bin edges must be an increasing sequence of at least 2 numbers, the first finite, "
                         f"got {list(edges)}")
    if lengths.min() < edges[0] or lengths.max() > edges[-1]:
        raise ValueError(f"the edges run from {edges[0]:g} to {edges[-1]:g} but the lengths from {lengths.min()} "
                         f"to {lengths.max()}: cover them all (end with np.inf for no upper limit)")
    return edges, f"{len(edges) - 1} bins at fixed edges"


def _bin_label(low, high, last):
    """The whole numbers in [low, high) — in [low, high] for the last bin — as words."""
    first = math.ceil(low)
    if math.isinf(high):
        return f"{first}+"
    end = math.floor(high) if last else math.ceil(high) - 1
    if end < first:
        return f"[{low:g}, {high:g}{']' if last else ')'}"  # no whole number in the bin
    return f"{first}" if end == first else f"{first}–{end}"


def accuracy_by_length(lengths, labels, probabilities, bins=5):
    """Each model's accuracy on reviews grouped by length. `lengths`: each review's token
    count; `labels`: 0/1; `probabilities`: {model: its probability positive per review};
    `bins`: a number of quantile bins (about equally many reviews each; fewer when many
    reviews share a length) or the bin edges themselves (e.g. [0, 100, 200, 400, np.inf]).
    Returns `LengthBins`; an empty bin has count 0 and accuracy nan."""
    lengths, labels = _lengths(lengths), _labels(labels)
    if len(labels) != len(lengths):
        raise ValueError(f"{len(lengths)} lengths but {len(labels)} labels: give one of each per review")
    if not probabilities:
        raise ValueError("probabilities must hold at least one model: {name: probability positive per review}")
    edges, description = _length_edges(lengths, bins)
    count = len(edges) - 1
    which = np.minimum(np.searchsorted(edges, lengths, side="right") - 1, count - 1)  # the end goes in the last bin
    counts = np.bincount(which, minlength=count)
    accuracy = {}
    for name, values in probabilities.items():
        correct = (_probabilities(values, len(labels), f"the probabilities of {name!r}") > 0.5) == labels
        with np.errstate(invalid="ignore", divide="ignore"):
            accuracy[name] = np.bincount(which, weights=correct, minlength=count) / counts
    labels_of_bins = [_bin_label(edges[i], edges[i + 1], i == count - 1) for i in range(count)]
    return LengthBins(edges, labels_of_bins, counts, accuracy, description)


def plot_accuracy_by_length(lengths, labels, probabilities, bins=5, *, ax=None, title=None):
    """`accuracy_by_length` drawn: one line of accuracy (%) per model across the length
    bins, each bin's tick giving its lengths and its number of reviews; the axis says how
    the bins were chosen. An empty bin leaves a gap in the lines."""
    result = accuracy_by_length(lengths, labels, probabilities, bins)
    ax = _axes(ax, (max(6.0, 1.3 * len(result.counts) + 1.5), 4.2))
    positions = np.arange(len(result.counts))
    for name, accuracy in result.accuracy.items():
        ax.plot(positions, 100 * accuracy, "o-", label=name)
    ax.set_xticks(positions, [f"{label}\n{count} reviews" for label, count in zip(result.labels, result.counts)])
    ax.set_xlabel(f"review length in tokens — {result.description}")
    ax.set_ylabel("accuracy (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


# --- the reviews a model is surest of and wrong about ---

def shorten_review(text, width=300):
    """`text` with its `<br />` line breaks as spaces and each run of white space as one,
    cut to at most `width` characters at word boundaries: its beginning and its end — where
    reviewers tend to sum up — joined by " … "."""
    if width < 20:
        raise ValueError(f"width must be at least 20 characters to show a beginning and an end, got {width}")
    text = " ".join(_LINE_BREAK.sub(" ", text).split())
    if len(text) <= width:
        return text
    head_width = 2 * width // 3
    tail_width = width - head_width - len(" … ")
    head = text[:head_width].rsplit(" ", 1)[0]
    tail = text[-tail_width:].split(" ", 1)[-1]
    return f"{head} … {tail}"


class WrongReview(NamedTuple):
    """A review the model got wrong."""
    index: int  # its position in the texts given
    label: int  # its true label: 0 negative, 1 positive
    probability: float  # the model's probability positive
    length: int  # its length in tokens
    text: str  # `shorten_review` of it


def most_confidently_wrong(texts, labels, probabilities, lengths, k=10, *, width=300):
    """The `k` reviews the model got wrong with the highest probability of the wrong class
    (a positive review's 1 − p, a negative one's p), surest first, equal ones in the order
    given; all of them when there are fewer. `probabilities`: the model's probability
    positive per review; `lengths`: each review's token count. Returns `WrongReview`s."""
    labels, lengths = _labels(labels), _lengths(lengths)
    probabilities = _probabilities(probabilities, len(labels), "probabilities")
    if not len(texts) == len(labels) == len(lengths):
        raise ValueError(f"{len(texts)} texts, {len(labels)} labels and {len(lengths)} lengths: give one of each "
                         f"per review")
    wrong_confidence = np.where(labels == 1, 1 - probabilities, probabilities)
    wrong = np.flatnonzero((probabilities > 0.5) != labels)
    surest = wrong[np.argsort(-wrong_confidence[wrong], kind="stable")][:k]
    return [WrongReview(int(index), int(labels[index]), float(probabilities[index]), int(lengths[index]),
                        shorten_review(texts[index], width))
            for index in surest]


def _markdown_text(text):
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _highlighter(phrases):
    """A pattern finding any of `phrases` (words or n-grams) as whole tokens, ignoring case."""
    phrases = sorted({ngram_label(phrase).lower() for phrase in phrases}, key=len, reverse=True)
    words = [r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases if phrase.strip()]
    if not words:
        return None
    # a token ends where no letter follows, nor an apostrophe and a letter ("don" is not in "don't")
    return re.compile(rf"(?<!\w)(?<!\w')(?:{'|'.join(words)})(?!'?\w)", re.IGNORECASE)


def _highlighted(text, pattern):
    """`text` escaped for a Markdown table cell, what `pattern` finds in bold."""
    if pattern is None:
        return _markdown_text(text)
    pieces, start = [], 0
    for match in pattern.finditer(text):
        pieces += [_markdown_text(text[start:match.start()]), f"**{_markdown_text(match.group())}**"]
        start = match.end()
    return "".join(pieces + [_markdown_text(text[start:])])


def wrong_reviews_table(reviews, *, highlight=()):
    """The `WrongReview`s of `most_confidently_wrong` as a Markdown table: index, true
    label, the model's probability positive, tokens, and the text, with the words or
    n-grams in `highlight` (e.g. the labels of `top_ngrams`) in bold."""
    if not reviews:
        return "*no review is misclassified*"
    pattern = _highlighter(highlight)
    lines = ["| review | true label | P(positive) | tokens | text |", "|---:|:---|---:|---:|:---|"]
    lines += [f"| {review.index} | {SENTIMENTS[review.label]} | {review.probability:.3f} | {review.length} | "
              f"{_highlighted(review.text, pattern)} |" for review in reviews]
    return "\n".join(lines)


# --- probe sentences ---

def probe_table(sentences, models):
    """Each model's probability positive for each of `sentences` (e.g. "good", "not good",
    "not bad", "bad") as a Markdown table, a row per sentence, a column per model ({name:
    predict(texts) -> probability positive per text}, each called once on all sentences),
    each cell the probability and the class it predicts."""
    sentences = list(sentences)
    if not sentences or not models:
        raise ValueError("probe_table needs at least one sentence and one model: {name: predict}")
    columns = {name: positive_probabilities(predict, sentences) for name, predict in models.items()}
    lines = ["| sentence | " + " | ".join(_markdown_text(str(name)) for name in columns) + " |",
             "|:---|" + "---:|" * len(columns)]
    for row, sentence in enumerate(sentences):
        cells = [f"{values[row]:.2f} {sentiment(values[row])[:3]}" for values in columns.values()]
        lines.append(f"| {_markdown_text(sentence)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
