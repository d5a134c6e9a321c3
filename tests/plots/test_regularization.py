import matplotlib.colors as mcolors
import numpy as np
import pytest
import torch

from course_lib.plots.regularization import (
    plot_augmentations, plot_gradient_norms, plot_overfitting, plot_regularization_comparison,
    plot_weight_histograms,
)
from course_lib.training.history import History
from tests.plots.drawn import line_labels


def history_of(train_accuracy, val_accuracy, val_loss, grad_norms=()):
    history = History()
    history.epochs = [
        {"epoch": epoch, "step": 2 * epoch, "loss": 1.0 / epoch, "accuracy": train, "val_loss": loss,
         "val_accuracy": val, "lr": 0.1, "seconds": 1.0}
        for epoch, (train, val, loss) in enumerate(zip(train_accuracy, val_accuracy, val_loss), start=1)]
    history.iterations = [{"step": step, "epoch": (step + 1) // 2, "loss": 1.0, "accuracy": 0.5, "lr": 0.1,
                           "grad_norm": norm} for step, norm in enumerate(grad_norms, start=1)]
    return history


OVERFITTING = history_of([0.80, 0.90, 0.97, 0.99], [0.82, 0.88, 0.89, 0.885], [0.6, 0.4, 0.38, 0.45])


def test_overfitting_marks_the_best_epoch_and_shades_the_gap():
    fig = plot_overfitting(OVERFITTING, title="t")

    loss_ax, accuracy_ax = fig.axes
    assert line_labels(loss_ax) == ["training loss", "validation loss", "best validation loss (epoch 3)"]
    assert line_labels(accuracy_ax) == ["training accuracy", "validation accuracy",
                                        "best validation loss (epoch 3)"]
    np.testing.assert_allclose(accuracy_ax.get_lines()[0].get_ydata(), [80, 90, 97, 99])
    assert [line.get_xdata()[0] for line in loss_ax.get_lines()[2:]] == [3]
    gap = accuracy_ax.collections[0]
    assert gap.get_label() == "gap: training − validation"
    # the shaded band spans the two curves at the last epoch: from 88.5 to 99
    vertices = gap.get_paths()[0].vertices
    at_last = vertices[np.isclose(vertices[:, 0], 4)][:, 1]
    assert (at_last.min(), at_last.max()) == pytest.approx((88.5, 99))
    assert fig.get_suptitle() == "t"


def test_overfitting_without_accuracy_draws_the_loss_alone():
    history = History()
    history.epochs = [{"epoch": 1, "loss": 1.0, "val_loss": 1.2}, {"epoch": 2, "loss": 0.5, "val_loss": 1.1}]

    fig = plot_overfitting(history)

    assert len(fig.axes) == 1
    assert line_labels(fig.axes[0])[-1] == "best validation loss (epoch 2)"


def test_weight_histograms_share_bins_and_count_the_weights_near_zero():
    plain = np.linspace(-1, 1, 1000)
    sparse = torch.cat([torch.zeros(600), torch.linspace(-0.5, 0.5, 400)])

    ax = plot_weight_histograms({"plain": plain, "L1": [sparse[:500], sparse[500:].reshape(20, 25)]}, bins=10)

    assert ax.get_yscale() == "log"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "plain: 0.0 % with |w| < 0.001", "L1: 60.0 % with |w| < 0.001"]
    first, second = (patch.get_path().vertices[:, 0] for patch in ax.patches)
    assert (first.min(), first.max()) == (second.min(), second.max()) == (-1, 1)


def comparison_runs():
    return {
        "baseline": OVERFITTING,
        "dropout": history_of([0.8, 0.88, 0.92], [0.83, 0.89, 0.91], [0.5, 0.35, 0.3]),
        "L2": history_of([0.8, 0.9], [0.81, 0.87], [0.5, 0.42]),
    }


