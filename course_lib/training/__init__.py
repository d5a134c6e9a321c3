"""The PyTorch training loop, written out: one step, one epoch, evaluation."""
from .loop import EpochStats, EvalStats, evaluate, train_epoch, train_step

__all__ = ["EpochStats", "EvalStats", "evaluate", "train_epoch", "train_step"]
