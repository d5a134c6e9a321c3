import os

import numpy as np
import pytest
import torch

from course_lib.data import build_vocab_from_iterator, hashed_ngrams, load_imdb, tokenize
from course_lib.errors import CourseError
from course_lib.metrics import binary_accuracy
from course_lib.models import BagOfWordsClassifier, LSTMClassifier
from course_lib.training import text_recipes
from course_lib.training.text_recipes import (
    EncodedReviews, NgramFeatures, bag_batches, encode, film_validation_split, lstm_sequences, predict_logits,
    read_tokenized, read_tokenized_splits, review_ngram_ids, sequence_batches, train_lstm, train_nbsvm,
)

REAL_DATA_DIR = os.environ.get("COURSE_DATA_DIR")

def encoded(*reviews, labels=None):
    """EncodedReviews of reviews given as token lists."""
    return encode([list(review) for review in reviews], labels if labels is not None else [0] * len(reviews))


def opinion_reviews(n, seed=0, length=20):
    """Token lists whose label says whether "good" or "bad" comes after "not": a task a
    bag of unigrams cannot solve ("not", "good" and "bad" occur in both classes) and one
    of bigrams can."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(30)]
    reviews, labels = [], []
    for _ in range(n):
        label = int(rng.integers(2))
        tokens = list(rng.choice(filler, length))
        spots = rng.choice(length - 3, 2, replace=False)
        first, second = ("good", "bad") if label == 0 else ("bad", "good")
        tokens[spots.min():spots.min() + 2] = ["not", first]
        tokens[spots.max() + 2:spots.max() + 3] = [second]
        reviews.append(tokens[:length])
        labels.append(label)
    return reviews, labels


# ------------------------------------------------------------------ reviews as word ids

def test_encode_numbers_the_words_in_order_of_first_appearance():
    reviews = encoded(["b", "a", "b"], [], ["c", "a"], labels=[1, 0, 1])

    assert reviews.words == ["b", "a", "c"]
    assert reviews.ids.tolist() == [0, 1, 0, 2, 1] and reviews.lengths.tolist() == [3, 0, 2]
    assert [review.tolist() for review in reviews.reviews()] == [[0, 1, 0], [], [2, 1]]
    assert reviews.token_lists() == [["b", "a", "b"], [], ["c", "a"]]
    assert reviews.labels.tolist() == [1, 0, 1] and len(reviews) == 3 and reviews.unknown_id == 3


def test_recoded_reviews_use_the_given_words_and_one_id_for_the_others():
    test = encoded(["new", "a"], ["b", "other", "new"]).recoded(["a", "b", "c"])

    assert test.words == ["a", "b", "c"]
    assert [review.tolist() for review in test.reviews()] == [[3, 0], [1, 3, 3]]
    assert test.token_lists() == [[None, "a"], ["b", None, None]]


def test_a_subset_keeps_the_chosen_reviews_in_the_order_given():
    reviews = encoded(["a"], ["b", "c"], [], ["d", "e", "f"], labels=[0, 1, 0, 1])

    part = reviews.subset([3, 0, 2])

    assert part.token_lists() == [["d", "e", "f"], ["a"], []] and part.labels.tolist() == [1, 0, 0]


def test_film_validation_split_keeps_each_films_reviews_on_one_side():
    reviews = encoded(*[[str(i)] for i in range(10)], labels=list(range(10)))
    films = ["tt1", "tt1", "tt2", "tt3", "tt3", "tt3", "tt4", "tt5", "tt5", "tt6"]

    rest, validation = film_validation_split(reviews, films, 3, seed=1)

    assert len(validation) >= 3 and len(rest) + len(validation) == 10
    assert sorted(rest.labels.tolist() + validation.labels.tolist()) == list(range(10))
    validation_films = {films[label] for label in validation.labels}
    assert validation_films.isdisjoint(films[label] for label in rest.labels)
    assert [tokens[0] for tokens in validation.token_lists()] == [str(label) for label in validation.labels]


def test_film_validation_split_wants_one_film_per_review():
    reviews = encoded(["a"], ["b"], ["c"], labels=[0, 1, 0])

    with pytest.raises(CourseError, match="2 films for 3 reviews"):
        film_validation_split(reviews, ["tt1", "tt2"], 1)


def fake_imdb(split, root=None):
    texts = [f"{split} review {i}: {'great fun!' if i % 2 else 'dull <br />plot'}" for i in range(12)]
    return texts, np.arange(12) % 2


@pytest.mark.parametrize("workers", [1, 2])
def test_read_tokenized_splits_encodes_both_splits_with_the_training_words(monkeypatch, workers):
    monkeypatch.setattr(text_recipes, "load_imdb", fake_imdb)

    train, test, seconds = read_tokenized_splits(stride=3, workers=workers)

    assert train.token_lists() == [tokenize(text) for text in fake_imdb("train")[0][::3]]
    assert test.words == train.words
    assert test.token_lists()[1] == [None, "review", "3", "great", "fun", "!"]  # "test" is no training word
    assert train.labels.tolist() == test.labels.tolist() == [0, 1, 0, 1]
    assert set(seconds) == {"read", "tokenize", "splits"} and min(seconds["read"], seconds["tokenize"]) >= 0
    assert set(seconds["splits"]) == {"train", "test"}


def test_read_tokenized_refuses_a_stride_below_one(monkeypatch):
    monkeypatch.setattr(text_recipes, "load_imdb", fake_imdb)
    with pytest.raises(CourseError, match="stride"):
        read_tokenized("train", stride=0)


# -------------------------------------------------------------------- NBSVM's features

def test_review_ngram_ids_are_hashed_ngrams_review_by_review():
    rng = np.random.default_rng(0)
    reviews = [rng.integers(0, 7, size).tolist() for size in (0, 1, 2, 3, 9, 30)]
    word_ids = EncodedReviews([str(i) for i in range(6)], np.concatenate(reviews).astype(np.int64),
                              np.array([len(review) for review in reviews]), np.zeros(len(reviews), np.int64))

    ids, owner = review_ngram_ids(word_ids, 7, 2**20, 3)

    assert ids.tolist() == sorted(ids.tolist())
    for index, review in enumerate(reviews):
        expected = np.unique(hashed_ngrams(review, 7, 2**20, 3)) if review else []
        assert sorted(ids[owner == index].tolist()) == list(expected)


def test_ngram_features_keep_what_occurs_in_min_df_training_reviews():
    train = encoded(["not", "good"], ["not", "good", "film"], ["good", "film", "good"])
    features = NgramFeatures(n=2, buckets=1000, min_df=2)

    bags = features.fit_transform(train)

    # kept: "not", "good", "film", "not good", "good film"; each bag binary
    assert features.vocab_size == 5
    assert [len(bag) for bag in bags] == [3, 5, 3]
    assert all(bag.tolist() == sorted(set(bag.tolist())) for bag in bags)
    assert [bag.tolist() for bag in features.transform(train)] == [bag.tolist() for bag in bags]
    assert [bag.tolist() for bag in NgramFeatures(n=2, buckets=1000, min_df=2).fit(train).transform(train)] == \
        [bag.tolist() for bag in bags]


def test_ngram_features_of_unseen_words_are_left_out():
    train = encoded(["not", "good"], ["not", "good", "film"])
    test = encoded(["not", "good", "at", "all"], ["unseen"], []).recoded(train.words)
    features = NgramFeatures(n=2, buckets=1000, min_df=2)
    train_bags = features.fit_transform(train)

    test_bags = features.transform(test)

    assert test_bags[0].tolist() == train_bags[0].tolist()  # "not", "good", "not good" only
    assert test_bags[1].tolist() == test_bags[2].tolist() == []


def test_ngram_features_want_the_training_words_and_a_fit():
    train = encoded(["a", "b"], ["a"])
    with pytest.raises(CourseError, match=r"fit\(train\)"):
        NgramFeatures().transform(train)
    features = NgramFeatures().fit(train)
    with pytest.raises(CourseError, match="recoded"):
        features.transform(encoded(["x", "y", "z"]))


# ------------------------------------------------------------------------ training

def test_nbsvm_learns_bigrams_that_unigrams_cannot():
    reviews, labels = opinion_reviews(600)
    train, test = encoded(*reviews[:400], labels=labels[:400]), encoded(*reviews[400:], labels=labels[400:])
    test = test.recoded(train.words)
    features = NgramFeatures(n=2, buckets=2**16, min_df=2)
    train_bags, test_bags = features.fit_transform(train), features.transform(test)

    model, history = train_nbsvm(train_bags, train.labels, features.vocab_size, epochs=10, batch_size=32, lr=0.05)
    logits, targets = predict_logits(model, bag_batches(test_bags, test.labels, batch_size=64))

    assert isinstance(model, BagOfWordsClassifier) and model.feature_scale.shape == (features.vocab_size,)
    assert len(history.epochs) == 10 and history.epochs[-1]["loss"] < history.epochs[0]["loss"]
    assert targets.tolist() == test.labels.tolist()  # in the order of the reviews
    assert binary_accuracy(logits, targets) > 0.9


def test_lstm_sequences_use_the_most_frequent_training_words_and_keep_each_reviews_end():
    train = encoded(["a", "b", "a", "c"], ["a", "b", "d"])
    test = encoded(["e", "a", "b", "d"]).recoded(train.words)

    vocab, (train_sequences, test_sequences) = lstm_sequences(train, test, vocab_size=5, maxlen=3)

    expected = build_vocab_from_iterator(train.token_lists(), specials=["<pad>", "<unk>"], max_tokens=5)
    assert vocab.get_itos() == expected.get_itos() == ["<pad>", "<unk>", "a", "b", "c"]
    assert [sequence.tolist() for sequence in train_sequences] == [[3, 2, 4], [2, 3, 1]]
    assert [sequence.tolist() for sequence in test_sequences] == [[2, 3, 1]]  # "e" and "d" are <unk>


def test_lstm_sequences_refuse_splits_with_other_words():
    train = encoded(["a", "b"])
    with pytest.raises(CourseError, match="recoded"):
        lstm_sequences(train, encoded(["c"]))
    with pytest.raises(CourseError, match="maxlen"):
        lstm_sequences(train, maxlen=0)


def test_sequence_batches_pad_after_each_review_and_cover_every_review_once():
    sequences = [np.arange(1, length + 1) for length in (5, 1, 3, 2, 4)]
    batches = list(sequence_batches(sequences, [0, 1, 0, 1, 0], batch_size=2, shuffle=True, seed=0))

    seen = []
    for (padded, lengths), targets in batches:
        for row, length in zip(padded, lengths):
            assert row[:length].tolist() == list(range(1, length + 1)) and (row[length:] == 0).all()
            seen.append(int(length))
    assert sorted(seen) == [1, 2, 3, 4, 5]


def test_the_lstm_learns_which_word_comes_after_not():
    torch.set_num_threads(1)
    reviews, labels = opinion_reviews(400, length=12)
    train = encoded(*reviews, labels=labels)
    vocab, (sequences,) = lstm_sequences(train, vocab_size=40, maxlen=12)

    model, history = train_lstm(sequences, train.labels, len(vocab), epochs=6, batch_size=32, max_lr=0.02,
                                embedding_dim=16, hidden_size=16, dropout=0.0)
    logits, targets = predict_logits(model, sequence_batches(sequences, train.labels, batch_size=100))

    assert isinstance(model, LSTMClassifier) and len(history.epochs) == 6
    assert history.epochs[-1]["loss"] < history.epochs[0]["loss"]
    assert binary_accuracy(logits, targets) > 0.8
