import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from course_lib.errors import CourseError
from course_lib.models import BagOfWordsClassifier, FastText, LSTMClassifier, TransformerClassifier
from course_lib.models.text import reverse_within_lengths

# a hand-made vocabulary: 0 <pad>, 1 <unk>, then words
GOOD, BAD, NOT, MOVIE, THE, GREAT, AWFUL, PLOT = range(2, 10)
VOCAB_SIZE = 10
# negation flips the word after it; "good, not bad" and "bad, not good" are the same bag of
# words, so only a model that sees word order (bigrams, a sequence) can fit these
NEGATED_REVIEWS = [([GOOD, NOT, BAD], 1), ([BAD, NOT, GOOD], 0), ([THE, MOVIE, NOT, GOOD], 0), ([NOT, BAD, THE, PLOT], 1),
                   ([GOOD, THE, MOVIE], 1), ([BAD], 0), ([GREAT, PLOT, NOT, AWFUL], 1), ([AWFUL, PLOT, NOT, GREAT], 0)]
PLAIN_REVIEWS = [([THE, MOVIE, GOOD], 1), ([BAD, PLOT], 0), ([GREAT], 1), ([THE, AWFUL, MOVIE, THE, PLOT], 0),
                 ([GOOD, GREAT, PLOT], 1), ([MOVIE, BAD, BAD], 0)]


def padded_batch(reviews, length=None):
    """(padded, lengths): each review followed by <pad> up to `length` (default: the longest)."""
    length = max(map(len, reviews)) if length is None else length
    padded = torch.zeros(len(reviews), length, dtype=torch.int64)
    for row, review in enumerate(reviews):
        padded[row, :len(review)] = torch.tensor(review, dtype=torch.int64)
    return padded, torch.tensor([len(review) for review in reviews])


def bags(reviews):
    """(input, offsets) as nn.EmbeddingBag takes them."""
    input = torch.tensor([token for review in reviews for token in review], dtype=torch.int64)
    starts = torch.tensor([0] + [len(review) for review in reviews[:-1]]).cumsum(0)
    return input, starts


def targets_of(dataset):
    return torch.tensor([label for _, label in dataset], dtype=torch.float32)


def reviews_of(dataset):
    return [review for review, _ in dataset]


def parameter_count(model):
    return sum(parameter.numel() for parameter in model.parameters())


