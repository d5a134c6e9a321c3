"""Convolution and max pooling in numpy, mirroring torch (assignment 06).

- `conv_output_size` and `pool_output_size`: the length of one spatial dimension after a
  convolution (torch.nn.Conv2d's formula) or a pooling (torch.nn.MaxPool2d's, with ceil_mode).
- `unfold` (im2col) mirrors `torch.nn.functional.unfold`, argument order included; `conv2d`
  mirrors `F.conv2d` as one matrix product per group on the unfolded input; `max_pool2d`
  mirrors `F.max_pool2d`.
- `receptive_field`: how many input pixels one output pixel of a stack of convolutions and
  poolings sees, and how far apart neighbouring output pixels look (the jump).

Like torch, these compute cross-correlation (the kernel is not flipped), take a kernel_size,
stride, padding and dilation as an int (both dimensions) or an (H, W) pair, and accept a
batch [N, C, H, W] or a single image [C, H, W].
"""
import numbers
from typing import NamedTuple

import numpy as np


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _at_least(name, value, minimum):
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _pair(name, value, minimum):
    """(H, W) from an int (both dimensions) or a pair, each at least `minimum`."""
    values = (value, value) if _is_int(value) else tuple(value)
    if len(values) != 2:
        raise ValueError(f"{name} must be an int or a pair (H, W), got {value!r}")
    return tuple(_at_least(name, part, minimum) for part in values)


def _effective_kernel(kernel_size, dilation):
    """The span of a dilated kernel: its taps sit `dilation` apart."""
    return dilation * (kernel_size - 1) + 1


# ------------------------------------------------------------------------ output sizes

