"""Datasets and batching: loaders with a checksummed download cache, mini-batches, and
07's text pipeline (tokens, vocabulary, sequences of ids as networks take them, text
features: bag of words, NBSVM's log-count ratio)."""
from importlib import import_module

from .batching import iterations_per_epoch, minibatch_indices, minibatches, total_updates
from .imdb import load_imdb, load_imdb_movies
from .mnist import load_mnist
from .preprocessing import grouped_validation_split
from .text import ngrams, normalize, tokenize
from .vocab import Vocab, build_vocab_from_iterator, vocabulary_tokens

# Names whose modules import torch, which takes 1.5 s: they load on first use, so that the
# `course` commands and each grading job, which need only the loaders' files (locate,
# checksums), start without it.
_TORCH_NAMES = {
    **dict.fromkeys(["BagBatches", "LengthBucketSampler", "PaddedBatches", "SequenceDataset", "embedding_bag_offsets",
                     "hashed_ngrams", "pad_sequences", "padded_dataset"], "sequences"),
    **dict.fromkeys(["bag_of_words", "log_count_ratio"], "text_features"),
}


def __getattr__(name):
    if name in _TORCH_NAMES:
        return getattr(import_module(f".{_TORCH_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BagBatches", "LengthBucketSampler", "PaddedBatches", "SequenceDataset", "Vocab", "bag_of_words",
    "build_vocab_from_iterator", "embedding_bag_offsets", "grouped_validation_split", "hashed_ngrams", "iterations_per_epoch",
    "load_imdb", "load_imdb_movies", "load_mnist", "log_count_ratio", "minibatch_indices", "minibatches", "ngrams", "normalize",
    "pad_sequences", "padded_dataset", "tokenize", "total_updates", "vocabulary_tokens",
]
