"""The check of clipping gradients by their global norm (assignment 05): `clip_grad_norm_`
on a list of numpy arrays, scaled in place, against torch.nn.utils.clip_grad_norm_.

Scenarios, simplest first: one array above the limit; two arrays above it; two below it
(left alone); all zeros (where total_norm is 0); three arrays of 3, 1 and 1 dimensions with
max_norm=0.5. The expected arrays and norm come from torch in float64; the answer without
torch's 1e-6 passes too. On a mismatch the message names the call and the mistake whose
clipping factors reproduce the arrays the answer left (each array clipped by its own norm,
total_norm summed or without its square root, small gradients scaled up, ...) or the value it
returned (the norm after clipping, the factor, ...); otherwise what differs.

The student's function runs through the harness, which hands it the list itself (it is
meant to scale its arrays in place), under the delegation watch: the answer must not run
course_lib's clip_grad_norm_ nor torch's (clip_grad_norm_, get_total_norm,
clip_grads_with_norm_). Tamper-proofing as in the rest of the package: numpy, torch and the
builtins are bound at import, the gradients come from a local generator, and torch's
clip_grad_norm_ runs with the torch functions it looks up put back as they were at import.
"""
import warnings
from builtins import all, bool, enumerate, float, int, isinstance, len, list, tuple, zip
from math import sqrt as _math_sqrt

import torch
from numpy import sqrt as _sqrt
from torch import from_numpy as _from_numpy
from torch.nn.utils import clip_grad_norm_ as _torch_clip_grad_norm_

from course_lib.scratch import regularization as _scratch

from ._trusted import at_import, default_rng, isclose, np, pristine
from .failure import CheckFailure, DelegationFailure, fail, kind_of, listing, number
from .harness import Answer, exercise
from .values import check_array, check_scalar

RTOL = {"float64": 1e-9, "float32": 1e-5}

