"""The course's recipe for a convolutional network on MNIST on a CPU: `fast_cnn` trained by
AdamW under a one-cycle learning rate, stepped every iteration, with label smoothing and
small random shifts, on mini-batches drawn from tensors in memory.

    model, history = train_fast_cnn(train_images, train_labels, epochs=4)
    accuracy = (predict(model, test_images) == torch.from_numpy(test_labels)).float().mean()

Images are uint8 [N, 28, 28] as `course_lib.data.load_mnist` returns them. The model
standardises its inputs itself with the mean and standard deviation of the images it was
trained on, so validation and test images go in as they are. The defaults were chosen on
a validation split held out from the training set (benchmarks/mnist_cnn.py measures them).
"""
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

from ..data.augmentation import AugmentingCollate
from ..data.preprocessing import mean_and_std
from ..errors import CourseError
from ..models import Standardize, fast_cnn
from .fit import fit

# the budget the defaults were tuned for: >= 99.3 % test accuracy in under a minute on 2 cores
DEFAULT_EPOCHS = 4


@dataclass
class Training:
    """A model with everything `fit` needs to train it."""
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scheduler_interval: str
    train_loader: DataLoader
    loss_fn: nn.Module
    epochs: int

    def fit(self, **options):
        """`fit` this training; `options` are fit's others (val_loader, callbacks, progress...)."""
        return fit(self.model, self.train_loader, loss_fn=self.loss_fn, optimizer=self.optimizer, epochs=self.epochs,
                   scheduler=self.scheduler, scheduler_interval=self.scheduler_interval, **options)


def scaled_images(images):
    """uint8 images [N, 28, 28] (numpy or torch) -> float32 tensor [N, 1, 28, 28] in [0, 1]."""
    images = torch.as_tensor(np.asarray(images))
    if images.dtype != torch.uint8 or images.ndim != 3:
        raise CourseError(f"images must be uint8 [N, H, W] as load_mnist returns them, got "
                          f"{images.dtype} of shape {list(images.shape)}")
    return images.unsqueeze(1).float().div_(255)


def shuffled_batches(inputs, targets, batch_size, *, seed, collate_fn=None):
    """A DataLoader of (inputs, targets) mini-batches of in-memory tensors, in a fresh order
    every epoch (drawn from a generator seeded with `seed`), each batch fetched by one
    indexing of the tensors instead of one sample at a time; `collate_fn`, if given, is
    applied to each batch."""
    dataset = TensorDataset(inputs, targets)
    order = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_size=None, sampler=BatchSampler(order, batch_size, drop_last=False),
                      collate_fn=collate_fn)


class AugmentedBatches:
    """A `collate_fn` for `shuffled_batches`, which hands it whole batches rather than lists
    of samples: the batch's images go through an `AugmentingCollate`'s `augment` (shifts,
    rotations...), all at once."""

    def __init__(self, augmenting_collate):
        self.augmenting_collate = augmenting_collate

    def __call__(self, batch):
        images, labels = batch
        return self.augmenting_collate.augment(images), labels


def fast_cnn_training(images, labels, *, epochs=DEFAULT_EPOCHS, batch_size=128, max_lr=0.01, weight_decay=5e-4,
                      label_smoothing=0.1, max_shift=1, max_degrees=0.0, channels=(16, 32, 64), seed=0):
    """The model, optimizer, scheduler, loader and loss of the recipe for `epochs` epochs on
    uint8 `images` [N, 28, 28] and int64 `labels` [N].

    - model: `Standardize` (the training images' mean and std) -> `fast_cnn(channels)`, its
      weights in channels_last order, which the CPU's convolution kernels run fastest;
    - AdamW with `weight_decay`, under OneCycleLR up to `max_lr` over all
      epochs × batches steps (fit must step it per iteration);
    - cross-entropy with `label_smoothing`;
    - batches of `batch_size` in a fresh order every epoch, each image moved by up to
      `max_shift` pixels and rotated by up to `max_degrees` degrees.
    `seed` seeds the weights, the order of the batches and the augmentation.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise CourseError(f"epochs must be a whole number >= 1, got {epochs!r}")
    inputs, targets = scaled_images(images), torch.as_tensor(np.asarray(labels))
    if targets.shape != (len(inputs),):
        raise CourseError(f"labels must hold one class index per image ({len(inputs)}), "
                          f"got shape {list(targets.shape)}")
    torch.manual_seed(seed)
    model = nn.Sequential(Standardize(*mean_and_std(inputs.numpy())), fast_cnn(channels))
    model = model.to(memory_format=torch.channels_last)
    augment = AugmentedBatches(AugmentingCollate(max_shift=max_shift, max_degrees=max_degrees, seed=seed))
    train_loader = shuffled_batches(inputs, targets, batch_size, seed=seed, collate_fn=augment)
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps=epochs * len(train_loader))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    return Training(model, optimizer, scheduler, "iteration", train_loader, loss_fn, epochs)


def train_fast_cnn(images, labels, *, epochs=DEFAULT_EPOCHS, val_images=None, val_labels=None, callbacks=(),
                   progress=False, **options):
    """Train the recipe (`fast_cnn_training(images, labels, epochs=epochs, **options)`) with
    `fit`, validating on (`val_images`, `val_labels`) after every epoch if given; returns
    (model, history)."""
    training = fast_cnn_training(images, labels, epochs=epochs, **options)
    val_loader = None
    if val_images is not None:
        val_dataset = TensorDataset(scaled_images(val_images), torch.as_tensor(np.asarray(val_labels)))
        val_loader = DataLoader(val_dataset, batch_size=1000)
    history = training.fit(val_loader=val_loader, callbacks=callbacks, progress=progress)
    return training.model, history


def predict(model, images, batch_size=1000):
    """The classes `model` predicts for uint8 `images` [N, 28, 28], as an int64 tensor [N];
    in eval mode, without recording anything for autograd."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return torch.cat([model(batch).argmax(dim=1) for batch in scaled_images(images).split(batch_size)])
    finally:
        model.train(was_training)