def train_full_batch(model, inputs, targets, steps, lr):
    """Adam on the whole tiny dataset; returns the final loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(*inputs), targets)
        loss.backward()
        optimizer.step()
    return loss.item()


def assert_learned(model, inputs, targets, steps, lr=0.05):
    torch.manual_seed(0)
    loss = train_full_batch(model, inputs, targets, steps, lr)
    model.eval()
    with torch.no_grad():
        predictions = (model(*inputs) > 0).float()
    assert loss < 0.1
    assert torch.equal(predictions, targets)


def lstm_parameters(vocab_size, embedding_dim, hidden_size, num_layers, directions):
    total = vocab_size * embedding_dim
    for layer in range(num_layers):
        layer_input = embedding_dim if layer == 0 else directions * hidden_size
        total += directions * (4 * hidden_size * (layer_input + hidden_size) + 8 * hidden_size)
    return total + directions * hidden_size + 1


def transformer_parameters(vocab_size, max_len, d_model, num_layers, dim_feedforward):
    attention = 3 * d_model * d_model + 3 * d_model + d_model * d_model + d_model
    feed_forward = 2 * d_model * dim_feedforward + dim_feedforward + d_model
    block = attention + feed_forward + 2 * 2 * d_model
    return (vocab_size + max_len) * d_model + num_layers * block + 2 * d_model + d_model + 1


# --- the linear bag of words and NBSVM ---

def test_bag_of_words_is_logistic_regression_on_the_features_scaled_by_feature_scale():
    torch.manual_seed(0)
    scale = torch.randn(VOCAB_SIZE)
    model = BagOfWordsClassifier(VOCAB_SIZE, feature_scale=scale)
    with torch.no_grad():
        model.token_weights.weight.normal_()
        model.bias.fill_(0.3)
    reviews = [[GOOD, MOVIE], [BAD], [], [GOOD, GOOD, THE]]
    counts = torch.zeros(len(reviews), VOCAB_SIZE)
    for row, review in enumerate(reviews):
        for token in review:
            counts[row, token] += 1

    expected = (counts * scale) @ model.token_weights.weight[:, 0] + 0.3

    torch.testing.assert_close(model(*bags(reviews)), expected)
    # the same counts as per-sample weights on each distinct id
    input, offsets = bags([[GOOD, MOVIE], [BAD], [], [GOOD, THE]])
    torch.testing.assert_close(model(input, offsets, torch.tensor([1.0, 1.0, 1.0, 2.0, 1.0])), expected)


def test_bag_of_words_starts_at_probability_one_half_and_counts_one_weight_per_token():
    model = BagOfWordsClassifier(VOCAB_SIZE)

    assert torch.equal(model(*bags(reviews_of(PLAIN_REVIEWS))), torch.zeros(len(PLAIN_REVIEWS)))
    assert parameter_count(model) == VOCAB_SIZE + 1
    assert model.state_dict().keys() == {"token_weights.weight", "bias"}
    nbsvm = BagOfWordsClassifier(VOCAB_SIZE, feature_scale=torch.ones(VOCAB_SIZE))
    assert parameter_count(nbsvm) == VOCAB_SIZE + 1  # r is a buffer, not trained
    assert torch.equal(nbsvm.state_dict()["feature_scale"], torch.ones(VOCAB_SIZE))


@pytest.mark.parametrize("feature_scale", [None, torch.full((VOCAB_SIZE,), 0.5)])
def test_bag_of_words_overfits_a_tiny_dataset(feature_scale):
    model = BagOfWordsClassifier(VOCAB_SIZE, feature_scale=feature_scale)
    assert_learned(model, bags(reviews_of(PLAIN_REVIEWS)), targets_of(PLAIN_REVIEWS), steps=40, lr=0.3)


def test_bag_of_words_trains_with_sparse_gradients():
    model = BagOfWordsClassifier(VOCAB_SIZE, sparse=True)
    model(*bags([[GOOD], [BAD, THE]])).sum().backward()

    assert model.token_weights.weight.grad.is_sparse


# --- fastText ---

def test_fasttext_averages_its_word_and_bigram_rows_and_starts_at_one_half():
    model = FastText(VOCAB_SIZE, buckets=5, embedding_dim=4)
    input, offsets = bags([[GOOD, MOVIE, VOCAB_SIZE + 3], [BAD]])

    assert torch.equal(model(input, offsets), torch.zeros(2))
    assert parameter_count(model) == (VOCAB_SIZE + 5) * 4 + 4 + 1
    assert model.embedding.weight.abs().max() <= 1 / 4
    with torch.no_grad():
        model.classifier.weight.normal_()
    rows = model.embedding.weight
    expected = torch.stack([rows[[GOOD, MOVIE, VOCAB_SIZE + 3]].mean(0), rows[BAD]]) @ model.classifier.weight[0]
    torch.testing.assert_close(model(input, offsets), expected + model.classifier.bias)


def test_fasttext_with_bigram_buckets_learns_negation():
    def with_bigrams(review):  # one bucket per bigram, a stand-in for hashing
        bigrams = [VOCAB_SIZE + first * VOCAB_SIZE + second for first, second in zip(review, review[1:])]
        return review + bigrams

    reviews = [with_bigrams(review) for review in reviews_of(NEGATED_REVIEWS)]
    torch.manual_seed(0)
    model = FastText(VOCAB_SIZE, buckets=VOCAB_SIZE ** 2, embedding_dim=8)
    assert_learned(model, bags(reviews), targets_of(NEGATED_REVIEWS), steps=60, lr=0.1)


# --- the LSTM ---

@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, True)])
def test_lstm_gives_one_logit_per_review_and_has_its_documented_size(num_layers, bidirectional):
    model = LSTMClassifier(VOCAB_SIZE, embedding_dim=6, hidden_size=5, num_layers=num_layers,
                           bidirectional=bidirectional)

    assert model(*padded_batch(reviews_of(NEGATED_REVIEWS))).shape == (len(NEGATED_REVIEWS),)
    assert parameter_count(model) == lstm_parameters(VOCAB_SIZE, 6, 5, num_layers, 2 if bidirectional else 1)


@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, True)])
def test_lstm_gives_a_review_the_same_logit_however_far_it_is_padded(num_layers, bidirectional):
    torch.manual_seed(0)
    model = LSTMClassifier(VOCAB_SIZE, 6, 5, num_layers=num_layers, bidirectional=bidirectional, dropout=0.5).eval()
    review = [THE, MOVIE, NOT, GOOD]

    alone = model(*padded_batch([review]))
    in_a_longer_batch = model(*padded_batch([[PLOT] * 9, review]))[1]
    padded_further = model(*padded_batch([review], length=12))

    torch.testing.assert_close(in_a_longer_batch, alone[0])
    torch.testing.assert_close(padded_further, alone)


def packed_lstm_twin(model, num_layers, bidirectional):
    """An nn.LSTM with `model`'s weights, to run the classic way, on a packed batch."""
    twin = nn.LSTM(model.embedding.embedding_dim, model.classifier.in_features // (2 if bidirectional else 1),
                   num_layers, batch_first=True, bidirectional=bidirectional)
    layers = {"": model.forward_layers, "_reverse": model.backward_layers}
    with torch.no_grad():
        for suffix, modules in layers.items():
            for layer, module in enumerate(modules):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(twin, f"{name}_l{layer}{suffix}").copy_(getattr(module, f"{name}_l0"))
    return twin


