import math

import numpy as np
import pytest
import torch

from course_lib import plots
from course_lib.plots.text import (
    LengthBins, WrongReview, accuracy_by_length, most_confidently_wrong, ngram_label, plot_accuracy_by_length,
    plot_top_ngrams, positive_probabilities, probe_table, sentiment, shorten_review, top_ngrams, wrong_reviews_table,
)
from tests.calls import counted
from tests.plots.drawn import line_labels

ITOS = ["<pad>", "<unk>", "good", "bad", "great", "awful", ("not", "good"), ("not", "bad"), "the"]
WEIGHTS = np.array([9.0, -9.0, 1.5, -2.0, 2.5, -0.5, -1.0, 0.8, 0.0])


def test_ngram_labels_join_the_words_of_an_ngram():
    assert [ngram_label(token) for token in ("good", ("not", "good"), ["very", "very", "bad"])] == [
        "good", "not good", "very very bad"]


def test_top_ngrams_rank_each_side_and_leave_out_the_specials_and_zero():
    table = top_ngrams(WEIGHTS, ITOS, k=2)

    assert table.positive == [("great", 2.5), ("good", 1.5)]
    assert table.negative == [("bad", -2.0), ("not good", -1.0)]
    assert top_ngrams(WEIGHTS, ITOS, k=10) == ([("great", 2.5), ("good", 1.5), ("not bad", 0.8)],
                                               [("bad", -2.0), ("not good", -1.0), ("awful", -0.5)])


def test_top_ngrams_leave_out_the_hashed_buckets_and_take_torch_weight_matrices():
    buckets = torch.tensor([[5.0, -5.0, 4.0]])  # rows after the vocabulary's: hashed n-grams, unnamed
    weights = torch.cat([torch.tensor(WEIGHTS[None], dtype=torch.float32), buckets], dim=1).requires_grad_()

    table = top_ngrams(weights, ITOS, k=1)  # [1, V + buckets], as nn.Linear(V + buckets, 1).weight

    assert table.positive == [("great", 2.5)] and table.negative == [("bad", -2.0)]
    assert top_ngrams(weights.T, ITOS, k=1) == table  # [V, 1], as nn.EmbeddingBag(V, 1).weight


def test_equal_weights_keep_the_vocabulary_order():
    table = top_ngrams([0.0, 0.0, 1.0, 2.0, 1.0, -1.0, -1.0], ["<pad>", "<unk>", "b", "a", "c", "e", "d"], k=3)

    assert [label for label, _ in table.positive] == ["a", "b", "c"]
    assert [label for label, _ in table.negative] == ["e", "d"]


@pytest.mark.parametrize(("weights", "message"), [
    (np.ones((2, 9)), r"\[V\]"),
    (np.ones(5), "9 tokens but only 5 weights"),
    (np.full(9, np.nan), "diverged"),
])
def test_top_ngrams_refuse_weights_that_cannot_be_read(weights, message):
    with pytest.raises(ValueError, match=message):
        top_ngrams(weights, ITOS)


