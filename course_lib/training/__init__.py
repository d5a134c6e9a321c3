"""The PyTorch training loop, written out: one step, one epoch, evaluation (`loop`), and
`fit`, the loop later assignments train with — metrics per iteration and per epoch in a
`History`, validation, clipping, schedulers, callbacks (`EarlyStopping`, `StopAtMinimumRate`,
`ModelCheckpoint`) and a bit-identical resume from a checkpoint (`checkpoint`); what a network does inside
(`diagnostics`) and a run, or several side by side, in a few numbers (`summary`);
gradient accumulation (`accumulation`), and data-parallel training with torch.distributed
(`distributed`, a script for torchrun, imported on its own: `python -m` runs it); the
binary classifier's two losses, one-logit BCE and two-class softmax, shown equal (`losses`);
`tensorboard.TensorBoardLogger`, a callback writing what fit logs for TensorBoard (imported on
its own too, so that only a kernel that logs to TensorBoard loads its writer and protobuf).
"""
from .accumulation import accumulated_step
from .callbacks import Callback, EarlyStopping, ModelCheckpoint, StopAtMinimumRate
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .diagnostics import layer_statistics
from .fit import TrainingRun, fit
from .history import History
from .loop import EpochStats, EvalStats, batch_progress, evaluate, model_outputs, train_epoch, train_step
from .losses import two_class_logits
from .search import (
    OptunaPruning, SearchTrial, best_so_far, best_trial, choice, grid_configurations, grid_search, log_uniform,
    mean_and_sd, optuna_search, random_search, repeat_over_seeds, search_table, trials_from_study, uniform,
)
from .summary import comparison_table, run_summary
from .transfer import InEvalMode, few_shot_subset, split_by_classes, transfer_parameter_groups, with_new_head

__all__ = [
    "Callback", "CheckpointError", "EarlyStopping", "EpochStats", "EvalStats", "History",
    "ModelCheckpoint", "StopAtMinimumRate", "TrainingRun", "accumulated_step", "batch_progress", "comparison_table",
    "evaluate", "fit",
    "layer_statistics", "load_checkpoint", "model_outputs", "run_summary", "save_checkpoint", "train_epoch",
    "train_step",
    "two_class_logits",
    "InEvalMode", "OptunaPruning", "SearchTrial", "best_so_far", "best_trial", "choice", "few_shot_subset",
    "grid_configurations", "grid_search", "log_uniform", "mean_and_sd", "optuna_search", "random_search",
    "repeat_over_seeds", "search_table", "split_by_classes", "transfer_parameter_groups", "trials_from_study",
    "uniform", "with_new_head",
]
