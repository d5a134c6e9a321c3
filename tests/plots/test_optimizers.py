from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.colors import LogNorm

from course_lib import plots
from course_lib.optim import SGD, Adam
from course_lib.optim.surfaces import ill_conditioned_quadratic, rosenbrock, trajectory
from tests.plots.drawn import line_labels


@pytest.fixture
def runs():
    surface = ill_conditioned_quadratic()
    return surface, {
        "SGD": trajectory(surface, SGD, 40, lr=0.07),
        "Adam": trajectory(surface, Adam, 40, lr=0.3),
        "SGD, too fast": trajectory(surface, SGD, 40, lr=0.1),
    }


def test_trajectories_are_lines_on_a_log_spaced_contour_map(runs):
    surface, paths = runs

    ax = plots.plot_trajectories(surface, paths)

    assert line_labels(ax) == ["minimum", "SGD", "Adam", "SGD, too fast (diverged at step 11)"]
    sgd = ax.get_lines()[1]
    np.testing.assert_array_equal(sgd.get_xydata(), paths["SGD"])
    assert sgd.get_marker() == "o"  # a dot per step
    star = ax.get_lines()[0]
    assert star.get_marker() == "*" and tuple(star.get_xydata()[0]) == (0.0, 0.0)
    contours = ax.collections[0]
    assert isinstance(contours.norm, LogNorm)
    levels = contours.levels
    assert len(levels) == 20
    np.testing.assert_allclose(levels[1:] / levels[:-1], levels[1] / levels[0])  # log spaced
    assert (ax.get_xlim(), ax.get_ylim()) == (surface.x_range, surface.y_range)
    assert ax.get_title() == surface.name
    assert [text.get_text() for text in ax.get_legend().get_texts()] == line_labels(ax)


def test_trajectories_accept_lists_given_levels_and_leave_out_non_finite_rows():
    surface = rosenbrock()
    path = [[-1.5, 2.0], [0.0, 1.0], [np.inf, np.nan]]

    ax = plots.plot_trajectories(surface, {"mine": path}, levels=[0.1, 1.0, 10.0], title="t")

    assert line_labels(ax) == ["minimum", "mine (diverged at step 2)"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_xydata(), path[:2])
    np.testing.assert_array_equal(ax.collections[0].levels, [0.1, 1.0, 10.0])
    assert ax.get_title() == "t"


def test_values_along_trajectories_are_the_gap_to_the_minimum_on_a_log_axis(runs):
    surface, paths = runs

    ax = plots.plot_values_along_trajectories(surface, paths)

    assert ax.get_yscale() == "log"
    assert line_labels(ax) == ["SGD", "Adam", "SGD, too fast (diverged at step 11)"]
    sgd = ax.get_lines()[0]
    np.testing.assert_array_equal(sgd.get_xdata(), np.arange(41))
    np.testing.assert_allclose(sgd.get_ydata(), surface(paths["SGD"]))


def test_a_value_right_on_the_minimum_stays_on_the_log_axis():
    surface = ill_conditioned_quadratic()

    ax = plots.plot_values_along_trajectories(surface, {"there": [[1.0, 0.0], [0.0, 0.0]]})

    assert ax.get_lines()[0].get_ydata()[1] > 0


def history(losses, val_loss, val_accuracy, lrs):
    return SimpleNamespace(train_loss=val_loss, val_loss=val_loss, val_accuracy=val_accuracy,
                           lr=lrs[::len(lrs) // len(val_loss)], seconds=[1.0] * len(val_loss),
                           iteration_loss=losses, iteration_lr=lrs)


def test_optimizer_comparison_has_three_panels_with_a_line_per_optimizer():
    histories = {"SGD": history(np.linspace(2, 1, 20), [1.5, 1.2], [0.8, 0.85], [0.1] * 20),
                 "Adam": history(np.linspace(2, 0.5, 20), [1.0, 0.7], [0.9, 0.95], [1e-3] * 20)}

    fig = plots.plot_optimizer_comparison(histories, test_accuracy={"SGD": 0.86, "Adam": 0.951},
                                          smooth=5)

    iterations, losses, accuracies = fig.axes
    assert line_labels(iterations) == ["SGD (test 86.00 %)", "Adam (test 95.10 %)"]
    assert iterations.get_yscale() == losses.get_yscale() == "log"
    assert len(iterations.get_lines()[0].get_xdata()) == 16  # moving average over 5 of 20
    np.testing.assert_allclose(accuracies.get_lines()[1].get_ydata(), [90, 95])
    np.testing.assert_array_equal(losses.get_lines()[0].get_ydata(), [1.5, 1.2])


def test_lr_sensitivity_marks_the_best_rate_and_diverged_runs():
    lrs = [1e-3, 1e-2, 1e-1, 1.0]
    finals = {"SGD": [0.5, 0.3, 0.2, np.nan], "Adam": [0.25, 0.1, np.inf, np.inf]}

    ax = plots.plot_lr_sensitivity(lrs, finals, metric_name="final training loss")

    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == "final training loss"
    assert line_labels(ax) == ["SGD", "Adam", "best rate", "diverged (nan/inf)"]
    stars = {line.get_label(): tuple(line.get_xydata()[0]) for line in ax.get_lines()
             if line.get_label().startswith("_best")}
    assert stars == {"_best SGD": (0.1, 0.2), "_best Adam": (1e-2, 0.1)}
    crosses = {line.get_label(): list(line.get_xdata()) for line in ax.get_lines()
               if line.get_label().startswith("_diverged")}
    assert crosses == {"_diverged SGD": [1.0], "_diverged Adam": [0.1, 1.0]}
    # at the top of the panel, whatever the data's range
    assert all(line.get_ydata()[0] == 0.96 for line in ax.get_lines()
               if line.get_label().startswith("_diverged"))


def test_lr_sensitivity_of_an_accuracy_marks_the_highest():
    ax = plots.plot_lr_sensitivity(np.array([0.01, 0.1]), {"SGD": [0.9, 0.97]},
                                   metric_name="validation accuracy")

    star = [line for line in ax.get_lines() if line.get_label() == "_best SGD"][0]
    assert tuple(star.get_xydata()[0]) == (0.1, 0.97)
    assert "diverged (nan/inf)" not in line_labels(ax)
