import numpy as np
import pytest

from course_lib import plots
from tests.plots.drawn import line_labels


def test_losses_by_iteration_and_epoch_aligns_the_two_clocks():
    iteration_losses = np.linspace(1.0, 0.1, 12)
    epoch_losses = iteration_losses.reshape(3, 4).mean(axis=1)

    fig = plots.plot_losses_by_iteration_and_epoch(iteration_losses, epoch_losses, 4)

    left, right = fig.axes[:2]
    assert left.get_xlabel() == "iteration (optimizer step)"
    assert right.get_xlabel() == "epoch"
    assert left.get_yscale() == right.get_yscale() == "linear"
    assert len(line_labels(left)) == len(line_labels(right)) == 2
    # the epoch means sit where each epoch ends: at iterations 4, 8, 12 and epochs 1, 2, 3
    np.testing.assert_array_equal(left.get_lines()[1].get_xdata(), [4, 8, 12])
    np.testing.assert_array_equal(right.get_lines()[1].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(right.get_lines()[0].get_xdata(), np.arange(1, 13) / 4)
    # each panel has the other clock as an aligned secondary axis on top
    secondary_labels = {ax.get_xlabel() for ax in fig.axes[2:]} | {
        child.get_xlabel() for ax in (left, right) for child in ax.child_axes}
    assert {"epoch", "iteration (optimizer step)"} <= secondary_labels


def test_losses_by_iteration_and_epoch_log_y_when_asked():
    fig = plots.plot_losses_by_iteration_and_epoch([1, 2, 3, 4], [1.5, 3.5], 2, logy=True)

    assert fig.axes[0].get_yscale() == fig.axes[1].get_yscale() == "log"


def test_losses_by_iteration_and_epoch_rejects_an_empty_epoch():
    with pytest.raises(ValueError, match="iterations_per_epoch"):
        plots.plot_losses_by_iteration_and_epoch([1.0], [1.0], 0)


def test_learning_rate_sweep_draws_one_line_per_rate_and_marks_divergence():
    losses = {0.1: [1.0, 0.8, 0.6, 0.5], 1.0: [1.0, 5.0, np.inf, np.nan], 0.01: [1.0] * 4}

    ax = plots.plot_learning_rate_sweep(losses, iterations_per_epoch=2)

    labels = line_labels(ax)
    assert labels == ["lr = 0.01", "lr = 0.1", "lr = 1 (diverged at step 3)"]
    assert ax.get_yscale() == "log"
    diverged = [line for line in ax.get_lines() if line.get_label() == labels[2]][0]
    np.testing.assert_array_equal(diverged.get_ydata(), [1.0, 5.0])
    assert any(line.get_marker() == "x" for line in ax.get_lines())


def test_learning_rate_sweep_smooths_with_a_moving_average():
    ax = plots.plot_learning_rate_sweep({0.1: [4.0, 2.0, 2.0, 0.0]}, smooth=2)

    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.0])
    assert "moving average over 2" in ax.get_ylabel()


def test_early_stopping_marks_the_best_epoch_and_the_stop_in_both_panels():
    fig = plots.plot_early_stopping([1.0, 0.5, 0.3, 0.2], [1.1, 0.7, 0.8, 0.9],
                                    best_epoch=2, stopped_epoch=4, patience=2, title="t")

    left, right = fig.axes
    assert line_labels(left)[:2] == ["training loss", "validation loss"]
    assert line_labels(right)[0] == "validation loss"
    assert (left.get_yscale(), right.get_yscale()) == ("log", "linear")
    for ax in (left, right):
        assert "best validation loss (epoch 2)" in line_labels(ax)
        assert "stopped after epoch 4 (patience 2)" in line_labels(ax)
        star = [line for line in ax.get_lines() if line.get_marker() == "*"][0]
        assert (star.get_xdata()[0], star.get_ydata()[0]) == (2, 0.7)
        assert ax.get_xlabel() == "epoch"
    assert fig.get_suptitle() == "t"


def test_early_stopping_without_a_stop_says_so():
    fig = plots.plot_early_stopping([1.0, 0.5, 0.3], [1.1, 0.7, 0.6], best_epoch=3,
                                    stopped_epoch=None, patience=5)

    assert "no stop within 3 epochs (patience 5)" in line_labels(fig.axes[0])


def test_training_curves_show_accuracy_in_percent():
    fig = plots.plot_training_curves([0.5, 0.3], [0.9, 0.95])

    left, right = fig.axes
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [90, 95])
    np.testing.assert_allclose(left.get_lines()[0].get_xdata(), [1, 2])


def test_loss_curves_label_each_run_and_the_chance_level():
    ax = plots.plot_loss_curves({"a": [2.3] * 20, "b": np.linspace(2.3, 0.1, 20)}, smooth=5,
                                chance_loss=2.3)

    assert line_labels(ax) == ["a", "b", "uniform guess"]
    assert len(ax.get_lines()[0].get_xdata()) == 16  # a moving average over 5 of 20 steps
    assert "moving average over 5" in ax.get_ylabel()
