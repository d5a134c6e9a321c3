"""Transfer learning without downloads: a network pretrained on some digits, given a new
head and trained on a few labelled examples of the others.

- `split_by_classes(images, labels, classes)`: only the samples of `classes`, relabelled
  0..k−1 in the order given (digits 5–9 become 0–4), for pretraining on one part of MNIST
  and transferring to the other.
- `few_shot_subset(images, labels, per_class, seed)`: `per_class` labelled examples of each
  class, drawn with a seed — the small labelled set transfer learning is for.
- `with_new_head(model, num_classes)`: a copy of a pretrained `nn.Sequential` whose last
  module, a Linear layer, is replaced by a fresh one with `num_classes` outputs.
- `transfer_parameter_groups(model, mode, lr, base_lr_factor=0.1)`: which parameters train
  and at which learning rate, "frozen", "fine_tune" or "scratch" (the notebook's exercise).
- `InEvalMode(module)`: keeps a frozen base in eval mode while the rest trains.

The base and the head: `model` is an `nn.Sequential` (or anything indexable like one) whose
LAST module is the head, the part that is new for the new task; the base is everything
before it. Its parameters are `model[-1].parameters()` (head) and
`model[:-1].parameters()` (base) — `with_new_head` returns `nn.Sequential(base, head)`.
"""
import copy
import numbers

import numpy as np
import torch
from torch import nn

from ..errors import CourseError

MODES = ("frozen", "fine_tune", "scratch")


# ------------------------------------------------------------------------------ data

def _as_numpy(labels):
    return labels.numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)


def _check_pairs(images, labels):
    if len(images) != len(labels):
        raise CourseError(f"images and labels must hold the same number of samples, got {len(images)} "
                          f"images and {len(labels)} labels")


def _taken(images, labels, indices, new_labels):
    """images[indices] and the new labels, each of the kind (numpy or torch) it came in."""
    if isinstance(labels, torch.Tensor):
        new_labels = torch.as_tensor(new_labels, dtype=labels.dtype)
    if isinstance(images, torch.Tensor):
        indices = torch.as_tensor(indices)
    return images[indices], new_labels


def split_by_classes(images, labels, classes):
    """The samples whose label is one of `classes`, in their original order, with labels
    remapped to positions in `classes`: classes=[5, 6, 7, 8, 9] turns 5 into 0 … 9 into 4.
    `images` and `labels` are numpy arrays or torch tensors; each comes back as it came."""
    _check_pairs(images, labels)
    classes = [int(label) for label in classes]
    if not classes or len(set(classes)) != len(classes):
        raise CourseError(f"classes must list distinct labels to keep, e.g. [5, 6, 7, 8, 9]; got {classes}")
    old = _as_numpy(labels)
    missing = [label for label in classes if not (old == label).any()]
    if missing:
        raise CourseError(f"no sample has label {missing[0]}; the labels present are {sorted(set(old.tolist()))}")
    new_label_of = np.full(max(classes + old.tolist()) + 1, -1, dtype=np.int64)
    new_label_of[classes] = np.arange(len(classes))
    indices = np.flatnonzero(np.isin(old, classes))
    return _taken(images, labels, indices, new_label_of[old[indices]])


def few_shot_subset(images, labels, per_class, seed):
    """`per_class` samples of every class in `labels`, drawn without replacement by
    `np.random.default_rng(seed)` (an int or a Generator) and returned in a shuffled order
    (so no batch holds a single class): (images, labels), of the kinds they came in."""
    _check_pairs(images, labels)
    if isinstance(per_class, bool) or not isinstance(per_class, numbers.Integral) or per_class < 1:
        raise CourseError(f"per_class is the number of labelled examples of each class, a whole number >= 1; "
                          f"got {per_class!r}")
    old = _as_numpy(labels)
    classes, counts = np.unique(old, return_counts=True)
    if counts.min() < per_class:
        scarce = classes[counts.argmin()]
        raise CourseError(f"class {scarce} has only {counts.min()} samples, fewer than per_class={per_class}")
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(old == label), per_class, replace=False)
                             for label in classes])
    indices = rng.permutation(chosen)
    return _taken(images, labels, indices, old[indices])


