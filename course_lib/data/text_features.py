"""A review as one vector: its bag of words, and the Naive Bayes log-count ratio that NBSVM
(Wang & Manning, 2012) scales those vectors by before a linear classifier reads them.

Both work on vocabulary ids (a word's, or a hashed n-gram's row past the words), not on
strings: the text pipeline has already turned each review into a sequence of ids.
"""
import numpy as np
import torch


def _ids(sequence):
    """One review's ids as int64 numpy values; an empty review gives no ids."""
    ids = np.asarray(sequence).reshape(-1)
    if ids.size and ids.dtype.kind not in "iu":
        raise TypeError(f"sequences must hold integer vocabulary ids (vocab.lookup_indices(tokens)), got dtype "
                        f"{ids.dtype}")
    return ids.astype(np.int64)


def bag_of_words(sequences, vocab_size, binary=True):
    """The reviews `sequences` (each a list, numpy array or tensor of int ids in
    [0, vocab_size)) as a sparse COO float32 tensor [N, vocab_size], coalesced: row i, column
    v holds how often id v occurs in review i — or, with `binary` (the default, as Keras'
    `Tokenizer.sequences_to_matrix(mode="binary")`; `binary=False` is its mode="count"), 1 if
    it occurs at all. Every id counts, `<unk>`'s too; an empty review is a row of zeros.

    Sparse because a review holds a few hundred distinct words of a vocabulary of tens of
    thousands (hundreds of thousands with bigrams): the dense matrix of IMDB's 25 000 training
    reviews would take gigabytes. `torch.sparse.mm(features, weight)` multiplies it, and
    `.to_dense()` shows a few rows."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 1:
        raise ValueError(f"vocab_size must be a whole number >= 1 (len(vocab)), got {vocab_size!r}")
    reviews = [_ids(sequence) for sequence in sequences]
    lengths = np.asarray([len(ids) for ids in reviews], dtype=np.int64)
    ids = np.concatenate(reviews) if reviews else np.zeros(0, dtype=np.int64)
    if ids.size and not 0 <= ids.min() <= ids.max() < vocab_size:
        raise ValueError(f"ids must lie in 0..{vocab_size - 1} (vocab_size {vocab_size}), got values from "
                         f"{ids.min()} to {ids.max()}: is vocab_size len(vocab) — plus the hashing buckets for "
                         f"hashed n-grams?")
    rows = np.repeat(np.arange(len(reviews), dtype=np.int64), lengths)
    # each (review, id) pair as one number, sorted: equal pairs end up side by side, and the
    # order is the row-major order of a coalesced sparse tensor
    pairs = np.sort(rows * vocab_size + ids)
    starts = np.flatnonzero(np.diff(pairs, prepend=-1))
    distinct = pairs[starts]
    values = np.ones(len(starts)) if binary else np.diff(starts, append=len(pairs))
    indices = torch.from_numpy(np.stack([distinct // vocab_size, distinct % vocab_size]))
    return torch.sparse_coo_tensor(indices, torch.from_numpy(values).float(), (len(reviews), vocab_size),
                                   is_coalesced=True, check_invariants=False)


def log_count_ratio(features, labels, alpha=1.0):
    """NBSVM's log-count ratio r (Wang & Manning, 2012), a float tensor [V] of the features'
    dtype (float32 for integer features): with p = alpha + the sum of the rows of the
    positive reviews (labels == 1) and q = alpha + that of the negative ones (labels == 0),

        r = log(p / ||p||_1) - log(q / ||q||_1).

    r[v] > 0 when feature v is more frequent, relative to all the features of its class, in
    positive reviews than in negative ones. `features`: [N, V], dense or sparse (as
    `bag_of_words` gives); `labels`: N 0/1 labels (tensor or numpy array); `alpha`: the
    smoothing count added to every feature of both classes, so that a word seen in one class
    only gets a large but finite ratio (alpha=0 gives ±inf there)."""
    if features.ndim != 2:
        raise ValueError(f"features must be [N, V], one row per review, got shape {tuple(features.shape)}")
    labels = torch.as_tensor(labels)
    if labels.shape != features.shape[:1]:
        raise ValueError(f"labels must be one 0/1 label per row of features ({features.shape[0]}), got shape "
                         f"{tuple(labels.shape)}")
    if not ((labels == 0) | (labels == 1)).all():
        raise ValueError(f"labels must be 0 (negative) or 1 (positive), got values {labels.unique()[:5].tolist()}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha >= 0:
        raise ValueError(f"alpha must be a number >= 0, got {alpha!r}")
    if not features.is_floating_point():
        features = features.to(torch.get_default_dtype())
    positive = (labels == 1).to(features.dtype)
    p = alpha + _weighted_row_sum(features, positive)
    q = alpha + _weighted_row_sum(features, 1 - positive)
    return torch.log(p / p.sum()) - torch.log(q / q.sum())


def _weighted_row_sum(features, weights):
    """The sum over i of weights[i] * features[i], [V]: with 0/1 weights, the sum of the rows
    they select."""
    if features.layout == torch.strided:
        return weights @ features
    # torch's sparse-times-dense product is ~50 times slower here than adding up the nonzero
    # entries into their columns (IMDB's bag of words: 2 s against 40 ms)
    coo = features.to_sparse_coo().coalesce()
    rows, columns = coo.indices()
    return torch.zeros(features.shape[1], dtype=features.dtype).index_add_(0, columns, coo.values() * weights[rows])
