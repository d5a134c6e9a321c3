"""One answer per autograded exercise that does not do the exercise but hands it to the
course's own solution or to torch's implementation of the operation, as the full source of
its answer cell, each through another route: a call, an import inside the function, an
alias, functools.partial, importlib, getattr on the module, a copy of the function object or
of its code, a reference captured in a default argument or a closure, torch's function, a
Tensor method, an nn.Module, autograd.

The nbgrader round trip puts them into otherwise correct submissions and requires that
exactly their exercises' points are lost; test_delegating_answers.py checks that each fails
its visible tests with a DelegationFailure naming the function in CALLED.
"""

DELEGATING_ANSWERS = {
    "01_epochs_iterations": {
        # torch's batching: a DataLoader's length is its BatchSampler's
        "iterations_per_epoch": '''
def iterations_per_epoch(n_samples, batch_size, drop_last=False):
    """Number of optimizer steps in one epoch."""
    return len(DataLoader(range(n_samples), batch_size=batch_size, drop_last=drop_last))
''',
        # the reference, imported inside the function under another name
        "total_updates": '''
from course_lib.data import iterations_per_epoch as reference_iterations_per_epoch


def total_updates(n_samples, batch_size, epochs, drop_last=False):
    """Number of optimizer steps in `epochs` epochs."""
    from course_lib.data import total_updates as steps
    return steps(n_samples, batch_size, epochs, drop_last)
''',
        # importlib, and the reference runs only while the generator is iterated
        "minibatch_indices": '''
import importlib


def minibatch_indices(n_samples, batch_size, rng, *, shuffle=True, drop_last=False):
    """Yield the sample indices of one epoch's mini-batches."""
    batching = importlib.import_module("course_lib.data.batching")
    yield from batching.minibatch_indices(n_samples, batch_size, rng, shuffle=shuffle, drop_last=drop_last)
''',
        # an alias: the answer cell's name bound to the reference itself
        "linear_regression_gradients": '''
from course_lib.scratch import linear_regression_gradients as solved

linear_regression_gradients = solved
''',
        # torch's loss and autograd on the arrays turned into tensors
        "logistic_regression_gradients": '''
from course_lib.scratch import binary_cross_entropy_with_logits, sigmoid


def logistic_regression_gradients(X, y, w, b):
    """Mean binary cross-entropy of the logits X @ w + b, and its gradients."""
    weights = torch.tensor(w, requires_grad=True)
    bias = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    loss = nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(X) @ weights + bias, torch.from_numpy(y))
    loss.backward()
    return loss.item(), weights.grad.numpy(), bias.grad.item()
''',
        # functools.partial of the reference
        "minibatch_gradient_descent": '''
from functools import partial

from course_lib.data import minibatch_indices as reference_minibatch_indices
from course_lib.scratch import GradientDescentResult
from course_lib.scratch import minibatch_gradient_descent as fit

minibatch_gradient_descent = partial(fit, progress=False)
''',
        # a wrapper calling the reference
        "train_step": '''
from course_lib.training import train_step as reference


def train_step(model, inputs, targets, loss_fn, optimizer):
    """One iteration on one mini-batch."""
    return reference(model, inputs, targets, loss_fn, optimizer)
''',
        # the reference captured in a default argument when the cell runs
        "train_epoch": '''
import course_lib.training
from course_lib.training import EpochStats
from course_lib.training import train_step as reference_train_step


def train_epoch(model, loader, loss_fn, optimizer, *, progress=False, epoch=course_lib.training.train_epoch):
    """Train `model` for one epoch."""
    return epoch(model, loader, loss_fn, optimizer, progress=progress)
''',
    },
    "02_backprop": {
        # torch's one_hot on the labels as a tensor
        "one_hot": '''
def one_hot(labels, num_classes):
    """One-hot encoding of `labels`."""
    return torch.nn.functional.one_hot(torch.from_numpy(labels), num_classes).numpy()
''',
        # a Tensor method
        "softmax": '''
def softmax(input, dim):
    """Softmax of `input` along `dim`."""
    return torch.from_numpy(input).softmax(dim).numpy()
''',
        # an nn.Module, whose forward calls F.cross_entropy
        "cross_entropy": '''
def cross_entropy(input, target):
    """Mean cross-entropy of logits against class indices."""
    return nn.CrossEntropyLoss()(torch.from_numpy(input), torch.from_numpy(target)).item()
''',
        # a copy of the reference's function object, under the answer's name
        "linear_backward": '''
import types

from course_lib.scratch import backward

linear_backward = types.FunctionType(backward.linear_backward.__code__, backward.__dict__, "linear_backward")
''',
        # torch.autograd.grad through torch.relu
        "relu_backward": '''
def relu_backward(grad_output, input):
    """Backward pass of ReLU."""
    leaf = torch.from_numpy(input).requires_grad_()
    (gradient,) = torch.autograd.grad(torch.relu(leaf), leaf, torch.from_numpy(grad_output))
    return gradient.numpy()
''',
        # the reference looked up on its package when called
        "cross_entropy_backward": '''
import course_lib.scratch as scratch
from course_lib.scratch.functional import softmax as reference_softmax


def cross_entropy_backward(input, target):
    """Gradient of the mean cross-entropy with respect to the logits."""
    return scratch.cross_entropy_backward(input, target)
''',
        # the reference's code under another name: code.replace(co_name=...)
        "mlp_backward": '''
import types

from course_lib.scratch import mlp
from course_lib.scratch.backward import linear_backward as reference_linear_backward
from course_lib.scratch.backward import relu_backward as reference_relu_backward

mlp_backward = types.FunctionType(mlp.mlp_backward.__code__.replace(co_name="mlp_backward_by_hand"), mlp.__dict__)
''',
        # a lambda closing over the reference
        "numerical_gradient": '''
from course_lib.scratch.gradcheck import numerical_gradient as reference_numerical_gradient

numerical_gradient = lambda f, x, eps=1e-6: reference_numerical_gradient(f, x, eps)
''',
        # torch.nn.init on a tensor, copied into the array
        "kaiming_normal_": '''
from course_lib.scratch.init import calculate_fan_in_and_fan_out, calculate_gain


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill `tensor` in place with Kaiming-normal samples."""
    seed = int((np.random.default_rng() if generator is None else generator).integers(2 ** 31))
    values = torch.nn.init.kaiming_normal_(torch.empty(tensor.shape, dtype=torch.float64), a=a, mode=mode,
                                           nonlinearity=nonlinearity, generator=torch.Generator().manual_seed(seed))
    tensor[...] = values.numpy()
    return tensor
''',
        # the reference imported inside the function
        "confusion_matrix": '''
def confusion_matrix(targets, predictions, num_classes):
    """Counts [num_classes, num_classes]."""
    from course_lib.metrics import confusion_matrix as counts
    return counts(targets, predictions, num_classes)
''',
        # getattr on the reference's module
        "precision_recall": '''
import course_lib.metrics


def precision_recall(confusion):
    """(precision, recall) per class from a confusion matrix."""
    return getattr(course_lib.metrics, "precision_recall")(confusion)
''',
    },
    "03_optimizers": {
        # an import inside the function
        "sgd_update": '''
def sgd_update(param, grad, state, *, lr, weight_decay=0.0):
    """One step of torch.optim.SGD without momentum."""
    from course_lib.optim import sgd_update as reference
    reference(param, grad, state, lr=lr, weight_decay=weight_decay)
''',
        # torch.optim.SGD on tensors that share memory with the arrays
        "momentum_update": '''
import torch


def momentum_update(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    """One step of torch.optim.SGD with momentum."""
    if "optimizer" not in state:
        state["tensor"] = torch.from_numpy(param)
        state["optimizer"] = torch.optim.SGD([state["tensor"]], lr=lr, momentum=momentum,
                                             dampening=dampening, weight_decay=weight_decay)
    state["optimizer"].param_groups[0]["lr"] = lr
    state["tensor"].grad = torch.from_numpy(grad.copy())
    state["optimizer"].step()
''',
        # functools.partial of the reference: the EMA form is SGD with lr * (1 - beta)
        "ema_momentum_update": '''
import functools

from course_lib.optim import sgd_update


def ema_momentum_update(param, grad, state, *, lr, beta):
    """One step of momentum in exponential-moving-average form."""
    step = functools.partial(sgd_update, momentum=beta)
    step(param, grad, state, lr=lr * (1 - beta))
''',
        # an alias imported at the top of the cell
        "nesterov_update": '''
from course_lib.optim import sgd_update as _step


def nesterov_update(param, grad, state, *, lr, momentum, weight_decay=0.0):
    """One step of torch.optim.SGD with nesterov=True."""
    _step(param, grad, state, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=True)
''',
        # importlib
        "rmsprop_update": '''
import importlib


def rmsprop_update(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.RMSprop."""
    module = importlib.import_module("course_lib.optim")
    module.rmsprop_update(param, grad, state, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)
''',
        # a reference captured before the check runs (`optim` is the setup cell's course_lib.optim)
        "adam_update": '''
_solution = optim.adam_update


def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.Adam."""
    _solution(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
''',
        # torch's functional AdamW on converted arrays (reference_adam_update stays unused)
        "adamw_update": '''
import torch
from torch.optim.adamw import adamw

from course_lib.optim import adam_update as reference_adam_update


def adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One step of torch.optim.AdamW."""
    if not state:
        state.update(step=torch.tensor(0.0, dtype=torch.float64),
                     exp_avg=torch.zeros(param.shape, dtype=torch.float64),
                     exp_avg_sq=torch.zeros(param.shape, dtype=torch.float64))
    tensor = torch.from_numpy(param)
    adamw([tensor], [torch.from_numpy(grad.astype(param.dtype))], [state["exp_avg"]],
          [state["exp_avg_sq"]], [], [state["step"]], amsgrad=False, beta1=betas[0],
          beta2=betas[1], lr=lr, weight_decay=weight_decay, eps=eps, maximize=False)
''',
        # a copy of the reference's function object
        "adamax_update": '''
import types


def adamax_update(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.Adamax."""
    copy = types.FunctionType(optim.adamax_update.__code__, optim.adamax_update.__globals__)
    copy(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=False)
''',
    },
    "04_schedules": {
        # torch's StepLR stepped `epoch` times
        "step_lr": '''
import torch


def step_lr(epoch, *, base_lr, step_size, gamma=0.1):
    """Learning rate at step `epoch` of step decay."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)
    for _ in range(epoch):
        optimizer.step()
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # torch's ExponentialLR, reached through importlib
        "exponential_lr": '''
import importlib

import torch


def exponential_lr(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    """Learning rate at step `epoch` of exponential decay."""
    schedulers = importlib.import_module("torch.optim.lr_scheduler")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    if staircase:
        scheduler = schedulers.StepLR(optimizer, decay_epochs, gamma)
    else:
        scheduler = schedulers.ExponentialLR(optimizer, gamma ** (1 / decay_epochs))
    for _ in range(epoch):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # course_lib's own CosineAnnealingLR, as the setup cell imports it
        "cosine_annealing_lr": '''
def cosine_annealing_lr(epoch, *, base_lr, T_max, eta_min=0.0):
    """Learning rate at step `epoch` of cosine annealing."""
    scheduler = CosineAnnealingLR(SGD([np.zeros(1)], lr=base_lr), T_max, eta_min)
    for _ in range(epoch):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # torch's SequentialLR of LinearLR and CosineAnnealingLR
        "warmup_cosine_lr": '''
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR as TorchCosine
from torch.optim.lr_scheduler import LinearLR as TorchLinear
from torch.optim.lr_scheduler import SequentialLR as TorchSequential


def warmup_cosine_lr(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    """Learning rate at step `step` of linear warmup followed by cosine annealing."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = TorchSequential(optimizer, [
        TorchLinear(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps),
        TorchCosine(optimizer, T_max=total_steps - warmup_steps, eta_min=eta_min)],
        milestones=[warmup_steps])
    for _ in range(step):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # functools.partial of torch's OneCycleLR
        "one_cycle_lr": '''
import functools

import torch


def one_cycle_lr(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                 three_phase=False):
    """Learning rate at iteration `step` of the one-cycle policy."""
    make = functools.partial(torch.optim.lr_scheduler.OneCycleLR, anneal_strategy="cos",
                             cycle_momentum=False)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
    scheduler = make(optimizer, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                     div_factor=div_factor, final_div_factor=final_div_factor, three_phase=three_phase)
    for _ in range(step):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # course_lib's CyclicLR, captured in a default argument before the check runs
        "cyclic_lr": '''
def cyclic_lr(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0,
              _cyclic=CyclicLR):
    """Learning rate at iteration `step` of a cyclical schedule."""
    scheduler = _cyclic(SGD([np.zeros(1)], lr=base_lr, momentum=0.9), base_lr=base_lr, max_lr=max_lr,
                        step_size_up=step_size_up, step_size_down=step_size_down, mode=mode, gamma=gamma,
                        cycle_momentum=False)
    for _ in range(step):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # course_lib's sweep, reached through find_lr_numpy (imported by the setup cell) on a
        # one-weight "network" whose loss is train_step's
        "lr_range_test": '''
def lr_range_test(train_step, *, start_lr=1e-5, end_lr=10.0, num_iter=1200, beta=0.95, diverge_th=5.0):
    """The LR range test's sweep."""
    weights = {"W1": np.zeros(1)}
    optimizer = SGD([weights["W1"]], lr=start_lr)

    def loss_and_gradients(params, X, y):
        return train_step(optimizer.lr), {"W1": np.zeros(1)}
    result = find_lr_numpy(weights, loss_and_gradients, optimizer, [(None, None)], start_lr=start_lr,
                           end_lr=end_lr, num_iter=num_iter, beta=beta, diverge_th=diverge_th)
    return result.lrs, result.losses, result.smoothed_losses
''',
        # torch's ReduceLROnPlateau on a torch optimizer whose rate is copied back
        "ReduceLROnPlateau": '''
import torch


class ReduceLROnPlateau:
    """Reduce optimizer.lr when the metric stops improving."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0):
        self.optimizer = optimizer
        self._torch_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=optimizer.lr)
        self._scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self._torch_optimizer, mode=mode, factor=factor, patience=patience, threshold=threshold,
            threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=0.0)

    def step(self, metrics):
        """Take one epoch's metric and reduce the rate if needed."""
        self._scheduler.step(metrics)
        self.optimizer.lr = self._torch_optimizer.param_groups[0]["lr"]
''',
    },
    "05_regularization": {
        # The reference imported inside the function.
        "l2_penalty": '''
def l2_penalty(params, weight):
    """weight / 2 * sum of squared entries of the weights (biases are not penalised)."""
    from course_lib.scratch import l2_penalty as reference
    return float(reference(params, weight))
''',
        # An alias of the reference under the exercise's name.
        "l1_penalty_gradients": '''
l1_penalty_gradients = scratch.l1_penalty_gradients
''',
        # torch's dropout on the converted array, its mask seeded from `generator` so that
        # the output is reproducible and every call draws a new one.
        "dropout": '''
def dropout(input, p=0.5, training=True, *, generator):
    """Inverted dropout on a numpy array, as torch.nn.functional.dropout."""
    with torch.random.fork_rng():
        torch.manual_seed(int(generator.integers(2**31)))
        output = F.dropout(torch.from_numpy(input), p, training)
    return output.numpy().astype(input.dtype)
''',
        # torch's batch_norm on tensors that share memory with the arrays.
        "batch_norm_forward": '''
def batch_norm_forward(input, weight, bias, eps=1e-5):
    """Training-mode batch normalisation of input [N, C]."""
    output = F.batch_norm(torch.from_numpy(input), None, None, torch.from_numpy(weight),
                          torch.from_numpy(bias), training=True, eps=eps)
    return output.numpy()
''',
        # The reference found through importlib; it updates the arrays in place.
        "update_running_stats": '''
import importlib


def update_running_stats(running_mean, running_var, input, momentum=0.1):
    """Update BatchNorm1d's running statistics in place from the batch input [N, C]."""
    normalization = importlib.import_module("course_lib.scratch.normalization")
    normalization.batch_norm(input, running_mean, running_var, training=True, momentum=momentum)
''',
        # autograd through torch's batch_norm.
        "batch_norm_backward": '''
def batch_norm_backward(grad_output, input, weight, eps=1e-5):
    """Gradients of training-mode batch_norm_forward w.r.t. input, weight and bias."""
    x = torch.from_numpy(input.copy()).requires_grad_()
    w = torch.from_numpy(weight.copy()).requires_grad_()
    b = torch.zeros_like(w, requires_grad=True)
    F.batch_norm(x, None, None, w, b, training=True, eps=eps).backward(torch.from_numpy(grad_output))
    return x.grad.numpy(), w.grad.numpy(), b.grad.numpy()
''',
        # The reference captured in a default argument before the test runs.
        "clip_grad_norm_": '''
def clip_grad_norm_(grads, max_norm, _clip=scratch.clip_grad_norm_):
    """Scale grads in place so that their total norm is at most max_norm; return the norm."""
    return float(_clip(grads, max_norm))
''',
        # The course's shift, through functools.partial, on a float copy of the images.
        "shift_images": '''
import functools

from course_lib.data import augmentation

_shift = functools.partial(augmentation.shift)


def shift_images(images, down, right):
    """images [N, H, W] moved down and right, vacated pixels 0."""
    shifts = torch.tensor([[down, right]] * images.shape[0])
    return _shift(images.double(), shifts).to(images.dtype)
''',
        # The course's mixup with alpha = 0 (no mixing) for one-hot targets of the inputs'
        # dtype, mixed by hand afterwards.
        "mixup_batch": '''
from course_lib.data.augmentation import mixup


def mixup_batch(inputs, targets, lam, permutation, num_classes):
    """Mix a batch with its permutation: (mixed_inputs, soft_targets)."""
    _, one_hot = mixup(inputs, targets, 0.0, generator=torch.Generator(), num_classes=num_classes)
    return lam * inputs + (1 - lam) * inputs[permutation], lam * one_hot + (1 - lam) * one_hot[permutation]
''',
        # A subclass of the course's EarlyStopping callback, stepped by hand.
        "EarlyStopper": '''
from types import SimpleNamespace


class EarlyStopper(EarlyStopping):
    """Decides when to stop training."""

    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        super().__init__(monitor="value", mode=mode, patience=patience, min_delta=min_delta)
        self.run = SimpleNamespace(stop_training=False)
        self.epoch = 0

    def step(self, value):
        """Record one epoch's value; return True when training should stop."""
        self.epoch += 1
        self.on_epoch_end(self.epoch, {"value": value})
        return self.run.stop_training
''',
    },
    "06_mnist": {
        # the course's own function under another name
        "conv_output_size": '''
from course_lib.scratch import conv_output_size as output_size


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output size along one dimension of a convolution."""
    return output_size(input_size, kernel_size, stride, padding, dilation)
''',
        # torch measures it: pool a row of zeros and read the length
        "pool_output_size": '''
def pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Output size along one dimension of max pooling."""
    pool = nn.MaxPool2d((1, kernel_size), (1, stride or kernel_size), (0, padding), (1, dilation), ceil_mode=ceil_mode)
    return pool(torch.zeros(1, 1, 1, input_size)).shape[-1]
''',
        # F.conv2d, reached through torch's own namespace
        "conv2d": '''
def conv2d(input, weight, bias=None, stride=1, padding=0):
    """2-D convolution by im2col."""
    return torch.conv2d(input, weight, bias, stride, padding)
''',
        # a BatchNorm2d layer computes them; momentum 1 makes its running statistics the batch's
        "batch_norm2d_statistics": '''
def batch_norm2d_statistics(input):
    """Per-channel mean and biased variance over N, H and W."""
    layer = nn.BatchNorm2d(input.shape[1], momentum=1.0, affine=False).to(input.dtype)
    layer(input)
    count = input.numel() // input.shape[1]
    return layer.running_mean, layer.running_var * (count - 1) / count
''',
        # the course's accumulated step, captured in a default argument
        "accumulated_step": '''
import course_lib.training


def accumulated_step(model, loss_fn, micro_batches, optimizer, _step=course_lib.training.accumulated_step):
    """One optimizer step on all micro-batches together."""
    return _step(model, loss_fn, micro_batches, optimizer)
''',
        # a real DistributedSampler and DataLoader, counted
        "distributed_iterations_per_epoch": '''
from torch.utils.data import DistributedSampler


def distributed_iterations_per_epoch(n_samples, batch_size, world_size, *, sampler_drop_last=False,
                                     loader_drop_last=False):
    """Optimizer steps per epoch on each worker."""
    sampler = DistributedSampler(range(n_samples), num_replicas=world_size, rank=0, drop_last=sampler_drop_last)
    return len(DataLoader(range(n_samples), batch_size=batch_size, sampler=sampler, drop_last=loader_drop_last))
''',
        # the course's function, found by name on its module
        "transfer_parameter_groups": '''
import course_lib.training as training


def transfer_parameter_groups(model, mode, lr, base_lr_factor=0.1):
    """Set requires_grad for `mode` and return the optimizer's parameter groups."""
    return getattr(training, "transfer_parameter_groups")(model, mode, lr, base_lr_factor)
''',
        # the course's statistics of all entries, scaled afterwards
        "pixel_mean_and_std": '''
def pixel_mean_and_std(images):
    """Mean and (population) standard deviation of all pixel values, scaled to [0, 1]."""
    mean, std = mean_and_std(np.asarray(images))
    return mean / 255, std / 255
''',
        # torch's loss with its own label_smoothing argument
        "smoothed_cross_entropy": '''
def smoothed_cross_entropy(input, target, label_smoothing=0.0):
    """Mean cross-entropy with label smoothing."""
    return nn.CrossEntropyLoss(label_smoothing=label_smoothing)(input, target)
''',
        # the course's bins, summed by hand
        "expected_calibration_error": '''
def expected_calibration_error(confidences, correct, n_bins=15):
    """Sample-weighted mean |accuracy - confidence| over equal-width confidence bins."""
    bins = metrics.calibration_bins(confidences, correct, n_bins)
    full = bins.counts > 0
    weights = bins.counts[full] / bins.counts.sum()
    return float(np.sum(weights * np.abs(bins.accuracy[full] - bins.confidence[full])))
''',
    },
    "07_imdb": {
        # importlib
        "tokenize": '''
import importlib


def tokenize(text):
    """The tokens of one review, a list of str."""
    return importlib.import_module("course_lib.data.text").tokenize(text)
''',
        # the course's Vocab, built inside the function, read back in id order
        "vocabulary_tokens": '''
def vocabulary_tokens(iterator, min_freq=1, specials=None, special_first=True, max_tokens=None):
    """The vocabulary's tokens in id order, as build_vocab_from_iterator(...).get_itos() gives them."""
    from course_lib.data import build_vocab_from_iterator as build
    return build(iterator, min_freq, specials, special_first, max_tokens).get_itos()
''',
        # torch's pad_sequence on the sequences cut by hand
        "pad_sequences": '''
import torch
from torch.nn.utils.rnn import pad_sequence


def pad_sequences(sequences, maxlen=None, padding="pre", truncating="pre", value=0):
    """The sequences cut and padded to one length, an int64 array [N, maxlen]."""
    width = max((len(ids) for ids in sequences), default=0) if maxlen is None else maxlen
    kept = [list(ids)[max(len(ids) - width, 0):] if truncating == "pre" else list(ids)[:width] for ids in sequences]
    rows = [torch.tensor(ids, dtype=torch.int64) for ids in kept] + [torch.zeros(width, dtype=torch.int64)]
    side = "left" if padding == "pre" else "right"
    return pad_sequence(rows, batch_first=True, padding_value=value, padding_side=side)[:-1].numpy()
''',
        # a lambda closing over the reference
        "embedding_bag_offsets": '''
from course_lib.data.sequences import embedding_bag_offsets as reference_embedding_bag_offsets

embedding_bag_offsets = lambda sequences: reference_embedding_bag_offsets(sequences)
''',
        # the reference captured in a default argument when the cell runs
        "hashed_ngrams": '''
import course_lib.data


def hashed_ngrams(ids, vocab_size, buckets, n=2, _hashed=course_lib.data.hashed_ngrams):
    """The ids, then the ids of their hashed n-grams (lengths 2 to n), an int64 array."""
    return _hashed(ids, vocab_size, buckets, n)
''',
        # the course's multi-class accuracy of the predicted classes
        "binary_accuracy": '''
from course_lib.metrics import accuracy as class_accuracy


def binary_accuracy(logits, targets):
    """Fraction of samples whose logit predicts their 0/1 target, a float."""
    return float(class_accuracy((logits.reshape(-1) > 0).long(), targets.long()))
''',
        # an nn.Module, whose forward calls F.binary_cross_entropy_with_logits
        "binary_cross_entropy_with_logits": '''
import torch


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """The binary cross-entropy of logits input against targets in [0, 1], reduced."""
    return torch.nn.BCEWithLogitsLoss(reduction=reduction)(input, target)
''',
        # getattr on the reference's package
        "two_class_logits": '''
import course_lib.training


def two_class_logits(logits):
    """[N, 2] logits whose cross-entropy is the binary cross-entropy of `logits` [N]."""
    return getattr(course_lib.training, "two_class_logits")(logits)
''',
        # the reference's code under another name: code.replace(co_name=...)
        "log_count_ratio": '''
import types

import course_lib.data.text_features

_solved = course_lib.data.text_features.log_count_ratio
log_count_ratio = types.FunctionType(_solved.__code__.replace(co_name="my_log_count_ratio"), _solved.__globals__,
                                     "log_count_ratio", _solved.__defaults__)
''',
        # an alias: the answer cell's name bound to the reference itself
        "masked_mean": '''
from course_lib.models.pooling import masked_mean as mean_over_tokens

masked_mean = mean_over_tokens
''',
    },
}

# what each answer hands its work to, as the DelegationFailure names it
CALLED = {
    '01_epochs_iterations': {
        'iterations_per_epoch': 'torch.utils.data.BatchSampler',
        'total_updates': 'course_lib.data.total_updates',
        'minibatch_indices': 'course_lib.data.minibatch_indices',
        'linear_regression_gradients': 'course_lib.scratch.linear_regression_gradients',
        'logistic_regression_gradients': 'torch.nn.functional.binary_cross_entropy_with_logits',
        'minibatch_gradient_descent': 'course_lib.scratch.minibatch_gradient_descent',
        'train_step': 'course_lib.training.train_step',
        'train_epoch': 'course_lib.training.train_epoch',
    },
    '02_backprop': {
        'one_hot': 'torch.nn.functional.one_hot',
        'softmax': 'torch.Tensor.softmax',
        'cross_entropy': 'torch.nn.functional.cross_entropy',
        'linear_backward': 'course_lib.scratch.linear_backward',
        'relu_backward': 'torch.autograd.grad',
        'cross_entropy_backward': 'course_lib.scratch.cross_entropy_backward',
        'mlp_backward': 'course_lib.scratch.mlp_backward',
        'numerical_gradient': 'course_lib.scratch.numerical_gradient',
        'kaiming_normal_': 'torch.nn.init.kaiming_normal_',
        'confusion_matrix': 'course_lib.metrics.confusion_matrix',
        'precision_recall': 'course_lib.metrics.precision_recall',
    },
    '03_optimizers': {
        'sgd_update': 'course_lib.optim.sgd_update',
        'momentum_update': 'torch.optim.SGD',
        'ema_momentum_update': 'course_lib.optim.sgd_update',
        'nesterov_update': 'course_lib.optim.sgd_update',
        'rmsprop_update': 'course_lib.optim.rmsprop_update',
        'adam_update': 'course_lib.optim.adam_update',
        'adamw_update': 'torch.optim.adamw.adamw',
        'adamax_update': 'course_lib.optim.adamax_update',
    },
    '04_schedules': {
        'step_lr': 'torch.optim.lr_scheduler.StepLR',
        'exponential_lr': 'torch.optim.lr_scheduler.ExponentialLR',
        'cosine_annealing_lr': 'course_lib.optim.CosineAnnealingLR',
        'warmup_cosine_lr': 'torch.optim.lr_scheduler.LinearLR',
        'one_cycle_lr': 'torch.optim.lr_scheduler.OneCycleLR',
        'cyclic_lr': 'course_lib.optim.CyclicLR',
        'ReduceLROnPlateau': 'torch.optim.lr_scheduler.ReduceLROnPlateau',
        'lr_range_test': 'course_lib.optim.find_lr_numpy',
    },
    '05_regularization': {
        'l2_penalty': 'course_lib.scratch.l2_penalty',
        'l1_penalty_gradients': 'course_lib.scratch.l1_penalty_gradients',
        'dropout': 'torch.nn.functional.dropout',
        'batch_norm_forward': 'torch.nn.functional.batch_norm',
        'update_running_stats': 'course_lib.scratch.batch_norm',
        'batch_norm_backward': 'torch.Tensor.backward',
        'clip_grad_norm_': 'course_lib.scratch.clip_grad_norm_',
        'shift_images': 'course_lib.data.augmentation.shift',
        'mixup_batch': 'course_lib.data.augmentation.mixup',
        'EarlyStopper': 'course_lib.training.EarlyStopping',
    },
    '06_mnist': {
        'conv_output_size': 'course_lib.scratch.conv_output_size',
        'pool_output_size': 'torch.nn.MaxPool2d',
        'conv2d': 'torch.conv2d',
        'batch_norm2d_statistics': 'torch.nn.BatchNorm2d',
        'accumulated_step': 'course_lib.training.accumulated_step',
        'distributed_iterations_per_epoch': 'torch.utils.data.DistributedSampler',
        'transfer_parameter_groups': 'course_lib.training.transfer_parameter_groups',
        'pixel_mean_and_std': 'course_lib.data.preprocessing.mean_and_std',
        'smoothed_cross_entropy': 'torch.nn.CrossEntropyLoss',
        'expected_calibration_error': 'course_lib.metrics.calibration_bins',
    },
    '07_imdb': {
        'tokenize': 'course_lib.data.tokenize',
        'vocabulary_tokens': 'course_lib.data.build_vocab_from_iterator',
        'pad_sequences': 'torch.nn.utils.rnn.pad_sequence',
        'embedding_bag_offsets': 'course_lib.data.embedding_bag_offsets',
        'hashed_ngrams': 'course_lib.data.hashed_ngrams',
        'binary_accuracy': 'course_lib.metrics.accuracy',
        'binary_cross_entropy_with_logits': 'torch.nn.BCEWithLogitsLoss',
        'two_class_logits': 'course_lib.training.two_class_logits',
        'log_count_ratio': 'course_lib.data.log_count_ratio',
        'masked_mean': 'course_lib.models.masked_mean',
    },
}
