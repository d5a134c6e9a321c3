"""Checks for backpropagation in numpy (assignment 02): the backward passes of a linear
layer, a ReLU, the cross-entropy and a whole MLP.

Each check runs the student's numpy function on small float64 inputs drawn from its own
generator (`seed=`; sizes are arguments too), then on extreme ones — logits of ±1000, a
ReLU input of exactly 0 — and compares with autograd through torch. A failure names the
wrong quantity ("dW2", "grad_bias"), how it is wrong (shape, dtype, nan, a factor, a sign)
and the likely cause, recognising the usual mistakes by recomputing them.
`check_gradients` compares a dict of named gradients; later assignments use it too.

The answers run through the harness, on copies of their inputs, and must not run their
course_lib reference or autograd: the gradients are to be derived by hand. The building
blocks the answer cells hand out (the reference softmax, linear_backward and relu_backward)
are allowed. The torch functions used as oracles are bound here at import (see the package
docstring), and the inputs come from a local numpy Generator, so the student's global random
states stay untouched.
"""
from builtins import all, dict, enumerate, isinstance, len, list, range, sorted, str, tuple, zip
from itertools import permutations

from torch import enable_grad as _enable_grad
from torch import from_numpy as _from_numpy
from torch import relu as _torch_relu
from torch import softmax as _torch_softmax
from torch.autograd import grad as _autograd_grad
from torch.nn.functional import cross_entropy as _torch_cross_entropy
from torch.nn.functional import linear as _torch_linear

from course_lib.scratch import backward as _backward
from course_lib.scratch import mlp as _mlp

from ._trusted import default_rng, isclose, np
from .failure import fail, listing, unpacked, wrong_kind
from .harness import AUTOGRAD, Answer, exercise
from .softmax import (
    ATOL, ATOL_FLOAT32, RTOL, RTOL_FLOAT32, classification_batch, extreme_rows, fails_on_extremes,
)
from .values import check_array

LINEAR_BACKWARD = exercise(_backward.linear_backward, forbidden=AUTOGRAD)
RELU_BACKWARD = exercise(_backward.relu_backward, forbidden=AUTOGRAD)
CROSS_ENTROPY_BACKWARD = exercise(_backward.cross_entropy_backward, parameters=("input", "target"),
                                  forbidden=AUTOGRAD)
MLP_BACKWARD = exercise(_mlp.mlp_backward, forbidden=AUTOGRAD)


def _close(actual, wanted, rtol=RTOL, atol=ATOL):
    """Whether `actual` is a numeric numpy array of `wanted`'s shape and values."""
    return (isinstance(actual, np.ndarray) and actual.shape == wanted.shape
            and actual.dtype.kind in "biuf" and isclose(actual, wanted, rtol=rtol, atol=atol).all())


# -------------------------------------------------------------------------------- gradients

def _check_gradient(name, actual, expected, *, batch_size, incoming, wrong_shapes=None,
                    known_mistakes=(), rtol=RTOL, atol=ATOL):
    """check_array for the gradient of a mean over `batch_size` samples, first naming the
    factors 1/batch_size (averaged twice) and batch_size (summed where the mean is meant),
    and the shapes in `wrong_shapes` ({shape: explanation}) that betray a known mistake."""
    __tracebackhide__ = True
    if isinstance(actual, np.ndarray) and actual.shape != expected.shape:
        explanation = (wrong_shapes or {}).get(actual.shape)
        if explanation is not None:
            fail(f"{name} has shape {actual.shape} but should have shape {expected.shape}: "
                 f"{explanation}")
    if batch_size > 1 and not _close(actual, expected, rtol, atol):
        if _close(actual, expected / batch_size, rtol, atol):
            fail(f"{name} is off by a factor of ≈ 1/{batch_size} (1 / the batch size): did you "
                 f"average over the batch twice? The 1/N of the mean loss is already in "
                 f"{incoming}, so summing over the batch is right; averaging again divides by N "
                 f"twice.")
        if _close(actual, expected * batch_size, rtol, atol):
            fail(f"{name} is off by a factor of ≈ {batch_size} (the batch size): that is the sum "
                 f"over the batch where the mean is meant — divide by the batch size.")
    check_array(name, actual, expected, rtol=rtol, atol=atol,
                factor_hints={"the batch size": batch_size}, known_mistakes=known_mistakes)


