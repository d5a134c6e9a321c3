"""A training run in a few numbers, and several runs side by side in one Markdown table."""
import math

from ..errors import CourseError

MISSING = "–"
COLUMNS = ("run", "best val acc (epoch)", "final train acc", "final val acc", "gap", "test acc", "seconds")


def run_summary(history, *, test_accuracy=None, train_accuracy=None, val_accuracy=None):
    """The numbers that tell how a `fit` run went, from its `History`, as a dict:

    - "epochs": epochs run (fewer than asked for if early stopping fired);
    - "best_epoch", "best_val_loss": the epoch (from 1) with the lowest validation loss,
      the first of equals, and that loss; "best_val_accuracy": the validation accuracy of
      that epoch, what `EarlyStopping(restore_best_weights=True)` gives back;
    - "final_train_accuracy", "final_val_accuracy": of the last epoch run (the training one
      is the mean over the epoch's batches, with dropout on), and "gap", the first minus
      the second: how much better the model does on what it was trained on. Pass
      `train_accuracy` / `val_accuracy` to use measurements of the final model instead
      (in eval mode, on un-augmented data, after restoring the best weights): the logged
      training accuracy of a run with dropout, augmentation or mixup is not comparable;
    - "test_accuracy": as given; "seconds": the training time of all epochs.

    Whatever the run did not log (no validation loader, no accuracy metric, an epoch
    without "seconds") is None; epochs whose validation loss is nan never count as best.
    """
    epochs = history.epochs
    if not epochs:
        raise CourseError("the history holds no epoch: summarise a run after fit has completed one")
    losses = [(record["val_loss"], record["epoch"]) for record in epochs
              if record.get("val_loss") is not None and not math.isnan(record["val_loss"])]
    best_val_loss, best_epoch = min(losses, key=lambda pair: pair[0]) if losses else (None, None)
    best_record = next((record for record in epochs if record["epoch"] == best_epoch), {})
    final = epochs[-1]
    train = final.get("accuracy") if train_accuracy is None else train_accuracy
    val = final.get("val_accuracy") if val_accuracy is None else val_accuracy
    seconds = [record.get("seconds") for record in epochs]
    return {
        "epochs": len(epochs),
        "best_epoch": best_epoch,
        "best_val_loss": best_val_loss,
        "best_val_accuracy": best_record.get("val_accuracy"),
        "final_train_accuracy": train,
        "final_val_accuracy": val,
        "gap": None if train is None or val is None else train - val,
        "test_accuracy": test_accuracy,
        "seconds": None if None in seconds else sum(seconds),
    }


def _percent(value):
    return MISSING if value is None else f"{100 * value:.2f} %"


def _row(label, summary):
    best = _percent(summary["best_val_accuracy"])
    if summary["best_val_accuracy"] is not None:
        best += f" ({summary['best_epoch']})"
    gap = summary["gap"]
    seconds = summary["seconds"]
    cells = [
        str(label).replace("|", r"\|"),  # a bar would end the cell
        best,
        _percent(summary["final_train_accuracy"]),
        _percent(summary["final_val_accuracy"]),
        MISSING if gap is None else f"{100 * gap:+.2f} pp",
        _percent(summary["test_accuracy"]),
        MISSING if seconds is None else f"{seconds:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def comparison_table(summaries):
    """The `run_summary` dicts of several runs ({label: summary}) as a Markdown table, one
    row per run in the given order: accuracies in percent with 2 decimals, the gap in
    percentage points (pp), "–" where a run has no value. Show it in a notebook with
    `IPython.display.Markdown(comparison_table(...))`."""
    if not summaries:
        raise CourseError("comparison_table needs at least one run: {label: run_summary(history)}")
    lines = ["| " + " | ".join(COLUMNS) + " |", "|:---|" + "---:|" * (len(COLUMNS) - 1)]
    lines += [_row(label, summary) for label, summary in summaries.items()]
    return "\n".join(lines)