# What torch.nn.utils.clip_grad_norm_ looks up when it runs; a notebook may have replaced them.
_PRISTINE = (at_import(torch, ("clamp", "stack", "no_grad", "_foreach_norm", "_foreach_mul_"))
             + at_import(torch.linalg, ("vector_norm",)))


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages:
    course_lib's reference, scratch.clip_grad_norm_, also takes torch's norm_type and
    error_if_nonfinite."""

    def clip_grad_norm_(grads, max_norm):
        """Scale the arrays of the list grads in place; return their total norm."""


CLIP_GRAD_NORM = exercise(_Notebook.clip_grad_norm_, mutates=("grads",), forbidden=(
    _scratch.clip_grad_norm_, torch.nn.utils.clip_grad_norm_,
    # defined under private names, which their public ones wrap
    ("torch.nn.utils.get_total_norm", torch.nn.utils.get_total_norm),
    ("torch.nn.utils.clip_grads_with_norm_", torch.nn.utils.clip_grads_with_norm_)))

SCENARIOS = [  # shapes, scale of each array, max_norm
    ([(3, 4)], [1.5], 1.0),
    ([(4, 3), (4,)], [1.5, 0.3], 1.0),
    ([(4, 3), (4,)], [0.2, 0.1], 1.0),
    ([(4, 3), (4,)], [0.0, 0.0], 1.0),
    ([(2, 3, 2), (5,), (1,)], [1.0, 2.0, 0.5], 0.5),
]
DEFAULT_SHAPES, DEFAULT_SCALE, DEFAULT_MAX_NORM = [(4, 3), (4,)], 1.0, 1.0
FORMULA = ("total_norm = the square root of the sum of every entry squared, over all the "
           "arrays together; then g *= min(1, max_norm / (total_norm + 1e-6)) for each "
           "array g (in place); return total_norm.")


def _torch_clip(grads, max_norm):
    """(total norm, clipped float64 copies) from torch.nn.utils.clip_grad_norm_."""
    parameters = []
    for grad in grads:
        parameter = _from_numpy(np.zeros(grad.shape)).requires_grad_()
        parameter.grad = _from_numpy(grad.astype(np.float64))
        parameters.append(parameter)
    with pristine(_PRISTINE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = float(_torch_clip_grad_norm_(parameters, max_norm))
    return total, [parameter.grad.numpy() for parameter in parameters]


def _norms(grads):
    return [float(_sqrt((grad.astype(np.float64) ** 2).sum())) for grad in grads]


def _limited(value):
    """min(1, value)."""
    return value if value < 1 else 1.0


def _clip_variants(grads, max_norm, total):
    """(factor of each array, explanation) for the usual mistakes, after the right answer
    without the 1e-6 (accepted, explanation None)."""
    norms = _norms(grads)
    summed = 0.0
    for norm in norms:
        summed += norm
    return [
        ([_limited(max_norm / total if total else float("inf"))] * len(grads), None),
        ([_limited(max_norm / (norm + 1e-6)) for norm in norms],
         "each array is clipped by its own norm: the limit is on the norm of all the gradients "
         "together, total_norm = sqrt(sum of every array's squared entries), and every array is "
         "scaled by the same min(1, max_norm / (total_norm + 1e-6))."),
        ([max_norm / (total + 1e-6)] * len(grads),
         "the gradients are scaled by max_norm / total_norm even below the limit, which scales "
         "small gradients up: the factor is min(1, max_norm / (total_norm + 1e-6)), so gradients "
         "below max_norm stay as they are."),
        ([_limited(max_norm / (summed + 1e-6))] * len(grads),
         "total_norm is the sum of the arrays' norms: it is the norm of all entries together, "
         "the square root of the sum of the squared norms, sqrt(sum ||g||**2)."),
        ([_limited(max_norm / (_math_sqrt(summed) + 1e-6))] * len(grads),
         "total_norm is the square root of the sum of the arrays' norms: square each norm first, "
         "sqrt(sum ||g||**2)."),
        ([_limited(max_norm / (total * total + 1e-6))] * len(grads),
         "total_norm is the sum of squares without the square root: take np.sqrt of it."),
    ]


def _returned_norm_mistakes(grads, max_norm, total):
    """(wrong value, explanation) pairs for the number returned."""
    norms = _norms(grads)
    squares, summed = 0.0, 0.0
    for norm in norms:
        squares += norm * norm
        summed += norm
    coefficient = _limited(max_norm / (total + 1e-6))
    return [
        (total * coefficient, "that is the norm after clipping: return total_norm as it was "
                              "before, as torch does (it tells how large the gradients were)."),
        (coefficient, "that is the clipping factor: return total_norm, the norm before "
                      "clipping."),
        (squares, "that is the sum of squares: total_norm is its square root."),
        (summed, "that is the sum of the arrays' norms: total_norm is the norm of all entries "
                 "together, sqrt(sum ||g||**2)."),
        (max_norm, "that is max_norm: return total_norm, the norm before clipping."),
    ]


def _all_close(actual, wanted, rtol, atol):
    for a, w in zip(actual, wanted):
        if not isclose(a, w, rtol=rtol, atol=atol).all():
            return False
    return True


def _check_clipped_arrays(call, arrays, originals, max_norm, total, expected, rtol):
    """The arrays the student scaled in place against torch's, or against the right answer
    without the 1e-6; on a mismatch, the mistake whose factors reproduce them."""
    __tracebackhide__ = True
    atol = 1e-12 * (total + 1.0)
    actual = [array.astype(np.float64) for array in arrays]

    def scaled(factors):
        return [factor * original.astype(np.float64)
                for factor, original in zip(factors, originals)]

    variants = _clip_variants(originals, max_norm, total)
    if (_all_close(actual, expected, rtol, atol)
            or _all_close(actual, scaled(variants[0][0]), rtol, atol)):
        return
    for factors, explanation in variants[1:]:
        wrong = scaled(factors)
        if _all_close(actual, wrong, rtol, atol) and not _all_close(wrong, expected, rtol, atol):
            fail(f"{call}: {explanation}")
    for index, (array, wanted) in enumerate(zip(actual, expected)):
        try:
            check_array(f"grads[{index}]", array, wanted, rtol=rtol, atol=atol, hint=FORMULA)
        except CheckFailure as failure:
            raise CheckFailure(f"{call}, after the call: {failure.message}") from None


def _scales_up_to_max_norm(answer, call, originals, max_norm, total):
    """Whether the student's function scales gradients of half the limit's norm up to the
    limit, as min(1, ...) written as max(1, ...) does."""
    half = max_norm / 2
    arrays = [grad * (half / total) for grad in originals]
    before = [array.copy() for array in arrays]
    try:
        answer.run(f"{call}, on gradients of half that norm,", list(arrays), max_norm)
    except DelegationFailure:
        raise
    except CheckFailure:  # a crash here only means no evidence for this mistake
        return False
    for factor in (max_norm / half, max_norm / (half + 1e-6)):
        if _all_close(arrays, [factor * array for array in before], 1e-6, 1e-12):
            return True
    return False


def _any_replaced(grads, arrays):
    """Whether an item of the list passed in is no longer the array it held."""
    for item, array in zip(grads, arrays):
        if item is not array:
            return True
    return False


def _check_unchanged_above_the_limit(answer, call, arrays, originals, max_norm, total, result):
    __tracebackhide__ = True
    unchanged = all(bool((array == original).all()) for array, original in zip(arrays, originals))
    if not unchanged or total <= max_norm:
        return
    if _scales_up_to_max_norm(answer, call, originals, max_norm, total):
        fail(f"{call} left grads unchanged although their total norm {number(total)} is "
             f"above max_norm, and scales gradients below the limit up to max_norm: the factor "
             f"is max(1, ...) instead of min(1, max_norm / (total_norm + 1e-6)).")
    returned = "returned new arrays" if isinstance(result, (list, tuple)) else "left grads unchanged"
    fail(f"{call} {returned}, but their total norm {number(total)} is above max_norm: "
         f"the arrays must be scaled in place. `g = g * factor` in a loop only rebinds "
         f"the loop variable; `g *= factor` changes the caller's array.")


def _scenarios(seed, max_norm, shapes, scale, dtype):
    rng = default_rng(int(seed))
    dtype = np.dtype(dtype or "float64")
    if max_norm is None and shapes is None and scale is None:
        scenarios = SCENARIOS
    else:
        shapes = [tuple(int(size) for size in shape) for shape in (shapes or DEFAULT_SHAPES)]
        scale = DEFAULT_SCALE if scale is None else float(scale)
        scenarios = [(shapes, [scale] * len(shapes),
                      DEFAULT_MAX_NORM if max_norm is None else float(max_norm))]
    return [([np.asarray(rng.standard_normal(shape) * size, dtype=dtype)
              for shape, size in zip(scenario_shapes, scales)], float(scenario_max_norm))
            for scenario_shapes, scales, scenario_max_norm in scenarios]


def check_clip_grad_norm(clip_grad_norm_, *, seed=0, max_norm=None, shapes=None, scale=None,
                         dtype=None):
    """Check `clip_grad_norm_(grads, max_norm)` (scale a list of numpy arrays in place by
    min(1, max_norm / (total_norm + 1e-6)) and return total_norm, the norm of all entries
    before clipping) against torch.nn.utils.clip_grad_norm_ in float64; the answer without
    the 1e-6 passes too, as long as all-zero gradients stay zero. Scenarios: one array above
    the limit; two arrays above it; two below it; all zeros; three arrays of 3, 1 and 1
    dimensions with max_norm=0.5.

    Options: `seed` (the gradients), `dtype` (of the gradients, for every scenario: float32
    ones are compared 1e-5 relative); `shapes` (a list of shapes, default [(4, 3), (4,)]),
    `scale` (the gradients' standard deviation, default 1.0) and `max_norm` (default 1.0) —
    given any of these three, only that scenario runs.
    """
    __tracebackhide__ = True
    answer = Answer(CLIP_GRAD_NORM, clip_grad_norm_)
    for originals, scenario_max_norm in _scenarios(seed, max_norm, shapes, scale, dtype):
        rtol = RTOL[originals[0].dtype.name]
        call = (f"{CLIP_GRAD_NORM.name}(grads, {number(scenario_max_norm)}) with grads a list of "
                f"arrays of shapes {listing([tuple(grad.shape) for grad in originals])}")
        total, expected = _torch_clip(originals, scenario_max_norm)
        arrays = [grad.copy() for grad in originals]
        grads = list(arrays)
        result = answer.run(call, grads, scenario_max_norm)
        if len(grads) != len(arrays) or _any_replaced(grads, arrays):
            fail(f"{call} replaced the arrays in the list grads (grads[i] = ...) instead of "
                 f"scaling them: the caller's arrays, e.g. the values of a dict of gradients, "
                 f"are left as they were. Scale each array in place, g *= factor.")
        _check_unchanged_above_the_limit(answer, call, arrays, originals, scenario_max_norm, total,
                                         result)
        for index, array in enumerate(arrays):
            if not np.isfinite(array).all():
                fail(f"{call} put nan or inf into grads[{index}]"
                     + (": the gradients are all zero, so total_norm is 0, and a division by "
                        "it gives nan or inf — add 1e-6 to total_norm, as torch does."
                        if total == 0 else "."))
        _check_clipped_arrays(call, arrays, originals, scenario_max_norm, total, expected, rtol)
        if isinstance(result, (list, tuple)):
            fail(f"{call} returned {kind_of(result)}: return total_norm, one number (the norm "
                 f"of all the gradients before clipping); the arrays are scaled in place.")
        check_scalar(call, result, total, rtol=rtol, atol=1e-12,
                     known_mistakes=_returned_norm_mistakes(originals, scenario_max_norm, total),
                     hint="return total_norm, the norm of all entries of all the arrays "
                          "together, computed before the arrays are scaled.")
