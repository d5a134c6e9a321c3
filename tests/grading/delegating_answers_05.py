"""One realistic delegating answer per autograded exercise of 05, as the full source of its
answer cell: an answer that hands the work to the exercise's own course_lib reference or,
for a "from scratch" exercise, to torch's implementation of the same operation — each by
another route (an import inside the function, an alias, a reference captured before the
test, functools.partial, importlib, a subclass, torch's op on converted arrays, autograd).

Every one of them computes the right values: without the delegation watch each would score
full marks. The checks must fail each with a DelegationFailure, and the nbgrader round trip
must take exactly its exercise's points.
"""

DELEGATING_05 = {
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
}
