"""07's best recipes for IMDB on a CPU, from the raw reviews to a trained classifier: NBSVM
on binary 1- to 3-gram features (the best), and a bidirectional LSTM.

    train, test = read_tokenized_splits(workers=2)            # reviews as word ids
    features = NgramFeatures().fit(train)                     # the n-grams kept, from train only
    model, history = train_nbsvm(features.transform(train), train.labels, features.vocab_size)
    logits, labels = predict_logits(model, bag_batches(features.transform(test), test.labels))

The pipeline works on whole splits as numpy arrays, not on one review at a time: the
50 000 reviews hold 11.6 M tokens and about 35 M n-grams, and a numpy call per review
costs more than the arithmetic it does. Its stages:

- `read_tokenized(split)` reads and tokenises one split and encodes its tokens as ids of
  the split's own words (`EncodedReviews`); `read_tokenized_splits` does the two splits in
  two processes at once (reading the archive and tokenising are pure Python, which one
  process runs on one core), then re-encodes the test reviews with the training words,
  a word never seen in training getting an id of its own, `unknown_id`;
- `NgramFeatures` hashes each review's 1- to 3-grams of word ids as fastText does
  (`course_lib.data.hashed_ngrams`) and keeps those in at least `min_df` training reviews,
  renumbered 0..vocab_size-1: a review becomes the sorted distinct ids of its n-grams, a
  binary bag of n-grams;
- `train_nbsvm`: NBSVM (Wang & Manning 2012) as `BagOfWordsClassifier(feature_scale=r)`,
  r the training split's `log_count_ratio`, trained by Adam through `fit`;
- `lstm_sequences`, `train_lstm`: the reviews as ids of a 20 000-word vocabulary
  (`build_vocab_from_iterator`, torchtext's order), each cut to its last 300 tokens, and
  `LSTMClassifier` trained under a one-cycle learning rate on batches of similar lengths.

NBSVM's n-gram length, min_df, learning rate and epochs were chosen on a validation split
of about 5 000 of the 25 000 training reviews that keeps each film's reviews on one side
(`film_validation_split`), the model trained on the rest (benchmarks/imdb_settings.py);
benchmarks/imdb.py measures them on the test set.
"""
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain
from multiprocessing import get_context

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ..data import (
    BagBatches, LengthBucketSampler, PaddedBatches, SequenceDataset, bag_of_words, build_vocab_from_iterator,
    grouped_validation_split, load_imdb, log_count_ratio, tokenize,
)
from ..data.sequences import NGRAM_HASH_MULTIPLIER
from ..errors import CourseError
from ..models import BagOfWordsClassifier, LSTMClassifier
from .fit import fit

LSTM_SPECIALS = ("<pad>", "<unk>")  # <pad> is id 0, as LSTMClassifier and PaddedBatches expect


# ------------------------------------------------------------------ reviews as word ids

@dataclass
class EncodedReviews:
    """Tokenised reviews, all of them in a few arrays: review i's tokens are
    `words[t]` for t in `ids[starts[i]:starts[i] + lengths[i]]`, with `labels[i]` (0 or 1).
    Ids equal to len(words) (`unknown_id`) stand for words outside `words`."""
    words: list
    ids: np.ndarray  # int64 [total tokens]
    lengths: np.ndarray  # int64 [N]
    labels: np.ndarray  # int64 [N]

    def __len__(self):
        return len(self.lengths)

    @property
    def unknown_id(self):
        return len(self.words)

    @property
    def starts(self):
        return np.cumsum(self.lengths) - self.lengths

    def reviews(self):
        """Each review's ids, a list of int64 arrays (views of `ids`)."""
        return np.split(self.ids, np.cumsum(self.lengths)[:-1]) if len(self) else []

    def token_lists(self):
        """Each review's tokens, a list of lists of str (an unknown word as None)."""
        words = np.array(self.words + [None], dtype=object)
        return [words[review].tolist() for review in self.reviews()]

    def recoded(self, words):
        """These reviews with their ids in `words` instead (a list of distinct tokens):
        a token not in it gets the id len(words)."""
        index = {word: position for position, word in enumerate(words)}
        new_ids = np.array([index.get(word, len(words)) for word in self.words] + [len(words)], dtype=np.int64)
        return EncodedReviews(list(words), new_ids[self.ids], self.lengths, self.labels)

    def subset(self, indices):
        """The reviews at `indices` (in that order), with the same words."""
        indices = np.asarray(indices, dtype=np.int64)
        starts, lengths = self.starts[indices], self.lengths[indices]
        positions = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
        return EncodedReviews(self.words, self.ids[positions], lengths, self.labels[indices])


