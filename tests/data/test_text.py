import os

import pytest

from course_lib.data import load_imdb, text
from course_lib.data.text import ngrams, normalize, tokenize

REAL_DATA_DIR = os.environ.get("COURSE_DATA_DIR")
# ASCII texts take tokenize's faster path; the others show that both paths agree at the border
TEXTS_FOR_BOTH_PATHS = [
    "", "Great movie!!! Loved it?!", "I didn't like it.<br /><br />NOT AT ALL<BR>really<br/>",
    "'quoted' rock''n''roll a'b'c don't' ''x", "snake_case and under_score_ 42nd 3.14",
    "Amélie — Fräulein’s “café” naïve", "Kelvin \u212a and İstanbul", "tab\tnew\nline  spaces",
    "<i>tags</i> & entities &amp; <spoiler>", "e-mail: x@y.com ... ok", "ÀÉÎ ß ﬁ ½ ² ٣",
]


def unicode_path_tokens(review):
    return text._TOKEN.findall(normalize(review))


@pytest.mark.parametrize("markup", ["<br />", "<br/>", "<br>", "<BR />", "<Br/>", "<br  />"])
def test_normalize_turns_every_line_break_tag_into_a_space(markup):
    assert normalize(f"Great.{markup}Really") == "great. really"


def test_normalize_straightens_typographic_apostrophes_and_lowercases_unicode():
    assert normalize("Don\u2019t \u2018Amélie\u2019 FRÄULEIN ÇA") == "don't 'amélie' fräulein ça"


def test_normalize_leaves_other_markup_alone():
    assert normalize("<i>bold</i> a<b") == "<i>bold</i> a<b"


def test_an_empty_review_has_no_tokens():
    assert tokenize("") == []
    assert tokenize("  <br /><br />  ... --- ") == []


def test_words_are_lowercased_and_punctuation_separates_them():
    assert tokenize("A truly GREAT film. Ten/ten, (really)") == ["a", "truly", "great", "film", "ten", "ten",
                                                                  "really"]


def test_line_breaks_separate_words_and_leave_no_br_token():
    assert tokenize("The end.<br /><br />The start<br/>again<BR>") == ["the", "end", "the", "start", "again"]


def test_inner_apostrophes_keep_a_word_whole_and_outer_ones_go():
    assert tokenize("I don't think it's 'great', rock 'n' roll O'Brien’s") == [
        "i", "don't", "think", "it's", "great", "rock", "n", "roll", "o'brien's"]


def test_exclamation_and_question_marks_are_tokens_of_their_own():
    assert tokenize("Awful!!! Why?!") == ["awful", "!", "!", "!", "why", "?", "!"]


def test_letters_beyond_ascii_and_digits_are_word_characters():
    assert tokenize("Amélie, Fräulein Ñu — 1950s' 2nd søster 東京") == [
        "amélie", "fräulein", "ñu", "1950s", "2nd", "søster", "東京"]


def test_underscores_and_other_symbols_separate():
    assert tokenize("snake_case 10/10 a+b #1 @you $5") == ["snake", "case", "10", "10", "a", "b", "1", "you",
                                                          "5"]


def test_a_very_long_review_keeps_every_token_in_order():
    review = "good movie! " * 20_000
    tokens = tokenize(review)
    assert len(tokens) == 60_000
    assert tokens[:3] == ["good", "movie", "!"] and tokens[-3:] == ["good", "movie", "!"]


def test_tokenize_takes_one_review_not_a_list():
    with pytest.raises(TypeError, match=r"one review as a str, got list"):
        tokenize(["a review", "another"])


def test_ngrams_are_the_contiguous_tuples_in_order():
    assert ngrams(["not", "a", "good", "film"], 2) == [("not", "a"), ("a", "good"), ("good", "film")]
    assert ngrams(["not", "a", "good"], 3) == [("not", "a", "good")]
    assert ngrams(["a", "b"], 1) == [("a",), ("b",)]


def test_too_few_tokens_give_no_ngrams():
    assert ngrams(["only"], 2) == []
    assert ngrams([], 1) == []


def test_ngrams_take_any_iterable_of_tokens():
    assert ngrams(iter(["a", "b", "c"]), 2) == [("a", "b"), ("b", "c")]


@pytest.mark.parametrize("n", [0, -1, 1.0, True, "2"])
def test_ngrams_refuse_an_n_that_is_not_a_positive_int(n):
    with pytest.raises(ValueError, match="positive int"):
        ngrams(["a", "b"], n)


@pytest.mark.parametrize("review", TEXTS_FOR_BOTH_PATHS)
def test_the_ascii_path_gives_the_unicode_patterns_tokens(review):
    assert tokenize(review) == unicode_path_tokens(review)


@pytest.mark.skipif(not REAL_DATA_DIR, reason="set COURSE_DATA_DIR to compare on the real reviews")
def test_the_ascii_path_gives_the_unicode_patterns_tokens_on_real_reviews():
    reviews, _ = load_imdb("test", root=REAL_DATA_DIR)
    sample = reviews[::50]  # 500 reviews, both labels, some of them not ASCII
    assert any(not review.isascii() for review in sample)
    assert [tokenize(review) for review in sample] == [unicode_path_tokens(review) for review in sample]
