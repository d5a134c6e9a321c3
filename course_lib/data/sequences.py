"""Sequences of token ids as networks take them (assignment 07, Exercises 3–5:
`pad_sequences`, `embedding_bag_offsets`, `hashed_ngrams`).

Reviews have different lengths; a batch of them reaches a network in one of three forms:

- **fixed length**: `pad_sequences` cuts or pads every sequence to `maxlen` ids, as
  `keras.utils.pad_sequences` does — a plain [N, maxlen] array, the whole dataset at once
  (`padded_dataset`);
- **padded per batch**: each batch padded with `<pad>` (id 0) to its own longest sequence,
  with the true lengths beside it, which `nn.utils.rnn.pack_padded_sequence(...,
  batch_first=True, enforce_sorted=False)` takes (`PaddedBatches`); batches of similar
  lengths waste less padding (`LengthBucketSampler`);
- **one flat bag**: all ids of the batch in one 1-D tensor plus where each sequence starts,
  what `nn.EmbeddingBag(...)(input, offsets)` takes (`embedding_bag_offsets`,
  `BagBatches`), optionally each sequence followed by its hashed n-grams as fastText adds
  them (`hashed_ngrams`).

`SequenceDataset(sequences, labels)` holds encoded reviews; a DataLoader over it with one of
the collates yields `(inputs, targets)` batches that `course_lib.training.fit` trains on,
inputs being a tuple of tensors the model's forward takes as one argument:

    loader = DataLoader(SequenceDataset(ids, labels), batch_size=64, shuffle=True,
                        collate_fn=BagBatches(vocab_size=len(vocab), buckets=2**20))
    # model.forward(self, inputs): input, offsets = inputs; ...

Targets are float32 by default: one logit per review and `BCEWithLogitsLoss`, which needs
float targets (`target_dtype=torch.int64` for class indices and cross-entropy).
"""
import operator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, TensorDataset

__all__ = [
    "BagBatches", "LengthBucketSampler", "PaddedBatches", "SequenceDataset", "embedding_bag_offsets",
    "hashed_ngrams", "pad_sequences", "padded_dataset",
]

SIDES = ("pre", "post")
# fastText's multiplier in Dictionary::addWordNgrams, and its arithmetic: unsigned 64-bit
NGRAM_HASH_MULTIPLIER = np.uint64(116049371)


# ------------------------------------------------------------------------------ checks

