"""The text classifiers of assignment 07, for reviews given as vocabulary ids (`<pad>` is 0).
Every model returns one logit per review, [N] — the log-odds that the review is positive —
to be trained with `nn.BCEWithLogitsLoss` on float 0/1 targets.

Two input conventions, one per kind of model, each taken as separate arguments (`fit`
calls `model(*inputs)` when a batch's inputs are a tuple):

- bags of ids (`BagOfWordsClassifier`, `FastText`) take what `nn.EmbeddingBag` takes:
  `(input, offsets)`, every review's ids concatenated into one int64 [total] tensor and
  the position where each review starts (int64 [N], the first 0);
- sequences (`LSTMClassifier`, `TransformerClassifier`) take `(padded, lengths)`: int64
  [N, T] ids, each review followed by `<pad>` (0) up to the batch's longest
  (padding="post"), and each review's number of real tokens, int64 [N]. Ids after a
  review's length must be `<pad>`, so a batch padded in front (Keras' padding="pre") is
  refused rather than read as padding followed by a cut review. An empty review is read as a single `<pad>` token, so that every review
  has a last step for the LSTM to stop at and a token to attend to (attention over no
  tokens at all is nan).
"""
import torch
from torch import nn

from ..errors import CourseError
from ._checks import check_count, check_dropout
from .pooling import masked_mean

PAD_ID = 0


class BagOfWordsClassifier(nn.Module):
    """Logistic regression on a bag of words: logit = Σ_t w[id_t] · x_t + b over a review's
    ids, with x_t = `per_sample_weights` (1 when not given) — one weight per vocabulary
    token. The bag's features are whatever the ids say: each distinct id once gives binary
    features, repeated ids (or counts as `per_sample_weights`) give counts; bigram ids, if
    the vocabulary has them, make it a bag of bigrams.

    NBSVM (Wang & Manning 2012) is the same model on the features scaled by the log-count
    ratio r, x · r: pass r [vocab_size] as `feature_scale`. It is kept as a fixed buffer
    (saved in the state_dict, not trained), and each id's x_t is multiplied by r[id_t].

    Weights and bias start at zero, as for any logistic regression: the loss is convex, so
    nothing needs breaking symmetry, and every review starts at probability 1/2. The
    weights live in `nn.EmbeddingBag(vocab_size, 1, mode="sum")`, which reads only the
    rows of a batch's ids — a review touches a few hundred of the vocabulary's tens of
    thousands of weights. With `sparse=True` (as `nn.EmbeddingBag`'s) their gradient is
    sparse too, for `torch.optim.SGD` or `SparseAdam`; vocab_size + 1 parameters.
    """

    def __init__(self, vocab_size, *, feature_scale=None, sparse=False):
        super().__init__()
        check_count("vocab_size", vocab_size)
        self.token_weights = nn.EmbeddingBag(vocab_size, 1, mode="sum", sparse=sparse)
        nn.init.zeros_(self.token_weights.weight)
        self.bias = nn.Parameter(torch.zeros(1))
        if feature_scale is not None:
            feature_scale = torch.as_tensor(feature_scale, dtype=torch.float32)
            if feature_scale.shape != (vocab_size,):
                raise CourseError(f"feature_scale holds one factor per vocabulary token ([{vocab_size}], "
                                  f"e.g. NBSVM's log-count ratio r), got shape {tuple(feature_scale.shape)}")
        self.register_buffer("feature_scale", feature_scale)

    def forward(self, input, offsets, per_sample_weights=None):
        _check_bags(input, offsets, self.token_weights.num_embeddings, "vocab_size")
        if per_sample_weights is not None and per_sample_weights.shape != input.shape:
            raise CourseError(f"per_sample_weights holds one weight per id of input ({tuple(input.shape)}), "
                              f"got shape {tuple(per_sample_weights.shape)}")
        if self.feature_scale is not None:
            scale = self.feature_scale[input]
            per_sample_weights = scale if per_sample_weights is None else per_sample_weights * scale
        return self.token_weights(input, offsets, per_sample_weights=per_sample_weights).squeeze(-1) + self.bias


