import re
import string

import pytest

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.tokenization import MISTAKES, SCENARIOS, check_tokenize
from course_lib.data import text
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "tokenize"


# ------------------------------------------------ right answers, as students write them

def by_one_pattern(review):
    review = re.sub(r"<br\s*/?>", " ", review, flags=re.IGNORECASE)
    review = review.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*|[!?]", review)


def with_the_course_normalize(review):
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*|[!?]", text.normalize(review))


def by_hand(review):
    """A scanner written without \\w: letters and digits by str.isalnum."""
    review = re.sub(r"(?i)<br\s*/?>", " ", review).translate({0x2019: "'", 0x2018: "'"}).lower()
    tokens, current = [], ""
    for position, char in enumerate(review):
        inner_apostrophe = (char == "'" and current and position + 1 < len(review)
                            and review[position + 1].isalnum())
        if char.isalnum() or inner_apostrophe:
            current += char
            continue
        if current:
            tokens.append(current)
            current = ""
        if char in "!?":
            tokens.append(char)
    return tokens + ([current] if current else [])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_one_pattern, with_the_course_normalize, by_hand])
def test_right_answers_pass(answer, seed, capsys):
    check_tokenize(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, by_one_pattern))
    check_tokenize(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_reviews():
    seen = {}

    def recording(review):
        seen.setdefault(seed, []).append(review)
        return by_one_pattern(review)

    for seed in (0, 1):
        check_tokenize(named(NAME, recording), seed=seed)
    assert seen[0][:-2] == seen[1][:-2]  # the written-out scenarios
    assert seen[0][-1] != seen[1][-1] and seen[0][-2] != seen[1][-2]


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_tokenize(named(NAME, by_one_pattern)))


def test_the_courses_tokenize_is_not_an_answer():
    with pytest.raises(DelegationFailure, match="called course_lib.data.tokenize, the course's own solution"):
        check_tokenize(named(NAME, lambda review: text.tokenize(review)))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(review):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_tokenize, named(NAME, blank))


# ------------------------------------------------------------------------------- mistakes

def split_on_spaces(review):
    return review.lower().split()


def punctuation_deleted(review):
    return review.translate(str.maketrans("", "", string.punctuation)).lower().split()


def line_breaks_kept(review):
    review = review.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*|[!?]", review)


def apostrophes_split(review):
    return re.findall(r"[^\W_]+|[!?]", text.normalize(review))


def ascii_only(review):
    return re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*|[!?]", text.normalize(review))


def marks_dropped(review):
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.normalize(review))


def underscores_kept(review):
    return re.findall(r"\w+(?:'\w+)*|[!?]", text.normalize(review))


def case_kept(review):
    review = re.sub(r"<br\s*/?>", " ", review, flags=re.IGNORECASE).replace("\u2019", "'").replace("\u2018", "'")
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*|[!?]", review)


def typographic_apostrophes_kept(review):
    review = re.sub(r"<br\s*/?>", " ", review, flags=re.IGNORECASE).lower()
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*|[!?]", review)


MISTAKE_CASES = [
    (split_on_spaces, "with punctuation returned", "punctuation sticks to the words"),
    (punctuation_deleted, "with line-break tags returned", "string.punctuation was deleted"),
    (line_breaks_kept, "with line-break tags returned", "each leaves a token \"br\""),
    (apostrophes_split, "with apostrophes returned", "split at their apostrophes"),
    (ascii_only, "with letters beyond ASCII returned", "[a-z] is ASCII only"),
    (marks_dropped, "with exclamation and question marks returned", "the ! and ? marks are missing"),
    (underscores_kept, "with digits, underscores and other symbols returned", "\\w matches the underscore too"),
    (case_kept, "with a plain sentence returned", "the tokens keep their capitals"),
    (typographic_apostrophes_kept, "with apostrophes returned", "the typographic apostrophe ’ was not turned"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_tokenize, named(NAME, function))
    assert message.startswith(f"tokenize(text) {where}")
    assert phrase in message
    assert "Hint: normalize first" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_tokenize, named(NAME, function), seed=seed)


def test_every_mistake_has_a_case():
    explained = {mistake.explanation for mistake in MISTAKES}
    named_by_cases = {mistake.explanation for mistake in MISTAKES
                      for _, _, phrase in MISTAKE_CASES if phrase in mistake.explanation}
    assert named_by_cases == explained


def test_two_mistakes_at_once_are_told_without_a_cause():
    def two(review):
        return re.findall(r"[^\W_]+|[!?]", review.lower())  # apostrophes split and <br /> kept

    message = failure_message(check_tokenize, named(NAME, two))
    assert message.startswith("tokenize(text) with line-break tags returned ['the', 'end', 'br', 'br',")
    assert message.split("\nHint")[0].endswith("text = 'The end.<br /><br />Then the credits<br/>rolled<BR>on'.")
    for wrong in MISTAKES:
        assert wrong.explanation not in message


def test_a_difference_in_a_long_review_is_shown_with_the_text_around_it():
    def loses_one(review):
        tokens = by_one_pattern(review)
        return tokens[:100] + tokens[101:] if len(tokens) > 150 else tokens

    message = failure_message(check_tokenize, named(NAME, loses_one))
    assert message.startswith("tokenize(text) with a review of 300 words, marks and tags drawn at random returned ")
    assert "where 3" in message and "are expected; the first difference is at position 100: " in message
    assert "around it: […, " in message and "text = …" in message and "… around there." in message


def test_tuples_from_capturing_groups_are_told():
    def groups(review):
        return re.findall(r"([^\W_]+('[^\W_]+)*)|[!?]", text.normalize(review))

    message = failure_message(check_tokenize, named(NAME, groups))
    assert "returned a list of tuples (('this', '') at position 0)" in message
    assert "capturing groups" in message


@pytest.mark.parametrize("result, phrase", [
    (None, "returned None, but a list of str (the tokens) is expected: did the function end without a `return`"),
    (("a",), "returned a tuple, but a list of str (the tokens) is expected: list(...) turns it into one."),
    ([1], "returned a list holding an int at position 0, but every token is a str."),
])
def test_a_result_of_the_wrong_kind_is_told(result, phrase):
    assert phrase in failure_message(check_tokenize, named(NAME, lambda review: result))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered():
        check_tokenize(named(NAME, by_one_pattern))
        assert "split at their apostrophes" in failure_message(check_tokenize, named(NAME, apostrophes_split))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_tokenize, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "the <br /> tags were not removed, so each leaves a token \"br\"" in message
