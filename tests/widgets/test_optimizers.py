import numpy as np
import pytest

from course_lib import widgets
from course_lib.optim import SGD, Adam, RMSprop
from course_lib.optim.surfaces import ill_conditioned_quadratic, rosenbrock, trajectory
from course_lib.widgets import optimizers as optimizers_panel
from course_lib.widgets._figure import render_png
from course_lib.widgets.optimizers import OPTIMIZERS
from tests.calls import counted


@pytest.fixture
def panel():
    return widgets.optimizer_explorer(lr=0.05, steps=100)


def test_optimizer_explorer_is_exported():
    assert {"OptimizerExplorer", "optimizer_explorer"} <= set(widgets.__all__)


def test_the_first_view_runs_sgd_on_the_quadratic(panel):
    expected = trajectory(ill_conditioned_quadratic(), SGD, 100, lr=panel.lr.value)

    np.testing.assert_array_equal(panel.trajectory, expected)
    assert bytes(panel.image.value).startswith(b"\x89PNG")
    assert panel.result.startswith("after 100 steps: f = ")
    assert "distance to the minimum" in panel.summary.value
    contour_map, values = panel.figure.axes[:2]
    assert values.get_yscale() == "log"
    assert [line.get_label() for line in contour_map.get_lines()] == [
        "minimum", f"now: SGD, lr {panel.lr.value:.3g}"]


def test_the_summary_gives_the_value_and_the_distance_reached():
    panel = widgets.optimizer_explorer(lr=0.07, steps=50)
    end = panel.trajectory[-1]
    surface = ill_conditioned_quadratic()

    gap, distance = surface(end), np.linalg.norm(end)
    assert panel.result == f"after 50 steps: f = {gap:.2g}, distance to the minimum {distance:.2g}"


@pytest.mark.parametrize(("name", "expected"), [
    ("SGD + momentum", dict(momentum=0.8)),
    ("Nesterov", dict(momentum=0.8, nesterov=True)),
    ("RMSprop", dict(alpha=0.95)),
    ("Adam", dict(betas=(0.8, 0.95))),
])
def test_the_sliders_reach_the_optimizer(panel, name, expected):
    panel.beta1.value, panel.beta2.value = 0.8, 0.95

    panel.optimizer.value = name

    choice = OPTIMIZERS[name]
    path = trajectory(ill_conditioned_quadratic(), choice.optimizer, 100, lr=panel.lr.value,
                      **expected)
    np.testing.assert_array_equal(panel.trajectory, path)


def test_every_control_changes_the_run_and_the_figure(panel):
    for control, value in (("optimizer", "Adam"), ("lr", 0.3), ("beta1", 0.5), ("beta2", 0.9),
                           ("steps", 300), ("surface", "Rosenbrock")):
        image, path = panel.image.value, panel.trajectory

        getattr(panel, control).value = value

        assert panel.image.value != image, control
        assert not np.array_equal(panel.trajectory, path), control
    assert len(panel.trajectory) == 301
    np.testing.assert_array_equal(panel.trajectory[0], rosenbrock().start)
    np.testing.assert_array_equal(
        panel.trajectory, trajectory(rosenbrock(), Adam, 300, lr=panel.lr.value, betas=(0.5, 0.9)))


@pytest.mark.parametrize(("name", "beta1_used", "beta2_used"), [
    ("SGD", False, False), ("SGD + momentum", True, False), ("Nesterov", True, False),
    ("RMSprop", False, True), ("Adagrad", False, False), ("Adam", True, True),
    ("AdamW", True, True), ("Adamax", True, True),
])
def test_a_slider_is_disabled_when_the_optimizer_has_no_use_for_it(panel, name, beta1_used,
                                                                      beta2_used):
    panel.optimizer.value = name

    assert panel.beta1.disabled is not beta1_used
    assert panel.beta2.disabled is not beta2_used


def test_a_slider_the_optimizer_ignores_does_not_change_the_run(panel):
    image, path = panel.image.value, panel.trajectory

    panel.beta2.value = 0.9  # plain SGD has no beta2

    assert panel.trajectory is path and panel.image.value == image


def test_a_diverging_run_says_where_and_what_to_do(panel):
    panel.lr.value = 0.1  # above 2 / 25: the steep direction grows by 1.5 per step

    assert panel.result == "diverged at step 11: lower the learning rate"
    assert "crimson" in panel.summary.value
    labels = [line.get_label() for line in panel.figure.axes[0].get_lines()]
    assert labels[-1].endswith("(diverged at step 11)")


def test_the_previous_run_on_the_same_surface_stays_in_grey(panel):
    panel.optimizer.value = "RMSprop"

    lines = panel.figure.axes[0].get_lines()
    before = [line for line in lines if line.get_label().startswith("before: ")]
    assert len(before) == 1 and before[0].get_color() == "0.65"
    assert before[0].get_label().startswith("before: SGD, lr")
    assert lines[-1].get_label().startswith("now: RMSprop")

    panel.surface.value = "Rosenbrock"  # another surface: nothing to compare with

    assert not any(line.get_label().startswith("before")
                   for line in panel.figure.axes[0].get_lines())


def test_custom_surfaces_fill_the_dropdown():
    surfaces = {"narrow": ill_conditioned_quadratic(100.0, angle=30.0)}

    panel = widgets.optimizer_explorer(surfaces, optimizer="RMSprop", lr=0.01, steps=20)

    assert panel.surface.options == ("narrow",)
    np.testing.assert_array_equal(
        panel.trajectory, trajectory(surfaces["narrow"], RMSprop, 20, lr=0.01, alpha=panel.beta2.value))


def test_a_change_runs_the_optimizer_once_and_draws_once(panel, monkeypatch):
    # the speed of the longest run is measured in benchmarks/widgets.py
    panel.surface.value = "Rosenbrock"
    panel.optimizer.value = "Adam"
    runs, pictures = counted(trajectory), counted(render_png)
    monkeypatch.setattr(optimizers_panel, "trajectory", runs)
    monkeypatch.setattr(optimizers_panel, "render_png", pictures)

    panel.steps.value = 2000  # the longest run the controls allow

    assert (runs.calls, pictures.calls) == (1, 1)
    assert len(panel.trajectory) == 2001


def test_optimizer_explorer_displays_as_its_widget(panel):
    bundle = panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
