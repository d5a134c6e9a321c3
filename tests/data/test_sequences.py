import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.utils.data import DataLoader

from course_lib.data.sequences import (
    BagBatches, LengthBucketSampler, PaddedBatches, SequenceDataset, embedding_bag_offsets, hashed_ngrams,
    pad_sequences, padded_dataset,
)
from course_lib.training import fit

KERAS_EXAMPLE = [[1], [2, 3], [4, 5, 6]]
MULTIPLIER = 116049371


# ------------------------------------------------------------------------- pad_sequences

def test_pad_sequences_gives_keras_documented_examples():
    np.testing.assert_array_equal(pad_sequences(KERAS_EXAMPLE), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(KERAS_EXAMPLE, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(KERAS_EXAMPLE, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(KERAS_EXAMPLE, maxlen=2), [[0, 1], [2, 3], [5, 6]])


@pytest.mark.parametrize("padding, truncating, expected", [
    ("pre", "pre", [[0, 0, 0, 7], [3, 4, 5, 6]]),
    ("post", "pre", [[7, 0, 0, 0], [3, 4, 5, 6]]),
    ("pre", "post", [[0, 0, 0, 7], [1, 2, 3, 4]]),
    ("post", "post", [[7, 0, 0, 0], [1, 2, 3, 4]]),
])
def test_padding_and_truncating_each_choose_their_end(padding, truncating, expected):
    padded = pad_sequences([[7], [1, 2, 3, 4, 5, 6]], maxlen=4, padding=padding, truncating=truncating)
    np.testing.assert_array_equal(padded, expected)


def test_the_result_is_int64_of_shape_n_by_maxlen():
    padded = pad_sequences([np.array([1, 2], dtype=np.int32), torch.tensor([3]), (4, 5, 6)], maxlen=5)
    assert padded.dtype == np.int64 and padded.shape == (3, 5)


def test_a_sequence_of_exactly_maxlen_is_kept_whole():
    np.testing.assert_array_equal(pad_sequences([[1, 2, 3]], maxlen=3, truncating="post"), [[1, 2, 3]])


def test_an_empty_sequence_becomes_a_row_of_the_padding_value():
    np.testing.assert_array_equal(pad_sequences([[], [1, 2]], value=9), [[9, 9], [1, 2]])
    np.testing.assert_array_equal(pad_sequences([[]], maxlen=3), [[0, 0, 0]])
    assert pad_sequences([[], []]).shape == (2, 0)


def test_no_sequences_need_a_maxlen():
    assert pad_sequences([], maxlen=4).shape == (0, 4)
    with pytest.raises(ValueError, match="no sequences to take maxlen from"):
        pad_sequences([])


def test_maxlen_zero_gives_empty_rows_whichever_end_is_cut():
    for truncating in ("pre", "post"):
        assert pad_sequences([[1, 2], []], maxlen=0, truncating=truncating).shape == (2, 0)


def test_a_very_long_sequence_is_cut_to_its_last_maxlen_ids_by_default():
    long = np.arange(100_000)
    np.testing.assert_array_equal(pad_sequences([long, [1]], maxlen=200)[0], long[-200:])


@pytest.mark.parametrize("options, message", [
    ({"padding": "left"}, 'Padding type "left" not understood'),
    ({"truncating": "end"}, 'Truncating type "end" not understood'),
    ({"maxlen": -1}, "maxlen must be at least 0"),
    ({"maxlen": 2.5}, "maxlen must be an int"),
])
def test_pad_sequences_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences([[1, 2]], **options)


def test_an_unknown_padding_is_refused_even_when_every_sequence_is_empty():
    with pytest.raises(ValueError, match="Padding type"):
        pad_sequences([[]], padding="middle")


def test_a_sequence_that_is_not_flat_is_refused():
    with pytest.raises(ValueError, match=r"sequences\[1\] must be a flat sequence of token ids"):
        pad_sequences([[1], [[1, 2]]])


def test_padded_dataset_holds_padded_inputs_and_float_targets():
    dataset = padded_dataset(KERAS_EXAMPLE, [0, 1, 1], maxlen=2, padding="post", truncating="post")
    inputs, target = dataset[2]
    torch.testing.assert_close(inputs, torch.tensor([4, 5]))
    assert target.dtype == torch.float32 and target.item() == 1.0


# ----------------------------------------------------------------- embedding_bag_offsets

def test_offsets_are_where_each_sequence_starts():
    input, offsets = embedding_bag_offsets([[4, 5], [6], [7, 8, 9]])
    torch.testing.assert_close(input, torch.tensor([4, 5, 6, 7, 8, 9]))
    torch.testing.assert_close(offsets, torch.tensor([0, 2, 3]))
    assert input.dtype == offsets.dtype == torch.int64


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_over_the_offsets_gives_each_sequence_s_own_bag(mode):
    sequences = [[1, 2, 2], [], [0], [5, 4, 3, 2, 1], []]
    bag = nn.EmbeddingBag(6, 3, mode=mode)
    with torch.no_grad():
        output = bag(*embedding_bag_offsets(sequences))
        reduce = {"sum": torch.sum, "mean": torch.mean, "max": lambda rows, dim: rows.max(dim).values}[mode]
        for row, ids in zip(output, sequences):
            expected = reduce(bag.weight[ids], dim=0) if ids else torch.zeros(3)
            torch.testing.assert_close(row, expected)


def test_no_sequences_give_empty_input_and_offsets():
    input, offsets = embedding_bag_offsets([])
    assert input.shape == offsets.shape == (0,)
    assert input.dtype == offsets.dtype == torch.int64


def test_only_empty_sequences_give_zero_offsets():
    input, offsets = embedding_bag_offsets([[], [], []])
    assert input.shape == (0,)
    torch.testing.assert_close(offsets, torch.tensor([0, 0, 0]))


# ------------------------------------------------------------------------- hashed_ngrams

def fasttext_ngram_ids(ids, vocab_size, buckets, n):
    """Dictionary::addWordNgrams written out in Python integers, wrapped at 2**64 by hand."""
    result = list(ids)
    for i in range(len(ids)):
        h = ids[i]
        for j in range(i + 1, min(len(ids), i + n)):
            h = (h * MULTIPLIER + ids[j]) % 2**64
            result.append(vocab_size + h % buckets)
    return result


def test_bigrams_follow_the_words_in_order_of_their_start():
    ids = [3, 1, 4]
    expected = [3, 1, 4, 10 + (3 * MULTIPLIER + 1) % 7, 10 + (1 * MULTIPLIER + 4) % 7]
    np.testing.assert_array_equal(hashed_ngrams(ids, vocab_size=10, buckets=7), expected)


def test_each_start_gives_its_ngrams_shortest_first():
    result = hashed_ngrams([2, 5, 7, 1], vocab_size=9, buckets=1000, n=3)
    np.testing.assert_array_equal(result, fasttext_ngram_ids([2, 5, 7, 1], 9, 1000, 3))
    assert len(result) == 4 + 3 + 2


@pytest.mark.parametrize("n", [2, 3, 4])
def test_large_ids_wrap_around_at_2_to_the_64_as_fasttext_s_uint64(n):
    rng = np.random.default_rng(n)
    ids = rng.integers(0, 100_000, 50)
    result = hashed_ngrams(ids, vocab_size=100_000, buckets=2_000_003, n=n)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, fasttext_ngram_ids(ids.tolist(), 100_000, 2_000_003, n))


def test_without_the_wrap_trigrams_of_large_ids_would_differ():
    ids = [90_000, 80_000, 70_000]
    h = (90_000 * MULTIPLIER + 80_000) * MULTIPLIER + 70_000
    assert h >= 2**64
    assert hashed_ngrams(ids, 100_000, 1009, n=3)[4] == 100_000 + h % 2**64 % 1009 != 100_000 + h % 1009


def test_n_1_is_the_words_alone_and_short_sequences_have_fewer_ngrams():
    np.testing.assert_array_equal(hashed_ngrams([4, 2], 5, 3, n=1), [4, 2])
    assert hashed_ngrams([], 5, 3).shape == (0,) and hashed_ngrams([], 5, 3).dtype == np.int64
    np.testing.assert_array_equal(hashed_ngrams([4], 5, 3, n=3), [4])
    assert len(hashed_ngrams([4, 2], 5, 3, n=5)) == 3


def test_every_ngram_lands_in_the_rows_after_the_words():
    ngram_ids = hashed_ngrams(np.arange(200) % 50, 50, 13, n=3)[200:]
    assert ngram_ids.min() >= 50 and ngram_ids.max() < 50 + 13


@pytest.mark.parametrize("ids, options, message", [
    ([1, 5], {"vocab_size": 5, "buckets": 3}, r"token ids in \[0, vocab_size\) = \[0, 5\)"),
    ([-1, 2], {"vocab_size": 5, "buckets": 3}, "token ids in"),
    ([1], {"vocab_size": 5, "buckets": 0}, "buckets must be at least 1"),
    ([1], {"vocab_size": 5, "buckets": 3, "n": 0}, "n must be at least 1"),
    ([[1, 2]], {"vocab_size": 5, "buckets": 3}, "flat sequence"),
])
def test_hashed_ngrams_refuses_bad_input(ids, options, message):
    with pytest.raises(ValueError, match=message):
        hashed_ngrams(ids, **options)


# ------------------------------------------------------------------ datasets and batches

SEQUENCES = [[5, 1, 2], [3], [], [4, 4, 4, 4, 2], [1, 2]]
LABELS = [1, 0, 0, 1, 1]


def test_sequence_dataset_hands_out_int64_ids_and_their_label():
    dataset = SequenceDataset(SEQUENCES, LABELS)
    ids, label = dataset[3]
    assert ids.dtype == np.int64 and ids.tolist() == [4, 4, 4, 4, 2] and label == 1
    np.testing.assert_array_equal(dataset.lengths, [3, 1, 0, 5, 2])
    with pytest.raises(ValueError, match="5 sequences but 4 labels"):
        SequenceDataset(SEQUENCES, LABELS[:4])


def test_padded_batches_pad_after_each_sequence_to_the_longest():
    (padded, lengths), targets = PaddedBatches()(list(SequenceDataset(SEQUENCES, LABELS)))
    torch.testing.assert_close(padded, torch.tensor([[5, 1, 2, 0, 0], [3, 0, 0, 0, 0], [0, 0, 0, 0, 0],
                                                     [4, 4, 4, 4, 2], [1, 2, 0, 0, 0]]))
    torch.testing.assert_close(lengths, torch.tensor([3, 1, 1, 5, 2]))  # the empty one: one pad long
    torch.testing.assert_close(targets, torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0]))