class FastText(nn.Module):
    """fastText's classifier (Joulin et al. 2016) with one output: the mean of a review's
    embedding rows → Linear(embedding_dim, 1). The ids are the review's words (rows
    0..vocab_size-1) and its hashed n-grams (rows vocab_size..vocab_size+buckets-1), as
    `course_lib.data.hashed_ngrams` makes them: the bigrams give word order a little
    weight ("not good" is its own feature) at the price of one row per bucket.

    Initialised as fastText does: embeddings uniform in ±1/embedding_dim, the output layer
    zero, so every review starts at probability 1/2. `sparse=True` (as `nn.EmbeddingBag`'s)
    makes the embeddings' gradient sparse — a batch touches a few thousand of the
    vocab_size + buckets rows — for `torch.optim.SGD` (fastText's own optimizer) or
    `SparseAdam`. Takes `(input, offsets)` only: `nn.EmbeddingBag` allows
    `per_sample_weights` in mode "sum" alone. (vocab_size + buckets) · embedding_dim +
    embedding_dim + 1 parameters.
    """

    def __init__(self, vocab_size, buckets, embedding_dim=10, *, sparse=False):
        super().__init__()
        check_count("vocab_size", vocab_size)
        check_count("buckets", buckets, minimum=0)
        check_count("embedding_dim", embedding_dim)
        self.vocab_size, self.buckets = vocab_size, buckets
        self.embedding = nn.EmbeddingBag(vocab_size + buckets, embedding_dim, mode="mean", sparse=sparse)
        nn.init.uniform_(self.embedding.weight, -1 / embedding_dim, 1 / embedding_dim)
        self.classifier = nn.Linear(embedding_dim, 1)
        nn.init.zeros_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, input, offsets):
        _check_bags(input, offsets, self.vocab_size + self.buckets, "vocab_size + buckets")
        return self.classifier(self.embedding(input, offsets)).squeeze(-1)


class LSTMClassifier(nn.Module):
    """Embedding(vocab_size, embedding_dim, padding_idx=0) → LSTM(hidden_size, num_layers,
    bidirectional) → Dropout(dropout) → Linear(1); `dropout` also acts between stacked LSTM
    layers, as `nn.LSTM`'s own argument does.

    The review's representation is the LSTM's state after its last real token — with
    `bidirectional=True`, that and the backward direction's state after the first token,
    concatenated, so each direction has read the whole review. It is exactly what
    `nn.LSTM` gives as `h_n` on `pack_padded_sequence(..., enforce_sorted=False)`: each
    review stops at its own length, the padding never enters the recurrence, and the same
    review gets the same logit in any batch, padded to any length. A pooled
    representation (max or mean over all steps) would give the gradient a shorter path to
    early tokens; the final state is the classic reading and needs no mask.

    It is computed without packing, though, because on a CPU the backward pass of an LSTM
    over a packed batch costs time quadratic in the length (pytorch/pytorch#149194: the
    LSTM slices its packed input once per step, and the backward of every slice writes a
    gradient the size of the whole input): an epoch over 2 000 IMDB reviews took 5–10
    times as long as over the padded batch at 256 tokens, and 10 times at 400. Instead
    each layer and direction is its own one-layer `nn.LSTM` over the padded batch, the
    padding after every review (`padding="post"`): the forward direction's output at a
    review's last token has not seen the padding; the backward direction reads each
    review reversed within its length (`reverse_within_lengths`), so its padding comes
    last too. The padded steps are computed and ignored (batches of similar lengths
    waste fewer).

    On a CPU, train with gradient clipping (`fit(..., clip_grad_norm=...)`) — an LSTM's
    gradients can grow over long sequences — and call `torch.set_flush_denormal(True)`
    first: saturated sigmoid and tanh gates produce denormal floats (below ~1e-38), on
    which x86 CPUs compute many times slower; flushing them to zero only changes numbers
    too small to matter.

    Parameters, as `nn.LSTM`'s: vocab_size · embedding_dim, then per layer and direction
    4 · hidden_size · (layer_input + hidden_size) + 8 · hidden_size (layer_input is
    embedding_dim for the first layer, directions · hidden_size after), then
    directions · hidden_size + 1.
    """

    def __init__(self, vocab_size, embedding_dim=64, hidden_size=64, *, num_layers=1, bidirectional=False,
                 dropout=0.0):
        super().__init__()
        check_count("vocab_size", vocab_size)
        check_count("embedding_dim", embedding_dim)
        check_count("hidden_size", hidden_size)
        check_count("num_layers", num_layers)
        check_dropout(dropout)
        if not isinstance(bidirectional, bool):
            raise CourseError(f"bidirectional is True or False, got {bidirectional!r}")
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        directions = 2 if bidirectional else 1
        layer_inputs = [embedding_dim] + [directions * hidden_size] * (num_layers - 1)
        self.forward_layers = nn.ModuleList(nn.LSTM(size, hidden_size, batch_first=True) for size in layer_inputs)
        self.backward_layers = nn.ModuleList(nn.LSTM(size, hidden_size, batch_first=True)
                                             for size in (layer_inputs if bidirectional else []))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(directions * hidden_size, 1)

    def forward(self, padded, lengths):
        lengths = _check_padded(padded, lengths, self.embedding.num_embeddings)
        last_steps = (lengths - 1)[:, None, None]
        hidden = self.embedding(padded)
        for layer, forward_layer in enumerate(self.forward_layers):
            if layer > 0:
                hidden = self.dropout(hidden)  # between layers, as nn.LSTM(dropout=...)
            forwards, _ = forward_layer(hidden)
            if not self.backward_layers:
                hidden = forwards
                continue
            backwards, _ = self.backward_layers[layer](reverse_within_lengths(hidden, lengths))
            hidden = torch.cat([forwards, reverse_within_lengths(backwards, lengths)], dim=-1)
        # the forward direction's state after the last token; the backward one's after the
        # first, which is its own last step of the reversed review
        final_states = [forwards] + ([backwards] if self.backward_layers else [])
        representation = torch.cat([states.gather(1, last_steps.expand(-1, 1, states.shape[-1])).squeeze(1)
                                    for states in final_states], dim=-1)
        return self.classifier(self.dropout(representation)).squeeze(-1)