def _check_gradient_names(actual, expected, prefix, call):
    __tracebackhide__ = True
    names = list(expected)
    source = "The gradients" if call is None else f"The gradients from {call}"
    if not isinstance(actual, dict):
        wrong_kind("The gradients are" if call is None else f"{call} returned", actual,
                   f"a dict of gradients with the keys {listing(names)} (those of params)")
    missing = [name for name in names if name not in actual]
    extra = [key for key in actual if key not in expected]
    prefixed = sorted(f"{prefix}{name}" for name in missing)
    if missing and sorted(str(key) for key in extra) == prefixed:
        fail(f"{source} have the keys {listing(extra)}, but a gradient goes under the name of its "
             f"parameter, {listing(missing)}: grads['W1'] is the gradient of params['W1'].")
    if missing:
        fail(f"{source} have no entry for {listing(missing)} "
             f"({listing(prefix + name for name in missing)}): return a gradient for every "
             f"parameter, with the same keys as params.")
    if extra:
        fail(f"{source} have entries for {listing(extra)}, which are not parameters: return "
             f"exactly the keys of params, {listing(names)}.")


def check_gradients(actual, expected, *, batch_size, prefix="d", call=None,
                    incoming="the incoming gradient", known_mistakes=None, rtol=RTOL, atol=ATOL):
    """Compare a dict of gradients with `expected` ({name: numpy array}), name by name in
    `expected`'s order, calling the entries prefix + name ("dW2").

    `batch_size`: the number of samples the loss averages over, to recognise gradients
    averaged twice or summed instead of averaged. `call` names where `actual` came from;
    `incoming` the gradient that already holds the loss's 1/N. `known_mistakes`:
    {name: [(wrong gradient, explanation), ...]}. A square gradient that comes back
    transposed is recognised as such.
    """
    __tracebackhide__ = True
    _check_gradient_names(actual, expected, prefix, call)
    for name, wanted in expected.items():
        mistakes = list((known_mistakes or {}).get(name, ()))
        if wanted.ndim == 2 and wanted.shape[0] == wanted.shape[1]:
            mistakes.append((wanted.T, "it is transposed — a gradient has the layout of its "
                                       "parameter: for a weight of shape [out, in], "
                                       "grad.T @ layer_input, not layer_input.T @ grad."))
        _check_gradient(f"{prefix}{name}", actual[name], wanted, batch_size=batch_size,
                        incoming=incoming, known_mistakes=mistakes, rtol=rtol, atol=atol)


# --------------------------------------------------------------------- linear and ReLU

def _linear_gradients(grad_output, input, weight, bias):
    """Autograd's gradients of sum(F.linear(input, weight, bias) * grad_output)."""
    with _enable_grad():
        leaves = [_from_numpy(array).requires_grad_() for array in (input, weight, bias)]
        output = _torch_linear(*leaves)
        gradients = _autograd_grad((output * _from_numpy(grad_output)).sum(), leaves)
    return [gradient.numpy() for gradient in gradients]


def _three_gradients(result, call, names, expected):
    """The three arrays of `result`, after checking it is a 3-tuple in the right order."""
    __tracebackhide__ = True
    unpacked(f"{call} returned", result, 3, f"a tuple of three arrays ({', '.join(names)})")
    for order in permutations(range(3)):
        if order != (0, 1, 2) and all(_close(result[position], expected[meant])
                                      for position, meant in enumerate(order)):
            fail(f"{call} returned the right gradients in the wrong order, "
                 f"({', '.join(names[meant] for meant in order)}): return ({', '.join(names)}).")
    return result


