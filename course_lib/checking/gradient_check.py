"""Check for a numerical gradient by central differences (assignment 02).

`check_numerical_gradient` hands the student's `numerical_gradient(f, x, eps)` a cubic
whose finite differences are all known in closed form, so that a wrong answer can be
matched with the difference it actually computes: forward instead of central, 2·eps
forgotten, a fixed step instead of eps. The answer runs through the harness with f as a
callback of the check's own, and changes x in place by design (the check sees that x is
restored); it must not run course_lib's numerical_gradient or the central differences
behind it.
"""
from builtins import float, int, isinstance, list, tuple

from course_lib.scratch import gradcheck as _gradcheck

from ._trusted import as_index, default_rng, isclose, np
from .failure import fail, listing, number
from .harness import Answer, exercise, trusted
from .values import check_array

NUMERICAL_GRADIENT = exercise(_gradcheck.numerical_gradient, mutates=("x",),
                              forbidden=(_gradcheck._partial_derivatives,))

DEFAULT_EPS = 1e-6  # the signature's default
# The eps the check passes: large enough that a forward difference, or a central one with
# another step, misses the central difference for this eps by far more than rounding does.
TEST_EPS = 1e-2
MACHINE_EPSILON = 2.2e-16


class _Cubic:
    """f(x) = Σ a_i x_i³ / 3 + (w · x)² / 2 on arrays of one shape, and its differences.

    Along entry i, with t = x_i, s = w · x and step h, the exact gradient is
    g_i = a_i t² + w_i s, and
        central  (f(x + h e_i) - f(x - h e_i)) / 2h = g_i + a_i h² / 3
        forward  (f(x + h e_i) - f(x)) / h          = central + h (a_i t + w_i² / 2)
        backward (f(x) - f(x - h e_i)) / h          = central - h (a_i t + w_i² / 2)
    where h (a_i t + w_i² / 2) = h f''_ii / 2: the one-sided differences err in proportion
    to h, the central one in proportion to h².
    """

    def __init__(self, rng, shape):
        # |a_i| >= 0.5, so that every central difference moves visibly with h
        self.a = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        self.w = rng.standard_normal(shape)
        self.shape = tuple(shape)

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape != self.shape:
            fail(f"numerical_gradient called f with an array of shape {x.shape}, but x has "
                 f"shape {self.shape}: call f with the whole x, one entry perturbed.")
        return float((self.a * x ** 3).sum() / 3 + (self.w * x).sum() ** 2 / 2)

    def gradient(self, x):
        return self.a * x ** 2 + self.w * (self.w * x).sum()

    def central(self, x, h):
        return self.gradient(x) + self.a * h ** 2 / 3

    def one_sided_error(self, x, h):
        """forward - central; central - backward."""
        return h * (self.a * x + self.w ** 2 / 2)

    def rounding(self, x, h):
        """How far rounding in f's evaluation may move a difference with step h."""
        size_of_terms = (np.absolute(self.a * x ** 3).sum() / 3
                         + np.absolute(self.w * x).sum() ** 2 / 2)
        return 1e3 * MACHINE_EPSILON * (1 + size_of_terms) / h


def _check_x_restored(x, x_before, call):
    changed = ~isclose(x, x_before, rtol=1e-12, atol=1e-14)
    if not changed.any():
        return
    first = as_index(np.flatnonzero(changed)[0], x.shape)
    fail(f"{call} changed x: x{list(first)} is {number(x[first])} after the call but was "
         f"{number(x_before[first])} before ({int(changed.sum())} of {x.size} entries "
         f"changed). Put each entry back after perturbing it: old = x[i]; x[i] = old + eps; "
         f"...; x[i] = old - eps; ...; x[i] = old.")


def _check_form(actual, expected, call):
    """Right values in the wrong shape, and float32, get their own messages; other problems
    check_array's."""
    if isinstance(actual, np.ndarray) and actual.dtype == np.float32:
        fail(f"{call} has dtype float32 but should have dtype float64, like x: store the "
             f"differences in np.zeros_like(x). float32 keeps only about 7 digits, fewer than "
             f"a gradient check needs.")
    if (isinstance(actual, np.ndarray) and actual.shape != expected.shape
            and actual.size == expected.size and actual.dtype.kind in "iuf"
            and isclose(actual.reshape(expected.shape), expected, rtol=1e-6, atol=1e-6).all()):
        fail(f"{call} has shape {actual.shape} but should have the shape of x, "
             f"{expected.shape}: the values are right, so return grad.reshape(x.shape), or "
             f"start from grad = np.zeros_like(x).")


