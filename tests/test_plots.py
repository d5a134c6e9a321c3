import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def line_labels(ax):
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_digits_are_titled_and_split_where_asked():
    images = np.zeros((5, 28, 28), dtype=np.uint8)

    fig = plots.plot_digits(images, titles=[0, 1, 2, 3, 4], split_row=14, columns=3)

    shown = [ax for ax in fig.axes if ax.get_images()]
    assert len(fig.axes) == 6 and len(shown) == 5
    assert [ax.get_title() for ax in shown] == ["0", "1", "2", "3", "4"]
    assert all(ax.get_lines()[0].get_ydata()[0] == 13.5 for ax in shown)


def test_iterations_per_epoch_is_log_log_with_one_line_per_drop_last_rule():
    ax = plots.plot_iterations_per_epoch(1000)

    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_xlabel() == "batch size B"
    assert ax.get_ylabel() == "iterations per epoch"
    labels = line_labels(ax)
    assert len(labels) == 2
    assert any("drop_last=False" in label for label in labels)
    assert any("drop_last=True" in label for label in labels)


def test_iterations_per_epoch_lines_are_ceil_and_floor():
    ax = plots.plot_iterations_per_epoch(10)
    ceil_line, floor_line = [line for line in ax.get_lines() if not line.get_label().startswith("_")]

    np.testing.assert_array_equal(ceil_line.get_xdata(), np.arange(1, 11))
    np.testing.assert_array_equal(ceil_line.get_ydata(), [10, 5, 4, 3, 2, 2, 2, 2, 2, 1])
    np.testing.assert_array_equal(floor_line.get_ydata(), [10, 5, 3, 2, 2, 1, 1, 1, 1, 1])


def test_iterations_per_epoch_annotates_where_the_rules_differ():
    ax = plots.plot_iterations_per_epoch(60_000)
    notes = " ".join(text.get_text() for text in ax.texts)

    assert "B = 25,000: 3 vs 2 iterations" in notes
    assert "skips 10,000 samples" in notes


def test_epoch_batches_colours_each_sample_by_its_batch_and_marks_dropped_ones():
    epochs = [[np.array([3, 0]), np.array([1, 4])], [np.array([2, 1]), np.array([0, 3])]]

    ax = plots.plot_epoch_batches(epochs, 5)

    image = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(image, [[0, 1, -1, 0, 1], [1, 0, 0, 1, -1]])
    assert [text.get_text() for text in ax.texts][:5] == ["1", "2", "·", "1", "2"]
    assert ax.get_ylabel() == "epoch"
    assert [label.get_text() for label in ax.get_yticklabels()] == ["epoch 1", "epoch 2"]


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


def test_batch_size_sweep_has_three_log2_panels():
    fig = plots.plot_batch_size_sweep([16, 64, 256], [300, 75, 19], [1.0, 0.5, 0.4],
                                      [0.97, 0.95, 0.9], epochs=3)

    updates, seconds, accuracy = fig.axes
    assert [ax.get_xscale() for ax in fig.axes] == ["log"] * 3
    assert updates.get_yscale() == "log"
    assert seconds.get_ylabel() == "wall time per epoch (s)"
    assert accuracy.get_ylabel() == "validation accuracy (%)"
    np.testing.assert_allclose(accuracy.get_lines()[0].get_ydata(), [97, 95, 90])
    assert [label.get_text() for label in updates.get_xticklabels()] == ["16", "64", "256"]
    assert "3 epochs" in fig.get_suptitle()


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


def test_weight_image_uses_a_symmetric_colour_scale():
    weights = np.zeros(784)
    weights[0], weights[1] = 2.0, -0.5

    ax = plots.plot_weight_image(weights, labels=("3", "8"))

    image = ax.get_images()[0]
    assert image.get_array().shape == (28, 28)
    assert image.get_clim() == (-2.0, 2.0)
    assert "3" in image.colorbar.ax.get_ylabel() and "8" in image.colorbar.ax.get_ylabel()


def test_finite_difference_errors_are_log_log_with_a_line_per_method():
    eps = np.logspace(-1, -10, 10)

    ax = plots.plot_finite_difference_errors(eps, {"forward": eps, "central": eps ** 2})

    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert line_labels(ax) == ["forward", "central"]


def test_gradient_check_draws_an_exact_match_at_the_floor_instead_of_dropping_it():
    ax = plots.plot_gradient_check({"W1": 3e-9, "b1": 0.0, "W2": 0.5})

    heights = [bar.get_height() for bar in ax.patches if bar.get_width() < 1]
    assert heights == [3e-9, 1e-16, 0.5]
    assert ax.get_yscale() == "log"
    assert len(ax.get_legend().get_texts()) == 3


def test_layer_statistics_has_one_line_per_scheme_in_both_panels():
    stds = {"Kaiming": [1.0, 1.1, 0.9], "N(0, 0.01)": [0.1, 0.0, 0.0]}

    fig = plots.plot_layer_statistics(stds, stds)

    left, right = fig.axes
    assert len(left.get_lines()) == len(right.get_lines()) == 2
    assert left.get_yscale() == "log"
    assert np.all(left.get_lines()[1].get_ydata() > 0)  # vanished layers stay on the log axis


def test_layer_statistics_draws_into_given_axes_without_a_new_figure():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    open_figures = plt.get_fignums()

    drawn = plots.plot_layer_statistics({"Kaiming": [1.0, 0.0]}, {"Kaiming": [0.1, 0.2]},
                                        axes=(left, right), title="t")

    assert drawn is fig
    assert plt.get_fignums() == open_figures
    assert len(left.get_lines()) == len(right.get_lines()) == 1
    assert left.get_yscale() == right.get_yscale() == "log"
    assert np.all(left.get_lines()[0].get_ydata() > 0)
    assert fig.get_suptitle() == "t"


def test_training_curves_show_accuracy_in_percent():
    fig = plots.plot_training_curves([0.5, 0.3], [0.9, 0.95])

    left, right = fig.axes
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [90, 95])
    np.testing.assert_allclose(left.get_lines()[0].get_xdata(), [1, 2])


def test_confusion_matrix_labels_every_cell_with_its_count():
    confusion = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])

    ax = plots.plot_confusion_matrix(confusion, class_names=["a", "b", "c"])

    assert sorted(int(text.get_text()) for text in ax.texts) == sorted(confusion.ravel())
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_images()[0].get_array()[0, 0] == 0  # the diagonal does not set the colour scale


def test_loss_curves_label_each_run_and_the_chance_level():
    ax = plots.plot_loss_curves({"a": [2.3] * 20, "b": np.linspace(2.3, 0.1, 20)}, smooth=5,
                                chance_loss=2.3)

    assert line_labels(ax) == ["a", "b", "uniform guess"]
    assert len(ax.get_lines()[0].get_xdata()) == 16  # a moving average over 5 of 20 steps
    assert "moving average over 5" in ax.get_ylabel()