def reverse_within_lengths(sequences, lengths):
    """[N, T, D] with each row's first lengths[i] steps in reverse order and the rest (the
    padding) where it was; its own inverse. What the backward direction of an LSTM reads."""
    steps = torch.arange(sequences.shape[1], device=sequences.device)
    source = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return sequences.gather(1, source[:, :, None].expand(-1, -1, sequences.shape[-1]))


class TransformerClassifier(nn.Module):
    """Token embeddings + learned position embeddings (positions 0..max_len-1) → Dropout →
    `num_layers` pre-norm encoder blocks (`nn.TransformerEncoderLayer(norm_first=True,
    batch_first=True)`, GELU) → a final LayerNorm → `masked_mean` over the real tokens →
    Linear(d_model, 1). The padding is a key no token attends to
    (`src_key_padding_mask`) and is left out of the mean, so a review's logit does not
    depend on how far its batch is padded. Pre-norm blocks leave the residual sum
    unnormalised, hence the final LayerNorm.

    `dropout` acts on the embeddings, on each block's two residual branches and inside its
    feed-forward layer, as `nn.TransformerEncoderLayer`'s; the attention weights have their
    own `attention_dropout`, 0 by default because on a CPU dropping attention weights
    costs more than the rest of the model: torch's fused attention kernel for CPUs has no
    dropout, so with it every block materialises [N, nhead, T, T] weights and a random mask
    of that size (an epoch over 2 000 IMDB reviews took 2.4 times as long at 256 tokens).

    `dim_feedforward` defaults to 4 · d_model. Parameters: (vocab_size + max_len) · d_model,
    per block 4 · d_model² + 4 · d_model (attention) + 2 · d_model · dim_feedforward +
    dim_feedforward + d_model (feed-forward) + 4 · d_model (two LayerNorms), then
    2 · d_model + d_model + 1.
    """

    def __init__(self, vocab_size, max_len, d_model=64, nhead=4, num_layers=2, dim_feedforward=None, *,
                 dropout=0.1, attention_dropout=0.0):
        super().__init__()
        dim_feedforward = 4 * d_model if dim_feedforward is None else dim_feedforward
        for name, value in [("vocab_size", vocab_size), ("max_len", max_len), ("d_model", d_model),
                            ("nhead", nhead), ("num_layers", num_layers), ("dim_feedforward", dim_feedforward)]:
            check_count(name, value)
        if d_model % nhead:
            raise CourseError(f"d_model ({d_model}) must be a multiple of nhead ({nhead}): each head gets "
                              "d_model // nhead dimensions")
        check_dropout(dropout)
        check_dropout(attention_dropout)
        self.token_embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
        self.position_embedding = nn.Embedding(max_len, d_model)
        self.dropout = nn.Dropout(dropout)
        block = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        block.self_attn.dropout = attention_dropout  # nn.MultiheadAttention's own rate, copied to every block
        # nested tensors (a fast path for padded batches) do not support pre-norm blocks
        self.encoder = nn.TransformerEncoder(block, num_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.classifier = nn.Linear(d_model, 1)

    def forward(self, padded, lengths):
        lengths = _check_padded(padded, lengths, self.token_embedding.num_embeddings)
        max_len = self.position_embedding.num_embeddings
        if padded.shape[1] > max_len:
            raise CourseError(f"the batch is padded to {padded.shape[1]} tokens but the model has position "
                              f"embeddings for {max_len} (max_len): truncate the reviews to {max_len} tokens")
        positions = torch.arange(padded.shape[1], device=padded.device)
        is_token = positions < lengths[:, None]
        hidden = self.dropout(self.token_embedding(padded) + self.position_embedding(positions))
        hidden = self.encoder(hidden, src_key_padding_mask=~is_token)
        return self.classifier(masked_mean(hidden, is_token)).squeeze(-1)


def _check_bags(input, offsets, rows, rows_name):
    for name, tensor in (("input", input), ("offsets", offsets)):
        if not isinstance(tensor, torch.Tensor) or tensor.ndim != 1 or tensor.is_floating_point():
            raise CourseError(f"{name} must be a 1-D int64 tensor, as nn.EmbeddingBag takes it (the reviews' ids "
                              f"concatenated, and where each review starts); got {_describe(tensor)}")
    if len(offsets) and (offsets[0] != 0 or (offsets.diff() < 0).any() or offsets[-1] > len(input)):
        raise CourseError(f"offsets are where each review starts in input: 0 first, never decreasing, at most "
                          f"len(input) = {len(input)}; got {offsets.tolist()[:8]}")
    _check_ids(input, rows, rows_name)


def _check_padded(padded, lengths, rows):
    """Checks a (padded, lengths) batch; returns the lengths, with an empty review's set to 1."""
    if not isinstance(padded, torch.Tensor) or padded.ndim != 2 or padded.is_floating_point():
        raise CourseError(f"padded must be int64 ids [N, T], one padded review per row; got {_describe(padded)}")
    if padded.shape[1] == 0:
        raise CourseError("padded has no positions (T = 0): pad even a batch of empty reviews to one <pad>")
    if (not isinstance(lengths, torch.Tensor) or lengths.shape != padded.shape[:1]
            or lengths.is_floating_point()):
        raise CourseError(f"lengths must be an int64 tensor with each review's number of tokens, "
                          f"[{len(padded)}]; got {_describe(lengths)}")
    lengths = lengths.to(padded.device)
    if (lengths < 0).any() or (lengths > padded.shape[1]).any():
        raise CourseError(f"lengths must lie in 0..{padded.shape[1]} (the padded length); got {lengths.tolist()[:8]}")
    after_review = torch.arange(padded.shape[1], device=padded.device) >= lengths[:, None]
    if (padded[after_review] != PAD_ID).any():
        raise CourseError(f"padded holds ids other than <pad> ({PAD_ID}) after a review's length: pad after "
                          "the tokens (padding='post'), and give each review's own length")
    _check_ids(padded, rows, "vocab_size")
    return lengths.clamp(min=1)


def _check_ids(ids, rows, rows_name):
    if ids.numel() and (ids.min() < 0 or ids.max() >= rows):
        raise CourseError(f"ids must lie in 0..{rows - 1} ({rows_name} = {rows}); got ids from {int(ids.min())} "
                          f"to {int(ids.max())}: build the model with the vocabulary's size")


def _describe(value):
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"{type(value).__name__} {value!r}"[:80]
