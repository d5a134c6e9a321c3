from types import SimpleNamespace

import numpy as np
import pytest

from course_lib import plots
from course_lib.optim import LRFinderResult
from tests.plots.drawn import line_labels

SCHEDULES = {"step": [0.1] * 5 + [0.01] * 5, "cosine": list(0.05 * (1 + np.cos(np.linspace(0, np.pi, 10)))),
             "constant": np.full(10, 0.1)}


def test_lr_schedules_overlay_one_line_per_schedule():
    ax = plots.plot_lr_schedules(SCHEDULES, title="three schedules")

    assert line_labels(ax) == ["step", "cosine", "constant"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(10))
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), SCHEDULES["step"])
    assert ax.get_yscale() == "linear"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "learning rate")
    assert ax.get_title() == "three schedules"


def test_lr_schedules_per_iteration_read_in_epochs_on_a_log_scale():
    ax = plots.plot_lr_schedules({"step": SCHEDULES["step"]}, iterations_per_epoch=5, log=True,
                                 xlabel="epoch (5 iterations each)")

    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), np.arange(10) / 5)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch (5 iterations each)"


def test_schedule_grid_has_one_titled_panel_per_schedule():
    fig = plots.plot_schedule_grid(SCHEDULES, columns=2, log=True)

    shown = [ax for ax in fig.axes if ax.axison]
    assert len(fig.axes) == 4 and len(shown) == 3
    assert [ax.get_title() for ax in shown] == ["step", "cosine", "constant"]
    assert all(len(ax.get_lines()) == 1 and ax.get_yscale() == "log" for ax in shown)


def finder_result(suggested_lr=1e-2, diverged_at=49):
    lrs = list(np.geomspace(1e-5, 1.0, 50))
    losses = list(np.concatenate([np.linspace(2.3, 0.5, 40), np.geomspace(0.6, 1e4, 10)]))
    smoothed = list(np.concatenate([np.linspace(2.3, 0.6, 40), np.geomspace(0.7, 5e3, 10)]))
    return LRFinderResult(lrs, losses, smoothed, suggested_lr, lrs[39], diverged_at)


def test_lr_finder_draws_raw_faint_smoothed_bold_and_marks_both_readings():
    ax = plots.plot_lr_finder(finder_result())

    raw, smoothed = ax.get_lines()[:2]
    assert line_labels(ax)[:2] == ["loss of each batch", "smoothed loss"]
    assert raw.get_alpha() < 1 and smoothed.get_linewidth() > raw.get_linewidth()
    assert ax.get_xscale() == "log"
    suggestion = [line for line in ax.get_lines() if line.get_label().startswith("suggested lr")][0]
    assert suggestion.get_label() == "suggested lr = 0.01"
    np.testing.assert_array_equal(suggestion.get_xdata(), [1e-2, 1e-2])
    assert "0.01" in [text.get_text() for text in ax.texts]
    minimum = [line for line in ax.get_lines() if line.get_label().startswith("minimum")][0]
    assert minimum.get_label() == "minimum at lr = 0.095" and minimum.get_linestyle() == ":"
    np.testing.assert_array_equal(minimum.get_xdata(), [np.geomspace(1e-5, 1.0, 50)[39]] * 2)
    assert any(label.startswith("diverged (iteration 50") for label in line_labels(ax))


def test_lr_finder_clips_the_divergence_out_of_the_y_range():
    ax = plots.plot_lr_finder(finder_result())

    low, high = ax.get_ylim()
    assert high < 5  # the losses reach 1e4, the panel stops near the first smoothed loss 2.3
    assert 2.3 < high and low < 0.5


def test_lr_finder_without_a_suggestion_or_divergence():
    ax = plots.plot_lr_finder(finder_result(suggested_lr=None, diverged_at=None))

    assert line_labels(ax) == ["loss of each batch", "smoothed loss", "minimum at lr = 0.095"]


def history(lrs, losses, val_loss, val_accuracy):
    return SimpleNamespace(train_loss=list(val_loss), val_loss=val_loss, val_accuracy=val_accuracy,
                           lr=lrs[::4], seconds=[1.0] * len(val_loss), iteration_loss=losses,
                           iteration_lr=lrs)


@pytest.fixture
def histories():
    return {"constant": history([0.1] * 8, np.linspace(2, 1, 8), [1.5, 1.1], [0.90, 0.93]),
            "cosine": history(list(0.05 * (1 + np.cos(np.linspace(0, np.pi, 8)))),
                              np.linspace(2, 0.5, 8), [1.2, 0.6], [0.92, 0.961])}


def test_schedule_comparison_is_one_figure_with_rate_loss_and_accuracy(histories):
    fig = plots.plot_schedule_comparison(histories, iterations_per_epoch=4, smooth=2)

    rates, losses, dots = fig.axes
    assert line_labels(rates) == ["constant", "cosine"]
    np.testing.assert_allclose(rates.get_lines()[1].get_xdata(), np.arange(8) / 4)
    np.testing.assert_array_equal(rates.get_lines()[1].get_ydata(), histories["cosine"].iteration_lr)
    assert losses.get_yscale() == "log"
    assert line_labels(losses) == ["constant: training", "constant: validation",
                                   "cosine: training", "cosine: validation"]
    # a moving average over 2 of 8 iterations, placed in epochs; validation at each epoch's end
    np.testing.assert_allclose(losses.get_lines()[0].get_xdata(), np.arange(2, 9) / 4)
    np.testing.assert_array_equal(losses.get_lines()[1].get_xdata(), [1, 2])
    # by default one dot per schedule: the last validation accuracy of its run
    means = [line for line in dots.get_lines() if line.get_label() == "_runs"]
    assert [list(line.get_ydata()) for line in means] == [pytest.approx([93.0]), pytest.approx([96.1])]
    assert [label.get_text() for label in dots.get_xticklabels()] == ["constant", "cosine"]
    assert dots.get_ylabel() == "validation accuracy (%)"
    assert "one run each" in dots.get_title() and "not from 0" in dots.get_title()
    assert not dots.patches  # no bars


def test_schedule_comparison_draws_each_seed_and_the_mean_with_its_spread(histories):
    fig = plots.plot_schedule_comparison(histories, accuracies={"constant": [0.90, 0.90, 0.93],
                                                                "cosine": [0.95, 0.96, 0.94]})
    # constant: mean 91, standard deviation √3, so its error bar runs below its lowest run; cosine 94 to 96

    rates, _, dots = fig.axes
    np.testing.assert_allclose(rates.get_lines()[0].get_xdata(), np.arange(8) / 4)  # 8 steps, 2 epochs
    runs = [line for line in dots.get_lines() if line.get_label() == "_runs"]
    assert [list(line.get_ydata()) for line in runs] == [pytest.approx([90, 90, 93]), pytest.approx([95, 96, 94])]
    bars = [container for container in dots.containers]  # errorbar containers: mean and spread
    assert [container.lines[0].get_ydata()[0] for container in bars] == pytest.approx([91.0, 95.0])
    segments = [container.lines[2][0].get_segments()[0] for container in bars]
    assert [(low[1], high[1]) for low, high in segments] == [pytest.approx((91 - 3 ** 0.5, 91 + 3 ** 0.5)),
                                                             pytest.approx((94, 96))]
    low, high = dots.get_ylim()  # the runs and the whole error bars, with a margin
    assert 88 < low < 91 - 3 ** 0.5 and 96 < high < 97
    assert dots.get_title() == ("validation accuracy, 3 runs each: mean ± standard deviation\n"
                                f"(dots: the axis runs from {low:.1f} to {high:.1f} %, not from 0)")
