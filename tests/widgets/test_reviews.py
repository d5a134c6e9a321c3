import numpy as np
import pytest
import torch

from course_lib import widgets
from course_lib.widgets.reviews import OWN_REVIEW, ReviewExplorer, review_explorer
from tests.calls import counted


def word_counter(texts):
    """Positive in proportion to "good" against "bad": a stand-in for a trained model."""
    scores = [text.lower().count("good") - text.lower().count("bad") for text in texts]
    return torch.sigmoid(torch.tensor(scores, dtype=torch.float32))


def broken(texts):
    raise RuntimeError("vocabulary not built")


@pytest.fixture
def models():
    return {"counter": counted(word_counter), "always 0.25": counted(lambda texts: np.full(len(texts), 0.25))}


def rows(panel):
    return panel.table.value.split("<tr>")[2:]  # after the header


def test_review_explorer_is_exported():
    assert {"ReviewExplorer", "review_explorer"} <= set(widgets.__all__)


def test_an_empty_box_asks_for_a_review_and_runs_no_model(models):
    panel = review_explorer(models)

    assert "Type a review" in panel.table.value
    assert panel.results == {}
    assert [model.calls for model in models.values()] == [0, 0]
    assert panel.text.continuous_update is False  # the text arrives when the box loses focus, not per keystroke


def test_every_model_answers_with_its_probability_and_label(models):
    panel = ReviewExplorer(models, text="good good, not bad")

    assert panel.results == {"counter": pytest.approx(float(torch.sigmoid(torch.tensor(1.0)))),
                             "always 0.25": 0.25}
    counter, constant = rows(panel)
    assert "<b>counter</b>" in counter and "0.731" in counter and "positive" in counter
    assert "0.250" in constant and "negative" in constant and "width:40px" in constant  # a quarter of 160 px


def test_each_new_text_runs_each_model_once_and_an_old_one_not_again(models):
    panel = ReviewExplorer(models)

    panel.text.value = "a good film"
    panel.predict.click()  # the same text: nothing to run
    panel.text.value = "a bad film"
    panel.text.value = "a bad film"  # no change, no event
    panel.predict.click()

    assert [model.calls for model in models.values()] == [2, 2]
    assert panel.results["counter"] < 0.5


def test_a_model_that_fails_shows_its_error_and_the_others_still_answer(models):
    logits = counted(lambda texts: torch.tensor([2.5] * len(texts)))
    panel = ReviewExplorer({"broken": broken, "logits": logits, **models}, text="good")

    assert isinstance(panel.results["broken"], RuntimeError)
    assert isinstance(panel.results["logits"], ValueError)
    broken_row, logits_row, counter_row, _ = rows(panel)
    assert "RuntimeError: vocabulary not built" in broken_row and "crimson" in broken_row
    assert "not the logits" in logits_row
    assert "positive" in counter_row and panel.results["counter"] > 0.5


def test_an_error_message_is_shown_as_text_not_markup():
    panel = ReviewExplorer({"<script>": lambda texts: 1 / 0}, text="good")

    assert "&lt;script&gt;" in panel.table.value and "<script>" not in panel.table.value
    assert "ZeroDivisionError" in panel.table.value


def test_choosing_an_example_puts_it_in_the_box_and_predicts_once(models):
    panel = ReviewExplorer(models, examples={"praise": "Good, good, good.", "scorn": "Bad.<br />Bad."})

    assert [label for label, _ in panel.example.options] == [OWN_REVIEW, "praise", "scorn"]
    panel.example.value = 1

    assert panel.text.value == "Bad.<br />Bad."
    assert panel.results["counter"] < 0.5
    assert [model.calls for model in models.values()] == [1, 1]
    panel.example.value = None  # back to typing: the text stays
    assert panel.text.value == "Bad.<br />Bad." and models["counter"].calls == 1


def test_examples_as_a_list_are_labelled_by_their_beginning(models):
    panel = ReviewExplorer(models, examples=["A<br />long " + "word " * 30, "short"])

    labels = [label for label, _ in panel.example.options]
    assert labels[0] == OWN_REVIEW and labels[2] == "short"
    assert labels[1].startswith("A long word") and len(labels[1]) <= 60 and "<br" not in labels[1]
    assert panel.example in panel.widget.children
    without_examples = ReviewExplorer(models)
    assert without_examples.example not in without_examples.widget.children


@pytest.mark.parametrize(("models", "message"), [
    ({}, "at least one model"),
    (None, "at least one model"),
    ({"NBSVM": "model.pt"}, "'NBSVM' is a str"),
])
def test_models_that_cannot_predict_are_refused(models, message):
    with pytest.raises(ValueError, match=message):
        ReviewExplorer(models)


def test_review_explorer_displays_as_its_widget(models):
    panel = ReviewExplorer(models)

    bundle = panel._repr_mimebundle_()

    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
