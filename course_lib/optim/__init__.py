"""numpy optimizers and learning-rate schedulers mirroring `torch.optim` and
`torch.optim.lr_scheduler` (same names, arguments, defaults and updates), and the LR range
test (`lr_finder`) for numpy and torch models."""
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lr_finder import LRFinderResult, find_lr_numpy, find_lr_torch, lr_range_test, suggest_lr
from .lr_scheduler import (
    CosineAnnealingLR, CyclicLR, ExponentialLR, LinearLR, LRScheduler, MultiStepLR, OneCycleLR,
    ReduceLROnPlateau, SequentialLR, StepLR,
)
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Adagrad", "Adam", "AdamW", "Adamax", "CosineAnnealingLR", "CyclicLR", "ExponentialLR",
    "LRFinderResult", "LRScheduler", "LinearLR", "MultiStepLR", "OneCycleLR", "Optimizer",
    "RMSprop", "ReduceLROnPlateau", "SGD", "SequentialLR", "StepLR", "find_lr_numpy",
    "find_lr_torch", "lr_range_test", "suggest_lr",
]
