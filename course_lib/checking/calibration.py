"""The check of the expected calibration error (assignment 06):
`expected_calibration_error(confidences, correct, n_bins=15)` — confidences, a float array
[N] of each prediction's probability; correct, a bool array [N] of whether it is right —
returns the ECE of Guo et al. (2017) as a float: the confidences split into n_bins bins of
equal width on [0, 1], each bin (lo, hi] — open below, closed above — with 0 in the first;
the mean, over the non-empty bins, of |accuracy - mean confidence| in the bin, each weighted
by its share of the samples.

Scenarios, simplest first: an overconfident classifier with the default 15 bins; an
underconfident one with n_bins=10 (so that a gap whose sign is kept shows in both
directions); confidences exactly on the bin edges 0.25, 0.5 and 0.75 and at 1.0, with 4 bins
by position; every prediction right; every confidence above 0.7, which leaves the lower bins
empty; one bin. The bin edges that confidences sit on are exact in binary, so every correct
way of binning — comparisons with np.linspace's edges, np.digitize, ceil(c * n_bins) - 1 —
agrees on them. The expected values come from torch: torch.bucketize(confidences,
inner edges, right=False) puts c in bin i when edge[i] < c <= edge[i + 1].

After every scenario has run, the first wrong one is reported: a cause is named only when one
of the usual mistakes — each a small wrong ECE next to its explanation — gives the answer's
value in every scenario; otherwise the message says what came back and what was expected.

The answer runs through the harness, on copies of its arrays, under the delegation watch: it
must not run its course_lib reference nor `metrics.calibration_bins`, which does the binning.
"""
from builtins import IndexError, all, bool, enumerate, float, int, isinstance, len, str
from types import SimpleNamespace

from torch import arange as _arange
from torch import bucketize as _bucketize
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import ones as _ones
from torch import zeros as _zeros

from course_lib import metrics as _metrics

from ._trusted import default_rng, isclose, np
from .failure import fail, mistake, number
from .harness import Answer, exercise
from .values import check_scalar

EXPECTED_CALIBRATION_ERROR = exercise(_metrics.expected_calibration_error, forbidden=(_metrics.calibration_bins,))

RTOL, ATOL = 1e-7, 1e-12
DEFAULT_BINS = 15
RECIPE = ("bin b (of n_bins) holds the confidences in (b / n_bins, (b + 1) / n_bins], and 0 joins bin 0; "
          "for every bin with samples, gap = |accuracy in the bin - mean confidence in the bin|; the ECE is "
          "the sum of the gaps, each times the bin's count / N.")


def _scenario(words, n_bins, passed, draw):
    """`passed`: how n_bins is given — "default" (left out), "keyword" or "position"."""
    return SimpleNamespace(words=words, n_bins=n_bins, passed=passed, draw=draw)


def _classifier(rng, n, confidence_range, calibration_power):
    """n confidences in the range, each prediction right with probability confidence **
    calibration_power: above 1 an overconfident classifier, below 1 an underconfident one."""
    low, high = confidence_range
    confidences = low + (high - low) * rng.beta(4, 1.2, n)
    return confidences, rng.random(n) < confidences ** calibration_power


def _on_edges(rng):
    confidences = np.asarray([0.25, 0.5, 0.5, 0.75, 0.75, 1.0, 1.0, 1.0, 0.3, 0.6, 0.9, 0.4])
    order = rng.permutation(len(confidences))
    correct = np.asarray([0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1]).astype(bool)
    return confidences[order], correct[order]


def _all_right(rng):
    confidences, _ = _classifier(rng, 60, (0.5, 1.0), 1.0)
    return confidences, confidences >= 0  # all True


SCENARIOS = [
    _scenario("an overconfident classifier", DEFAULT_BINS, "default",
              lambda rng: _classifier(rng, 200, (0.1, 1.0), 2.0)),
    _scenario("an underconfident classifier", 10, "keyword", lambda rng: _classifier(rng, 150, (0.1, 1.0), 0.4)),
    _scenario("confidences exactly on the bin edges 0.25, 0.5 and 0.75 and at 1.0", 4, "position", _on_edges),
    _scenario("every prediction right", 5, "keyword", _all_right),
    _scenario("every confidence above 0.7, which leaves the lower bins empty", DEFAULT_BINS, "keyword",
              lambda rng: _classifier(rng, 80, (0.7, 1.0), 1.5)),
    _scenario("one bin", 1, "keyword", lambda rng: _classifier(rng, 40, (0.2, 1.0), 2.0)),
]