@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, False), (1, True), (3, True)])
def test_lstm_final_states_are_those_of_nn_lstm_on_a_packed_batch(num_layers, bidirectional):
    torch.manual_seed(0)
    model = LSTMClassifier(VOCAB_SIZE, 6, 5, num_layers=num_layers, bidirectional=bidirectional).eval()
    twin = packed_lstm_twin(model, num_layers, bidirectional)
    padded, lengths = padded_batch(reviews_of(NEGATED_REVIEWS))

    packed = pack_padded_sequence(model.embedding(padded), lengths, batch_first=True, enforce_sorted=False)
    _, (last_states, _) = twin(packed)
    directions = 2 if bidirectional else 1
    expected = model.classifier(torch.cat(list(last_states[-directions:]), dim=-1)).squeeze(-1)

    torch.testing.assert_close(model(padded, lengths), expected)


def test_reverse_within_lengths_reverses_each_review_and_leaves_its_padding():
    sequences = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0], [6, 0, 0, 0]])[:, :, None]
    reversed_ = reverse_within_lengths(sequences, torch.tensor([3, 2, 1]))

    assert reversed_[:, :, 0].tolist() == [[3, 2, 1, 0], [5, 4, 0, 0], [6, 0, 0, 0]]
    assert torch.equal(reverse_within_lengths(reversed_, torch.tensor([3, 2, 1])), sequences)


def test_lstm_reads_an_empty_review_as_one_pad_token():
    torch.manual_seed(0)
    model = LSTMClassifier(VOCAB_SIZE, 6, 5).eval()
    padded, _ = padded_batch([[], [GOOD, BAD]])

    logits = model(padded, torch.tensor([0, 2]))

    assert torch.isfinite(logits).all()
    torch.testing.assert_close(logits[0], model(padded[:1, :1], torch.tensor([1]))[0])


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_overfits_a_tiny_dataset_with_negation(bidirectional):
    torch.manual_seed(0)
    model = LSTMClassifier(VOCAB_SIZE, 8, 8, bidirectional=bidirectional)
    assert_learned(model, padded_batch(reviews_of(NEGATED_REVIEWS)), targets_of(NEGATED_REVIEWS), steps=60)


