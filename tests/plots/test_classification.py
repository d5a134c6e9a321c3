import numpy as np

from course_lib import plots


def test_confusion_matrix_labels_every_cell_with_its_count():
    confusion = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])

    ax = plots.plot_confusion_matrix(confusion, class_names=["a", "b", "c"])

    assert sorted(int(text.get_text()) for text in ax.texts) == sorted(confusion.ravel())
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_images()[0].get_array()[0, 0] == 0  # the diagonal does not set the colour scale
