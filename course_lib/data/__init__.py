"""Datasets and batching: loaders with a checksummed download cache, mini-batches."""
from .batching import iterations_per_epoch, minibatch_indices, minibatches, total_updates
from .imdb import load_imdb
from .mnist import load_mnist

__all__ = [
    "iterations_per_epoch", "load_imdb", "load_mnist", "minibatch_indices", "minibatches",
    "total_updates",
]
