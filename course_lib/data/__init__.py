"""Datasets and batching: loaders with a checksummed download cache, mini-batches; text
features (bag of words, NBSVM's log-count ratio)."""
from .batching import iterations_per_epoch, minibatch_indices, minibatches, total_updates
from .imdb import load_imdb
from .mnist import load_mnist
from .text_features import bag_of_words, log_count_ratio

__all__ = [
    "bag_of_words", "iterations_per_epoch", "load_imdb", "load_mnist", "log_count_ratio", "minibatch_indices",
    "minibatches", "total_updates",
]