def test_lstm_docstring_advises_flushing_denormals_and_clipping():
    assert "torch.set_flush_denormal(True)" in LSTMClassifier.__doc__
    assert "clip_grad_norm" in LSTMClassifier.__doc__


# --- the transformer ---

def test_transformer_gives_one_logit_per_review_and_has_its_documented_size():
    model = TransformerClassifier(VOCAB_SIZE, max_len=16, d_model=8, nhead=2, num_layers=3, dim_feedforward=12)

    assert model(*padded_batch(reviews_of(NEGATED_REVIEWS))).shape == (len(NEGATED_REVIEWS),)
    assert parameter_count(model) == transformer_parameters(VOCAB_SIZE, 16, 8, 3, 12)
    assert parameter_count(TransformerClassifier(VOCAB_SIZE, 16, d_model=8, nhead=2)) == \
        transformer_parameters(VOCAB_SIZE, 16, 8, 2, 4 * 8)


def test_transformer_blocks_are_pre_norm_and_followed_by_a_layer_norm():
    model = TransformerClassifier(VOCAB_SIZE, max_len=16, d_model=8, nhead=2)

    assert all(block.norm_first for block in model.encoder.layers)
    assert isinstance(model.encoder.norm, nn.LayerNorm)


def test_transformer_drops_attention_weights_only_when_asked():
    model = TransformerClassifier(VOCAB_SIZE, max_len=16, d_model=8, nhead=2, num_layers=2, dropout=0.2)
    dropping = TransformerClassifier(VOCAB_SIZE, max_len=16, d_model=8, nhead=2, num_layers=2, attention_dropout=0.3)

    assert [block.self_attn.dropout for block in model.encoder.layers] == [0.0, 0.0]
    assert [block.dropout1.p for block in model.encoder.layers] == [0.2, 0.2]
    assert [block.self_attn.dropout for block in dropping.encoder.layers] == [0.3, 0.3]


@pytest.mark.parametrize("grad", [False, True])  # without gradients eval mode takes torch's fast path
def test_transformer_gives_a_review_the_same_logit_however_far_it_is_padded(grad):
    torch.manual_seed(0)
    model = TransformerClassifier(VOCAB_SIZE, max_len=16, d_model=8, nhead=2).eval()
    review = [THE, MOVIE, NOT, GOOD]

    with torch.set_grad_enabled(grad):
        alone = model(*padded_batch([review]))
        in_a_longer_batch = model(*padded_batch([[PLOT] * 9, review]))[1]
        padded_further = model(*padded_batch([review], length=16))

    torch.testing.assert_close(in_a_longer_batch, alone[0])
    torch.testing.assert_close(padded_further, alone)


def test_transformer_reads_an_empty_review_as_one_pad_token():
    torch.manual_seed(0)
    model = TransformerClassifier(VOCAB_SIZE, max_len=16, d_model=8, nhead=2).eval()
    padded, _ = padded_batch([[], [GOOD, BAD]])

    logits = model(padded, torch.tensor([0, 2]))

    assert torch.isfinite(logits).all()
    torch.testing.assert_close(logits[0], model(padded[:1, :1], torch.tensor([1]))[0])


def test_transformer_overfits_a_tiny_dataset_with_negation():
    torch.manual_seed(0)
    model = TransformerClassifier(VOCAB_SIZE, max_len=8, d_model=16, nhead=2, dropout=0.0)
    assert_learned(model, padded_batch(reviews_of(NEGATED_REVIEWS)), targets_of(NEGATED_REVIEWS), steps=60,
                   lr=0.01)


