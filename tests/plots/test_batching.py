import numpy as np

from course_lib import plots
from tests.plots.drawn import line_labels


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


def test_batch_size_sweep_has_three_log2_panels():
    fig = plots.plot_batch_size_sweep([16, 64, 256], [300, 75, 19], [1.0, 0.5, 0.4],
                                      [0.97, 0.95, 0.9], epochs=3)

    updates, seconds, accuracy = fig.axes
    assert [ax.get_xscale() for ax in fig.axes] == ["log"] * 3
    assert updates.get_yscale() == "log"
    assert seconds.get_ylabel() == "wall time per epoch (s)"
    assert accuracy.get_ylabel() == "validation accuracy (%) (axis not from 0)"
    np.testing.assert_allclose(accuracy.get_lines()[0].get_ydata(), [97, 95, 90])
    assert not accuracy.collections, "one run has no error bars"
    assert [label.get_text() for label in updates.get_xticklabels()] == ["16", "64", "256"]
    assert "3 epochs" in fig.get_suptitle()


def test_batch_size_sweep_over_seeds_shows_the_mean_with_one_standard_deviation_error_bars():
    seeds = [[0.96, 0.94, 0.90], [0.97, 0.94, 0.91], [0.98, 0.94, 0.92]]
    fig = plots.plot_batch_size_sweep([16, 64, 256], [300, 75, 19], [1.0, 0.5, 0.4], seeds)

    accuracy = fig.axes[2]
    np.testing.assert_allclose(accuracy.get_lines()[0].get_ydata(), [97, 94, 91])
    (bars,) = accuracy.collections
    half_lengths = [abs(top - bottom) / 2 for (_, bottom), (_, top) in bars.get_segments()]
    np.testing.assert_allclose(half_lengths, 100 * np.std(seeds, axis=0))
    assert "mean ± std over 3 seeds" in accuracy.get_ylabel()
    assert [text.get_text() for text in accuracy.texts] == ["97.0", "94.0", "91.0"]
