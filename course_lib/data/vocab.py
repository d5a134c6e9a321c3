"""A vocabulary — tokens to integer ids and back — mirroring torchtext's (assignment 07,
Exercise 2 is `vocabulary_tokens`).

torchtext (0.15–0.18, its last releases) builds one with

    vocab = build_vocab_from_iterator(token_lists, specials=["<pad>", "<unk>"])
    vocab.set_default_index(vocab["<unk>"])

and so does this module, with the same arguments, order and errors, in plain Python
(torchtext is no longer maintained, and the course writes the pipeline itself):

1. every token of every token list is counted (`collections.Counter.update`);
2. the tokens are ordered by count, most frequent first, ties in alphabetical order — by
   code point, as Python compares strings: sorted by the key (-count, token);
3. with `max_tokens`, that list is cut to its first `max_tokens - len(specials)` tokens;
4. the specials are taken out of it (wherever they were), and the tokens counted fewer than
   `min_freq` times are dropped;
5. the specials are put first, in the order given (or last, with special_first=False).

Quirks of torchtext's, mirrored:

- step 3 comes before step 4, so a special that also occurs in the text (a review quoting
  "<unk>") uses up one of the `max_tokens - len(specials)` places before it is taken out:
  that vocabulary ends up one token short of `max_tokens`;
- a special is in the vocabulary however rarely it occurs, min_freq or not;
- each item of the iterator is counted with `Counter.update`, so a str item counts its
  characters (a character vocabulary: `build_vocab_from_iterator(["abc", "abd"])`) — pass
  token lists, `tokenize(text)`, for a word vocabulary;
- without a default index, looking up a token that is not in the vocabulary raises
  RuntimeError, as torchtext's does; `set_default_index(vocab["<unk>"])` maps every unknown
  token to <unk> instead.

Where this module differs: torchtext asserts that `len(specials) < max_tokens`
(AssertionError); here that is a ValueError, like a duplicate special (torchtext:
RuntimeError "Duplicate token found in tokens list"). Vocab is a plain class, not an
nn.Module; `vocab(tokens)` is `lookup_indices(tokens)` as torchtext's forward is.
"""
import operator
from collections import Counter

__all__ = ["Vocab", "build_vocab_from_iterator", "vocabulary_tokens"]


class Vocab:
    """Tokens to ids and back: `itos` is the list of tokens, a token's id its position.
    Mirrors torchtext.vocab.Vocab's lookups (see the module docstring)."""

    def __init__(self, itos, default_index=None):
        itos = list(itos)
        stoi = {}
        for index, token in enumerate(itos):
            if token in stoi:
                raise ValueError(f"the token {token!r} is in the vocabulary twice, at {stoi[token]} and {index}: "
                                 f"each token needs exactly one id")
            stoi[token] = index
        self._itos, self._stoi = itos, stoi
        self.set_default_index(default_index)

    def __len__(self):
        return len(self._itos)

    def __contains__(self, token):
        return token in self._stoi

    def __getitem__(self, token):
        """The id of `token`; the default index for an unknown token when one is set."""
        index = self._stoi.get(token, self._default_index)
        if index is None:
            raise RuntimeError(f"Token {token} not found and default index is not set: an unknown token needs "
                               f"a default, e.g. vocab.set_default_index(vocab['<unk>'])")
        return index

    def __call__(self, tokens):
        return self.lookup_indices(tokens)

    def __repr__(self):
        return f"Vocab({len(self)} tokens, default_index={self._default_index})"

    def lookup_indices(self, tokens):
        """The ids of `tokens`, a list of int."""
        stoi, default = self._stoi, self._default_index
        if default is None:
            return [self[token] for token in tokens]
        return [stoi.get(token, default) for token in tokens]  # the fast path, for 50 000 reviews

    def lookup_token(self, index):
        """The token with id `index` (0 <= index < len(vocab); no negative indexing, as in torchtext)."""
        if not 0 <= index < len(self._itos):
            raise RuntimeError(f"Specified index {index} is out of bounds for vocab of size {len(self._itos)}")
        return self._itos[index]

    def lookup_tokens(self, indices):
        """The tokens with ids `indices`, a list of str."""
        return [self.lookup_token(index) for index in indices]

    def get_itos(self):
        """The tokens in id order (a new list)."""
        return list(self._itos)

    def get_stoi(self):
        """{token: id} (a new dict)."""
        return dict(self._stoi)

    def set_default_index(self, index):
        """The id an unknown token gets; None makes an unknown token an error again."""
        if index is not None:
            try:
                index = operator.index(index)  # numpy's and torch's integers too
            except TypeError:
                raise TypeError(f"the default index is an int (an id) or None, got {type(index).__name__}") from None
        self._default_index = index

    def get_default_index(self):
        return self._default_index


def vocabulary_tokens(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
    """The vocabulary's tokens in id order — what
    `build_vocab_from_iterator(...).get_itos()` is — from an iterable of token lists (see the
    module docstring for the order and the quirks mirrored)."""
    specials = list(specials or [])
    repeated = sorted({special for special in specials if specials.count(special) > 1})
    if repeated:
        raise ValueError(f"specials names {', '.join(map(repr, repeated))} more than once: each special is "
                         f"one token of the vocabulary")
    counts = Counter()
    for tokens in iterator:
        counts.update(tokens)
    by_count = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if max_tokens is not None:
        if max_tokens <= len(specials):
            raise ValueError(f"max_tokens={max_tokens} leaves no room for tokens beside the {len(specials)} "
                             f"specials (torchtext: len(specials) >= max_tokens, so the vocab will be entirely "
                             f"special tokens): give max_tokens > {len(specials)}")
        by_count = by_count[:max_tokens - len(specials)]
    taken_out = set(specials)
    tokens = [token for token, count in by_count if count >= min_freq and token not in taken_out]
    return specials + tokens if special_first else tokens + specials


def build_vocab_from_iterator(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
    """A `Vocab` from an iterable of token lists, as torchtext.vocab.build_vocab_from_iterator
    builds it (see the module docstring); no default index is set."""
    return Vocab(vocabulary_tokens(iterator, min_freq=min_freq, specials=specials, special_first=special_first,
                                   max_tokens=max_tokens))
