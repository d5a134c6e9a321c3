import ipywidgets
import numpy as np
import pytest

from course_lib import widgets
from course_lib.data import iterations_per_epoch
from course_lib.scratch.regression import logistic_regression_gradients
from course_lib.widgets import epochs as epochs_panel
from course_lib.widgets._figure import render_png
from tests.calls import counted


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.random((600, 20))
    y = (X[:, 0] + 0.3 * rng.standard_normal(600) > 0.5).astype(np.float64)
    return X, y


@pytest.fixture
def explorer(data):
    return widgets.epoch_explorer(*data, n_samples=500, batch_size=64, epochs=3)


def test_the_first_view_shows_the_arithmetic_and_a_curve(explorer):
    assert "⌈500/64⌉ = <b>8</b>" in explorer.summary.value
    assert "one last batch of 52" in explorer.summary.value
    assert "3 × 8 = <b>24</b>" in explorer.summary.value
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert explorer.result.steps == 24
    assert len(explorer.result.epoch_losses) == 3


def test_changing_the_batch_size_updates_text_training_and_figure(explorer):
    summary, image = explorer.summary.value, explorer.image.value

    explorer.batch_size.value = 128

    assert explorer.summary.value != summary
    assert "⌈500/128⌉ = <b>4</b>" in explorer.summary.value
    assert explorer.image.value != image
    assert explorer.result.steps == 3 * 4
    # the previous setting stays on the figure in grey
    ax = explorer.figure.axes[0]
    assert any(line.get_label().startswith("before: N=500, B=64") for line in ax.get_lines())


@pytest.mark.parametrize(("control", "value", "steps"), [
    ("n_samples", 300, 3 * iterations_per_epoch(300, 64)),
    ("epochs", 5, 5 * 8),
    ("drop_last", True, 3 * 7),
])
def test_every_control_changes_the_run(explorer, control, value, steps):
    image = explorer.image.value

    getattr(explorer, control).value = value

    assert explorer.result.steps == steps
    assert explorer.image.value != image


def test_drop_last_explains_the_dropped_samples(explorer):
    explorer.drop_last.value = True

    assert "⌊500/64⌋ = <b>7</b>" in explorer.summary.value
    assert "last 52 samples" in explorer.summary.value
    assert "dropped" in explorer.summary.value
    assert "448 of 500" in explorer.summary.value


def test_a_batch_larger_than_the_dataset_with_drop_last_trains_nothing(explorer):
    explorer.drop_last.value = True
    explorer.batch_size.value = 1000

    assert explorer.result is None
    assert "never updated" in explorer.summary.value
    texts = [text.get_text() for text in explorer.figure.axes[0].texts]
    assert any("nothing to train on" in text for text in texts)


def test_batch_size_dividing_n_says_drop_last_changes_nothing(data):
    explorer = widgets.epoch_explorer(*data, n_samples=500, batch_size=100, epochs=2)

    assert "B divides N" in explorer.summary.value


def test_the_same_setting_gives_the_same_curve(data):
    first = widgets.epoch_explorer(*data, n_samples=400, batch_size=32, epochs=2)
    second = widgets.epoch_explorer(*data, n_samples=400, batch_size=32, epochs=2)

    np.testing.assert_array_equal(first.result.iteration_losses, second.result.iteration_losses)


def test_displays_as_its_widget(explorer):
    assert isinstance(explorer.widget, ipywidgets.VBox)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id


def test_a_change_trains_once_and_draws_once(monkeypatch):
    # how fast the worst case is (16,000 steps) is measured in benchmarks/widgets.py; here,
    # that a change costs one run and one picture, whatever else the panel does
    rng = np.random.default_rng(1)
    X, y = rng.random((2000, 784)).astype(np.float32), rng.integers(0, 2, 2000).astype(np.float32)
    gradient_steps, pictures = counted(logistic_regression_gradients), counted(render_png)
    explorer = widgets.epoch_explorer(X, y, n_samples=2000, epochs=8, gradients=gradient_steps)
    monkeypatch.setattr(epochs_panel, "render_png", pictures)
    gradient_steps.calls = 0

    explorer.batch_size.value = 1  # 16,000 steps: the worst case the controls allow

    assert (gradient_steps.calls, pictures.calls) == (16_000, 1)
