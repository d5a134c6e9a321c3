"""Datasets and batching: loaders with a checksummed download cache, mini-batches, and
07's text pipeline (tokens, vocabulary, sequences of ids as networks take them, text
features: bag of words, NBSVM's log-count ratio)."""
from .batching import iterations_per_epoch, minibatch_indices, minibatches, total_updates
from .imdb import load_imdb, load_imdb_movies
from .mnist import load_mnist
from .sequences import (
    BagBatches, LengthBucketSampler, PaddedBatches, SequenceDataset, embedding_bag_offsets, hashed_ngrams,
    pad_sequences, padded_dataset,
)
from .preprocessing import grouped_validation_split
from .text import ngrams, normalize, tokenize
from .text_features import bag_of_words, log_count_ratio
from .vocab import Vocab, build_vocab_from_iterator, vocabulary_tokens

__all__ = [
    "BagBatches", "LengthBucketSampler", "PaddedBatches", "SequenceDataset", "Vocab", "bag_of_words",
    "build_vocab_from_iterator", "embedding_bag_offsets", "grouped_validation_split", "hashed_ngrams", "iterations_per_epoch",
    "load_imdb", "load_imdb_movies", "load_mnist", "log_count_ratio", "minibatch_indices", "minibatches", "ngrams", "normalize",
    "pad_sequences", "padded_dataset", "tokenize", "total_updates", "vocabulary_tokens",
]
