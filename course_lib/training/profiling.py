"""What a network costs, for tables that set networks side by side: its parameters, the
floating-point operations of one example's forward pass, and the seconds of one training
epoch — measured on a subset and scaled up to the full training set when a full epoch
would take too long, and then labelled as extrapolated.
"""
import time
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

MNIST_TRAIN_SAMPLES = 60_000


def parameter_count(model):
    """The number of numbers a network learns: of a torch module's parameters, or of a
    `course_lib.scratch` network's dict of arrays ({"W1": ..., "b1": ..., ...})."""
    if isinstance(model, torch.nn.Module):
        return sum(parameter.numel() for parameter in model.parameters())
    if isinstance(model, dict):
        return sum(array.size for array in model.values())
    raise TypeError(f"model must be a torch.nn.Module or a dict of numpy arrays, "
                    f"got {type(model).__name__}")


def flops_per_example(model, input_shape):
    """Floating-point operations of the forward pass of one example of shape `input_shape`
    (without the batch dimension, e.g. (1, 28, 28)), as `torch.utils.flop_counter.
    FlopCounterMode` counts them: a multiply-add counts as 2 FLOPs, so a Linear(in, out)
    costs 2·in·out and a Conv2d 2·(C_in/groups)·k_h·k_w·C_out·H_out·W_out; only matrix
    products and convolutions count — bias additions, activations, pooling and softmax
    are left out, as they cost little next to them.

    Training costs about 3× this per example: the backward pass computes a gradient with
    respect to both the layer's input and its weights, each a product as large as the
    forward one.
    """
    parameter = next(model.parameters(), None)
    example = torch.zeros(1, *input_shape,
                          dtype=torch.get_default_dtype() if parameter is None else parameter.dtype)
    was_training = model.training
    # eval: in training mode batch norm would fold this zero example into its running statistics
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.no_grad():
            model(example)
    finally:
        model.train(was_training)
    return counter.get_total_flops()


@dataclass(frozen=True)
class EpochTime:
    """The time of one training epoch of `epoch_samples` samples, from a run on `measured_samples`."""
    measured_seconds: float  # wall-clock time of the run that was measured
    measured_samples: int  # samples that run trained on
    epoch_samples: int  # samples of the epoch it stands for

    @property
    def extrapolated(self):
        return self.measured_samples < self.epoch_samples

    @property
    def seconds(self):
        """Seconds per epoch: the measured time scaled by epoch_samples / measured_samples."""
        return self.measured_seconds * self.epoch_samples / self.measured_samples

    def __str__(self):
        if not self.extrapolated:
            return f"{self.seconds:.1f} s"
        return (f"{self.seconds:.1f} s (extrapolated from {self.measured_seconds:.1f} s on "
                f"{self.measured_samples:,} of {self.epoch_samples:,} samples)")


def seconds_per_epoch(train_once, *, samples, epoch_samples=MNIST_TRAIN_SAMPLES,
                      clock=time.perf_counter):
    """Time `train_once()`, one pass of training over `samples` samples (a torch
    `train_epoch` on a subset's loader, a numpy `fit_mlp(..., epochs=1)`), and scale it
    to an epoch of `epoch_samples` samples: an `EpochTime`, which says whether its
    seconds were extrapolated.

    The scaling assumes a constant cost per sample, so measure on a few thousand samples
    at least, and run `train_once` once before as a warm-up if first calls are slow
    (thread pools starting, memory being allocated): a fixed cost is scaled up too.
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or not 0 < samples <= epoch_samples:
        raise ValueError(f"samples must be a whole number from 1 to epoch_samples={epoch_samples}, "
                         f"got {samples!r}")
    started = clock()
    train_once()
    return EpochTime(measured_seconds=clock() - started, measured_samples=samples,
                     epoch_samples=epoch_samples)
