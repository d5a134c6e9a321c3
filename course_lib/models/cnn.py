"""The convolutional networks of assignment 06, for [N, 1, 28, 28] images: the published
ones it sets side by side and the course's own, built for CPU throughput. Every model
returns [N, classes] logits, except `pytorch_examples_cnn`, which returns log-probabilities
as its original does."""
import torch
from torch import nn

from ..errors import CourseError
from ._checks import check_count, check_dropout


def keras_cnn(num_classes=10):
    """The convolutional network of the Keras/TensorFlow tutorials, for [N, 1, 28, 28]
    images: Conv(32, 3×3) → MaxPool(2) → Conv(64, 3×3) → MaxPool(2) → Conv(64, 3×3) →
    Dense(64) → Dense(num_classes), a ReLU after every layer but the last. The image shrinks
    28 → 26 → 13 → 11 → 5 → 3, so the first dense layer sees 64 × 3 × 3 = 576 numbers;
    93 322 parameters for 10 classes."""
    check_count("num_classes", num_classes)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 3 * 3, 64), nn.ReLU(), nn.Linear(64, num_classes),
    )


def pytorch_examples_cnn(num_classes=10):
    """The network of pytorch/examples' MNIST script, for [N, 1, 28, 28] images: Conv(32, 3×3)
    → Conv(64, 3×3) → MaxPool(2) → Dropout(0.25) → Dense(128) → Dropout(0.5) →
    Dense(num_classes) → log_softmax, ReLU after both convolutions and Dense(128);
    1 199 882 parameters for 10 classes, almost all in Dense(128), which sees
    64 × 12 × 12 = 9 216 numbers. It returns log-probabilities, to be trained with
    `F.nll_loss`: nll_loss of log_softmax is cross_entropy of the logits, so `model[:-1]`
    gives the logits and the same loss with `F.cross_entropy`."""
    check_count("num_classes", num_classes)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, num_classes), nn.LogSoftmax(dim=1),
    )


def fast_cnn(channels=(16, 32, 64), hidden=128, num_classes=10, *, dropout=0.0):
    """A convolutional network for [N, 1, 28, 28] images, built for CPU throughput: a
    strided Conv(channels[0], 3×3, stride 2) → BatchNorm → ReLU takes the image straight to
    14 × 14; two stages of Conv(3×3, padding 1) → MaxPool(2) → BatchNorm → ReLU take it to
    7 × 7 and 3 × 3 with channels[1] and channels[2] channels; then Linear(hidden) → ReLU →
    Dropout(dropout) → Linear(num_classes), the Dropout left out when `dropout` is 0 (so the
    default network's layers and state_dict keys do not change).

    On a CPU, layers at the full 28 × 28 resolution cost far more than their arithmetic:
    with a 3×3 convolution and 2×2 pooling there, pooling's backward pass writes a gradient
    of the whole image (channels × 784 values per image) and the convolution has a single
    input channel to vectorise over. The strided first convolution skips all that. Pooling
    straight after each later convolution, before BatchNorm and ReLU, does the same
    arithmetic on a quarter of the pixels: ReLU and max-pooling commute, and so do BatchNorm
    (a per-channel affine map) and max-pooling while BatchNorm's scale is positive. The
    convolutions need no bias, since BatchNorm subtracts each channel's mean. With the
    defaults a forward pass costs about 1.9 million multiply-adds per image
    (pytorch_examples_cnn: about 12 million); 98 554 parameters for 10 classes."""
    channels = tuple(channels)
    if len(channels) != 3:
        raise CourseError(f"channels gives the widths of the three convolutions, e.g. (16, 32, 64); got {channels!r}")
    for width in channels:
        check_count("every entry of channels", width)
    check_count("hidden", hidden)
    check_count("num_classes", num_classes)
    check_dropout(dropout)
    first, second, third = channels
    return nn.Sequential(
        nn.Conv2d(1, first, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(first), nn.ReLU(),
        nn.Conv2d(first, second, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(second), nn.ReLU(),
        nn.Conv2d(second, third, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(third), nn.ReLU(),
        nn.Flatten(), nn.Linear(third * 3 * 3, hidden), nn.ReLU(),
        *([nn.Dropout(dropout)] if dropout > 0 else []),
        nn.Linear(hidden, num_classes),
    )


class Standardize(nn.Module):
    """(x - mean) / std with a fixed mean and std: the training images' statistics, kept
    in the model (as buffers, saved with its state_dict) so that it takes raw images as they
    come and standardises every split with the training split's numbers."""

    def __init__(self, mean, std):
        super().__init__()
        if not std > 0:
            raise CourseError(f"std must be positive, got {std!r}: constant inputs cannot be standardised")
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, x):
        return (x - self.mean) / self.std