def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The output length of one spatial dimension of a convolution, as torch.nn.Conv2d's docs:

        floor((input_size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1

    The padded input is input_size + 2 * padding long (padding on both sides), the dilated
    kernel spans dilation * (kernel_size - 1) + 1 of it, and it starts at every stride-th
    position where it still fits. Raises ValueError if it fits nowhere.
    """
    input_size = _at_least("input_size", input_size, 1)
    kernel_size = _at_least("kernel_size", kernel_size, 1)
    stride = _at_least("stride", stride, 1)
    padding = _at_least("padding", padding, 0)
    dilation = _at_least("dilation", dilation, 1)
    span = _effective_kernel(kernel_size, dilation)
    padded = input_size + 2 * padding
    if span > padded:
        raise ValueError(
            f"the kernel spans {span} positions (kernel_size={kernel_size}, dilation={dilation}) "
            f"but the padded input has only {padded} (input_size={input_size} + 2 * "
            f"padding={padding}): the output would be empty. Use a smaller kernel_size or "
            f"dilation, or more padding.")
    return (padded - span) // stride + 1


def pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1,
                     ceil_mode=False):
    """The output length of one spatial dimension of a pooling, as torch.nn.MaxPool2d's docs.

    stride defaults to kernel_size (windows side by side). The formula is conv_output_size's,
    rounded up with ceil_mode=True — so a last, partial window at the end counts — except that
    a window must start inside the input or the left padding: one starting in the right
    padding would see only padding, and is dropped. torch also requires padding <=
    kernel_size // 2, else some windows would lie in the padding alone.
    """
    stride = kernel_size if stride is None else stride
    size = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    if padding > kernel_size // 2:
        raise ValueError(
            f"padding={padding} is more than half of kernel_size={kernel_size}: pooling "
            f"windows would see nothing but padding. Use padding <= {kernel_size // 2}, as "
            f"torch requires.")
    if ceil_mode:
        span = _effective_kernel(kernel_size, dilation)
        size = -(-(input_size + 2 * padding - span) // stride) + 1
        # a last window that would start in the right padding is dropped
        if (size - 1) * stride >= input_size + padding:
            size -= 1
    return size


# ------------------------------------------------------------------------------ im2col

def _batched(input, function_name):
    """(input as [N, C, H, W], whether it was one image [C, H, W])."""
    input = np.asarray(input)
    if input.ndim not in (3, 4):
        raise ValueError(f"{function_name} expects input [N, C, H, W] or [C, H, W], got shape "
                         f"{input.shape}")
    return (input[None], True) if input.ndim == 3 else (input, False)


def _windows(padded, kernel_size, dilation, stride, output_size):
    """[N, C, kH, kW, H_out, W_out]: entry [..., i, j, y, x] is the kernel tap (i, j) of the
    window at output position (y, x), read from the already padded input [N, C, H, W]."""
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel_size, dilation, stride, output_size
    n, c = padded.shape[:2]
    windows = np.empty((n, c, kh, kw, oh, ow), dtype=padded.dtype)
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            windows[:, :, i, j] = padded[:, :, top:top + sh * (oh - 1) + 1:sh,
                                         left:left + sw * (ow - 1) + 1:sw]
    return windows


def _pad(input, before, after, value=0):
    """input [N, C, H, W] padded by before = (top, left) and after = (bottom, right)."""
    widths = ((0, 0), (0, 0), (before[0], after[0]), (before[1], after[1]))
    return np.pad(input, widths, constant_values=value)


def _conv_sizes(spatial, kernel_size, stride, padding, dilation):
    """(H_out, W_out) of a convolution with the same padding on both sides of each dimension."""
    return tuple(conv_output_size(*dimension)
                 for dimension in zip(spatial, kernel_size, stride, padding, dilation))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding windows of input [N, C, H, W] as columns, as `F.unfold` (im2col):
    [N, C * kH * kW, L], L = H_out * W_out windows in row-major order, each column the window's
    C * kH * kW values in (C, kH, kW) order — the order of conv2d's weight flattened.
    One image [C, H, W] gives [C * kH * kW, L].
    """
    input, single = _batched(input, "unfold")
    kernel_size, dilation = _pair("kernel_size", kernel_size, 1), _pair("dilation", dilation, 1)
    padding, stride = _pair("padding", padding, 0), _pair("stride", stride, 1)
    output_size = _conv_sizes(input.shape[2:], kernel_size, stride, padding, dilation)
    windows = _windows(_pad(input, padding, padding), kernel_size, dilation, stride, output_size)
    n, c = input.shape[:2]
    columns = windows.reshape(n, c * kernel_size[0] * kernel_size[1], -1)
    return columns[0] if single else columns


def _conv_padding(padding, kernel_size, stride, dilation):
    """(before, after) pairs for padding given as an int, a pair, 'valid' or 'same'."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions: use "
                             "stride=1 or give the padding as numbers")
        # the kernel's span minus one is padded, the odd one out at the end (as torch)
        total = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
        before = tuple(extra // 2 for extra in total)
        return before, tuple(extra - half for extra, half in zip(total, before))
    if isinstance(padding, str):
        raise ValueError(f"padding must be 'valid', 'same', an int or a pair, got {padding!r}")
    padding = _pair("padding", padding, 0)
    return padding, padding


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation), as `F.conv2d`: input [N, C_in, H, W] (or one image
    [C_in, H, W]), weight [C_out, C_in / groups, kH, kW], bias [C_out] → [N, C_out, H_out, W_out].

    im2col: every window of the input becomes a column of `unfold`, so the convolution is one
    matrix product, weight [C_out, C_in * kH * kW] @ columns [C_in * kH * kW, L]. With groups,
    the channels split into `groups` blocks, and output block g sees only input block g.
    padding may also be 'valid' (none) or 'same' (output as large as the input; stride 1).
    """
    input, single = _batched(input, "conv2d")
    weight = np.asarray(weight)
    if weight.ndim != 4:
        raise ValueError(f"weight must be [C_out, C_in / groups, kH, kW], got shape {weight.shape}")
    groups = _at_least("groups", groups, 1)
    n, c_in = input.shape[:2]
    c_out, c_group, kh, kw = weight.shape
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide both the input channels ({c_in}) and the "
                         f"output channels ({c_out})")
    if c_group * groups != c_in:
        raise ValueError(f"weight of shape {weight.shape} expects {c_group * groups} input "
                         f"channels with groups={groups}, but the input has {c_in}")
    if bias is not None and np.shape(bias) != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},), got {np.shape(bias)}")
    stride, dilation = _pair("stride", stride, 1), _pair("dilation", dilation, 1)
    before, after = _conv_padding(padding, (kh, kw), stride, dilation)
    if before == after:
        output_size = _conv_sizes(input.shape[2:], (kh, kw), stride, before, dilation)
    else:  # 'same', by definition
        output_size = input.shape[2:]
    windows = _windows(_pad(input, before, after), (kh, kw), dilation, stride, output_size)
    # columns [N, groups, C_in / groups * kH * kW, L], kernels [groups, C_out / groups, same]
    columns = windows.reshape(n, groups, c_group * kh * kw, -1)
    kernels = weight.reshape(groups, c_out // groups, c_group * kh * kw)
    output = (kernels @ columns).reshape(n, c_out, *output_size)
    if bias is not None:
        output = output + np.asarray(bias).reshape(1, c_out, 1, 1)
    return output[0] if single else output


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling, as `F.max_pool2d`: the largest value of each (dilated) window of input
    [N, C, H, W] (or [C, H, W]), per channel. stride defaults to kernel_size; padding counts
    as -inf (the smallest integer for integer input: it never wins); ceil_mode keeps a last,
    partial window (see pool_output_size).
    A nan in a window makes its maximum nan, as in torch.

    Deviation: return_indices is not supported.
    """
    input, single = _batched(input, "max_pool2d")
    if np.issubdtype(input.dtype, np.floating):
        never_wins = -np.inf
    elif np.issubdtype(input.dtype, np.integer):
        never_wins = np.iinfo(input.dtype).min
    else:
        raise TypeError(f"max_pool2d expects numbers, got dtype {input.dtype}")
    kernel_size = _pair("kernel_size", kernel_size, 1)
    stride = kernel_size if stride is None else _pair("stride", stride, 1)
    padding, dilation = _pair("padding", padding, 0), _pair("dilation", dilation, 1)
    output_size = tuple(
        pool_output_size(size, kernel, step, pad, dil, ceil_mode) for size, kernel, step, pad, dil
        in zip(input.shape[2:], kernel_size, stride, padding, dilation))
    # with ceil_mode the last window may reach past the right padding: pad that far too
    after = tuple(max(pad, (out - 1) * step + _effective_kernel(kernel, dil) - size - pad)
                  for out, step, kernel, dil, size, pad
                  in zip(output_size, stride, kernel_size, dilation, input.shape[2:], padding))
    padded = _pad(input, padding, after, value=never_wins)
    output = _windows(padded, kernel_size, dilation, stride, output_size).max(axis=(2, 3))
    return output[0] if single else output


# --------------------------------------------------------------------- receptive field

class ReceptiveField(NamedTuple):
    size: int  # how many input positions (along one dimension) one output position sees
    jump: int  # how far apart in the input neighbouring output positions look


def receptive_field(layers):
    """The receptive field of a stack of convolutions and poolings along one dimension.

    `layers`: (kernel_size, stride) or (kernel_size, stride, dilation) per layer, first layer
    first. Starting from one input pixel (size 1, jump 1), each layer widens the field by
    (its kernel's span - 1) steps of the jump so far, and multiplies the jump by its stride:

        size_l = size_(l-1) + dilation_l * (kernel_size_l - 1) * jump_(l-1)
        jump_l = jump_(l-1) * stride_l

    The size is the span from the first to the last input position the output depends on; a
    dilated kernel, or a stride larger than the kernel below a layer, leaves positions inside
    it unseen. Padding moves where the field lies, not its size (near the border part of it is
    padding).
    """
    size, jump = 1, 1
    for layer in layers:
        if len(layer) not in (2, 3):
            raise ValueError(f"each layer is (kernel_size, stride) or (kernel_size, stride, "
                             f"dilation), got {layer!r}")
        kernel_size, stride, dilation = (*layer, 1)[:3]
        kernel_size = _at_least("kernel_size", kernel_size, 1)
        stride, dilation = _at_least("stride", stride, 1), _at_least("dilation", dilation, 1)
        size += dilation * (kernel_size - 1) * jump
        jump *= stride
    return ReceptiveField(size, jump)