def test_padded_batches_take_another_padding_value_and_target_dtype():
    (padded, _), targets = PaddedBatches(padding_value=7, target_dtype=torch.int64)([(np.array([1]), 1),
                                                                                     (np.array([1, 2]), 0)])
    torch.testing.assert_close(padded, torch.tensor([[1, 7], [1, 2]]))
    assert targets.dtype == torch.int64


def test_a_packed_padded_batch_gives_each_sequence_the_lstm_output_of_its_own():
    torch.manual_seed(0)
    embedding, lstm = nn.Embedding(6, 4, padding_idx=0), nn.LSTM(4, 3, batch_first=True)
    batch = [(ids, label) for ids, label in SequenceDataset(SEQUENCES, LABELS) if len(ids)]
    (padded, lengths), _ = PaddedBatches()(batch)
    with torch.no_grad():
        packed = pack_padded_sequence(embedding(padded), lengths, batch_first=True, enforce_sorted=False)
        output, (last_hidden, _) = lstm(packed)
        output, _ = pad_packed_sequence(output, batch_first=True)
        for row, (ids, _) in enumerate(batch):
            alone, (alone_last, _) = lstm(embedding(torch.as_tensor(ids))[None])
            torch.testing.assert_close(output[row, :len(ids)], alone[0])
            torch.testing.assert_close(last_hidden[0, row], alone_last[0, 0])


