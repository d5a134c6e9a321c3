import numpy as np

from course_lib import plots


def test_digits_are_titled_and_split_where_asked():
    images = np.zeros((5, 28, 28), dtype=np.uint8)

    fig = plots.plot_digits(images, titles=[0, 1, 2, 3, 4], split_row=14, columns=3)

    shown = [ax for ax in fig.axes if ax.get_images()]
    assert len(fig.axes) == 6 and len(shown) == 5
    assert [ax.get_title() for ax in shown] == ["0", "1", "2", "3", "4"]
    assert all(ax.get_lines()[0].get_ydata()[0] == 13.5 for ax in shown)


def test_weight_image_uses_a_symmetric_colour_scale():
    weights = np.zeros(784)
    weights[0], weights[1] = 2.0, -0.5

    ax = plots.plot_weight_image(weights, labels=("3", "8"))

    image = ax.get_images()[0]
    assert image.get_array().shape == (28, 28)
    assert image.get_clim() == (-2.0, 2.0)
    assert "3" in image.colorbar.ax.get_ylabel() and "8" in image.colorbar.ax.get_ylabel()