def encode(token_lists, labels):
    """`EncodedReviews` of the tokenised reviews, the words in order of first appearance."""
    words = list(dict.fromkeys(chain.from_iterable(token_lists)))
    index = {word: position for position, word in enumerate(words)}
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    ids = np.fromiter(map(index.__getitem__, chain.from_iterable(token_lists)), dtype=np.int64,
                      count=int(lengths.sum()))
    return EncodedReviews(words, ids, lengths, np.asarray(labels, dtype=np.int64))


def read_tokenized(split, root=None, stride=1):
    """Every `stride`-th review of the IMDB `split` (both labels, as the split is sorted
    by label), tokenised with `course_lib.data.tokenize` and encoded: (EncodedReviews,
    {"read": seconds, "tokenize": seconds})."""
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise CourseError(f"stride keeps every stride-th review, a whole number >= 1; got {stride!r}")
    started = time.perf_counter()
    texts, labels = load_imdb(split, root=root)
    read = time.perf_counter()
    token_lists = [tokenize(text) for text in texts[::stride]]
    encoded = encode(token_lists, labels[::stride])
    return encoded, {"read": read - started, "tokenize": time.perf_counter() - read}


def read_tokenized_splits(root=None, stride=1, workers=2):
    """`read_tokenized` of the training and the test split — with workers >= 2 in two
    processes at once —, the test reviews re-encoded with the training words. Returns
    (train, test, seconds): seconds["read"] and seconds["tokenize"] add up to the wall
    time until both splits are ready (with two processes, split in the proportion of the
    processes' own times; re-encoding counted in "tokenize"), seconds["splits"] holds
    each split's own {"read", "tokenize"}."""
    started = time.perf_counter()
    if workers >= 2:
        # fork: the children start at once, with course_lib imported, and use no torch
        with ProcessPoolExecutor(2, mp_context=get_context("fork")) as pool:
            results = list(pool.map(read_tokenized, ("train", "test"), (root, root), (stride, stride)))
    else:
        results = [read_tokenized(split, root, stride) for split in ("train", "test")]
    (train, train_seconds), (test, test_seconds) = results
    test = test.recoded(train.words)
    total = time.perf_counter() - started
    reading = train_seconds["read"] + test_seconds["read"]
    read_share = reading / (reading + train_seconds["tokenize"] + test_seconds["tokenize"])
    return train, test, {"read": total * read_share, "tokenize": total * (1 - read_share),
                         "splits": {"train": train_seconds, "test": test_seconds}}


def film_validation_split(reviews, films, size, seed=0):
    """(rest, validation): whole films' reviews drawn for validation until it holds at
    least `size` of them (`grouped_validation_split`), `films` the film of each review
    (`load_imdb_movies`): a film on both sides would let a model score on validation
    what it learned about that film, as 07 measures."""
    if len(films) != len(reviews):
        raise CourseError(f"films names the film of each review: {len(films)} films for {len(reviews)} reviews "
                          f"(with a stride, take films[::stride] as the reviews were)")
    rest, validation = grouped_validation_split(films, size, np.random.default_rng(seed))
    return reviews.subset(rest), reviews.subset(validation)


# -------------------------------------------------------------------- NBSVM's features

def review_ngram_ids(reviews, vocab_size, buckets, n):
    """The distinct ids of each review's words and hashed 2- to n-grams — the values of
    `np.unique(hashed_ngrams(review, vocab_size, buckets, n))` for each review —, computed
    for all reviews at once, as (ids, review indices): int64 pairs sorted by id, then
    review. An n-gram never spans two reviews."""
    ids, lengths = reviews.ids, reviews.lengths
    if len(ids) and (ids.min() < 0 or ids.max() >= vocab_size):
        raise CourseError(f"word ids must lie in [0, vocab_size) = [0, {vocab_size}), got ids from {ids.min()} "
                          f"to {ids.max()}")
    owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    owners, grams = [owner], [ids]
    unsigned, hashes = ids.astype(np.uint64), ids.astype(np.uint64)
    for k in range(2, n + 1):
        # hashed_ngrams' hash, over the concatenated reviews; then the n-grams that cross
        # from one review into the next are left out
        hashes = hashes[:-1] * NGRAM_HASH_MULTIPLIER + unsigned[k - 1:]
        within = owner[:len(hashes)] == owner[k - 1:]
        owners.append(owner[:len(hashes)][within])
        grams.append(vocab_size + (hashes[within] % np.uint64(buckets)).astype(np.int64))
    # each (id, review) pair as one number, sorted and deduplicated with np.sort — not
    # np.unique, which in numpy 2.4 hashes and took 60 times as long on these 17 M values
    review_count = max(len(lengths), 1)
    pairs = _distinct(np.concatenate(grams) * review_count + np.concatenate(owners))[0]
    return pairs // review_count, pairs % review_count


