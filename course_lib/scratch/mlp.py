"""A multilayer perceptron as plain data: a dict of numpy arrays and functions over it.

`params` holds "W1", "b1", ..., "WL", "bL" with torch.nn.Linear's layout (W_l is
[out_features, in_features]); ReLU follows every layer but the last, whose output is the
logits. Forward and backward are built from the ops of `functional` and `backward`, one
layer at a time, so every line matches a line of the maths:

    z_l = a_{l-1} @ W_l.T + b_l,   a_l = relu(z_l),   a_0 = input,   logits = z_L
"""
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from ..data.batching import minibatch_indices
from ..metrics import accuracy
from ..optim import SGD, LambdaLR, ReduceLROnPlateau
from .backward import cross_entropy_backward, linear_backward, relu_backward
from .functional import cross_entropy, linear, relu
from .init import kaiming_normal_

# Samples per forward pass when only predictions are wanted: large enough for fast matrix
# products, small enough that a layer's activations stay a few tens of MB.
EVAL_BATCH_SIZE = 4096


def init_mlp(sizes, *, generator, weight_init=kaiming_normal_, dtype=np.float32):
    """Parameters of an MLP with layer widths `sizes`, e.g. [784, 256, 10]: weights drawn by
    `weight_init(array, generator=generator)` (an `init` function), biases zero."""
    sizes = list(sizes)
    if len(sizes) < 2 or any(isinstance(size, bool) or not isinstance(size, (int, np.integer))
                             or size < 1 for size in sizes):
        raise ValueError(f"sizes must list at least two positive whole numbers (input width, "
                         f"..., number of classes), got {sizes}")
    params = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = weight_init(np.empty((fan_out, fan_in), dtype=dtype),
                                          generator=generator)
        params[f"b{layer}"] = np.zeros(fan_out, dtype=dtype)
    return params


def _layer_count(params):
    layers = len(params) // 2
    expected = [f"{kind}{layer}" for layer in range(1, layers + 1) for kind in "Wb"]
    if len(params) % 2 or sorted(params) != sorted(expected):
        raise ValueError(f"params must hold W1, b1, ..., WL, bL, got keys {list(params)}")
    return layers


def mlp_forward(params, input):
    """(logits, cache): the output of the last layer, and per layer l the tuple
    (layer_input a_{l-1}, pre_activation z_l) that the backward pass needs."""
    layers = _layer_count(params)
    cache = []
    activation = input
    for layer in range(1, layers + 1):
        pre_activation = linear(activation, params[f"W{layer}"], params[f"b{layer}"])
        cache.append((activation, pre_activation))
        activation = relu(pre_activation) if layer < layers else pre_activation
    return activation, cache


def mlp_backward(params, cache, grad_logits):
    """Gradients of the loss with respect to every parameter, keyed like `params`, from the
    gradient with respect to the logits and `mlp_forward`'s cache."""
    layers = _layer_count(params)
    grads = {}
    grad_pre_activation = grad_logits  # d loss / d z_L
    for layer in range(layers, 1, -1):
        layer_input, _ = cache[layer - 1]
        grad_input, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(
            grad_pre_activation, layer_input, params[f"W{layer}"])
        # this layer's input was relu(z_{l-1}): carry the gradient back through the ReLU
        grad_pre_activation = relu_backward(grad_input, cache[layer - 2][1])
    # The first layer's gradient with respect to its input, the data, is of no use, and
    # linear_backward's grad_input would cost as much as the layer's forward product: take
    # only the weight and bias gradients, as autograd does for an input without requires_grad.
    grads["W1"], grads["b1"] = grad_pre_activation.T @ cache[0][0], grad_pre_activation.sum(axis=0)
    return {name: grads[name] for name in params}


def mlp_loss_and_gradients(params, input, target):
    """(mean cross-entropy of the MLP's logits against class indices `target`, gradients)."""
    logits, cache = mlp_forward(params, input)
    loss = cross_entropy(logits, target)
    return float(loss), mlp_backward(params, cache, cross_entropy_backward(logits, target))


def _logits_in_batches(params, input, batch_size):
    # a batch at a time, so the cache of a whole dataset's forward pass never exists at once
    return np.concatenate([mlp_forward(params, input[start:start + batch_size])[0]
                           for start in range(0, len(input), batch_size)])


def mlp_predict(params, input, batch_size=EVAL_BATCH_SIZE):
    """Predicted class indices (int64): the argmax of the logits, `batch_size` samples at a time."""
    return _logits_in_batches(params, input, batch_size).argmax(axis=1).astype(np.int64, copy=False)


