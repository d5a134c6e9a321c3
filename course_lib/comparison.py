"""Say whether two computations agree, in words that are the same on every machine.

The last bits of a floating-point result depend on summation order, which changes with the
number of threads and the BLAS library. A notebook that prints a difference of 5.6e-17, or
a value to its last digit, shows other digits on the next machine, and its stored output no
longer matches. `agreement` reports such a comparison against a tolerance instead: "agree
to within 1e-12", or, when the difference is real, its size to two digits.
"""
import numpy as np
import torch


def _values(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    if isinstance(x, (list, tuple)):
        return np.concatenate([_values(part).ravel() for part in x]) if x else np.zeros(0)
    return np.asarray(x, dtype=np.float64)


def largest_difference(a, b, *, relative=False):
    """max |a - b| over all entries (arrays, tensors, numbers, or lists of them); with
    `relative`, divided by max |b|."""
    a, b = _values(a), _values(b)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare values of shapes {a.shape} and {b.shape}")
    difference = float(np.max(np.abs(a - b))) if a.size else 0.0
    if relative:
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        return difference / scale if scale else difference
    return difference


def agreement(a, b, *, within, relative=False):
    """'agree to within 1e-12' when the largest difference is below `within`, else
    'differ by up to 4.1e-02' (with `relative`, differences are relative to max |b|)."""
    difference = largest_difference(a, b, relative=relative)
    kind = " (relative)" if relative else ""
    if difference < within:
        return f"agree to within {within:g}{kind}"
    return f"differ by up to {difference:.1e}{kind}"
