"""Gradient checking: compare a backward pass with the slope measured by nudging each input.

The numbers come from central differences (f(x + eps) - f(x - eps)) / (2 eps), whose error
shrinks like eps^2, against eps / 2 for the one-sided difference. It is the numpy
counterpart of `torch.autograd.gradcheck`, which also uses central differences with
eps=1e-6 on float64; unlike it, these functions report the relative error instead of
asserting a tolerance.
"""
import numpy as np


def _partial_derivatives(f, x, flat_indices, eps):
    """Central differences of f at x along the entries `flat_indices` of x, nudging x in place."""
    derivatives = np.empty(len(flat_indices))
    for position, flat_index in enumerate(flat_indices):
        index = np.unravel_index(flat_index, x.shape)
        original = x[index]
        try:
            x[index] = original + eps
            plus = float(f(x))
            x[index] = original - eps
            minus = float(f(x))
        finally:
            # the saved value, not x - eps + eps, which floating point may round elsewhere
            x[index] = original
        derivatives[position] = (plus - minus) / (2 * eps)
    return derivatives


def _check_float64(name, x):
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        # In float32 a nudge of 1e-6 is lost to rounding (its spacing near 1 is 1.2e-7).
        raise ValueError(f"{name} must be a float64 numpy array to be nudged by eps in place, "
                         f"got {type(x).__name__} of dtype {getattr(x, 'dtype', None)}")


def numerical_gradient(f, x, eps=1e-6):
    """The gradient of f(x) -> float by central differences, one entry of x at a time.

    x, a float64 array, is nudged in place and restored bit for bit, so f may read it.
    """
    _check_float64("x", x)
    return _partial_derivatives(f, x, range(x.size), eps).reshape(x.shape)


def relative_error(analytic, numerical):
    """||a - n|| / max(||a||, ||n||) with Euclidean norms over all entries; 0 when both are 0.

    A norm, not the worst entry's ratio: central differences measure every entry to about
    1e-10 absolute (rounding in f), so an entry whose true gradient is 1e-9 has a large
    ratio of its own even when the backward pass is right, while its share of the norm is
    negligible. Read it as: ~1e-7 or less right, above 1e-2 wrong.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    if analytic.shape != numerical.shape:
        raise ValueError(f"analytic and numerical gradients must have the same shape, "
                         f"got {analytic.shape} and {numerical.shape}")
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numerical))
    return float(np.linalg.norm(analytic - numerical) / scale) if scale > 0 else 0.0


def gradient_check(f, params, grads, *, eps=1e-6, max_entries=None, rng=None):
    """{name: relative error between grads[name] and the numerical gradient of f() in params[name]}.

    f() computes the loss from the arrays in `params`, which are nudged in place (and
    restored). With `max_entries`, only that many entries per array, chosen by `rng`
    (None: a fresh `np.random.default_rng()`), are checked: each costs two calls of f.
    """
    if params.keys() != grads.keys():
        raise ValueError(f"params and grads must have the same names, "
                         f"got {sorted(params)} and {sorted(grads)}")
    rng = np.random.default_rng() if rng is None else rng
    errors = {}
    for name, param in params.items():
        _check_float64(f"params[{name!r}]", param)
        grad = np.asarray(grads[name])
        if grad.shape != param.shape:
            raise ValueError(f"grads[{name!r}] has shape {grad.shape} but params[{name!r}] {param.shape}")
        if max_entries is None or max_entries >= param.size:
            flat_indices = np.arange(param.size)
        else:
            flat_indices = np.sort(rng.choice(param.size, size=max_entries, replace=False))
        numerical = _partial_derivatives(lambda _: f(), param, flat_indices, eps)
        errors[name] = relative_error(grad.reshape(-1)[flat_indices], numerical)
    return errors