# ------------------------------------------------------------------------ torch's bins

def _bins(confidences, correct, n_bins, *, left_closed=False, drop_one=False):
    """(counts, mean confidence, accuracy) per bin, float64 tensors (nan for an empty bin), and
    the number of samples. torch.bucketize's right=False gives Guo et al.'s (lo, hi] bins;
    `left_closed` gives [lo, hi) bins instead, with 1.0 in the last bin, or, with `drop_one`,
    in none."""
    values, right = _from_numpy(confidences).to(_torch_float64), _from_numpy(correct).to(_torch_float64)
    inner_edges = _arange(1, n_bins, dtype=_torch_float64) / n_bins
    bins = _bucketize(values, inner_edges, right=left_closed)
    kept = values < 1 if drop_one else values >= 0
    bins, values, right = bins[kept], values[kept], right[kept]

    def per_bin(weights):
        return _zeros(n_bins, dtype=_torch_float64).index_add_(0, bins, weights)

    counts = per_bin(_ones(len(values), dtype=_torch_float64))
    return counts, per_bin(values) / counts, per_bin(right) / counts, len(confidences)


def _weighted_gap(counts, confidence, accuracy, n):
    filled = counts > 0
    return float((counts[filled] / n * (accuracy[filled] - confidence[filled]).abs()).sum())


def _expected(confidences, correct, n_bins):
    return _weighted_gap(*_bins(confidences, correct, n_bins))


# ---------------------------------------------------------------------------- mistakes
# Each takes the arrays and n_bins and returns the ECE it gives.

@mistake("each bin's gap counts the same, however few samples it holds: weigh each by its share of the "
         "samples, count / N.")
def _unweighted(confidences, correct, n_bins):
    counts, confidence, accuracy, _ = _bins(confidences, correct, n_bins)
    filled = counts > 0
    return float((accuracy[filled] - confidence[filled]).abs().mean())


@mistake("the gaps are averaged over all n_bins bins, the empty ones counting as 0, and not weighted: "
         "weigh each non-empty bin's gap by its share of the samples, count / N (an empty bin then "
         "weighs nothing).")
def _empty_bins_as_zeros(confidences, correct, n_bins):
    counts, confidence, accuracy, _ = _bins(confidences, correct, n_bins)
    filled = counts > 0
    return float((accuracy[filled] - confidence[filled]).abs().sum()) / n_bins


@mistake("an empty bin's mean confidence and accuracy are 0 / 0 = nan, and nan times a weight of 0 is "
         "still nan: leave the empty bins out (only bins with count > 0).")
def _nan_from_empty_bins(confidences, correct, n_bins):
    counts, _, _, _ = _bins(confidences, correct, n_bins)
    return float("nan") if (counts == 0).any() else _expected(confidences, correct, n_bins)


@mistake("the bins are closed below, [lo, hi), so a confidence exactly on an edge such as 0.5 lands in "
         "the bin above it: they are (lo, hi] — lo < c <= hi — with 0 in the first bin.")
def _left_closed(confidences, correct, n_bins):
    return _weighted_gap(*_bins(confidences, correct, n_bins, left_closed=True))


@mistake("the bins are closed below, [lo, hi), so a confidence of exactly 1.0 falls in no bin (and one "
         "on an edge such as 0.5 in the bin above it): they are (lo, hi] — lo < c <= hi — so 1.0 is in "
         "the last bin and 0 in the first.")
def _left_closed_without_one(confidences, correct, n_bins):
    return _weighted_gap(*_bins(confidences, correct, n_bins, left_closed=True, drop_one=True))


@mistake("the absolute value is missing: the gaps of overconfident bins (accuracy below confidence) "
         "and of underconfident ones cancel out. Take |accuracy - confidence| in each bin.")
def _signed_gap(confidences, correct, n_bins):
    return float(correct.mean() - confidences.mean())  # the weighted sum of the signed gaps


@mistake("the absolute value is missing: the gaps of overconfident bins (accuracy below confidence) "
         "and of underconfident ones cancel out. Take |accuracy - confidence| in each bin.")
