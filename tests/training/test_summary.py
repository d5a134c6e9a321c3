import math

import pytest
import torch

from course_lib.errors import CourseError
from course_lib.training.fit import fit
from course_lib.training.history import History
from course_lib.training.summary import comparison_table, run_summary


def history_of(*epochs):
    history = History()
    history.epochs = [{"epoch": number, "step": 10 * number, **record}
                      for number, record in enumerate(epochs, start=1)]
    return history


OVERFITTING = history_of(
    {"loss": 0.9, "accuracy": 0.70, "val_loss": 0.80, "val_accuracy": 0.75, "lr": 0.1, "seconds": 1.5},
    {"loss": 0.4, "accuracy": 0.88, "val_loss": 0.50, "val_accuracy": 0.86, "lr": 0.1, "seconds": 1.25},
    {"loss": 0.2, "accuracy": 0.95, "val_loss": 0.55, "val_accuracy": 0.87, "lr": 0.1, "seconds": 1.0},
)


def test_summary_of_an_overfitting_run():
    summary = run_summary(OVERFITTING, test_accuracy=0.85)

    assert summary == {
        "epochs": 3, "best_epoch": 2, "best_val_loss": 0.50, "best_val_accuracy": 0.86,
        "final_train_accuracy": 0.95, "final_val_accuracy": 0.87, "gap": pytest.approx(0.08),
        "test_accuracy": 0.85, "seconds": 3.75,
    }


def test_the_first_of_equal_validation_losses_is_best_and_nan_never_is():
    history = history_of({"val_loss": math.nan}, {"val_loss": 0.3}, {"val_loss": 0.3}, {"val_loss": math.nan})

    summary = run_summary(history)

    assert (summary["best_epoch"], summary["best_val_loss"]) == (2, 0.3)


def test_what_a_run_did_not_log_is_none():
    history = history_of({"loss": 0.5, "seconds": 1.0}, {"loss": 0.4})

    summary = run_summary(history)

    assert summary == {"epochs": 2, "best_epoch": None, "best_val_loss": None, "best_val_accuracy": None,
                       "final_train_accuracy": None, "final_val_accuracy": None, "gap": None,
                       "test_accuracy": None, "seconds": None}


def test_an_empty_history_cannot_be_summarised():
    with pytest.raises(CourseError, match="no epoch"):
        run_summary(History())


def test_summary_reads_what_fit_logs():
    torch.manual_seed(0)
    inputs, targets = torch.randn(32, 3), torch.arange(32) % 2
    batches = [(inputs[:16], targets[:16]), (inputs[16:], targets[16:])]
    model = torch.nn.Linear(3, 2)

    history = fit(model, batches, loss_fn=torch.nn.functional.cross_entropy,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=2, val_loader=batches,
                  progress=False)

    summary = run_summary(history)
    assert summary["epochs"] == 2 and summary["best_epoch"] in (1, 2)
    assert summary["final_train_accuracy"] == history["accuracy"][-1]
    assert summary["final_val_accuracy"] == history["val_accuracy"][-1]
    assert summary["seconds"] == pytest.approx(sum(history["seconds"]))


def test_comparison_table_in_markdown():
    summaries = {"baseline": run_summary(OVERFITTING, test_accuracy=0.8512),
                 "dropout | 0.5": run_summary(history_of({"loss": 0.5})),
                 "underfit": {**run_summary(OVERFITTING), "gap": -0.0123, "seconds": 62.04}}

    table = comparison_table(summaries)

    assert table.splitlines() == [
        "| run | best val acc (epoch) | final train acc | final val acc | gap | test acc | seconds |",
        "|:---|---:|---:|---:|---:|---:|---:|",
        "| baseline | 86.00 % (2) | 95.00 % | 87.00 % | +8.00 pp | 85.12 % | 3.8 |",
        r"| dropout \| 0.5 | – | – | – | – | – | – |",
        "| underfit | 86.00 % (2) | 95.00 % | 87.00 % | -1.23 pp | – | 62.0 |",
    ]


def test_comparison_table_needs_a_run():
    with pytest.raises(CourseError, match="at least one run"):
        comparison_table({})


def test_accuracies_measured_on_the_final_model_replace_the_logged_ones():
    summary = run_summary(OVERFITTING, train_accuracy=1.0, val_accuracy=0.86)
    assert (summary["final_train_accuracy"], summary["final_val_accuracy"]) == (1.0, 0.86)
    assert summary["gap"] == pytest.approx(0.14)
    assert run_summary(OVERFITTING)["gap"] == pytest.approx(0.95 - 0.87)