def test_bag_batches_are_the_offsets_of_the_batch():
    batch = list(SequenceDataset(SEQUENCES, LABELS))
    (input, offsets), targets = BagBatches()(batch)
    expected_input, expected_offsets = embedding_bag_offsets(SEQUENCES)
    torch.testing.assert_close(input, expected_input)
    torch.testing.assert_close(offsets, expected_offsets)
    torch.testing.assert_close(targets, torch.tensor(LABELS, dtype=torch.float32))


def test_bag_batches_with_buckets_add_each_sequence_s_hashed_ngrams():
    (input, offsets), _ = BagBatches(vocab_size=6, buckets=11, n=3)(list(SequenceDataset(SEQUENCES, LABELS)))
    expected = embedding_bag_offsets([hashed_ngrams(ids, 6, 11, n=3) for ids in SEQUENCES])
    torch.testing.assert_close(input, expected[0])
    torch.testing.assert_close(offsets, expected[1])
    with pytest.raises(ValueError, match="give vocab_size with buckets"):
        BagBatches(buckets=11)


class BagClassifier(nn.Module):
    def __init__(self, rows):
        super().__init__()
        self.bag = nn.EmbeddingBag(rows, 1, mode="mean")

    def forward(self, input, offsets):  # fit calls model(*inputs) for a tuple of inputs
        return self.bag(input, offsets).squeeze(1)


