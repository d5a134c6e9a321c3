"""The MLPs of assignments 05–07: an MLP with optional normalisation and dropout, a residual
MLP of pre-norm blocks, and re-initialisation of their linear layers. They take flattened
inputs, [N, features] (an MNIST batch as `images.reshape(len(images), -1)`), and return
[N, classes] logits."""
import numbers

import torch
from torch import nn

from ..errors import CourseError
from ._checks import check_count, check_dropout

NORMS = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}
INIT_SCHEMES = ("default", "kaiming", "xavier", "normal")


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
        check_count("every entry of sizes", size)
    if norm is not None and norm not in NORMS:
        raise CourseError(f'norm must be None, "batch" or "layer", got {norm!r}')
    check_dropout(dropout)
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
        check_count("width", width)
        check_count("hidden", hidden)
        check_dropout(dropout)
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
        check_count("in_features", in_features)
        check_count("width", width)
        check_count("depth", depth, minimum=0)
        check_count("num_classes", num_classes)
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
