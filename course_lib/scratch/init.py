"""Weight initialisation in numpy, mirroring `torch.nn.init`: same names, arguments, defaults,
formulas and errors.

Every `*_` function fills a numpy array in place, keeping its dtype, and returns that same
array. Random numbers come from `generator`, a `np.random.Generator` (None: a fresh
`np.random.default_rng()`), so a seeded generator gives the same weights every time; they
are drawn in float64 and rounded into the array's dtype on assignment.
"""
import math

import numpy as np

LINEAR_FUNCTIONS = ("linear", "conv1d", "conv2d", "conv3d",
                    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The factor by which `nonlinearity` should scale the weights' standard deviation, as
    `torch.nn.init.calculate_gain`; `param` is leaky_relu's negative slope (default 0.01)."""
    if nonlinearity in LINEAR_FUNCTIONS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        # ReLU zeroes half of a symmetric input, halving its second moment; sqrt(2) restores it
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # torch's empirical value
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight [out, in, *kernel], as torch's `_calculate_fan_in_and_fan_out`:
    the inputs feeding, and the outputs fed by, one weight's neighbourhood."""
    shape = np.shape(tensor)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field_size = math.prod(shape[2:])
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()  # as torch: "FAN_OUT" works too
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    tensor[...] = values  # in place, rounded into the tensor's own dtype
    return tensor


def _rng(generator):
    return np.random.default_rng() if generator is None else generator


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b), as `torch.nn.init.uniform_`."""
    return _fill(tensor, _rng(generator).uniform(a, b, np.shape(tensor)))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2), as `torch.nn.init.normal_`."""
    return _fill(tensor, _rng(generator).normal(mean, std, np.shape(tensor)))


def zeros_(tensor):
    """Fill with 0, as `torch.nn.init.zeros_`."""
    return _fill(tensor, 0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)), as `torch.nn.init.xavier_uniform_`
    (Glorot & Bengio, 2010): the variance a^2 / 3 = gain^2 * 2 / (fan_in + fan_out)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # U(-bound, bound) has standard deviation bound / sqrt(3)
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)), as `torch.nn.init.xavier_normal_`."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan_mode), as `torch.nn.init.kaiming_uniform_`
    (He et al., 2015); `a` is the negative slope of leaky_relu (0: plain ReLU's gain sqrt(2))."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan_mode), as `torch.nn.init.kaiming_normal_`."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times `gain`, as `torch.nn.init.orthogonal_` (Saxe et al., 2013).

    Dimensions after the first are flattened: rows = shape[0], columns = the rest. The
    rows are orthonormal if there are fewer of them than columns, else the columns are.
    """
    if np.ndim(tensor) < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if np.size(tensor) == 0:
        return tensor
    rows = np.shape(tensor)[0]
    flattened = _rng(generator).standard_normal((rows, np.size(tensor) // rows))
    wide = rows < flattened.shape[1]
    q, r = np.linalg.qr(flattened.T if wide else flattened)
    # Q's columns are only fixed up to sign; making diag(R) positive makes Q uniformly
    # distributed over orthogonal matrices (Mezzadri, 2007), as torch does.
    q *= np.sign(np.diag(r))
    return _fill(tensor, gain * (q.T if wide else q).reshape(np.shape(tensor)))