def _distinct(values):
    """(the distinct values in increasing order, how often each occurs)."""
    values = np.sort(values)
    starts = np.flatnonzero(np.diff(values, prepend=values[:1] - 1))
    return values[starts], np.diff(starts, append=len(values))


class NgramFeatures:
    """Reviews as binary bags of their word 1- to n-grams: `fit` on the training reviews
    hashes every n-gram of word ids into `buckets` (fastText's hash, as
    `hashed_ngrams`; words keep their own ids) and keeps those that occur in at least
    `min_df` training reviews — rarer ones cannot generalise, and leaving them out shrinks
    the model tenfold —, renumbered 0..vocab_size-1 in hash order. `transform` gives each
    review the sorted, distinct ids of its kept n-grams.

    The reviews' word ids must come from the same words as the training reviews' (see
    `EncodedReviews.recoded`); the unknown word's id is counted among the words, so
    n-grams with an unknown word hash like any other and, absent from training, are
    dropped."""

    def __init__(self, n=3, buckets=2**30, min_df=3):
        self.n, self.buckets, self.min_df = n, buckets, min_df
        self.word_count = self.kept = None

    def fit(self, reviews):
        """Learn which n-grams to keep from the training `reviews` (an EncodedReviews)."""
        self._keep(reviews, review_ngram_ids(reviews, reviews.unknown_id + 1, self.buckets, self.n)[0])
        return self

    def fit_transform(self, reviews):
        """`fit(reviews)`, then `transform(reviews)`, hashing the n-grams once."""
        ngram_ids, owner = review_ngram_ids(reviews, reviews.unknown_id + 1, self.buckets, self.n)
        self._keep(reviews, ngram_ids)
        return self._bags(ngram_ids, owner, len(reviews))

    @property
    def vocab_size(self):
        self._check_fitted()
        return len(self.kept)

    def transform(self, reviews):
        """Each review's kept n-grams as a sorted int64 array of feature ids, a list."""
        self._check_fitted()
        if reviews.unknown_id + 1 != self.word_count:
            raise CourseError(f"these reviews' ids come from {reviews.unknown_id} words, the training reviews' from "
                              f"{self.word_count - 1}: re-encode them with reviews.recoded(train.words)")
        return self._bags(*review_ngram_ids(reviews, self.word_count, self.buckets, self.n), len(reviews))

    def _keep(self, reviews, ngram_ids):
        self.word_count = reviews.unknown_id + 1
        values, review_counts = _distinct(ngram_ids)
        self.kept = values[review_counts >= self.min_df]

    def _bags(self, ngram_ids, owner, review_count):
        # the ids come sorted, which makes searchsorted ten times as fast as on scattered
        # ones (each of those misses the cache); then (review, feature) sorted as one number
        # groups the features by review, each review's in increasing order
        positions = np.searchsorted(self.kept, ngram_ids)
        found = self.kept[np.minimum(positions, len(self.kept) - 1)] == ngram_ids
        width = max(len(self.kept), 1)
        pairs = np.sort(owner[found] * width + positions[found])
        counts = np.bincount(pairs // width, minlength=review_count)
        return np.split(pairs % width, np.cumsum(counts)[:-1])

    def _check_fitted(self):
        if self.kept is None:
            raise CourseError("NgramFeatures has not seen the training reviews yet: call .fit(train) first")


# ------------------------------------------------------------------------ training

def bag_batches(bags, labels, batch_size=1000, *, shuffle=False, seed=0):
    """A DataLoader of ((input, offsets), float 0/1 targets) batches of the bags, as
    `BagOfWordsClassifier` takes them."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(SequenceDataset(bags, labels), batch_size=batch_size, shuffle=shuffle, generator=generator,
                      collate_fn=BagBatches())


def train_nbsvm(bags, labels, vocab_size, *, epochs=3, batch_size=256, lr=0.003, alpha=1.0, seed=0,
                val_loader=None, progress=False):
    """NBSVM: `BagOfWordsClassifier(vocab_size, feature_scale=r)`, r the log-count ratio
    of the binary `bags` (feature ids, as `NgramFeatures.transform` gives them) with
    smoothing `alpha`, trained by Adam at `lr` on batches of `batch_size` for `epochs`
    with BCEWithLogitsLoss. Returns (model, history)."""
    r = log_count_ratio(bag_of_words(bags, vocab_size), labels, alpha=alpha)
    torch.manual_seed(seed)
    model = BagOfWordsClassifier(vocab_size, feature_scale=r)
    history = fit(model, bag_batches(bags, labels, batch_size, shuffle=True, seed=seed),
                  loss_fn=nn.BCEWithLogitsLoss(), optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                  epochs=epochs, val_loader=val_loader, progress=progress)
    return model, history


def lstm_sequences(train, *others, vocab_size=20_000, maxlen=300):
    """The reviews as ids of the `vocab_size` most frequent training words with `<pad>` 0
    and `<unk>` 1 (`build_vocab_from_iterator(..., max_tokens=vocab_size)`), each cut to
    its last `maxlen` tokens: (vocab, [train's sequences, each other's sequences...]).
    `others` must be encoded with train's words."""
    vocab = build_vocab_from_iterator(train.token_lists(), specials=list(LSTM_SPECIALS), max_tokens=vocab_size)
    vocab.set_default_index(vocab["<unk>"])
    lookup = np.array(vocab.lookup_indices(train.words) + [vocab["<unk>"]], dtype=np.int64)
    if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1:
        raise CourseError(f"maxlen is the number of tokens kept from the end of each review, >= 1; got {maxlen!r}")
    sequences = []
    for reviews in (train, *others):
        if reviews.words is not train.words and reviews.words != train.words:
            raise CourseError("encode every split with the training words: reviews.recoded(train.words)")
        sequences.append([lookup[review[-maxlen:]] for review in reviews.reviews()])
    return vocab, sequences


def sequence_batches(sequences, labels, batch_size=64, *, shuffle=False, seed=0):
    """A DataLoader of ((padded, lengths), float 0/1 targets) batches of reviews of
    similar lengths (`LengthBucketSampler`), padded after each review (`PaddedBatches`);
    without `shuffle` in a fixed order."""
    dataset = SequenceDataset(sequences, labels)
    sampler = LengthBucketSampler(dataset.lengths, batch_size, shuffle=shuffle,
                                  generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=PaddedBatches())


def train_lstm(sequences, labels, vocab_size, *, epochs=4, batch_size=64, max_lr=0.004, embedding_dim=128,
               hidden_size=64, dropout=0.3, clip_grad_norm=1.0, seed=0, val_loader=None, progress=False):
    """A bidirectional `LSTMClassifier` (one layer, `hidden_size` per direction) trained by
    Adam under OneCycleLR up to `max_lr`, stepped every iteration, for `epochs` on
    length-bucketed batches, gradients clipped to `clip_grad_norm`; denormal floats are
    flushed to zero (see LSTMClassifier). Returns (model, history)."""
    torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    model = LSTMClassifier(vocab_size, embedding_dim, hidden_size, bidirectional=True, dropout=dropout)
    loader = sequence_batches(sequences, labels, batch_size, shuffle=True, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps=epochs * len(loader))
    history = fit(model, loader, loss_fn=nn.BCEWithLogitsLoss(), optimizer=optimizer, epochs=epochs,
                  scheduler=scheduler, scheduler_interval="iteration", clip_grad_norm=clip_grad_norm,
                  val_loader=val_loader, progress=progress)
    return model, history


def predict_logits(model, loader):
    """(logits, targets) over the whole `loader`, in its order: the model in eval mode,
    nothing recorded for autograd."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            pairs = [(model(*inputs), targets) for inputs, targets in loader]
    finally:
        model.train(was_training)
    return torch.cat([logits for logits, _ in pairs]), torch.cat([targets for _, targets in pairs])