def _count(name, value, minimum):
    """`value` as an int, if it is an integer >= minimum; a ValueError saying so otherwise."""
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an int, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _ids(name, sequence):
    """`sequence` as a 1-D int64 array."""
    ids = np.asarray(sequence, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of token ids, got an array of shape {ids.shape}")
    return ids


# ---------------------------------------------------------------- fixed length (Exercise 3)

def pad_sequences(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    """An int64 array [N, maxlen] of the N sequences of ids, each cut or padded with `value`
    to `maxlen` (default: the longest sequence's length), as `keras.utils.pad_sequences`:
    padding="pre" pads before a sequence and "post" after it; truncating="pre" cuts ids from
    the start of a sequence longer than maxlen and "post" from its end. An empty sequence
    becomes a row of `value`.

    Differences from Keras: the result is int64 (what nn.Embedding takes; Keras's `dtype`
    argument, int32 by default, is left out), an unknown padding or truncating is refused
    even when every sequence is empty (Keras looks at them only for a non-empty one), and
    maxlen=0 gives N empty rows (Keras's truncating="pre" fails there: s[-0:] is all of s).
    """
    if padding not in SIDES:
        raise ValueError(f'Padding type "{padding}" not understood: padding is "pre" or "post"')
    if truncating not in SIDES:
        raise ValueError(f'Truncating type "{truncating}" not understood: truncating is "pre" or "post"')
    sequences = [_ids(f"sequences[{index}]", sequence) for index, sequence in enumerate(sequences)]
    if maxlen is None:
        if not sequences:
            raise ValueError("there are no sequences to take maxlen from: give maxlen for an empty list")
        maxlen = max(len(sequence) for sequence in sequences)
    maxlen = _count("maxlen", maxlen, 0)
    padded = np.full((len(sequences), maxlen), value, dtype=np.int64)
    for row, sequence in zip(padded, sequences):
        kept = sequence[max(len(sequence) - maxlen, 0):] if truncating == "pre" else sequence[:maxlen]
        if padding == "pre":
            row[maxlen - len(kept):] = kept
        else:
            row[:len(kept)] = kept
    return padded


def padded_dataset(sequences, labels, maxlen, padding="pre", truncating="pre", value=0,
                   target_dtype=torch.float32):
    """A TensorDataset of the sequences padded to `maxlen` (see `pad_sequences`) and their
    labels: fixed-length batches, the inputs one [B, maxlen] int64 tensor."""
    inputs = torch.from_numpy(pad_sequences(sequences, maxlen, padding, truncating, value))
    return TensorDataset(inputs, torch.as_tensor(np.asarray(labels)).to(target_dtype))


# ------------------------------------------------------------ EmbeddingBag (Exercises 4, 5)

def embedding_bag_offsets(sequences):
    """(input, offsets), int64 tensors, as `nn.EmbeddingBag(...)(input, offsets)` takes the
    sequences as bags (include_last_offset=False, its default): input is every sequence's
    ids one after the other, offsets [len(sequences)] where each sequence starts in it — 0
    first. An empty sequence is a bag of its own (EmbeddingBag gives it zeros)."""
    sequences = [_ids(f"sequences[{index}]", sequence) for index, sequence in enumerate(sequences)]
    lengths = np.array([len(sequence) for sequence in sequences], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(sequences) else lengths
    flat = np.concatenate(sequences) if sequences else np.zeros(0, dtype=np.int64)
    return torch.from_numpy(flat), torch.from_numpy(starts.astype(np.int64))


def hashed_ngrams(ids, vocab_size, buckets, n=2):
    """`ids` followed by the ids of its hashed 2- to n-grams, an int64 array: fastText's
    `Dictionary::addWordNgrams`. For each start position i in order, and each length k = 2..n
    that fits, the n-gram ids[i:i + k] hashes to h = ids[i], then h = h * 116049371 + ids[j]
    for j = i + 1 .. i + k - 1, in unsigned 64-bit arithmetic (wrapping around at 2**64, as
    C's uint64_t does); its id is vocab_size + h % buckets, so the n-grams' rows of an
    embedding come after the words' own (nn.EmbeddingBag(vocab_size + buckets, dim)).

    fastText hashes the words' strings (FNV-1a) before combining them; combining the words'
    vocabulary ids instead is the same idea in fewer lines. Different n-grams may share a
    bucket: that is the price of a table of fixed size."""
    ids = _ids("ids", ids)
    vocab_size, buckets, n = _count("vocab_size", vocab_size, 1), _count("buckets", buckets, 1), _count("n", n, 1)
    if len(ids) and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids must be token ids in [0, vocab_size) = [0, {vocab_size}), got ids from {ids.min()} "
                         f"to {ids.max()}: an id of vocab_size or more would share a row with an n-gram's")
    unsigned = ids.astype(np.uint64)
    # ngram_ids[i, k - 2]: the id of the k-gram starting at i, -1 where it runs past the end
    ngram_ids = np.full((len(ids), max(n - 1, 0)), -1, dtype=np.int64)
    hashes = unsigned
    for k in range(2, n + 1):
        hashes = hashes[:-1] * NGRAM_HASH_MULTIPLIER + unsigned[k - 1:]  # numpy's uint64 wraps like C's
        ngram_ids[:len(hashes), k - 2] = vocab_size + (hashes % np.uint64(buckets)).astype(np.int64)
    return np.concatenate([ids, ngram_ids[ngram_ids >= 0]])  # row by row: by start, then by length


# --------------------------------------------------------------------- datasets, batches

class SequenceDataset(Dataset):
    """Encoded texts and their labels: item i is (sequences[i] as an int64 array, labels[i])."""

    def __init__(self, sequences, labels):
        if len(sequences) != len(labels):
            raise ValueError(f"{len(sequences)} sequences but {len(labels)} labels: one label per sequence")
        self.sequences = [_ids(f"sequences[{index}]", sequence) for index, sequence in enumerate(sequences)]
        self.labels = np.asarray(labels)
        self.lengths = np.array([len(sequence) for sequence in self.sequences], dtype=np.int64)

    def __len__(self):
        return len(self.sequences)

    def __getitem__(self, index):
        return self.sequences[index], self.labels[index]


def _targets(batch, dtype):
    return torch.as_tensor(np.asarray([label for _, label in batch])).to(dtype)


class PaddedBatches:
    """A DataLoader `collate_fn` for recurrent and attention models: a batch of (ids, label)
    pairs becomes ((padded [B, T] int64, lengths [B] int64), targets [B]), each sequence
    followed by `padding_value` up to the batch's longest, T. The lengths are what
    `pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)` takes;
    `torch.arange(T) < lengths[:, None]` is the mask of real tokens. An empty sequence counts
    as one padding token long, since pack_padded_sequence refuses a length of 0."""

    def __init__(self, padding_value=0, target_dtype=torch.float32):
        self.padding_value = padding_value
        self.target_dtype = target_dtype

    def __call__(self, batch):
        lengths = torch.tensor([max(len(ids), 1) for ids, _ in batch], dtype=torch.int64)
        padded = torch.full((len(batch), int(lengths.max()) if len(batch) else 0), self.padding_value,
                            dtype=torch.int64)
        for row, (ids, _) in zip(padded, batch):
            row[:len(ids)] = torch.as_tensor(ids)
        return (padded, lengths), _targets(batch, self.target_dtype)


class BagBatches:
    """A DataLoader `collate_fn` for `nn.EmbeddingBag` models: a batch of (ids, label) pairs
    becomes ((input, offsets), targets [B]) as `embedding_bag_offsets` makes them. Given
    `buckets` (and `vocab_size`), each sequence first gets its hashed 2- to n-grams
    (`hashed_ngrams`): the bag of words becomes a bag of words and n-grams, as in fastText."""

    def __init__(self, vocab_size=None, buckets=None, n=2, target_dtype=torch.float32):
        if buckets is not None and vocab_size is None:
            raise ValueError("hashed n-grams' ids start after the words': give vocab_size with buckets")
        self.vocab_size, self.buckets, self.n = vocab_size, buckets, n
        self.target_dtype = target_dtype

    def __call__(self, batch):
        sequences = [ids for ids, _ in batch]
        if self.buckets is not None:
            sequences = [hashed_ngrams(ids, self.vocab_size, self.buckets, self.n) for ids in sequences]
        return embedding_bag_offsets(sequences), _targets(batch, self.target_dtype)


class LengthBucketSampler(Sampler):
    """A DataLoader `batch_sampler` whose batches hold sequences of similar lengths, so that
    padding to each batch's longest wastes little: each epoch the indices are shuffled, cut
    into pools of `batch_size * pool_batches`, each pool sorted by length and cut into
    batches, and the batches shuffled. Every index is in exactly one batch per epoch; only
    the last pool can end in a smaller batch, dropped with drop_last. Draws from
    `generator` (a torch.Generator), else a seed drawn from torch's global generator per
    epoch, as RandomSampler does."""

    def __init__(self, lengths, batch_size, *, pool_batches=50, shuffle=True, drop_last=False, generator=None):
        self.lengths = np.asarray(lengths)
        self.batch_size = _count("batch_size", batch_size, 1)
        self.pool_batches = _count("pool_batches", pool_batches, 1)
        self.shuffle, self.drop_last, self.generator = shuffle, drop_last, generator

    def __len__(self):
        full, rest = divmod(len(self.lengths), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        generator = self.generator
        if generator is None and self.shuffle:
            generator = torch.Generator().manual_seed(int(torch.empty((), dtype=torch.int64).random_().item()))
        count = len(self.lengths)
        order = torch.randperm(count, generator=generator).numpy() if self.shuffle else np.arange(count)
        pool_size = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, count, pool_size):
            pool = order[start:start + pool_size]
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches += [pool[first:first + self.batch_size].tolist() for first in range(0, len(pool), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if self.shuffle:
            batches = [batches[index] for index in torch.randperm(len(batches), generator=generator).tolist()]
        yield from batches