def check_linear_backward(linear_backward, *, seed=0, batch_size=5, in_features=4,
                          out_features=3):
    """Run the student's `linear_backward(grad_output, input, weight)` -> (grad_input,
    grad_weight, grad_bias) for weight [out_features, in_features], as torch lays it out,
    comparing with autograd through F.linear."""
    __tracebackhide__ = True
    n, fan_in, fan_out = batch_size, in_features, out_features
    rng = default_rng(seed)
    grad_output = rng.standard_normal((n, fan_out))
    input = rng.standard_normal((n, fan_in))
    weight = rng.standard_normal((fan_out, fan_in))
    bias = rng.standard_normal(fan_out)
    expected = _linear_gradients(grad_output, input, weight, bias)
    answer = Answer(LINEAR_BACKWARD, linear_backward, shape_hint=(
        f"grad_output is [N, out_features] = {grad_output.shape}, input [N, in_features] = "
        f"{input.shape}, weight [out_features, in_features] = {weight.shape}; each gradient has "
        f"the shape of what it is the gradient of."))
    call = answer.words(grad_output, input, weight)
    result = answer.run(call, grad_output, input, weight)
    names = ("grad_input", "grad_weight", "grad_bias")
    grad_input, grad_weight, grad_bias = _three_gradients(result, call, names, expected)

    transposed = ("it is transposed: weight is [out_features, in_features], as in torch, so "
                  "grad_weight = grad_output.T @ input.")
    weight_t_mistake = ("it multiplies grad_output by weight.T: output = input @ weight.T, so "
                        "grad_input = grad_output @ weight, of the shape of input.")
    over_features = "it is summed over the features (axis=1) instead of over the batch (axis=0)."
    square = fan_in == fan_out
    _check_gradient("grad_input", grad_input, expected[0], batch_size=n, incoming="grad_output",
                    known_mistakes=[(grad_output @ weight.T, weight_t_mistake)] if square else ())
    _check_gradient("grad_weight", grad_weight, expected[1], batch_size=n,
                    incoming="grad_output", wrong_shapes={(fan_in, fan_out): transposed},
                    known_mistakes=[(input.T @ grad_output, transposed)] if square else ())
    _check_gradient("grad_bias", grad_bias, expected[2], batch_size=n, incoming="grad_output",
                    wrong_shapes={
                        (n, fan_out): "that of grad_output — the bias is added to every "
                                      "sample's output, so sum grad_output over the batch "
                                      "(axis=0).",
                        (n,): over_features},
                    known_mistakes=[(grad_output.sum(1), over_features)] if n == fan_out else ())


def check_relu_backward(relu_backward, *, seed=0, shape=(4, 6)):
    """Run the student's `relu_backward(grad_output, input)` on an input with negative,
    positive and exactly-zero entries, comparing with autograd through torch.relu (whose
    gradient at 0 is 0)."""
    __tracebackhide__ = True
    rng = default_rng(seed)
    shape = tuple(shape)
    grad_output = rng.standard_normal(shape)
    input = rng.standard_normal(shape)
    input[rng.random(shape) < 0.25] = 0.0
    input.flat[0] = 0.0  # at least one kink
    with _enable_grad():
        leaf = _from_numpy(input).requires_grad_()
        expected, = _autograd_grad((_torch_relu(leaf) * _from_numpy(grad_output)).sum(), [leaf])
    answer = Answer(RELU_BACKWARD, relu_backward,
                    shape_hint="grad_output and input have the same shape, and so has the result.")
    call = answer.words(grad_output, input)
    result = answer.run(call, grad_output, input)
    positive = input > 0
    check_array(call, result, expected.numpy(), rtol=RTOL, atol=ATOL, known_mistakes=[
        (grad_output * (grad_output > 0),
         "the mask comes from the sign of grad_output, but it must come from the ReLU's input: "
         "the gradient passes where input > 0."),
        (positive * 1.0, "that is the mask (input > 0) alone: by the chain rule, multiply it by "
                         "grad_output."),
        (grad_output * (input >= 0),
         "the gradient also passes where input is exactly 0 (input >= 0). ReLU has a kink at 0, "
         "where its derivative is undefined; torch — and this course — take it to be 0 there: "
         "use input > 0."),
        (grad_output * (input * positive),
         "grad_output is multiplied by relu(input) instead of by its derivative, which is 1 "
         "where input > 0 and 0 elsewhere."),
        (grad_output * ~positive, "the mask is inverted: the gradient passes where input > 0 "
                                  "and is 0 where input <= 0."),
        (grad_output * (input < 0), "the mask is inverted: the gradient passes where input > 0 "
                                    "and is 0 where input <= 0."),
        (grad_output, "grad_output came back unchanged: it must be 0 where input <= 0, where "
                      "the ReLU's derivative is 0."),
    ])


# ------------------------------------------------------------------ cross-entropy backward

