from collections import Counter

import pytest

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.vocabulary import MISTAKES, SCENARIOS, check_vocabulary_tokens
from course_lib.data import vocab
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NAME = "vocabulary_tokens"


# ------------------------------------------------ right answers, as students write them

def with_a_counter(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
    specials = specials or []
    counts = Counter()
    for tokens in iterator:
        counts.update(tokens)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if max_tokens is not None:
        ordered = ordered[:max_tokens - len(specials)]
    tokens = [token for token, count in ordered if count >= min_freq and token not in specials]
    return specials + tokens if special_first else tokens + specials


def by_two_sorts(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
    counts = {}
    for tokens in iterator:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    ordered = sorted(sorted(counts), key=lambda token: counts[token], reverse=True)
    specials = list(specials) if specials else []
    if max_tokens:
        ordered = ordered[:max_tokens - len(specials)]
    kept = []
    for token in ordered:
        if token not in specials and counts[token] >= min_freq:
            kept.append(token)
    if special_first:
        return specials + kept
    return kept + specials


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [with_a_counter, by_two_sorts])
def test_right_answers_pass(answer, seed, capsys):
    check_vocabulary_tokens(named(NAME, answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named(NAME, with_a_counter))
    check_vocabulary_tokens(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_reviews():
    seen = {}

    def recording(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
        token_lists = list(iterator)
        seen.setdefault(seed, []).append(token_lists)
        return with_a_counter(token_lists, min_freq, specials, special_first, max_tokens)

    for seed in (0, 1):
        check_vocabulary_tokens(named(NAME, recording), seed=seed)
    assert seen[0][:-2] == seen[1][:-2]
    assert seen[0][-1] != seen[1][-1] and seen[0][-2] != seen[1][-2]


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_vocabulary_tokens(named(NAME, with_a_counter)))


@pytest.mark.parametrize("delegating, called", [
    (lambda iterator, *options: vocab.vocabulary_tokens(iterator, *options), "course_lib.data.vocabulary_tokens"),
    (lambda iterator, *options: vocab.build_vocab_from_iterator(iterator, *options).get_itos(),
     "course_lib.data.build_vocab_from_iterator"),
])
def test_the_courses_vocabulary_is_not_an_answer(delegating, called):
    with pytest.raises(DelegationFailure, match=f"called {called}"):
        check_vocabulary_tokens(named(NAME, delegating))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_vocabulary_tokens, named(NAME, blank))


def test_changing_the_specials_in_place_is_told():
    def appends(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
        tokens = with_a_counter(iterator, min_freq, None, special_first, max_tokens)
        if specials is None:
            return tokens
        specials.extend(tokens)
        return specials

    assert "changed the list specials (it now holds 6 items, it held 2)" in failure_message(check_vocabulary_tokens,
                                                                                          named(NAME, appends))


# ------------------------------------------------------------------------------- mistakes
# Each is with_a_counter with one thing written wrong.

def vocabulary(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None, *, order=None,
               count_once=False, strictly=False, cut=None, take_out_first=False, cut_at_the_end=False,
               keep_specials=False, where=None):
    specials = specials or []
    counts = Counter()
    for tokens in iterator:
        counts.update(set(tokens) if count_once else tokens)
    ordered = (order or (lambda counts: sorted(counts.items(), key=lambda item: (-item[1], item[0]))))(counts)
    if take_out_first:
        ordered = [(token, count) for token, count in ordered if token not in specials]
    if max_tokens is not None and not cut_at_the_end:
        ordered = ordered[:(cut or (lambda max_tokens, specials: max_tokens - len(specials)))(max_tokens, specials)]
    tokens = [token for token, count in ordered
              if (count > min_freq if strictly else count >= min_freq) and (keep_specials or token not in specials)]
    result = (where or (lambda specials, tokens, first: specials + tokens if first else tokens + specials))(
        specials, tokens, special_first)
    return result[:max_tokens] if cut_at_the_end and max_tokens is not None else result


def variant(**changes):
    def wrong(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
        return vocabulary(iterator, min_freq, specials, special_first, max_tokens, **changes)
    return wrong


MISTAKE_CASES = [
    (variant(order=lambda counts: counts.most_common()), "with ties:", "in the order they were first seen"),
    (variant(order=lambda counts: sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)),
     "with a few token lists", "in reverse alphabetical order"),
    (variant(order=lambda counts: sorted(counts.items(), key=lambda item: (item[1], item[0]))),
     "with a few token lists", "the least frequent tokens come first"),
    (variant(count_once=True), "with a few token lists", "counted once for it"),
    (variant(strictly=True), "with a few token lists", "keep a token when count >= min_freq"),
    (variant(cut=lambda max_tokens, specials: max_tokens), "with max_tokens, which counts the specials",
     "but it counts the specials too"),
    (variant(take_out_first=True), "with max_tokens and a special that also occurs",
     "torchtext cuts the sorted tokens first"),
    (variant(take_out_first=True, cut_at_the_end=True), "with max_tokens and a special that also occurs",
     "loses the specials when they come last"),
    (variant(keep_specials=True), "with a special that also occurs in the reviews", "is in the list twice"),
    (variant(where=lambda specials, tokens, first: specials + tokens), "with special_first=False",
     "special_first is ignored"),
    (variant(where=lambda specials, tokens, first: tokens + specials), "with the course's specials",
     "the specials come last"),
]


@pytest.mark.parametrize("function, where, phrase", MISTAKE_CASES)
def test_mistakes_are_named_at_the_first_scenario_they_get_wrong(function, where, phrase):
    message = failure_message(check_vocabulary_tokens, named(NAME, function))
    assert where in message.split(" returned ")[0]
    assert phrase in message
    assert "Hint: count every token" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, _, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_vocabulary_tokens, named(NAME, function), seed=seed)


def test_every_mistake_has_a_case():
    assert len(MISTAKES) == len(MISTAKE_CASES)
    for mistake in MISTAKES:
        assert sum(phrase in mistake.explanation for _, _, phrase in MISTAKE_CASES) == 1


def test_the_message_shows_the_call_its_token_lists_and_both_orders():
    message = failure_message(check_vocabulary_tokens, named(NAME, variant(where=lambda specials, tokens, first:
                                                                                tokens + specials)))
    assert message.startswith(
        "vocabulary_tokens(token_lists, specials=['<pad>', '<unk>']) with the course's specials, token_lists = "
        "[['good', 'film'], ['bad', 'film'], ['good', 'good', 'plot']] returned ['good', 'film', 'bad', 'plot', "
        "'<pad>', '<unk>'], expected ['<pad>', '<unk>', 'good', 'film', 'bad', 'plot']: ")


def test_reading_the_iterator_twice_is_told_where_a_generator_is_given():
    def reads_twice(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
        reviews = sum(1 for _ in iterator)  # a first pass, e.g. to count the reviews, empties a generator
        return with_a_counter(iterator, min_freq, specials, special_first, max_tokens)

    message = failure_message(check_vocabulary_tokens, named(NAME, reads_twice))
    assert message.startswith("vocabulary_tokens(token_lists, min_freq=2, specials=['<pad>', '<unk>'], max_tokens=12) "
                              "with a generator of 30 reviews drawn at random, which can be read only once returned "
                              "['<pad>', '<unk>'], expected ['<pad>', '<unk>', ")
    for wrong in MISTAKES:
        assert wrong.explanation not in message


def test_positional_options_are_shown_and_checked():
    def keywords_only(iterator, *, min_freq=1, specials=None, special_first=True, max_tokens=None):
        return with_a_counter(iterator, min_freq, specials, special_first, max_tokens)

    message = failure_message(check_vocabulary_tokens, named(NAME, keywords_only))
    assert ("vocabulary_tokens(token_lists, 3, ['<unk>'], True, 8) with every argument by position raised TypeError"
            in message)
    assert ("the signature is vocabulary_tokens(iterator, min_freq=1, specials=None, special_first=True, "
            "max_tokens=None)" in message)


@pytest.mark.parametrize("result, phrase", [
    (None, "returned None, but a list of str (the tokens in id order) is expected: did the function end without"),
    ({"good": 0}, "returned a dict, but a list of str (the tokens in id order) is expected: the exercise asks for the "
                  "tokens in id order, not a mapping to their ids."),
    ([("good", 3)], "returned a list holding ('good', 3) at position 0, but a list of str is expected: "
                    "Counter.most_common()"),
])
def test_a_result_of_the_wrong_kind_is_told(result, phrase):
    assert phrase in failure_message(check_vocabulary_tokens, named(NAME, lambda iterator, *options, **more: result))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered():
        check_vocabulary_tokens(named(NAME, by_two_sorts))
        assert "special_first is ignored" in failure_message(
            check_vocabulary_tokens, named(NAME, variant(where=lambda specials, tokens, first: specials + tokens)))
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------- the notebook's wrong answer

@pytest.mark.parametrize("seed", [0, 1, 2])  # the visible tests' seed and the hidden ones'
def test_the_notebooks_wrong_answer_fails_with_its_mistake(seed):
    message = failure_message(check_vocabulary_tokens, defined_by("07_imdb", NAME, {}), seed=seed)
    assert "the specials were taken out before the list was cut" in message
