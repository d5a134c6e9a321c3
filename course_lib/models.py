"""The PyTorch models of assignments 05–07: an MLP with optional normalisation and dropout,
a residual MLP of pre-norm blocks, re-initialisation of their linear layers, and the
published convolutional networks 06 sets side by side.

The MLPs take flattened inputs, [N, features] (an MNIST batch as
`images.reshape(len(images), -1)`); the convolutional networks take images, [N, 1, 28, 28].
Every model returns [N, classes] logits, except `pytorch_examples_cnn`, which returns
log-probabilities as its original does.
"""
import numbers

import torch
from torch import nn

from .errors import CourseError

NORMS = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}
INIT_SCHEMES = ("default", "kaiming", "xavier", "normal")


def _check_dropout(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise CourseError(f"dropout is the probability of zeroing a unit, from 0 (no dropout) up to "
                          f"but not including 1; got {p!r}")


def _check_count(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise CourseError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def mlp(sizes, *, dropout=0.0, norm=None, activation=nn.ReLU):
    """A `torch.nn.Sequential` MLP through the layer widths `sizes` ([784, 256, 10]: 784
    inputs, one hidden layer of 256, 10 logits).

    Each hidden layer is Linear -> norm -> activation -> Dropout(dropout): `norm` None, "batch"
    (BatchNorm1d) or "layer" (LayerNorm) normalises the pre-activations; Dropout is left out
    when `dropout` is 0. The last Linear has nothing after it: the loss takes logits.
    `activation` is a module class (or any callable returning a module), one instance per layer.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise CourseError(f"sizes needs at least the number of inputs and of outputs, got {sizes}")
    for size in sizes:
        _check_count("every entry of sizes", size)
    if norm is not None and norm not in NORMS:
        raise CourseError(f'norm must be None, "batch" or "layer", got {norm!r}')
    _check_dropout(dropout)
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(nn.Linear(fan_in, fan_out))
        if norm is not None:
            layers.append(NORMS[norm](fan_out))
        layers.append(activation())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class PreNormResidualBlock(nn.Module):
    """x + Dropout(Linear2(ReLU(Linear1(LayerNorm(x))))), widths width -> hidden -> width.

    The block adds a correction to its input instead of replacing it, so the identity
    is always one step away (all of Linear2 zero) and the gradient reaches earlier blocks
    through the sum unchanged; normalising only the branch's input ("pre-norm") keeps that
    direct path free. `hidden` defaults to 2 * width (transformers use 4 * width; 2 keeps
    MNIST runs quick on a CPU).
    """

    def __init__(self, width, hidden=None, *, dropout=0.0):
        super().__init__()
        hidden = 2 * width if hidden is None else hidden
        _check_count("width", width)
        _check_count("hidden", hidden)
        _check_dropout(dropout)
        self.norm = nn.LayerNorm(width)
        self.linear1 = nn.Linear(width, hidden)
        self.activation = nn.ReLU()
        self.linear2 = nn.Linear(hidden, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return x + self.dropout(self.linear2(self.activation(self.linear1(self.norm(x)))))


class ResidualMLP(nn.Module):
    """Linear(in_features, width) -> `depth` PreNormResidualBlocks -> LayerNorm ->
    Linear(width, num_classes). The final LayerNorm normalises the sum the blocks have
    built up, which pre-norm blocks never do themselves."""

    def __init__(self, in_features, width, depth, num_classes, *, dropout=0.0):
        super().__init__()
        _check_count("in_features", in_features)
        _check_count("width", width)
        _check_count("depth", depth, minimum=0)
        _check_count("num_classes", num_classes)
        self.input = nn.Linear(in_features, width)
        self.blocks = nn.Sequential(*(PreNormResidualBlock(width, dropout=dropout) for _ in range(depth)))
        self.norm = nn.LayerNorm(width)
        self.output = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.output(self.norm(self.blocks(self.input(x))))


def init_linear_(model, scheme, *, std=None):
    """Re-initialise the weight of every `nn.Linear` in `model` (in place) and return `model`.

    `scheme`: "default" (torch's own `reset_parameters`, which redraws the bias too),
    "kaiming" (`kaiming_normal_` for ReLU: std sqrt(2 / fan_in)), "xavier" (`xavier_normal_`:
    std sqrt(2 / (fan_in + fan_out))) or "normal" (`normal_(0, std)`). Except for
    "default", the biases are set to zero. The draws come from torch's global generator:
    seed it with `torch.manual_seed` first for the same weights every time.
    """
    if scheme not in INIT_SCHEMES:
        raise CourseError(f"scheme must be one of {', '.join(map(repr, INIT_SCHEMES))}; got {scheme!r}")
    if scheme == "normal":
        if isinstance(std, bool) or not isinstance(std, numbers.Real) or not std > 0:
            raise CourseError(f'scheme "normal" needs std, the standard deviation of the weights (> 0); got {std!r}')
    elif std is not None:
        raise CourseError(f'std belongs to scheme "normal" only; scheme {scheme!r} sets its own spread')
    with torch.no_grad():
        for module in model.modules():
            if not isinstance(module, nn.Linear):
                continue
            if scheme == "default":
                module.reset_parameters()
                continue
            if scheme == "kaiming":
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            elif scheme == "xavier":
                nn.init.xavier_normal_(module.weight)
            else:
                nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def keras_cnn(num_classes=10):
    """The convolutional network of the Keras/TensorFlow tutorials, for [N, 1, 28, 28]
    images: Conv(32, 3×3) → MaxPool(2) → Conv(64, 3×3) → MaxPool(2) → Conv(64, 3×3) →
    Dense(64) → Dense(num_classes), a ReLU after every layer but the last. The image shrinks
    28 → 26 → 13 → 11 → 5 → 3, so the first dense layer sees 64 × 3 × 3 = 576 numbers;
    93 322 parameters for 10 classes."""
    _check_count("num_classes", num_classes)
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
    _check_count("num_classes", num_classes)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, num_classes), nn.LogSoftmax(dim=1),
    )


def fast_cnn(channels=(16, 32, 64), hidden=128, num_classes=10):
    """A convolutional network for [N, 1, 28, 28] images, built for CPU throughput: a
    strided Conv(channels[0], 3×3, stride 2) → BatchNorm → ReLU takes the image straight to
    14 × 14; two stages of Conv(3×3, padding 1) → MaxPool(2) → BatchNorm → ReLU take it to
    7 × 7 and 3 × 3 with channels[1] and channels[2] channels; then Linear(hidden) → ReLU →
    Linear(num_classes).

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
        _check_count("every entry of channels", width)
    _check_count("hidden", hidden)
    _check_count("num_classes", num_classes)
    first, second, third = channels
    return nn.Sequential(
        nn.Conv2d(1, first, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(first), nn.ReLU(),
        nn.Conv2d(first, second, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(second), nn.ReLU(),
        nn.Conv2d(second, third, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(third), nn.ReLU(),
        nn.Flatten(), nn.Linear(third * 3 * 3, hidden), nn.ReLU(), nn.Linear(hidden, num_classes),
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