# ------------------------------------------------------------------------------ models

class InEvalMode(nn.Module):
    """`module`, kept in eval mode whatever `.train()` says — and `fit` calls
    `model.train()` at the start of every epoch.

    A frozen base needs this when it holds BatchNorm (or dropout): requires_grad=False keeps
    its weights as they are, but in train mode BatchNorm still normalises with each batch's
    own statistics and updates its running_mean and running_var from them, so the few-shot
    batches would overwrite what it learnt on the pretraining data. In eval mode it
    normalises with the running statistics and leaves them alone (and dropout is off).
    """

    def __init__(self, module):
        super().__init__()
        self.module = module
        self.train(False)

    def train(self, mode=True):
        return super().train(False)

    def forward(self, *inputs):
        return self.module(*inputs)


def with_new_head(model, num_classes, *, base_in_eval_mode=False):
    """`nn.Sequential(base, head)`: `base` a deep copy of `model[:-1]` (the pretrained model
    is left as it is), `head` a new `nn.Linear` with the old head's inputs and `num_classes`
    outputs, initialised by torch's global generator (seed it with `torch.manual_seed`).
    With `base_in_eval_mode`, the base is wrapped in `InEvalMode`. `model`'s last module
    must be an `nn.Linear` (for `pytorch_examples_cnn`, which ends in LogSoftmax, pass
    `model[:-1]`)."""
    if not isinstance(model, nn.Sequential) or len(model) < 2:
        raise CourseError(f"with_new_head takes an nn.Sequential whose last module is the head, "
                          f"got {type(model).__name__}")
    old_head = model[-1]
    if not isinstance(old_head, nn.Linear):
        raise CourseError(f"the model's last module is {type(old_head).__name__}, not the Linear head to replace "
                          "(a model ending in LogSoftmax: pass model[:-1])")
    base = copy.deepcopy(model[:-1])
    head = nn.Linear(old_head.in_features, num_classes, device=old_head.weight.device, dtype=old_head.weight.dtype)
    return nn.Sequential(InEvalMode(base) if base_in_eval_mode else base, head)


def transfer_parameter_groups(model, mode, lr, base_lr_factor=0.1):
    """Set which of `model`'s parameters train and return the parameter groups for
    `torch.optim` (a list of dicts, each "params" a list), for the head `model[-1]` on the
    base `model[:-1]`:

    - "frozen": the base's parameters get requires_grad=False (all of them: the weights,
      the biases, BatchNorm's weight and bias), the head's True; returns
      [{"params": head parameters, "lr": lr}]. Backward then stops at the head and the
      optimizer never sees the base. BatchNorm layers in a frozen base still update their
      running statistics in train mode: keep the base in eval mode (`InEvalMode`,
      `with_new_head(..., base_in_eval_mode=True)`) to keep them.
    - "fine_tune": everything trains; returns [{"params": base parameters, "lr": lr *
      base_lr_factor}, {"params": head parameters, "lr": lr}] — the pretrained base moves
      more slowly than the new head.
    - "scratch": everything trains; returns [{"params": all parameters, "lr": lr}]. (A model
      trained from scratch is freshly initialised: that is the caller's part.)
    """
    if mode not in MODES:
        raise CourseError(f"mode must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    base, head = list(model[:-1].parameters()), list(model[-1].parameters())
    for parameter in base:
        parameter.requires_grad_(mode != "frozen")
    for parameter in head:
        parameter.requires_grad_(True)
    if mode == "frozen":
        return [{"params": head, "lr": lr}]
    if mode == "fine_tune":
        return [{"params": base, "lr": lr * base_lr_factor}, {"params": head, "lr": lr}]
    return [{"params": base + head, "lr": lr}]