@dataclass
class TrainingHistory:
    """What `fit_mlp` measured: per epoch, and per iteration (optimizer step)."""
    # mean over the epoch's samples of their batch's loss, taken before the batch's step
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)  # after the epoch; empty without X_val
    val_accuracy: list[float] = field(default_factory=list)  # after the epoch; empty without X_val
    lr: list[float] = field(default_factory=list)  # the learning rate at the epoch's first step
    seconds: list[float] = field(default_factory=list)  # wall-clock time of the steps alone
    iteration_loss: list[float] = field(default_factory=list)  # each batch's loss, before its step
    iteration_lr: list[float] = field(default_factory=list)  # the learning rate of each step


SCHEDULER_INTERVALS = ("epoch", "iteration")


def fit_mlp(params, X, y, optimizer, *, batch_size, epochs, generator, scheduler=None,
            scheduler_interval="epoch", X_val=None, y_val=None, progress=False):
    """Train `params` in place with `optimizer` (a course_lib.optim optimizer built on
    `list(params.values())`) on mini-batches reshuffled every epoch by `generator`.

    `scheduler` (a course_lib.optim scheduler of `optimizer`) steps after every epoch or,
    with `scheduler_interval="iteration"`, after every optimizer step, as a torch training
    loop would call it; ReduceLROnPlateau steps after every epoch with the validation loss.
    """
    if len(X) != len(y):
        raise ValueError(f"X and y must hold the same number of samples, "
                         f"got len(X)={len(X)} and len(y)={len(y)}")
    if scheduler_interval not in SCHEDULER_INTERVALS:
        raise ValueError(f"scheduler_interval must be one of {SCHEDULER_INTERVALS}, "
                         f"got {scheduler_interval!r}")
    names = list(params)
    optimized = optimizer.param_groups[0]["params"]
    if len(optimized) != len(names) or any(
            array is not params[name] for array, name in zip(optimized, names)):
        raise ValueError("the optimizer must be built on the network's arrays, in order: "
                         "optimizer = Adam(list(params.values()), ...)")
    on_plateau = isinstance(scheduler, ReduceLROnPlateau)
    if on_plateau and (X_val is None or scheduler_interval != "epoch"):
        raise ValueError("ReduceLROnPlateau steps once per epoch with the validation loss: "
                         "pass X_val and y_val, and scheduler_interval='epoch'")
    history = TrainingHistory()
    bar = tqdm(range(epochs), desc="epochs", disable=not progress)
    for _ in bar:
        history.lr.append(optimizer.lr)
        started = time.perf_counter()
        loss_sum = 0.0
        for batch in minibatch_indices(len(X), batch_size, generator):
            loss, grads = mlp_loss_and_gradients(params, X[batch], y[batch])
            history.iteration_loss.append(loss)
            history.iteration_lr.append(optimizer.lr)
            optimizer.step([grads[name] for name in names])
            loss_sum += loss * len(batch)  # so a small last batch counts for only its samples
            if scheduler is not None and scheduler_interval == "iteration":
                scheduler.step()
        history.seconds.append(time.perf_counter() - started)
        history.train_loss.append(loss_sum / len(X))
        summary = {"loss": history.train_loss[-1]}
        if X_val is not None:
            val_logits = _logits_in_batches(params, X_val, EVAL_BATCH_SIZE)
            history.val_loss.append(float(cross_entropy(val_logits, y_val)))
            history.val_accuracy.append(accuracy(val_logits, y_val))
            summary["val_accuracy"] = history.val_accuracy[-1]
        if on_plateau:
            scheduler.step(history.val_loss[-1])
        elif scheduler is not None and scheduler_interval == "epoch":
            scheduler.step()
        bar.set_postfix(summary)
    return history


def train_mlp(params, X, y, *, lr, momentum, batch_size, epochs, generator, weight_decay=0,
              X_val=None, y_val=None, progress=False, lr_schedule=None):
    """Train `params` in place with `optim.SGD` on mini-batches reshuffled every epoch.

    `generator` (a np.random.Generator) draws the shuffles. `lr_schedule(epoch)`, if given,
    multiplies `lr` for that epoch (counted from 0), as torch's `LambdaLR` does.
    """
    optimizer = SGD(list(params.values()), lr=lr, momentum=momentum, weight_decay=weight_decay)
    scheduler = None if lr_schedule is None else LambdaLR(optimizer, lr_schedule)
    return fit_mlp(params, X, y, optimizer, batch_size=batch_size, epochs=epochs,
                   generator=generator, scheduler=scheduler, X_val=X_val, y_val=y_val,
                   progress=progress)
