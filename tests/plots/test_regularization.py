import matplotlib.colors as mcolors
import numpy as np
import pytest
import torch

from course_lib.plots.regularization import (
    plot_augmentations, plot_gradient_norms, plot_overfitting, plot_seed_comparison, plot_validation_curves,
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


SEED_ACCURACY = {"baseline": [0.90, 0.91, 0.92], "dropout": [0.905, 0.915, 0.925], "augmentation": [0.94, 0.95, 0.96]}
SEED_GAP = {"baseline": [0.08, 0.09, 0.10], "dropout": [0.06, 0.07, 0.08], "augmentation": [0.02, 0.03, 0.01]}


def test_seed_comparison_draws_every_seed_and_the_mean_with_its_spread_best_on_top():
    fig = plot_seed_comparison(SEED_ACCURACY, SEED_GAP, chosen="augmentation")

    accuracy_ax, gap_ax = fig.axes
    assert [tick.get_text() for tick in accuracy_ax.get_yticklabels()] == ["baseline", "dropout", "augmentation"]
    seeds = [line for line in accuracy_ax.get_lines() if line.get_marker() == "o" and len(line.get_xdata()) == 3]
    np.testing.assert_allclose(seeds[2].get_xdata(), [94, 95, 96])
    np.testing.assert_allclose(seeds[2].get_ydata(), [2, 2, 2])
    # the error bars: mean ± sample standard deviation (ddof = 1), here 1 point
    means = [(line.get_xdata()[0], line.get_ydata()[0]) for line in accuracy_ax.get_lines()
             if len(line.get_xdata()) == 1 and line.get_marker() == "o"]
    assert means == pytest.approx([(91, 0), (91.5, 1), (95, 2)])
    bars = [collection.get_segments()[0] for collection in accuracy_ax.collections
            if collection.get_segments() and len(collection.get_segments()) == 1]
    assert [tuple(segment[:, 0]) for segment in bars] == pytest.approx([(90, 92), (90.5, 92.5), (94, 96)])
    assert mcolors.to_hex(seeds[2].get_color()) == mcolors.to_hex("crimson")
    assert mcolors.to_hex(seeds[0].get_color()) == "#000000"
    # the baseline's mean ± sd as a band
    (band,) = accuracy_ax.patches
    assert (band.get_x(), band.get_x() + band.get_width()) == pytest.approx((90, 92))
    low, high = accuracy_ax.get_xlim()
    assert accuracy_ax.get_xlabel() == f"validation accuracy (%) — axis from {low:.1f} to {high:.1f}, not from 0"
    assert low <= 90 and high >= 96
    assert [text.get_text() for text in accuracy_ax.get_legend().get_texts()] == [
        "baseline: mean ± sd", "augmentation: chosen"]
    assert gap_ax.get_xlim()[0] == 0
    assert "3 seeds" in fig.get_suptitle()


def test_seed_comparison_shows_the_whole_error_bars():
    # [50, 50, 60]: mean 53.3, sd 5.8, so the bar reaches down to 47.6, below every value,
    # and the gap's [0, 0, 10] down to -2.4
    fig = plot_seed_comparison({"baseline": [0.50, 0.50, 0.60], "x": [0.52, 0.52, 0.53]},
                               {"baseline": [0.0, 0.0, 0.10], "x": [0.02, 0.02, 0.03]})
    accuracy_ax, gap_ax = fig.axes
    lowest_bar_end = 100 * (0.5 + 0.1 / 3 - 0.1 / 3**0.5)
    assert accuracy_ax.get_xlim()[0] < lowest_bar_end < 50
    assert gap_ax.get_xlim()[0] < 100 * (0.1 / 3 - 0.1 / 3**0.5) < 0


def test_seed_comparison_takes_a_single_seed_and_wants_the_same_runs_twice():
    fig = plot_seed_comparison({"baseline": [0.9], "dropout": [0.92]}, {"baseline": [0.1], "dropout": [0.05]})
    assert "1 seeds" in fig.get_suptitle()
    with pytest.raises(ValueError, match="same runs"):
        plot_seed_comparison(SEED_ACCURACY, {"baseline": [0.1]})


def test_seed_comparison_without_gaps_draws_the_accuracy_alone():
    fig = plot_seed_comparison({"grid": [0.90, 0.91, 0.92], "random": [0.93, 0.94, 0.92]}, baseline="grid")
    (accuracy_ax,) = fig.axes
    assert [tick.get_text() for tick in accuracy_ax.get_yticklabels()] == ["grid", "random"]  # the best on top
    assert accuracy_ax.get_xlim()[0] < 90 and accuracy_ax.get_xlim()[1] > 94


def test_validation_curves_draw_each_validation_at_its_step():
    history = History()
    history.validations = [{"step": step, "epoch": 1, "val_loss": 1.0 / step, "val_accuracy": 0.1 * step}
                           for step in (10, 20, 25)]

    ax = plot_validation_curves({"run": history})

    assert line_labels(ax) == ["run"]
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [10, 20, 25])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [100, 200, 250])
    assert ax.get_ylim() == (0, 100) and ax.get_ylabel() == "validation accuracy (%)"
    loss_ax = plot_validation_curves({"run": history}, key="val_loss")
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_ydata(), [0.1, 0.05, 0.04])
    assert loss_ax.get_ylabel() == "validation loss"


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
