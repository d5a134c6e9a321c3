import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.errors import CourseError
from course_lib.models import Standardize, fast_cnn, keras_cnn, pytorch_examples_cnn


def layer_types(model):
    return [type(layer) for layer in model]


def parameter_count(model):
    return sum(parameter.numel() for parameter in model.parameters())


@pytest.mark.parametrize(("build", "parameters"), [(keras_cnn, 93_322), (pytorch_examples_cnn, 1_199_882)])
def test_the_published_cnns_have_their_published_sizes(build, parameters):
    model = build()

    assert parameter_count(model) == parameters
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert build(num_classes=5)(torch.zeros(2, 1, 28, 28)).shape == (2, 5)


def test_the_examples_cnn_returns_log_probabilities_whose_nll_is_cross_entropy_of_its_logits():
    torch.manual_seed(0)
    model = pytorch_examples_cnn().eval()
    images, labels = torch.randn(4, 1, 28, 28), torch.tensor([0, 3, 9, 3])

    log_probabilities = model(images)

    assert torch.allclose(log_probabilities.exp().sum(dim=1), torch.ones(4))
    assert torch.allclose(F.nll_loss(log_probabilities, labels), F.cross_entropy(model[:-1](images), labels))


def test_a_cnn_refuses_a_number_of_classes_that_is_not_a_count():
    with pytest.raises(CourseError, match="num_classes"):
        keras_cnn(num_classes=0)


def test_fast_cnn_halves_the_image_three_times_and_has_its_documented_size():
    model = fast_cnn()
    images = torch.zeros(2, 1, 28, 28)

    shapes = []
    for layer in model:
        images = layer(images)
        if isinstance(layer, nn.ReLU) and images.ndim == 4:
            shapes.append(tuple(images.shape[1:]))

    assert shapes == [(16, 14, 14), (32, 7, 7), (64, 3, 3)]
    assert images.shape == (2, 10)
    assert parameter_count(model) == 98_554


def test_fast_cnn_takes_its_widths_from_its_arguments():
    model = fast_cnn(channels=(4, 8, 12), hidden=20, num_classes=5)

    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 5)
    convolutions = 1 * 4 * 9 + 4 * 8 * 9 + 8 * 12 * 9  # no biases: BatchNorm subtracts the mean
    batch_norms = 2 * (4 + 8 + 12)
    linears = 12 * 9 * 20 + 20 + 20 * 5 + 5
    assert parameter_count(model) == convolutions + batch_norms + linears


def test_pooling_before_batch_norm_and_relu_computes_what_pooling_after_them_does():
    torch.manual_seed(0)
    norm = nn.BatchNorm2d(3).eval()
    with torch.no_grad():  # any statistics, any positive scale
        norm.running_mean.normal_()
        norm.running_var.uniform_(0.5, 2)
        norm.weight.uniform_(0.1, 2)
        norm.bias.normal_()
    features = torch.randn(4, 3, 14, 14)

    pooled_first = nn.Sequential(nn.MaxPool2d(2), norm, nn.ReLU())(features)
    pooled_last = nn.Sequential(norm, nn.ReLU(), nn.MaxPool2d(2))(features)

    torch.testing.assert_close(pooled_first, pooled_last)


@pytest.mark.parametrize(("options", "words"), [
    ({"channels": (16, 32)}, "three convolutions"),
    ({"channels": (16, 0, 64)}, "every entry of channels"),
    ({"hidden": 0}, "hidden"),
    ({"num_classes": 1.5}, "num_classes"),
])
def test_fast_cnn_refuses_sizes_that_are_not_counts(options, words):
    with pytest.raises(CourseError, match=words):
        fast_cnn(**options)


def test_standardize_keeps_its_statistics_in_the_state_dict():
    standardize = Standardize(0.5, 0.25)

    torch.testing.assert_close(standardize(torch.tensor([0.0, 0.5, 1.0])), torch.tensor([-2.0, 0.0, 2.0]))
    assert standardize.state_dict() == {"mean": torch.tensor(0.5), "std": torch.tensor(0.25)}
    with pytest.raises(CourseError, match="std must be positive"):
        Standardize(0.5, 0.0)


def test_fast_cnn_drops_hidden_units_before_its_last_layer_only_when_asked():
    assert not any(isinstance(layer, nn.Dropout) for layer in fast_cnn())
    model = fast_cnn(dropout=0.3)

    assert isinstance(model[-2], nn.Dropout) and model[-2].p == 0.3
    assert isinstance(model[-1], nn.Linear)
    assert parameter_count(model) == 98_554
    with pytest.raises(CourseError, match="dropout"):
        fast_cnn(dropout=1.0)