def test_plot_top_ngrams_draws_a_bar_per_ngram_most_positive_on_top():
    ax = plot_top_ngrams(WEIGHTS, ITOS, k=2)

    bars = ax.patches
    assert [bar.get_width() for bar in bars] == [2.5, 1.5, -1.0, -2.0]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == ["great", "good", "not good", "bad"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # the first row at the top
    assert bars[0].get_facecolor() != bars[-1].get_facecolor()
    assert ax.get_title() == "the 2 most positive and 2 most negative n-grams"
    with pytest.raises(ValueError, match="zero"):
        plot_top_ngrams(np.zeros(9), ITOS)


def test_accuracy_by_length_at_quantiles_counts_each_bin():
    lengths = np.arange(1, 9)  # two reviews a bin at 4 quantile bins
    labels = np.array([0, 1] * 4)
    always_right = labels.astype(float)
    right_on_short = np.array([0, 1, 0, 1, 1, 0, 1, 0], dtype=float)

    result = accuracy_by_length(lengths, labels, {"right": always_right, "short": right_on_short}, bins=4)

    assert isinstance(result, LengthBins)
    np.testing.assert_array_equal(result.counts, [2, 2, 2, 2])
    assert result.labels == ["1–2", "3–4", "5–6", "7–8"]
    np.testing.assert_array_equal(result.accuracy["right"], [1, 1, 1, 1])
    np.testing.assert_array_equal(result.accuracy["short"], [1, 1, 0, 0])
    assert result.description.startswith("4 bins at quantiles")


def test_repeated_lengths_give_fewer_quantile_bins_and_say_so():
    lengths = np.array([10] * 6 + [20, 30, 40, 50])  # the quartiles: 10, 10, 27.5

    result = accuracy_by_length(lengths, np.ones(10, dtype=int), {"m": np.ones(10)}, bins=4)

    assert result.labels == ["10–27", "28–50"] and list(result.counts) == [7, 3]
    assert result.description.startswith("2 bins at quantiles (of 4 asked for")
    one_length = accuracy_by_length([7, 7], [0, 1], {"m": [0.2, 0.9]}, bins=3)
    assert one_length.labels == ["7"] and list(one_length.counts) == [2]
    assert one_length.description.startswith("1 bin at quantiles")
    np.testing.assert_array_equal(one_length.accuracy["m"], [1.0])


def test_fixed_edges_keep_empty_bins_with_no_accuracy():
    lengths, labels = np.array([5, 20, 30, 250]), np.array([1, 1, 0, 0])
    probabilities = np.array([0.9, 0.2, 0.4, 0.6])  # right, wrong, right, wrong

    result = accuracy_by_length(lengths, labels, {"m": probabilities}, bins=[0, 10, 100, 200, np.inf])

    assert result.labels == ["0–9", "10–99", "100–199", "200+"]
    np.testing.assert_array_equal(result.counts, [1, 2, 0, 1])
    np.testing.assert_array_equal(result.accuracy["m"], [1, 0.5, np.nan, 0])
    assert result.description == "4 bins at fixed edges"
    assert accuracy_by_length([0, 10], [0, 0], {"m": [0, 0]}, bins=[0, 5, 10]).labels == ["0–4", "5–10"]


@pytest.mark.parametrize(("arguments", "message"), [
    (([5, 500], [0, 1], {"m": [0.1, 0.9]}, [0, 100]), "cover them all"),
    (([5, 50], [0, 1], {"m": [0.1, 0.9]}, [0, 100, 100]), "increasing"),
    (([5, 50], [0, 1], {"m": [-2.0, 3.0]}, 2), "not the logits"),
    (([5, 50], [0, 1], {"m": [0.1, 0.9, 0.5]}, 2), r"shape \(2,\)"),
    (([5.5, 50], [0, 1], {"m": [0.1, 0.9]}, 2), "token count"),
    (([5, 50], [0, 2], {"m": [0.1, 0.9]}, 2), "0 .negative. or 1"),
    (([5, 50], [0, 1], {}, 2), "at least one model"),
])
def test_accuracy_by_length_refuses_what_it_cannot_bin(arguments, message):
    with pytest.raises(ValueError, match=message):
        accuracy_by_length(*arguments)


def test_plot_accuracy_by_length_draws_a_line_per_model_and_counts_on_the_ticks():
    lengths, labels = np.arange(1, 9), np.array([0, 1] * 4)
    models = {"right": labels.astype(float), "wrong": 1.0 - labels, "half": np.full(8, 0.7)}

    ax = plot_accuracy_by_length(lengths, labels, models, bins=[0, 3, 6, 20, 40])

    assert line_labels(ax) == ["right", "wrong", "half"]
    right, wrong, half = ax.get_lines()
    np.testing.assert_array_equal(right.get_ydata(), [100, 100, 100, np.nan])
    np.testing.assert_array_equal(wrong.get_ydata(), [0, 0, 0, np.nan])
    np.testing.assert_allclose(half.get_ydata(), [50, 100 / 3, 200 / 3, np.nan])
    assert [tick.get_text() for tick in ax.get_xticklabels()] == [
        "0–2\n2 reviews", "3–5\n3 reviews", "6–19\n3 reviews", "20–40\n0 reviews"]
    assert ax.get_xlabel() == "review length in tokens — 4 bins at fixed edges"


def test_shorten_review_removes_line_breaks_and_keeps_beginning_and_end():
    assert shorten_review("Great<br /><br />film.<BR>Really<br/>great.") == "Great film. Really great."

    words = " ".join(f"w{index:02d}" for index in range(40))  # 159 characters
    short = shorten_review(words, width=60)

    assert len(short) <= 60
    assert short.startswith("w00 w01 ") and short.endswith(" w38 w39") and " … " in short
    head, tail = short.split(" … ")
    assert set(head.split() + tail.split()) <= set(words.split())  # cut at word boundaries
    with pytest.raises(ValueError, match="at least 20"):
        shorten_review(words, width=5)


def reviews():
    texts = ["fine<br />film", "dull", "superb", "awful", "so-so", "not bad at all"]
    labels = np.array([1, 0, 1, 0, 1, 1])
    probabilities = np.array([0.8, 0.9, 0.05, 0.1, 0.2, 0.05])  # wrong: 1 (0.9), 2 (0.95), 4 (0.8), 5 (0.95)
    return texts, labels, probabilities, np.array([2, 1, 1, 1, 3, 4])


def test_most_confidently_wrong_ranks_by_the_wrong_class_probability_ties_in_order():
    texts, labels, probabilities, lengths = reviews()

    wrong = most_confidently_wrong(texts, labels, torch.tensor(probabilities), lengths, k=3)

    assert wrong == [WrongReview(2, 1, 0.05, 1, "superb"), WrongReview(5, 1, 0.05, 4, "not bad at all"),
                     WrongReview(1, 0, 0.9, 1, "dull")]
    assert [review.index for review in most_confidently_wrong(texts, labels, probabilities, lengths, k=10)] == [
        2, 5, 1, 4]


def test_a_model_that_is_always_right_has_no_confident_mistakes():
    texts, labels, _, lengths = reviews()

    assert most_confidently_wrong(texts, labels, labels.astype(float), lengths) == []
    assert wrong_reviews_table([]) == "*no review is misclassified*"


def test_wrong_reviews_table_escapes_markdown_and_highlights_whole_words():
    review = WrongReview(7, 1, 0.0312, 12, "Not good | *bad* — don't miss it, goodness! $5 <i>")

    table = wrong_reviews_table([review], highlight=["good", ("don",), ("miss", "it"), "bad"])

    header, alignment, row = table.split("\n")
    assert header == "| review | true label | P(positive) | tokens | text |"
    assert row.startswith("| 7 | positive | 0.031 | 12 | ")
    assert row.endswith(r"Not **good** \| \***bad**\* — don't **miss it**, goodness! \$5 \<i\> |")
    assert "**" not in wrong_reviews_table([review])


def test_positive_probabilities_checks_what_predict_returns():
    assert positive_probabilities(lambda texts: torch.tensor([[0.25]] * len(texts)), ("a", "b")).tolist() == [
        0.25, 0.25]
    with pytest.raises(ValueError, match="not the logits"):
        positive_probabilities(lambda texts: [3.0], ["a"])
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        positive_probabilities(lambda texts: [0.5, 0.5], ["a"])
    with pytest.raises(ValueError, match="diverged"):
        positive_probabilities(lambda texts: [float("nan")], ["a"])


def test_probe_table_calls_each_model_once_and_shows_its_probabilities():
    def likes_good(texts):
        return [0.9 if "good" in text and "not" not in text else 0.2 for text in texts]

    likes_good = counted(likes_good)
    sentences = ["good", "not good", "not bad", "bad"]

    table = probe_table(sentences, {"bag of words": likes_good, "undecided": lambda texts: np.full(len(texts), 0.5)})

    assert likes_good.calls == 1
    assert table.split("\n") == [
        "| sentence | bag of words | undecided |",
        "|:---|---:|---:|",
        "| good | 0.90 pos | 0.50 neg |",
        "| not good | 0.20 neg | 0.50 neg |",
        "| not bad | 0.20 neg | 0.50 neg |",
        "| bad | 0.20 neg | 0.50 neg |",
    ]
    with pytest.raises(ValueError, match="at least one sentence and one model"):
        probe_table(sentences, {})


def test_a_probability_of_one_half_predicts_negative_as_a_logit_of_zero_does():
    assert (sentiment(0.5), sentiment(0.5000001)) == ("negative", "positive")
    assert math.isclose(torch.sigmoid(torch.tensor(0.0)).item(), 0.5)


def test_the_text_helpers_are_exported():
    assert {"plot_top_ngrams", "top_ngrams", "plot_accuracy_by_length", "accuracy_by_length",
            "most_confidently_wrong", "wrong_reviews_table", "probe_table"} <= set(plots.__all__)