def _check_every_entry_visited(actual, expected, call, atol):
    if not (isinstance(actual, np.ndarray) and actual.shape == expected.shape
            and actual.dtype.kind == "f" and actual.size >= 2):
        return
    if (actual == 0).all():
        fail(f"{call} is all zeros: f gave the same value on both sides of every entry, or the "
             f"differences were never stored. If x_plus = x and x_minus = x, both are x itself, "
             f"not copies, so the two nudges cancel before f is called: use x.copy(), or nudge "
             f"x[i], call f, and put x[i] back before the next nudge.")
    if (actual == actual.flat[0]).all() and not (expected == expected.flat[0]).all():
        fail(f"{call} gave every entry the same value, {number(actual.flat[0])}: perturb one "
             f"entry at a time. f(x + eps) moves all entries at once and measures the slope "
             f"along all of them together.")
    skipped = (actual == 0) & (np.absolute(expected) > atol)
    rest_right = isclose(actual[~skipped], expected[~skipped], rtol=1e-6, atol=atol).all()
    if skipped.any() and not skipped.all() and rest_right:
        positions = [list(as_index(i, actual.shape)) for i in np.flatnonzero(skipped)]
        fail(f"{call} left {int(skipped.sum())} of {actual.size} entries at 0, at "
             f"{listing(positions, limit=3)}; the others are right, so the loop does not "
             f"reach every entry. For a 2-D x, range(len(x)) covers only the first axis: "
             f"loop over np.ndindex(x.shape), or over range(x.size) with x.flat[i].")


def check_numerical_gradient(numerical_gradient, *, seed=0, shape=(3, 4)):
    """Run `numerical_gradient(f, x, eps=0.01)` and `numerical_gradient(f, x)` on a float64
    x of `shape` and a smooth f: central differences for every entry, for the eps passed
    (and 1e-6 by default), returned in x's shape, with x as it was afterwards."""
    __tracebackhide__ = True
    answer = Answer(NUMERICAL_GRADIENT, numerical_gradient)
    rng = default_rng(seed)
    f = _Cubic(rng, shape)
    x_before = rng.standard_normal(shape)

    h = TEST_EPS
    x = x_before.copy()
    call = answer.words(f, x, eps=h)
    actual = answer.run(call, trusted(f), x, eps=h)
    _check_x_restored(x, x_before, call)
    central = f.central(x_before, h)
    one_sided = f.one_sided_error(x_before, h)
    atol = f.rounding(x_before, h)
    _check_form(actual, central, call)
    _check_every_entry_visited(actual, central, call, atol)
    fixed_step = f.central(x_before, DEFAULT_EPS)
    check_array(call, actual, central, rtol=1e-7, atol=atol, dtype=np.float64, known_mistakes=[
        (central + one_sided,
         "these are forward differences, (f(x + eps) - f(x)) / eps, which are off by about "
         "eps·f''/2 — an error proportional to eps. The central difference "
         "(f(x + eps) - f(x - eps)) / (2·eps) cancels that term and errs only in proportion "
         "to eps², so evaluate f on both sides of x."),
        (central - one_sided,
         "these are backward differences, (f(x) - f(x - eps)) / eps, which are off by about "
         "eps·f''/2. The central difference (f(x + eps) - f(x - eps)) / (2·eps) cancels "
         "that error, so evaluate f on both sides of x."),
        ((central + one_sided) / 2,
         "these are (f(x + eps) - f(x)) / (2·eps): f(x - eps) was evaluated at x itself. "
         "x_minus = x makes no copy — x_plus, x_minus and x are one array, so the second nudge "
         "undid the first. Use x.copy(), or nudge x[i], call f, and put x[i] back."),
        (2 * central,
         "each is twice the central difference: divide by 2*eps — the two evaluations, "
         "at x + eps and x - eps, are 2*eps apart."),
        (central * h ** 2,
         "(f(x + eps) - f(x - eps)) / 2 * eps multiplies by eps instead of dividing by it: "
         "write / (2 * eps)."),
        (fixed_step,
         f"these are central differences for eps={DEFAULT_EPS}, not for the eps={h} passed "
         f"in: use the eps argument rather than a fixed step."),
        (fixed_step + f.one_sided_error(x_before, DEFAULT_EPS),
         f"these are forward differences with a fixed step of {DEFAULT_EPS}: use the eps "
         f"argument, and central differences (f(x + eps) - f(x - eps)) / (2·eps)."),
    ])

    x = x_before.copy()
    call = answer.words(f, x)
    actual = answer.run(call, trusted(f), x)
    _check_x_restored(x, x_before, call)
    check_array(call, actual, f.central(x_before, DEFAULT_EPS), rtol=1e-6,
                atol=f.rounding(x_before, DEFAULT_EPS), dtype=np.float64,
                hint=f"called without eps, numerical_gradient should use the default "
                     f"eps={DEFAULT_EPS}, as in its signature numerical_gradient(f, x, "
                     f"eps={DEFAULT_EPS}).")
