import pytest

from course_lib.plots import plot_transfer_curves


def test_transfer_curves_draw_each_method_at_its_label_counts_with_the_seed_spread():
    ax = plot_transfer_curves({"frozen": {10: [0.6, 0.7, 0.8], 1000: [0.9, 0.9, 0.9]},
                               "scratch": {10: [0.5], 1000: [0.95]}}, title="5–9")
    frozen, scratch = ax.containers
    assert list(frozen.lines[0].get_xdata()) == [10, 1000]
    assert list(frozen.lines[0].get_ydata()) == pytest.approx([70, 90])
    (bars,) = frozen.lines[2]
    low, high = bars.get_segments()[0][:, 1]
    assert (low, high) == pytest.approx((60, 80))  # mean ± the sample sd, 10 points
    assert list(scratch.lines[0].get_ydata()) == pytest.approx([50, 95])
    assert ax.get_xscale() == "log" and [text.get_text() for text in ax.get_legend().get_texts()] == ["frozen", "scratch"]
