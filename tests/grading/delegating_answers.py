"""One answer per autograded exercise that does not do the exercise but hands it to the
course's own solution or to torch's implementation of the operation, as the full source of
its answer cell, each through another route: a call, an import inside the function, an
alias, functools.partial, importlib, getattr on the module, a copy of the function object or
of its code, a reference captured in a default argument or a closure, torch's function, a
Tensor method, an nn.Module, autograd.

The nbgrader round trip puts them into otherwise correct submissions and requires that
exactly their exercises' points are lost; test_delegating_answers.py checks that each fails
its visible tests with a DelegationFailure.
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
}
