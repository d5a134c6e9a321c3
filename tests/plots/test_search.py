import numpy as np
import pytest

from course_lib.plots.search import plot_grid_heatmaps, plot_intermediate_values, plot_search_progress
from course_lib.training.search import SearchTrial
from tests.plots.drawn import line_labels


def grid_trials(repeats=1):
    """epochs × batch_size, accuracy best at (2, 64), seconds proportional to epochs / batch_size."""
    trials = []
    for epochs in (1, 2):
        for batch_size in (32, 64, 128):
            for seed in range(repeats):
                value = 0.9 + 0.02 * epochs - 0.01 * (batch_size != 64) + 0.01 * seed
                trials.append(SearchTrial(len(trials), {"epochs": epochs, "batch_size": batch_size, "seed": seed},
                                          value, 64 * epochs / batch_size + seed))
    return trials


def cell_texts(ax):
    return {(round(text.get_position()[1]), round(text.get_position()[0])): text.get_text() for text in ax.texts}


def test_grid_heatmaps_show_accuracy_and_seconds_per_cell():
    fig = plot_grid_heatmaps(grid_trials(), "batch_size", "epochs")

    accuracy_ax, seconds_ax = fig.axes[:2]
    assert [tick.get_text() for tick in accuracy_ax.get_xticklabels()] == ["32", "64", "128"]
    assert [tick.get_text() for tick in accuracy_ax.get_yticklabels()] == ["1", "2"]
    np.testing.assert_allclose(accuracy_ax.images[0].get_array(), [[91, 92, 91], [93, 94, 93]])
    np.testing.assert_allclose(seconds_ax.images[0].get_array(), [[2, 1, 0.5], [4, 2, 1]])
    assert cell_texts(accuracy_ax)[(1, 1)] == "94.0" and cell_texts(seconds_ax)[(0, 2)] == "0.5"
    best, = accuracy_ax.patches
    assert best.get_xy() == (0.5, 0.5)  # the cell epochs=2, batch_size=64
    assert "mean" not in accuracy_ax.get_title()


def test_grid_heatmaps_average_repeated_cells_and_say_so():
    fig = plot_grid_heatmaps(grid_trials(repeats=3), "batch_size", "epochs")

    accuracy_ax, seconds_ax = fig.axes[:2]
    np.testing.assert_allclose(accuracy_ax.images[0].get_array(), [[92, 93, 92], [94, 95, 94]])
    np.testing.assert_allclose(seconds_ax.images[0].get_array(), [[3, 2, 1.5], [5, 3, 2]])
    assert accuracy_ax.get_title().endswith("(mean of 3 runs per cell)")
    with pytest.raises(ValueError, match="has no parameter 'lr'"):
        plot_grid_heatmaps(grid_trials(), "lr", "epochs")


def optuna_like_trials():
    return [SearchTrial(0, {}, 0.90, 3.0, "complete", {1: 0.8, 2: 0.85, 3: 0.90}),
            SearchTrial(1, {}, None, 1.0, "pruned", {1: 0.6}),
            SearchTrial(2, {}, 0.95, 3.0, "complete", {1: 0.85, 2: 0.9, 3: 0.95}),
            SearchTrial(3, {}, None, 2.0, "pruned", {1: 0.82, 2: 0.84})]


def test_search_progress_draws_the_best_so_far_and_marks_pruned_trials():
    grid = [SearchTrial(number, {}, value, 3.0) for number, value in enumerate([0.7, 0.92, 0.91, 0.93])]
    ax = plot_search_progress({"grid": grid, "Optuna": optuna_like_trials()})

    assert line_labels(ax) == ["grid", "Optuna", "Optuna: pruned (2 of 4)"]
    grid_line, grid_dots, optuna_line, optuna_dots, pruned = ax.get_lines()
    np.testing.assert_allclose(grid_line.get_ydata(), [70, 92, 92, 93])
    np.testing.assert_allclose(optuna_line.get_ydata(), [90, 90, 95, 95])
    np.testing.assert_allclose(optuna_dots.get_xdata(), [1, 3])
    np.testing.assert_allclose(pruned.get_xdata(), [2, 4])
    np.testing.assert_allclose(pruned.get_ydata(), [60, 84])  # the last value each reported
    assert ax.get_xlabel() == "trials run"

    ax = plot_search_progress({"Optuna": optuna_like_trials()}, x="seconds")
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [3, 4, 7, 9])
    assert ax.get_xlabel() == "wall seconds spent (cumulative)"


def test_intermediate_values_show_where_the_pruner_stopped_each_trial():
    ax = plot_intermediate_values(optuna_like_trials())

    assert line_labels(ax) == ["completed", "pruned"]
    lines = ax.get_lines()
    assert [line.get_marker() for line in lines] == ["None", "x", "None", "x"]
    np.testing.assert_allclose(lines[3].get_xdata(), [1, 2])
    np.testing.assert_allclose(lines[3].get_ydata(), [82, 84])
    assert ax.get_title() == "2 trials completed, 2 pruned"
    with pytest.raises(ValueError, match="OptunaPruning"):
        plot_intermediate_values([SearchTrial(0, {}, 0.9, 1.0)])
