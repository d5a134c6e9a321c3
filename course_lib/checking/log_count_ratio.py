"""The check of NBSVM's log-count ratio (assignment 07; Wang & Manning, 2012):
`log_count_ratio(features, labels, alpha=1.0)` in torch — features, a dense float tensor
[N, V] (a review per row, a word per column: 1/0 or counts); labels, [N] int64 labels 0 and
1 — returns the float tensor [V] r = log(p / ||p||_1) - log(q / ||q||_1), where p = alpha +
the sum of the positive reviews' rows (labels == 1) and q = alpha + that of the negative ones.
r is the check's own computation from that definition: torch has no such op.

The answer is given dense features only. course_lib's reference also takes the sparse ones the
notebook trains on (a vocabulary with bigrams does not fit in a dense matrix), but torch's
sparse tensors lack much of the dense API — boolean row indexing, sums that stay dense — and
that is not what the exercise is about: the notebook compares the answer with the reference on
a dense slice of the real features.

Scenarios, simplest first, all in float64: binary features with the default alpha; alpha=0.5;
word counts rather than 0/1; a word only positive reviews hold and one only negative reviews
hold, with alpha by position (without alpha their ratio is ±inf); unbalanced classes (3
positive reviews of 12) with alpha=2; and a word no review holds (its ratio is
log(||q||_1 / ||p||_1), not 0). The result must be a float64 tensor [V].

After every scenario has run, the first wrong one is reported: a cause is named only when one
of the usual mistakes — each a small wrong ratio next to its explanation — gives the answer's
values in every scenario; otherwise the message says which entries differ.

The answer runs through the harness, on copies of its tensors, under the delegation watch: it
must not run its course_lib reference.
"""
from builtins import RuntimeError, all, bool, enumerate, int, isinstance, str, tuple
from types import SimpleNamespace

import torch
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import log as _log

from course_lib.data import text_features as _text_features

from ._trusted import default_rng, isclose, np
from .failure import CheckFailure, fail, mistake
from .harness import Answer, exercise
from .values import check_array

LOG_COUNT_RATIO = exercise(_text_features.log_count_ratio)

RTOL, ATOL = 1e-9, 1e-12
DEFAULT_ALPHA = 1.0
RECIPE = ("positive = (labels == 1).to(features.dtype); p = alpha + positive @ features (the sum of the "
          "positive rows), q = alpha + (1 - positive) @ features; r = torch.log(p / p.sum()) - torch.log(q / "
          "q.sum()), a float64 tensor [V].")


def _scenario(words, draw, alpha, passed="keyword"):
    """`draw(rng)` gives (features, labels) as numpy arrays; `passed`: how alpha is given —
    "default" (left out), "keyword" or "position"."""
    return SimpleNamespace(words=words, draw=draw, alpha=alpha, passed=passed)


def _labels(rng, n, positive):
    return rng.permutation(np.arange(n) < positive).astype(np.int64)


def _binary(rng, n=8, words=6, positive=4):
    return (rng.random((n, words)) < 0.45).astype(np.float64), _labels(rng, n, positive)


def _counts(rng):
    return rng.poisson(1.2, (8, 6)).astype(np.float64), _labels(rng, 8, 4)


def _one_class_words(rng):
    """Word 0 in positive reviews only, word 1 in negative ones only."""
    features, labels = _binary(rng, 10, 6, 5)
    features[:, 0], features[:, 1] = labels == 1, labels == 0
    features[(labels == 1) & (rng.random(10) < 0.4), 0] = 0  # not in every positive review
    return features, labels


def _unbalanced(rng):
    return _binary(rng, 12, 7, 3)


def _unused_word(rng):
    features, labels = _binary(rng, 8, 5, 4)
    features[:, 2] = 0
    return features, labels


SCENARIOS = [
    _scenario("binary features of 8 reviews over 6 words, the default alpha", _binary, DEFAULT_ALPHA, "default"),
    _scenario("alpha=0.5", _binary, 0.5),
    _scenario("word counts, not only 0 and 1", _counts, 1.0),
    _scenario("a word only positive reviews hold and one only negative reviews hold", _one_class_words, 0.25,
              "position"),
    _scenario("unbalanced classes, 3 positive reviews of 12", _unbalanced, 2.0),
    _scenario("a word no review holds", _unused_word, 1.0),
]


# ---------------------------------------------------------------------------- mistakes
# Each takes the float64 features, the labels and alpha, and returns the ratio it gives.

def _class_sums(features, labels):
    """The sum of the positive rows and that of the negative rows."""
    return features[labels == 1].sum(0), features[labels == 0].sum(0)


def _ratio(p, q):
    return _log(p / p.sum()) - _log(q / q.sum())


def _right(features, labels, alpha):
    positive, negative = _class_sums(features, labels)
    return _ratio(alpha + positive, alpha + negative)


@mistake("the classes are swapped, so every ratio has the wrong sign: p sums the positive reviews (labels == 1), "
         "q the negative ones, and r = log(p / ||p||_1) - log(q / ||q||_1) is positive for words of positive "
         "reviews.")
def _classes_swapped(features, labels, alpha):
    return -_right(features, labels, alpha)


