import matplotlib.pyplot as plt
from matplotlib.figure import Figure
import numpy as np

from course_lib import plots
from tests.plots.drawn import line_labels


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
