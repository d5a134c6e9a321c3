"""Code that `fit` calls at fixed points of training: the `Callback` hooks, early stopping
(on a plateau of the monitored value, or once the learning rate has reached its minimum)
and checkpointing.

Before `on_train_begin`, `fit` sets `callback.run` to its `TrainingRun` (model, optimizer,
scheduler, loaders, history, `epoch`, `global_step`); a callback stops training by setting
`self.run.stop_training = True`, which `fit` honours at the end of the current epoch.
"""
import copy
import math

from ..errors import CourseError
from .checkpoint import save_checkpoint


class Callback:
    """Hooks `fit` calls; each does nothing unless overridden.

    `epoch` counts from 1 and `step` (the global step) from 1; `logs` is the record just
    added to the history (`run.history.epochs[-1]` or `run.history.iterations[-1]`).
    `state_dict`/`load_state_dict` carry what the callback has learned so far into a
    checkpoint and back, so a resumed run decides as the uninterrupted one would.
    """

    run = None
    # fit runs the on_epoch_end of callbacks with saves_training_state last, so a saved
    # checkpoint holds every other callback's state after this epoch
    saves_training_state = False

    def on_train_begin(self):
        pass

    def on_iteration_end(self, step, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def resolve_mode(mode, monitor):
    """"min" or "max"; "auto" reads the monitored name as Keras does: accuracies ("acc" in
    the name) and AUCs are maximised, everything else (losses, errors) minimised."""
    if mode not in ("min", "max", "auto"):
        raise CourseError(f'mode must be "min", "max" or "auto", got {mode!r}')
    if mode == "auto":
        return "max" if "acc" in monitor or monitor.endswith("auc") else "min"
    return mode


def monitored_value(logs, monitor, owner):
    """logs[monitor], or an error naming what is logged."""
    if monitor not in logs:
        logged = sorted(key for key in logs if key not in ("epoch", "step"))
        hint = (" (validation metrics need fit(..., val_loader=...))"
                if monitor.startswith("val_") and not any(k.startswith("val_") for k in logs) else "")
        raise CourseError(f"{owner} monitors {monitor!r}, which is never logged{hint}; "
                          f"the logged metrics are {logged}")
    return logs[monitor]


class EarlyStopping(Callback):
    """Stop when `monitor` has stopped improving; the semantics of Keras' EarlyStopping.

    At every epoch end: the value improves on the best so far if it is lower than
    `best - min_delta` (mode "min") or higher than `best + min_delta` (mode "max"); the
    first epoch always improves (the best starts at ±inf). An improvement records the
    value and the epoch (and, with `restore_best_weights`, a copy of the weights) and
    resets the wait counter to 0; any other epoch adds 1 to it. Training stops at the end
    of the epoch where the counter reaches `patience`: with patience 2 and the best at
    epoch 3, the last epoch run is 5. `min_delta` counts as an absolute amount.

    With `restore_best_weights`, the model gets the best epoch's weights back (bit for
    bit) when training ends, whether it stopped early or ran all its epochs (as Keras 3
    does). `stopped_epoch` is the epoch it stopped at (0: it never stopped training) and
    `best_epoch` the epoch of the best value.
    """

    def __init__(self, monitor="val_loss", mode="auto", patience=0, min_delta=0.0,
                 restore_best_weights=False):
        if not isinstance(patience, int) or patience < 0:
            raise CourseError(f"patience must be a whole number >= 0, got {patience!r}")
        if min_delta < 0:
            raise CourseError(f"min_delta must be >= 0 (it is an amount of improvement), got {min_delta}")
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode = resolve_mode(mode, monitor)
        self.restore_best_weights = restore_best_weights
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.stopped_epoch, self.wait = 0, 0, 0
        self.best_weights = None

    def on_train_begin(self):
        self._reset()

    def improves(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs):
        value = monitored_value(logs, self.monitor, "EarlyStopping")
        if self.improves(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(self.run.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.run.stop_training = True

    def on_train_end(self):
        if self.restore_best_weights and self.best_weights is not None:
            self.run.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": copy.deepcopy(self.best_weights)}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.stopped_epoch = state["stopped_epoch"]
        self.best_weights = copy.deepcopy(state["best_weights"])


class StopAtMinimumRate(Callback):
    """Stop once the learning rate has come down to `min_lr` — the rule that ends a run
    whose rate a `ReduceLROnPlateau(min_lr=...)` lowers at every plateau (fairseq's
    `--stop-min-lr`): when the rate can fall no further, more epochs change little.

    At every epoch end — after `fit` has stepped the scheduler, so the rate read is the
    one the next epoch would use — the epoch counts as one at the minimum if every
    parameter group's rate is at most `min_lr` (one number, or one per group as
    ReduceLROnPlateau's). A rate within a relative 1e-9 of it counts: 0.001 × 0.1 × 0.1 is
    1.0000000000000002e-05 in floating point. Training stops at the end of the epoch at
    which `patience` + 1 epoch ends have been at the minimum: with patience 0 (the
    default), as soon as the rate reaches it; with patience 1, after one epoch run at the
    minimum rate. `stopped_epoch` is that epoch (0: it never stopped training).

    It decides on the rate alone; add `EarlyStopping(restore_best_weights=True)` to keep
    the best epoch's weights.
    """

    RELATIVE_TOLERANCE = 1e-9

    def __init__(self, min_lr, patience=0):
        minima = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr]
        if not minima or not all(isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
                                 for value in minima):
            raise CourseError(f"min_lr is the smallest learning rate, a number >= 0 (or one per parameter group), "
                              f"got {min_lr!r}")
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise CourseError(f"patience must be a whole number >= 0 (epochs run at the minimum rate), "
                              f"got {patience!r}")
        self.min_lr, self.patience = min_lr, patience
        self.epochs_at_minimum, self.stopped_epoch = 0, 0

    def on_train_begin(self):
        self.epochs_at_minimum, self.stopped_epoch = 0, 0

    def at_minimum(self):
        """Whether every parameter group's learning rate is at (or below) its minimum."""
        rates = [group["lr"] for group in self.run.optimizer.param_groups]
        minima = list(self.min_lr) if isinstance(self.min_lr, (list, tuple)) else [self.min_lr] * len(rates)
        if len(minima) != len(rates):
            raise CourseError(f"min_lr holds {len(minima)} rates but the optimizer has {len(rates)} parameter "
                              "groups: give one number, or one per group")
        return all(rate <= minimum * (1 + self.RELATIVE_TOLERANCE) for rate, minimum in zip(rates, minima))

    def on_epoch_end(self, epoch, logs):
        if not self.at_minimum():
            return
        self.epochs_at_minimum += 1
        if self.epochs_at_minimum > self.patience:
            self.stopped_epoch = epoch
            self.run.stop_training = True

    def state_dict(self):
        return {"epochs_at_minimum": self.epochs_at_minimum, "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state):
        self.epochs_at_minimum, self.stopped_epoch = state["epochs_at_minimum"], state["stopped_epoch"]


class ModelCheckpoint(Callback):
    """Save the full training state (see `checkpoint.training_state`) at epoch ends.

    With `save_best_only`, only when `monitor` is strictly better than at every earlier
    save (as Keras); otherwise every epoch. `path` may hold `{epoch}` and logged names,
    e.g. "ckpt-{epoch:02d}-{val_loss:.3f}.pt", filled from the epoch's record. A save
    writes a temporary file and renames it, so a failed save leaves the previous
    checkpoint as it was. `last_path` is the file written last.
    """

    saves_training_state = True

    def __init__(self, path, monitor="val_loss", mode="auto", save_best_only=True):
        self.path, self.monitor, self.save_best_only = str(path), monitor, save_best_only
        self.mode = resolve_mode(mode, monitor)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_path = None

    def on_epoch_end(self, epoch, logs):
        if self.save_best_only:
            value = monitored_value(logs, self.monitor, "ModelCheckpoint")
            if not (value < self.best if self.mode == "min" else value > self.best):
                return
            self.best = value
        path = self.path.format(**logs)
        save_checkpoint(path, self.run)
        self.last_path = path

    def state_dict(self):
        return {"best": self.best, "last_path": self.last_path}

    def load_state_dict(self, state):
        self.best, self.last_path = state["best"], state["last_path"]