def _signed_gap_the_other_way(confidences, correct, n_bins):
    return float(confidences.mean() - correct.mean())


@mistake("that is |accuracy - mean confidence| over all the samples at once: compute the accuracy and "
         "the mean confidence per bin, and weigh each bin's gap by its share of the samples.")
def _over_all_samples(confidences, correct, n_bins):
    return float(np.absolute(correct.mean() - confidences.mean()))


@mistake("that is the largest gap of a bin (the maximum calibration error): the ECE is their weighted "
         "mean, each bin's gap times its count / N.")
def _largest_gap(confidences, correct, n_bins):
    counts, confidence, accuracy, _ = _bins(confidences, correct, n_bins)
    filled = counts > 0
    return float((accuracy[filled] - confidence[filled]).abs().max())


@mistake("each bin's gap is weighted by its count but not divided by the number of samples N: the "
         "weights, count / N, sum to 1.")
def _counts_as_weights(confidences, correct, n_bins):
    return len(confidences) * _expected(confidences, correct, n_bins)


@mistake(f"n_bins is ignored: that is the ECE with {DEFAULT_BINS} bins. Use the n_bins the function "
         f"is given.")
def _n_bins_ignored(confidences, correct, n_bins):
    return _expected(confidences, correct, DEFAULT_BINS)


MISTAKES = (_unweighted, _empty_bins_as_zeros, _nan_from_empty_bins, _left_closed, _left_closed_without_one,
            _signed_gap, _signed_gap_the_other_way, _over_all_samples, _largest_gap, _counts_as_weights,
            _n_bins_ignored)


# ---------------------------------------------------------------------------- checking

def _advice(error):
    if isinstance(error, IndexError) and "out of bounds" in str(error):
        return ("a bin index of n_bins or more: a confidence of exactly 1.0 has floor(1.0 * n_bins) = "
                "n_bins, past the last bin. The bins are (lo, hi], so 1.0 belongs to the last one, "
                "n_bins - 1.")
    return None


def _agrees(value, wanted):
    return bool(isclose(float(value), wanted, rtol=RTOL, atol=ATOL))


def _is_number(value):
    return isinstance(value, (float, int, np.number)) and not isinstance(value, (bool, np.bool_))


def check_expected_calibration_error(expected_calibration_error, *, seed=0):
    """Check `expected_calibration_error(confidences, correct, n_bins=15)` (numpy float [N] and
    bool [N]; returns a float) against the ECE of torch.bucketize's (lo, hi] bins, over
    SCENARIOS with predictions drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(EXPECTED_CALIBRATION_ERROR, expected_calibration_error, advice=_advice)
    runs = []
    for index, current in enumerate(SCENARIOS):
        confidences, correct = current.draw(default_rng((int(seed), index)))
        args = (confidences, correct) + ((current.n_bins,) if current.passed == "position" else ())
        kwargs = {"n_bins": current.n_bins} if current.passed == "keyword" else {}
        context = (f"{answer.words(*args, **kwargs)} with {current.words} ({len(confidences)} "
                   f"predictions{'' if current.passed != 'default' else f', n_bins={DEFAULT_BINS}'})")
        result = answer.run(context, *args, **kwargs)
        if isinstance(result, np.ndarray) and result.shape == ():
            result = result[()]  # a 0-d array is a number
        expected = _expected(confidences, correct, current.n_bins)
        if not _is_number(result):
            check_scalar(context, result, expected, hint=RECIPE)  # tells what came back instead
        runs.append(SimpleNamespace(context=context, arrays=(confidences, correct, current.n_bins), result=result,
                                    expected=expected))
    wrong = [run for run in runs if not _agrees(run.result, run.expected)]
    if not wrong:
        return
    first = wrong[0]
    for candidate in MISTAKES:
        if all(_agrees(run.result, candidate(*run.arrays)) for run in runs):
            fail(f"{first.context} returned {number(first.result)}, expected {number(first.expected)}: "
                 f"{candidate.explanation}", RECIPE)
    confidences, correct, n_bins = first.arrays
    check_scalar(first.context, first.result, first.expected, rtol=RTOL, atol=ATOL, hint=RECIPE,
                 factor_hints={"the number of samples": len(confidences), "the number of bins": n_bins})