# --- bad arguments ---

@pytest.mark.parametrize(("build", "words"), [
    (lambda: BagOfWordsClassifier(0), "vocab_size"),
    (lambda: BagOfWordsClassifier(VOCAB_SIZE, feature_scale=torch.ones(3)), r"feature_scale.*\[10\]"),
    (lambda: FastText(VOCAB_SIZE, buckets=-1), "buckets"),
    (lambda: LSTMClassifier(VOCAB_SIZE, hidden_size=0), "hidden_size"),
    (lambda: LSTMClassifier(VOCAB_SIZE, bidirectional=1), "bidirectional"),
    (lambda: LSTMClassifier(VOCAB_SIZE, dropout=1.0), "dropout"),
    (lambda: TransformerClassifier(VOCAB_SIZE, max_len=16, d_model=10, nhead=4), "multiple of nhead"),
    (lambda: TransformerClassifier(VOCAB_SIZE, max_len=0), "max_len"),
    (lambda: TransformerClassifier(VOCAB_SIZE, max_len=8, attention_dropout=-0.1), "dropout"),
])
def test_models_refuse_sizes_that_make_no_sense(build, words):
    with pytest.raises(CourseError, match=words):
        build()


@pytest.mark.parametrize("build", [lambda: LSTMClassifier(VOCAB_SIZE, 4, 4),
                                   lambda: TransformerClassifier(VOCAB_SIZE, max_len=8, d_model=4, nhead=1)])
@pytest.mark.parametrize(("batch", "words"), [
    (lambda: (torch.tensor([[0, 0, GOOD, BAD]]), torch.tensor([2])), r"after a review's length.*padding='post'"),
    (lambda: (torch.tensor([[GOOD, BAD]]), torch.tensor([3])), r"lengths must lie in 0\.\.2"),
    (lambda: (torch.tensor([[GOOD, BAD]]), torch.tensor([2, 2])), r"lengths must be.*\[1\]"),
    (lambda: (torch.tensor([GOOD, BAD]), torch.tensor([2])), r"padded must be int64 ids \[N, T\]"),
    (lambda: (torch.tensor([[GOOD, VOCAB_SIZE]]), torch.tensor([2])), r"ids must lie in 0\.\.9"),
    (lambda: (torch.zeros(2, 0, dtype=torch.int64), torch.tensor([0, 0])), "no positions"),
])
def test_sequence_models_name_what_is_wrong_with_a_batch(build, batch, words):
    with pytest.raises(CourseError, match=words):
        build()(*batch())


def test_the_transformer_refuses_a_batch_longer_than_its_position_embeddings():
    model = TransformerClassifier(VOCAB_SIZE, max_len=4, d_model=4, nhead=1)
    with pytest.raises(CourseError, match="truncate the reviews to 4 tokens"):
        model(*padded_batch([[GOOD] * 5]))


@pytest.mark.parametrize(("arguments", "words"), [
    (lambda: (torch.tensor([GOOD, BAD]), torch.tensor([1, 0])), "offsets are where each review starts"),
    (lambda: (torch.tensor([[GOOD, BAD]]), torch.tensor([0])), "input must be a 1-D int64 tensor"),
    (lambda: (torch.tensor([GOOD, 15]), torch.tensor([0])), r"0\.\.14 \(vocab_size \+ buckets = 15\)"),
])
def test_fasttext_names_what_is_wrong_with_a_batch(arguments, words):
    with pytest.raises(CourseError, match=words):
        FastText(VOCAB_SIZE, buckets=5, embedding_dim=2)(*arguments())


def test_bag_of_words_wants_one_per_sample_weight_per_id():
    with pytest.raises(CourseError, match=r"one weight per id of input \(\(2,\)\)"):
        BagOfWordsClassifier(VOCAB_SIZE)(torch.tensor([GOOD, BAD]), torch.tensor([0]), torch.ones(3))