def test_regularization_comparison_ranks_the_runs_and_highlights_the_baseline():
    fig = plot_regularization_comparison(comparison_runs())

    loss_ax, gap_ax, bar_ax = fig.axes
    assert line_labels(loss_ax) == line_labels(gap_ax) == ["baseline", "dropout", "L2"]
    np.testing.assert_allclose(gap_ax.get_lines()[0].get_ydata(), [-2, 2, 8, 10.5])
    # best validation-loss epochs: baseline 3 (89 %), dropout 3 (91 %), L2 2 (87 %)
    assert [tick.get_text() for tick in bar_ax.get_yticklabels()] == ["L2", "baseline", "dropout"]
    assert [bar.get_width() for bar in bar_ax.patches] == pytest.approx([87, 89, 91])
    assert [text.get_text() for text in bar_ax.texts] == ["87.00 %", "89.00 %", "91.00 %"]
    assert mcolors.to_hex(bar_ax.patches[1].get_facecolor()) == "#000000"
    assert loss_ax.get_lines()[0].get_color() == "black"
    assert bar_ax.get_xlabel() == "validation accuracy at the best epoch (%)"
    assert bar_ax.get_xlim()[0] > 0  # zoomed to where the runs differ


def test_regularization_comparison_prefers_the_test_accuracy():
    test_accuracy = {"baseline": 0.9, "dropout": 0.95, "L2": 0.925}

    fig = plot_regularization_comparison(comparison_runs(), test_accuracy=test_accuracy, baseline="L2")

    bar_ax = fig.axes[2]
    assert [tick.get_text() for tick in bar_ax.get_yticklabels()] == ["baseline", "L2", "dropout"]
    assert [text.get_text() for text in bar_ax.texts] == ["90.00 %", "92.50 %", "95.00 %"]
    assert mcolors.to_hex(bar_ax.patches[1].get_facecolor()) == "#000000"
    assert bar_ax.get_xlabel() == "test accuracy (%)"


def test_regularization_comparison_wants_a_test_accuracy_for_every_run():
    with pytest.raises(ValueError, match=r"\['dropout'\]"):
        plot_regularization_comparison(comparison_runs(), test_accuracy={"baseline": 0.9, "L2": 0.9})


def test_gradient_norms_mark_the_steps_that_are_not_finite():
    runs = {"clipped": history_of([], [], [], [3.0, 2.0, 1.5, 1.0]),
            "exploding": history_of([], [], [], [3.0, 1e4, np.inf, np.nan])}

    ax = plot_gradient_norms(runs, max_norm=1.0)

    assert ax.get_yscale() == "log"
    assert line_labels(ax) == ["clipped", "exploding", "exploding: not finite from step 3", "max_norm = 1"]
    exploding, marks = ax.get_lines()[1:3]
    np.testing.assert_array_equal(exploding.get_ydata(), [3.0, 1e4, np.nan, np.nan])
    np.testing.assert_array_equal(marks.get_xdata(), [3, 4])
    assert marks.get_marker() == "x" and marks.get_color() == exploding.get_color()
    assert ax.get_lines()[3].get_ydata()[0] == 1.0


def test_augmentations_grid_has_the_originals_first():
    images = torch.zeros(3, 28, 28)
    images[:, 10:18, 12:16] = 1.0
    augmented = {"shift": torch.roll(images, 2, dims=-1), "flip": np.flip(images.numpy(), axis=-1)}

    fig = plot_augmentations(images, augmented)

    assert len(fig.axes) == 9
    assert [ax.get_title() for ax in fig.axes[:3]] == ["original", "shift", "flip"]
    np.testing.assert_array_equal(fig.axes[4].get_images()[0].get_array(), augmented["shift"][1].numpy())
    assert all(ax.get_images()[0].get_clim() == (0, 1) for ax in fig.axes)


def test_augmentations_need_one_image_per_original():
    with pytest.raises(ValueError, match="one augmented image per original"):
        plot_augmentations(np.zeros((3, 28, 28)), {"shift": np.zeros((2, 28, 28))})