@mistake("p and q are not normalised: r = log(p / ||p||_1) - log(q / ||q||_1), each divided by its sum "
         "(p.sum(), its L1 norm — the counts are positive), so that a class with more or longer reviews does "
         "not get larger ratios for every word.")
def _not_normalised(features, labels, alpha):
    positive, negative = _class_sums(features, labels)
    return _log(alpha + positive) - _log(alpha + negative)


@mistake("alpha is left out: p = alpha + the sum of the positive rows. Without it a word absent from one class "
         "gets a ratio of ±inf (log 0).")
def _alpha_left_out(features, labels, alpha):
    return _ratio(*_class_sums(features, labels))


@mistake("alpha is ignored: that is the ratio for alpha=1. Use the alpha the function is given.")
def _alpha_ignored(features, labels, alpha):
    return _right(features, labels, DEFAULT_ALPHA)


@mistake("alpha counts once per review: it was added to every review's row before summing, or the rows were "
         "averaged (.mean(0)) instead of summed — after the division by the L1 norm, the two give the same "
         "ratio. Sum the rows of each class and add alpha once: p = alpha + the sum of the positive rows.")
def _alpha_per_review(features, labels, alpha):
    return _right(features + alpha, labels, 0.0)


@mistake("alpha is added after dividing by the L1 norm: add it to the counts first, p = alpha + the sum of the "
         "positive rows, then divide p by its sum, which includes alpha.")
def _alpha_after_normalising(features, labels, alpha):
    positive, negative = _class_sums(features, labels)
    return _log(alpha + positive / positive.sum()) - _log(alpha + negative / negative.sum())


@mistake("the L1 norm is taken of the counts without alpha: p / ||p||_1 divides p = alpha + the sum of the "
         "positive rows by its own sum, alpha included.")
def _norm_without_alpha(features, labels, alpha):
    positive, negative = _class_sums(features, labels)
    return _log((alpha + positive) / positive.sum()) - _log((alpha + negative) / negative.sum())


@mistake("q sums every review, not only the negative ones: q = alpha + the sum of the rows with labels == 0.")
def _q_over_all_reviews(features, labels, alpha):
    positive, _ = _class_sums(features, labels)
    return _ratio(alpha + positive, alpha + features.sum(0))


@mistake("the log is missing: r = log(p / ||p||_1) - log(q / ||q||_1), the log of the ratio — 0 for a word "
         "as frequent in both classes, not 1.")
def _no_log(features, labels, alpha):
    positive, negative = _class_sums(features, labels)
    p, q = alpha + positive, alpha + negative
    return (p / p.sum()) / (q / q.sum())


MISTAKES = (_classes_swapped, _not_normalised, _alpha_left_out, _alpha_ignored, _alpha_per_review,
            _alpha_after_normalising, _norm_without_alpha, _q_over_all_reviews, _no_log)


# ---------------------------------------------------------------------------- checking

def _advice(error):
    if isinstance(error, RuntimeError) and "same dtype" in str(error):
        return ("a matrix product of tensors of two dtypes (the labels are int64, the features float64): "
                "convert the labels to the features' dtype first, labels.to(features.dtype).")
    return None


def _agrees(value, wanted):
    return bool(isclose(value.numpy(), wanted.numpy(), rtol=RTOL, atol=ATOL).all())


def _is_ratio(result, words):
    return isinstance(result, torch.Tensor) and tuple(result.shape) == (words,) and result.dtype == _torch_float64


def check_log_count_ratio(log_count_ratio, *, seed=0):
    """Check `log_count_ratio(features, labels, alpha=1.0)` (dense float64 features [N, V], int64
    0/1 labels [N]; returns a float64 tensor [V]) against the definition, over SCENARIOS with
    reviews drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(LOG_COUNT_RATIO, log_count_ratio, shape_hint=RECIPE, advice=_advice)
    runs = []
    for index, current in enumerate(SCENARIOS):
        features, labels = (_from_numpy(values) for values in current.draw(default_rng((int(seed), index))))
        args = (features, labels) + ((current.alpha,) if current.passed == "position" else ())
        kwargs = {"alpha": current.alpha} if current.passed == "keyword" else {}
        reviews, words = features.shape
        context = f"{answer.words(*args, **kwargs)} with {current.words} ({reviews} reviews, {words} words)"
        result = answer.run(context, *args, **kwargs)
        expected = _right(features, labels, current.alpha)
        if not _is_ratio(result, words):
            check_array(context, result, expected, dtype=_torch_float64, hint=RECIPE)  # tells what came back
        runs.append(SimpleNamespace(context=context, arrays=(features, labels, current.alpha), result=result.detach(),
                                    expected=expected))
    wrong = [run for run in runs if not _agrees(run.result, run.expected)]
    if not wrong:
        return
    first = wrong[0]
    for candidate in MISTAKES:
        if all(_agrees(run.result, candidate(*run.arrays)) for run in runs):
            fail(f"{first.context}: r = {_shown(first.result)}, expected {_shown(first.expected)}: "
                 f"{candidate.explanation}", RECIPE)
    try:
        check_array("r", first.result, first.expected, rtol=RTOL, atol=ATOL)
    except CheckFailure as failure:
        fail(f"{first.context}: {failure.message}", RECIPE)


def _shown(ratio):
    return "[" + ", ".join(f"{value:.4g}" for value in ratio.tolist()) + "]"