def _cross_entropy_backward_mistakes(x, target):
    """(wrong gradient, explanation) for the usual mistakes."""
    n, n_classes = x.shape
    p = _torch_softmax(_from_numpy(x), 1).numpy()
    one_hot = (np.arange(n_classes) == target[:, None]) * 1.0
    over_batch = _torch_softmax(_from_numpy(x), 0).numpy()
    return [
        (p - one_hot, f"it is not divided by the batch size: the loss is the mean over the "
                      f"batch, so each sample's gradient carries 1/N (here 1/{n})."),
        ((p - one_hot) / n ** 2, "it is divided by the batch size twice: the loss is the mean "
                                 "over the N samples, so divide by N once."),
        ((one_hot - p) / n, "the sign is flipped: it is softmax - one_hot, not one_hot - softmax "
                            "(raising the target's logit lowers the loss, so the gradient "
                            "there is negative)."),
        (p / n, "the one-hot target is not subtracted: the gradient is (softmax - one_hot) / N."),
        ((p - 1) / n, "1 is subtracted from every entry; subtract it only at each sample's "
                      "target class (the one-hot of target)."),
        ((p - one_hot.max(0)) / n,
         "p[:, target] -= 1 subtracts 1 in every row, at the target class of every sample; "
         "index one entry per row: p[np.arange(N), target] -= 1."),
        ((over_batch - one_hot) / n, "the softmax is taken over the batch (axis=0) instead of "
                                     "over the classes (axis=1)."),
        ((p - one_hot) / (n * n_classes), "it is divided by N * C, the number of entries: the "
                                          "mean is over the N samples only."),
    ]


def check_cross_entropy_backward(cross_entropy_backward, *, seed=0, batch_size=6,
                                 num_classes=4):
    """Run the student's `cross_entropy_backward(input, target)`, the gradient of the mean
    cross-entropy w.r.t. the logits, on ordinary, float32 and extreme logits, comparing with
    autograd through F.cross_entropy."""
    __tracebackhide__ = True
    answer = Answer(CROSS_ENTROPY_BACKWARD, cross_entropy_backward, shape_hint=(
        f"input has shape ({batch_size}, {num_classes}) and target ({batch_size},); the gradient "
        f"has the shape of input. Sums along axis=1 need keepdims=True to broadcast against "
        f"input."))
    x, target = classification_batch(seed, batch_size, num_classes)
    call = answer.words(x, target)

    def run(logits):
        return answer.run(call, logits, target)

    def expected(logits):
        with _enable_grad():
            leaf = _from_numpy(logits).requires_grad_()
            gradient, = _autograd_grad(_torch_cross_entropy(leaf, _from_numpy(target)), [leaf])
        return gradient.numpy()

    check_array(call, run(x), expected(x), rtol=RTOL, atol=ATOL,
                factor_hints={"the batch size": batch_size, "the number of classes": num_classes},
                known_mistakes=_cross_entropy_backward_mistakes(x, target))
    single = x.astype(np.float32)
    check_array(f"{call} with input of dtype float32", run(single), expected(single),
                rtol=RTOL_FLOAT32, atol=ATOL_FLOAT32, dtype=np.float32,
                hint="networks train in float32: build the gradient from the float32 softmax, "
                     "e.g. subtract 1 at the target entries, instead of subtracting an int64 or "
                     "float64 one-hot array, which numpy 2 promotes to float64.")
    for logits, situation, cause, mixed in extreme_rows(x):
        actual = run(logits)
        fix = ("subtract each row's own maximum (axis=1, keepdims=True), not the maximum of the "
               "whole batch." if mixed else
               "compute the softmax with each row's maximum subtracted before exp, "
               "x.max(axis=1, keepdims=True): that leaves it unchanged, and no exponent exceeds 0.")
        fails_on_extremes(call, actual, situation, cause, fix)
        check_array(call, actual, expected(logits), rtol=RTOL, atol=ATOL,
                    hint=f"input holds {situation}. Clipping them changes the gradient; "
                         f"subtracting each row's maximum does not.")


# ----------------------------------------------------------------------------------- MLP

