"""numpy optimizers and learning-rate schedulers mirroring `torch.optim` and
`torch.optim.lr_scheduler` (same names, arguments, defaults and updates), the update rule
of each optimizer as a function of one array (`adam_update(param, grad, state, ...)`), and
the LR range test (`lr_finder`) for numpy and torch models, and two-dimensional test
surfaces to watch optimizers move on (`surfaces`)."""
from .adagrad import Adagrad, adagrad_update
from .adam import Adam, adam_update
from .adamax import Adamax, adamax_update
from .adamw import AdamW, adamw_update
from .lr_finder import LRFinderResult, find_lr_numpy, find_lr_torch, lr_range_test, suggest_lr
from .lr_scheduler import (
    CosineAnnealingLR, CyclicLR, ExponentialLR, LambdaLR, LinearLR, LRScheduler, MultiStepLR,
    OneCycleLR, ReduceLROnPlateau, SequentialLR, StepLR,
)
from .optimizer import Optimizer
from .rmsprop import RMSprop, rmsprop_update
from .sgd import SGD, sgd_update
from .surfaces import Surface, ill_conditioned_quadratic, rosenbrock, trajectory

__all__ = [
    "Adagrad", "Adam", "AdamW", "Adamax", "CosineAnnealingLR", "CyclicLR", "ExponentialLR",
    "LRFinderResult", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "OneCycleLR", "Optimizer",
    "RMSprop", "ReduceLROnPlateau", "SGD", "SequentialLR", "StepLR", "Surface", "find_lr_numpy",
    "find_lr_torch", "ill_conditioned_quadratic", "lr_range_test", "rosenbrock", "suggest_lr",
    "trajectory",
    # the update rules the optimizers apply to each parameter
    "adagrad_update", "adam_update", "adamax_update", "adamw_update", "rmsprop_update",
    "sgd_update",
]
