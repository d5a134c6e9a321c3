import numpy as np
import pytest
import torch

from course_lib import plots


def test_confusion_matrix_labels_every_cell_with_its_count():
    confusion = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])

    ax = plots.plot_confusion_matrix(confusion, class_names=["a", "b", "c"])

    assert sorted(int(text.get_text()) for text in ax.texts) == sorted(confusion.ravel())
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_images()[0].get_array()[0, 0] == 0  # the diagonal does not set the colour scale


def test_reliability_diagram_draws_each_filled_bins_accuracy_and_gap_with_its_count():
    # 4 bins: (0.25, 0.5] holds 0.4, 0.5 (one right); (0.75, 1] holds 0.8, 1.0 (both right); the rest are empty
    confidences, correct = np.array([0.4, 0.5, 0.8, 1.0]), np.array([True, False, True, True])

    ax = plots.plot_reliability_diagram(confidences, correct, n_bins=4)

    accuracy_bars, gap_bars = ax.containers
    assert [bar.get_x() for bar in accuracy_bars] == [0.25, 0.75]
    assert [bar.get_height() for bar in accuracy_bars] == [0.5, 1.0]
    assert [(bar.get_y(), bar.get_height()) for bar in gap_bars] == [(0.5, pytest.approx(-0.05)),
                                                                      (1.0, pytest.approx(-0.1))]
    assert [text.get_text() for text in ax.texts] == ["2", "2"]
    assert ax.get_title() == "ECE 7.50% (4 bins)"  # 1/2 * 0.05 + 1/2 * 0.1
    diagonal = ax.get_lines()[0]
    assert list(diagonal.get_xdata()) == list(diagonal.get_ydata()) == [0, 1]


def test_reliability_diagram_takes_torch_tensors_and_a_title():
    ax = plots.plot_reliability_diagram(torch.tensor([0.9, 0.6]), torch.tensor([True, False]), title="CNN")
    assert ax.get_title().startswith("CNN: ECE ")


def test_most_confident_mistakes_are_shown_surest_first_with_truth_prediction_and_confidence():
    images = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 1, 4, 4)
    labels = np.array([0, 1, 2, 1, 0])
    probabilities = np.array([[0.9, 0.1, 0.0],    # right
                              [0.7, 0.2, 0.1],    # 1 taken for 0 at 0.7
                              [0.05, 0.95, 0.0],  # 2 taken for 1 at 0.95
                              [0.4, 0.6, 0.0],    # right
                              [0.2, 0.2, 0.6]])   # 0 taken for 2 at 0.6

    fig = plots.plot_most_confident_mistakes(images, torch.from_numpy(labels), torch.from_numpy(probabilities), k=2)

    shown = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in shown] == ["2 → 1, 0.950", "1 → 0, 0.700"]
    np.testing.assert_array_equal(shown[0].get_images()[0].get_array(), images[2, 0])
    assert "2 most confident mistakes of 3" in fig.texts[0].get_text()


def test_most_confident_mistakes_without_mistakes_say_so_and_logits_are_refused():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8]])
    fig = plots.plot_most_confident_mistakes(np.zeros((2, 3, 3)), np.array([0, 1]), probabilities)
    assert "no mistakes" in fig.texts[0].get_text()
    with pytest.raises(ValueError, match="pass softmax"):
        plots.plot_most_confident_mistakes(np.zeros((2, 3, 3)), np.array([0, 1]), np.array([[3.0, -1.0], [0.5, 2.0]]))
