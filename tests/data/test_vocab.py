"""torchtext has no release for this torch, so the expected vocabularies are written out from
its source (torchtext/vocab/vocab_factory.py), each test pinning one of its decisions."""
import numpy as np
import pytest
import torch

from course_lib.data.text import tokenize
from course_lib.data.vocab import Vocab, build_vocab_from_iterator, vocabulary_tokens

SPECIALS = ["<pad>", "<unk>"]
REVIEWS = [["good", "film", "good"], ["bad", "film"], ["good", "acting", "!"], ["zany", "film", "!"]]
# counts: film 3, good 3, ! 2, acting 1, bad 1, zany 1


def test_tokens_are_ordered_by_count_then_alphabetically():
    assert vocabulary_tokens(REVIEWS) == ["film", "good", "!", "acting", "bad", "zany"]


def test_alphabetical_means_by_code_point_as_python_compares_strings():
    assert vocabulary_tokens([["b", "a", "B", "é", "1", "<x>"]]) == ["1", "<x>", "B", "a", "b", "é"]


def test_first_seen_order_does_not_matter():
    assert vocabulary_tokens([list(reversed(tokens)) for tokens in reversed(REVIEWS)]) == vocabulary_tokens(REVIEWS)


def test_specials_come_first_in_the_order_given_or_last():
    assert vocabulary_tokens(REVIEWS, specials=SPECIALS)[:3] == ["<pad>", "<unk>", "film"]
    assert vocabulary_tokens(REVIEWS, specials=["<unk>", "<pad>"])[:2] == ["<unk>", "<pad>"]
    assert vocabulary_tokens(REVIEWS, specials=SPECIALS, special_first=False)[-3:] == ["zany", "<pad>", "<unk>"]


def test_min_freq_keeps_the_tokens_counted_at_least_that_often():
    assert vocabulary_tokens(REVIEWS, min_freq=2) == ["film", "good", "!"]
    assert vocabulary_tokens(REVIEWS, min_freq=3) == ["film", "good"]
    assert vocabulary_tokens(REVIEWS, min_freq=4, specials=SPECIALS) == SPECIALS  # specials stay, however rare


def test_max_tokens_counts_the_specials():
    assert vocabulary_tokens(REVIEWS, specials=SPECIALS, max_tokens=4) == ["<pad>", "<unk>", "film", "good"]
    assert vocabulary_tokens(REVIEWS, max_tokens=4) == ["film", "good", "!", "acting"]


def test_max_tokens_is_applied_before_min_freq_which_changes_nothing_for_a_sorted_list():
    assert vocabulary_tokens(REVIEWS, min_freq=2, max_tokens=10) == ["film", "good", "!"]


def test_a_special_in_the_text_uses_up_a_place_before_it_is_taken_out():
    # torchtext cuts the sorted list to max_tokens - len(specials) before taking the specials out
    reviews = REVIEWS + [["<unk>"] * 5]
    assert vocabulary_tokens(reviews, specials=SPECIALS) == SPECIALS + ["film", "good", "!", "acting", "bad", "zany"]
    assert vocabulary_tokens(reviews, specials=SPECIALS, max_tokens=5) == ["<pad>", "<unk>", "film", "good"]


def test_max_tokens_must_leave_room_beside_the_specials():
    with pytest.raises(ValueError, match=r"max_tokens=2 leaves no room .* give max_tokens > 2"):
        vocabulary_tokens(REVIEWS, specials=SPECIALS, max_tokens=2)


def test_a_special_given_twice_is_refused():
    with pytest.raises(ValueError, match="specials names '<unk>' more than once"):
        vocabulary_tokens(REVIEWS, specials=["<unk>", "<pad>", "<unk>"])


def test_an_iterator_is_read_once_and_a_generator_works():
    assert vocabulary_tokens(tokens for tokens in REVIEWS) == vocabulary_tokens(REVIEWS)


def test_no_tokens_give_a_vocabulary_of_the_specials_alone():
    assert vocabulary_tokens([], specials=SPECIALS) == SPECIALS
    assert vocabulary_tokens([[], []]) == []


def test_a_str_item_is_counted_by_its_characters_as_counter_update_does():
    assert vocabulary_tokens(["abb", "b"]) == ["b", "a"]


def test_build_vocab_from_iterator_maps_tokens_to_their_positions():
    vocab = build_vocab_from_iterator(REVIEWS, specials=SPECIALS)
    assert vocab.get_itos() == vocabulary_tokens(REVIEWS, specials=SPECIALS)
    assert len(vocab) == 8
    assert (vocab["<pad>"], vocab["<unk>"], vocab["film"], vocab["zany"]) == (0, 1, 2, 7)
    assert vocab.get_stoi() == {token: index for index, token in enumerate(vocab.get_itos())}
    assert "film" in vocab and "great" not in vocab


def test_an_unknown_token_is_an_error_until_a_default_index_is_set():
    vocab = build_vocab_from_iterator(REVIEWS, specials=SPECIALS)
    assert vocab.get_default_index() is None
    with pytest.raises(RuntimeError, match=r"Token great not found and default index is not set.*set_default_index"):
        vocab["great"]
    vocab.set_default_index(vocab["<unk>"])
    assert vocab.get_default_index() == 1
    assert vocab["great"] == 1
    assert vocab.lookup_indices(["good", "great", "film"]) == [3, 1, 2]
    vocab.set_default_index(None)
    with pytest.raises(RuntimeError, match="not found"):
        vocab.lookup_indices(["great"])


def test_a_review_of_unknown_words_only_maps_to_unk_throughout():
    vocab = build_vocab_from_iterator(REVIEWS, specials=SPECIALS)
    vocab.set_default_index(vocab["<unk>"])
    assert vocab(tokenize("Très très étrange, n'est-ce pas")) == [1] * 6
    assert vocab([]) == []


def test_the_default_index_may_be_a_numpy_or_torch_integer():
    vocab = Vocab(["a", "b"])
    vocab.set_default_index(np.int64(1))
    assert vocab["zzz"] == 1 and type(vocab.get_default_index()) is int
    vocab.set_default_index(torch.tensor(0))
    assert vocab["zzz"] == 0
    with pytest.raises(TypeError, match="an int .* or None, got str"):
        vocab.set_default_index("<unk>")


def test_lookup_tokens_inverts_lookup_indices():
    vocab = build_vocab_from_iterator(REVIEWS, specials=SPECIALS)
    assert vocab.lookup_tokens(vocab.lookup_indices(["zany", "!", "<pad>"])) == ["zany", "!", "<pad>"]
    assert vocab.lookup_token(2) == "film"


@pytest.mark.parametrize("index", [-1, 8, 100])
def test_lookup_token_refuses_an_index_outside_the_vocabulary(index):
    vocab = build_vocab_from_iterator(REVIEWS, specials=SPECIALS)
    with pytest.raises(RuntimeError, match=f"Specified index {index} is out of bounds for vocab of size 8"):
        vocab.lookup_token(index)
    with pytest.raises(RuntimeError, match="out of bounds"):
        vocab.lookup_tokens([0, index])


def test_the_lists_handed_out_are_copies():
    vocab = Vocab(["a", "b"])
    vocab.get_itos().append("c")
    vocab.get_stoi()["c"] = 2
    assert len(vocab) == 2 and "c" not in vocab


def test_a_vocab_refuses_a_token_twice():
    with pytest.raises(ValueError, match="'a' is in the vocabulary twice, at 0 and 2"):
        Vocab(["a", "b", "a"])