class LSTMClassifier(nn.Module):
    def __init__(self, rows):
        super().__init__()
        self.embedding, self.lstm, self.out = nn.Embedding(rows, 8, padding_idx=0), nn.LSTM(8, 8), nn.Linear(8, 1)

    def forward(self, padded, lengths):
        packed = pack_padded_sequence(self.embedding(padded).transpose(0, 1), lengths, enforce_sorted=False)
        _, (last_hidden, _) = self.lstm(packed)
        return self.out(last_hidden[0]).squeeze(1)


def sentiment_toy(n, seed):
    """Sequences of ids 2..9 that hold id 2 ("good") when the label is 1, id 3 ("bad") when 0."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    sequences = [np.concatenate([rng.integers(4, 10, rng.integers(1, 8)), [3 - label]]) for label in labels]
    return SequenceDataset([rng.permutation(ids) for ids in sequences], labels)


@pytest.mark.parametrize("network, collate", [(BagClassifier, BagBatches()),
                                              (lambda rows: BagClassifier(rows + 16), BagBatches(10, buckets=16)),
                                              (LSTMClassifier, PaddedBatches())])
def test_fit_trains_on_batches_whose_inputs_are_a_tuple_of_tensors(network, collate):
    torch.manual_seed(0)
    model = network(10)
    dataset = sentiment_toy(256, seed=1)
    loader = DataLoader(dataset, batch_size=32, shuffle=True, collate_fn=collate,
                        generator=torch.Generator().manual_seed(0))
    history = fit(model, loader, loss_fn=nn.BCEWithLogitsLoss(), epochs=10, val_loader=loader,
                  optimizer=torch.optim.Adam(model.parameters(), lr=0.3), progress=False)
    assert history.epochs[-1]["val_accuracy"] == 1.0
    assert history.epochs[-1]["loss"] < history.epochs[0]["loss"]


# ------------------------------------------------------------------- LengthBucketSampler

def test_every_index_is_in_one_batch_per_epoch():
    lengths = np.random.default_rng(0).integers(1, 500, 1003)
    sampler = LengthBucketSampler(lengths, 32, pool_batches=4, generator=torch.Generator().manual_seed(0))
    batches = list(sampler)
    assert len(batches) == len(sampler) == 32
    assert sorted(index for batch in batches for index in batch) == list(range(1003))
    assert sorted(len(batch) for batch in batches)[0] == 1003 % 32


def test_batches_hold_similar_lengths():
    lengths = np.random.default_rng(1).integers(1, 1000, 3200)
    sampler = LengthBucketSampler(lengths, 32, pool_batches=50, generator=torch.Generator().manual_seed(0))
    padded_by_bucket = sum(len(batch) * lengths[batch].max() for batch in sampler)
    random_batches = np.random.default_rng(2).permutation(3200).reshape(-1, 32)
    padded_at_random = sum(32 * lengths[batch].max() for batch in random_batches)
    assert padded_by_bucket < 0.6 * padded_at_random


def test_epochs_differ_and_a_seeded_generator_repeats_them():
    lengths = np.arange(100)

    def two_epochs(seed):
        sampler = LengthBucketSampler(lengths, 10, pool_batches=2, generator=torch.Generator().manual_seed(seed))
        return list(sampler), list(sampler)

    first, second = two_epochs(0)
    assert first != second
    assert two_epochs(0) == (first, second)


def test_without_a_generator_torch_s_global_seed_decides():
    lengths = np.arange(100)
    torch.manual_seed(3)
    first = list(LengthBucketSampler(lengths, 10))
    torch.manual_seed(3)
    assert list(LengthBucketSampler(lengths, 10)) == first


def test_unshuffled_batches_are_sorted_pools_in_order():
    sampler = LengthBucketSampler([5, 1, 4, 2, 3, 0], 2, pool_batches=2, shuffle=False)
    assert list(sampler) == [[1, 3], [2, 0], [5, 4]]


def test_drop_last_drops_the_one_short_batch():
    sampler = LengthBucketSampler(np.arange(25), 4, pool_batches=3, drop_last=True,
                                  generator=torch.Generator().manual_seed(0))
    batches = list(sampler)
    assert len(batches) == len(sampler) == 6
    assert all(len(batch) == 4 for batch in batches)


def test_a_loader_with_the_sampler_yields_padded_batches_of_similar_lengths():
    dataset = SequenceDataset([np.ones(length, dtype=np.int64) for length in range(1, 65)], np.zeros(64))
    sampler = LengthBucketSampler(dataset.lengths, 8, generator=torch.Generator().manual_seed(0))
    for (padded, lengths), _ in DataLoader(dataset, batch_sampler=sampler, collate_fn=PaddedBatches()):
        assert padded.shape[1] == lengths.max() and lengths.max() - lengths.min() == 7
