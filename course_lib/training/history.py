"""What a training run measured, on both clocks: one record per iteration, one per
validation and one per epoch, as plain dicts (so a checkpoint can store them as they are)."""
import copy

import matplotlib.pyplot as plt
import numpy as np

TRAIN_COLOR = "tab:blue"
EPOCH_COLOR = "tab:orange"
VALIDATION_COLOR = "tab:green"


class History:
    """The records of one `fit` run (continued across resumes).

    - `iterations`: one dict per optimizer step: `step` (global, from 1), `epoch` (from 1),
      `loss`, each metric (e.g. `accuracy`) on the batch, `lr` (of the first parameter
      group, the rate this step used) and `grad_norm` (global L2 norm before clipping).
    - `validations`: one dict per validation: `step`, `epoch`, `val_loss`, `val_<metric>`.
    - `epochs`: one dict per epoch: `epoch`, `step`, the sample-weighted means `loss` and
      each metric over the epoch's batches, `val_loss` and `val_<metric>` of the
      validation at the epoch's end, `lr` (of the epoch's last step) and `seconds`.

    `history["val_loss"]` is the per-epoch series of one key; `iteration_series("loss")`
    the per-iteration one.
    """

    def __init__(self):
        self.iterations = []
        self.validations = []
        self.epochs = []

    def __len__(self):
        return len(self.epochs)

    def __getitem__(self, key):
        """The per-epoch values of `key`, oldest first."""
        return self._series(self.epochs, key, "epoch")

    def keys(self):
        """The keys the epoch records hold."""
        return list(self.epochs[-1]) if self.epochs else []

    def iteration_series(self, key):
        """The per-iteration values of `key` (e.g. "loss", "lr", "grad_norm")."""
        return self._series(self.iterations, key, "iteration")

    def validation_series(self, key):
        """The values of `key` at every validation (every epoch, or every N iterations)."""
        return self._series(self.validations, key, "validation")

    @staticmethod
    def _series(records, key, kind):
        if records and key not in records[-1]:
            raise KeyError(f"the {kind} records hold no {key!r}; they hold {sorted(records[-1])}")
        return [record[key] for record in records]

    @property
    def iterations_per_epoch(self):
        """Optimizer steps per epoch (each epoch is one full pass over the loader, so the
        first epoch's count); None before the first epoch has ended."""
        if not self.epochs:
            return None
        return self.epochs[0]["step"]

    def state_dict(self):
        """The records as plain lists of dicts of numbers (a deep copy)."""
        return copy.deepcopy({"iterations": self.iterations, "validations": self.validations,
                              "epochs": self.epochs})

    def load_state_dict(self, state):
        """Replace the records by those of `state_dict()`."""
        state = copy.deepcopy(state)
        self.iterations, self.validations, self.epochs = (
            state["iterations"], state["validations"], state["epochs"])

    @classmethod
    def from_state_dict(cls, state):
        history = cls()
        history.load_state_dict(state)
        return history

    def plot(self, x="iteration", *, title=None):
        """Loss (left) and, if logged, accuracy (right) against `x` ("iteration" or
        "epoch"): training and validation curves. Returns the Figure.

        Against iterations, each mini-batch's value is drawn thin, the epoch means as
        dots at the step that ended their epoch, and validations at the step they ran.
        Against epochs, only the per-epoch values are drawn (mini-batch values faintly,
        at fractional epochs).
        """
        if x not in ("iteration", "epoch"):
            raise ValueError(f'x must be "iteration" or "epoch", got {x!r}')
        if not self.iterations:
            raise ValueError("the history is empty: plot it after fit has run at least one step")
        names = ["loss"] + (["accuracy"] if "accuracy" in self.iterations[-1] else [])
        fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4), layout="constrained",
                                 squeeze=False)
        for ax, name in zip(axes[0], names):
            self._plot_metric(ax, name, x)
        if title:
            fig.suptitle(title)
        return fig

    def _plot_metric(self, ax, name, x):
        steps = np.array(self.iteration_series("step"), dtype=float)
        ipe = self.iterations_per_epoch or len(steps)
        position = (lambda s: np.asarray(s, dtype=float)) if x == "iteration" else (
            lambda s: np.asarray(s, dtype=float) / ipe)
        batch_alpha = 0.8 if x == "iteration" else 0.25
        ax.plot(position(steps), self.iteration_series(name), color=TRAIN_COLOR, lw=0.7,
                alpha=batch_alpha, label=f"training {name} (mini-batch)")
        if self.epochs:
            epoch_steps = self._series(self.epochs, "step", "epoch")
            epoch_x = position(epoch_steps) if x == "iteration" else self["epoch"]
            ax.plot(epoch_x, self[name], "o-", color=EPOCH_COLOR, lw=2,
                    label=f"training {name} (epoch mean)")
        val_name = f"val_{name}"
        if self.validations and val_name in self.validations[-1]:
            ax.plot(position(self.validation_series("step")), self.validation_series(val_name),
                    "s--", color=VALIDATION_COLOR, lw=1.5, label=f"validation {name}")
        ax.set_xlabel("iteration (optimizer step)" if x == "iteration" else "epoch")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
