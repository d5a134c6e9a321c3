"""The gradient of what an answer returned with respect to a tensor the check gave it, and the
report of the first scenario where it is wrong.

The harness hands the answer a copy of each tensor argument (`arguments.copied`), and a copy of
a tensor that requires grad is a new leaf of autograd's graph: the check finds it among the
leaves the answer's result was computed from, by its shape, and differentiates the result
with respect to it — what `loss.backward()` would put in that tensor's `.grad`.
Everything it uses is bound at import (see the package docstring).
"""
from builtins import all, bool, getattr, len, set, tuple

from torch import enable_grad as _enable_grad
from torch import float64 as _torch_float64
from torch.autograd import grad as _autograd_grad

from ._trusted import isclose
from .failure import CheckFailure, fail
from .values import check_array


def leaves(output):
    """The tensors requiring grad that `output` was computed from: the leaves of its graph."""
    nodes, seen, found = [output.grad_fn], set(), []
    while nodes:
        node = nodes.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)  # an AccumulateGrad node holds its leaf
        if variable is not None:
            found.append(variable)
        nodes += [parent for parent, _ in node.next_functions]
    return found


def input_gradient(context, output, name, shape, *, grad_output=None, what="a loss", hint=None):
    """The gradient of `output` with respect to the argument `name` of `shape` it was computed
    from — weighted by `grad_output`, which `output.backward(grad_output)` would take, when
    `output` is not a single number. Fails, in the words of `context` (the call) and `what`
    (what the answer returned: "a loss"), when autograd cannot get there from `output`."""
    __tracebackhide__ = True
    if not output.requires_grad:
        fail(f"{context} returned {what} autograd cannot differentiate (requires_grad=False): it was "
             f"computed outside autograd's graph — from {name}.detach(), .item(), .numpy(), torch.tensor(...) "
             f"of numbers, or under torch.no_grad() — so loss.backward() could not train a network through "
             f"it. Compute it from {name} with torch operations.", hint)
    given = [leaf for leaf in leaves(output) if tuple(leaf.shape) == tuple(shape)]
    if len(given) != 1:
        fail(f"{context} returned {what} whose graph does not lead back to {name}: compute it from {name} "
             f"itself, with torch operations.", hint)
    with _enable_grad():
        return _autograd_grad(output, given, grad_outputs=grad_output)[0]


def agrees(value, wanted, tolerance):
    """Whether two tensors agree within tolerance = (rtol, atol), compared in float64, nan equal
    to nan."""
    rtol, atol = tolerance
    return bool(isclose(value.detach().to(_torch_float64).numpy(), wanted.detach().to(_torch_float64).numpy(),
                        rtol=rtol, atol=atol).all())


def report_gradient(runs, tolerances, *, name, lead, expected, hint, variants=()):
    """Fail on the first of `runs` (each with its context, dtype, gradient and expected_gradient)
    whose gradient is wrong, within `tolerances[dtype]`: with the explanation of the first of
    `variants` — (gradient(run), explanation) pairs, a right result reached by a wrong way back —
    that gives every run's gradient, or else with what differs in `name` ("input.grad"), after
    `lead` ("the loss is right, but after loss.backward()") and before `expected`, the sentence
    saying what was expected."""
    __tracebackhide__ = True
    wrong = [run for run in runs if not agrees(run.gradient, run.expected_gradient, tolerances[run.dtype])]
    if not wrong:
        return
    first = wrong[0]
    for gradient, explanation in variants:
        if all(agrees(run.gradient, gradient(run), tolerances[run.dtype]) for run in runs):
            fail(f"{first.context}: {explanation}", hint)
    rtol, atol = tolerances[first.dtype]
    try:
        check_array(name, first.gradient, first.expected_gradient.to(first.dtype), rtol=rtol, atol=atol)
    except CheckFailure as failure:
        fail(f"{first.context}: {lead} {failure.message} {expected}", hint)