def _mlp_gradients(params, input, target, masks=None):
    """Autograd's gradients of the mean cross-entropy of an MLP with a ReLU after every layer
    but the last: ({name: gradient}, gradient w.r.t. the logits, pre-activations).
    `masks` ({layer: array}), if given, replace the ReLUs' derivatives on the way
    back, the forward pass unchanged."""
    n_layers = len(params) // 2
    with _enable_grad():
        leaves = {name: _from_numpy(value).requires_grad_() for name, value in params.items()}
        hidden = _from_numpy(input)
        pre_activations = []
        for layer in range(1, n_layers + 1):
            z = _torch_linear(hidden, leaves[f"W{layer}"], leaves[f"b{layer}"])
            pre_activations.append(z.detach().numpy())
            if layer < n_layers:
                hidden = _torch_relu(z)
                if masks is not None:  # forward: relu(z); backward: times the mask
                    hidden = hidden.detach() + (z - z.detach()) * _from_numpy(masks[layer])
        loss = _torch_cross_entropy(z, _from_numpy(target))
        gradients = _autograd_grad(loss, [z, *leaves.values()])
    named = {name: gradient.numpy() for name, gradient in zip(leaves, gradients[1:])}
    return named, gradients[0].numpy(), pre_activations


def _mask_mistakes(pre_activations):
    """(masks by layer, explanation for the gradients of a layer) for ReLU masks left out or
    taken from the layer above — where that mask has the right shape, so no error shows it."""
    hidden_layers = range(1, len(pre_activations))
    z = pre_activations  # z[k - 1] is the pre-activation of layer k
    choices = [({k: 0.0 * z[k - 1] + 1.0 for k in hidden_layers},
                lambda k: f"the gradients of layer {k} ignore the ReLU after it: multiply by "
                          f"(z{k} > 0) on the way back.")]
    above = {k: (z[k] > 0) * 1.0 for k in hidden_layers}
    if all(above[k].shape == z[k - 1].shape for k in hidden_layers):
        choices.append((above, lambda k: (
            f"the ReLU after layer {k} is undone with the mask of layer {k + 1}, (z{k + 1} > 0): "
            f"multiply by (z{k} > 0), the pre-activation of layer {k} itself (cache[{k - 1}]), "
            f"the layer the ReLU follows.")))
    return choices


def check_mlp_backward(mlp_backward, *, forward, seed=0, sizes=(5, 4, 3), batch_size=6):
    """Run the student's `mlp_backward(params, cache, grad_logits)` on an MLP of the given
    layer `sizes` (a ReLU after every layer but the last), with the cache from `forward`, the
    reference `mlp_forward(params, input) -> (logits, cache)`, and grad_logits the gradient
    of the mean cross-entropy; compare with autograd, the last layer's gradients first."""
    __tracebackhide__ = True
    rng = default_rng(seed)
    params = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = rng.standard_normal((fan_out, fan_in)) / fan_in ** 0.5
        params[f"b{layer}"] = 0.5 * rng.standard_normal(fan_out)
    input = rng.standard_normal((batch_size, sizes[0]))
    target = rng.integers(0, sizes[-1], batch_size)
    _, cache = forward(params, input)
    gradients, grad_logits, pre_activations = _mlp_gradients(params, input, target)

    n_layers = len(params) // 2
    backwards = [f"{kind}{layer}" for layer in range(n_layers, 0, -1) for kind in "Wb"]
    expected = {name: gradients[name] for name in backwards}
    known_mistakes = {name: [] for name in backwards}
    for masks, explain in _mask_mistakes(pre_activations):
        wrong, *_ = _mlp_gradients(params, input, target, masks)
        for layer in range(1, n_layers):
            for kind in "Wb":
                known_mistakes[f"{kind}{layer}"].append((wrong[f"{kind}{layer}"], explain(layer)))
    answer = Answer(MLP_BACKWARD, mlp_backward, shape_hint=(
        "check each product's shapes: a layer with W of shape [out, in] gets a gradient [N, out] "
        "at its output, has dW = grad.T @ layer_input [out, in] and passes grad @ W [N, in] "
        "down; a ReLU mask has the shape of the pre-activation it comes from, that of the layer "
        "the ReLU follows."))
    call = answer.words(params, cache, grad_logits)
    result = answer.run(call, params, cache, grad_logits)
    check_gradients(result, expected, batch_size=batch_size, call=call, incoming="grad_logits",
                    known_mistakes=known_mistakes)
