"""Assignment 07: a review typed by the student as the control, every model's probability
that it is positive as the result."""
import html

import ipywidgets as widgets

from ..plots.text import positive_probabilities, sentiment, shorten_review

OWN_REVIEW = "(type your own)"
HINT = ("The models answer when the box loses focus (click outside it) or on <b>predict</b>, "
        "not at every keystroke.")
BAR_PIXELS = 160  # the width of a probability-1 bar


def _bar(probability):
    width = round(BAR_PIXELS * probability)
    color = "#2ca02c" if probability > 0.5 else "#d62728"  # matplotlib's tab:green and tab:red, as the plots
    return (f"<div style='width:{BAR_PIXELS}px;height:12px;background:#eee'>"
            f"<div style='width:{width}px;height:12px;background:{color}'></div></div>")


def _row(name, result):
    name = f"<td style='padding:2px 10px 2px 0'><b>{html.escape(str(name))}</b></td>"
    if isinstance(result, Exception):
        error = html.escape(f"{type(result).__name__}: {result}")
        return f"<tr>{name}<td colspan='3' style='color:crimson'>failed — {error}</td></tr>"
    return (f"<tr>{name}<td>{_bar(result)}</td><td style='padding:0 10px;text-align:right'>{result:.3f}</td>"
            f"<td>{sentiment(result)}</td></tr>")


class ReviewExplorer:
    """A text box for a review and, below it, every model's probability that the review is
    positive — as a bar, a number and the label it predicts. `models` maps a name to a
    `predict(texts)` returning one probability positive per text; a model that raises (or
    returns something else) shows its error in its row while the others still answer.

    Each model runs once per new text: the box sends its text when it loses focus or on
    "predict" (`continuous_update=False`), not at every keystroke, and a text already
    answered is not run again. `examples` (a list of reviews, or {label: review}) fills a
    dropdown that puts an example in the box.
    """

    def __init__(self, models, examples=None, *, text=""):
        if not models:
            raise ValueError("ReviewExplorer needs at least one model: {name: predict}, where predict(texts) "
                             "returns each text's probability of being positive")
        not_callable = [name for name, predict in models.items() if not callable(predict)]
        if not_callable:
            raise ValueError(f"every model must be a function predict(texts) -> probabilities; "
                             f"{not_callable[0]!r} is a {type(models[not_callable[0]]).__name__}")
        self.models = dict(models)
        if isinstance(examples, dict):
            self.examples = list(examples.values())
            labels = [str(label) for label in examples]
        else:
            self.examples = list(examples or ())
            labels = [shorten_review(example, 60) for example in self.examples]
        self.example = widgets.Dropdown(options=[(OWN_REVIEW, None)] + [(label, index) for index, label in
                                                                         enumerate(labels)],
                                        description="example", layout=widgets.Layout(width="600px"))
        self.text = widgets.Textarea(value=text, placeholder="Type a review …", continuous_update=False,
                                     layout=widgets.Layout(width="600px", height="120px"))
        self.predict = widgets.Button(description="predict", icon="play")
        self.table = widgets.HTML()
        controls = [self.example] if self.examples else []
        self.widget = widgets.VBox(controls + [self.text, widgets.HBox([self.predict, widgets.HTML(HINT)]),
                                               self.table])
        self.results = {}  # {name: probability positive, or the exception its predict raised}
        self._answered = None  # the text the results are for
        self.text.observe(self._on_change, names="value")
        self.example.observe(self._on_example, names="value")
        self.predict.on_click(self._on_predict)
        self.update()

    def _on_change(self, change):
        self.update()

    def _on_predict(self, button):
        self.update()

    def _on_example(self, change):
        if change["new"] is not None:
            self.text.value = self.examples[change["new"]]

    def update(self):
        """Run every model on the box's text, unless it was answered already, and show the results."""
        text = self.text.value
        if text == self._answered:
            return
        self._answered = text
        if not text.strip():
            self.results = {}
            self.table.value = "<i>Type a review above to see what each model makes of it.</i>"
            return
        self.results = {name: self._predict(predict, text) for name, predict in self.models.items()}
        rows = "".join(_row(name, result) for name, result in self.results.items())
        self.table.value = (f"<table style='font-family:sans-serif'><tr><th style='text-align:left'>model</th>"
                            f"<th colspan='2'>probability positive</th><th>predicted</th></tr>{rows}</table>")

    @staticmethod
    def _predict(predict, text):
        try:
            return float(positive_probabilities(predict, [text])[0])
        except Exception as error:  # a broken model is shown in its row; the others still answer
            return error

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def review_explorer(models, examples=None, **options):
    """A `ReviewExplorer` of `models` (see there for `examples` and `options`); display it as a cell's value."""
    return ReviewExplorer(models, examples, **options)
