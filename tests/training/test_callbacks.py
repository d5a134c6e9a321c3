import copy
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from course_lib.errors import CourseError
from course_lib.training.callbacks import Callback, EarlyStopping, ModelCheckpoint, StopAtMinimumRate
from course_lib.training.checkpoint import load_checkpoint
from course_lib.training.fit import fit


def run_on_logs(callback, values, monitor="val_loss"):
    """Feed `values` as successive epoch ends, the way fit would; returns the epochs run."""
    callback.run = SimpleNamespace(model=torch.nn.Linear(1, 1), stop_training=False)
    callback.on_train_begin()
    for epoch, value in enumerate(values, start=1):
        callback.on_epoch_end(epoch, {"epoch": epoch, monitor: value})
        if callback.run.stop_training:
            return epoch
    return len(values)


@pytest.mark.parametrize("values, kwargs, stopped_at, best_epoch", [
    ([1.0, 0.9, 0.95, 0.91, 0.92, 0.5], {"patience": 2}, 4, 2),
    ([1.0, 0.9, 0.95, 0.91, 0.92, 0.5], {"patience": 0}, 3, 2),
    ([1.0, 0.9, 0.95, 0.85, 0.92, 0.5], {"patience": 2}, 6, 6),
    # 0.97 improves by less than min_delta: it counts as waiting
    ([1.0, 0.97, 0.98, 0.99], {"patience": 2, "min_delta": 0.04}, 3, 1),
    ([0.1, 0.3, 0.2, 0.25], {"patience": 2, "monitor": "val_accuracy"}, 4, 2),  # auto: max for accuracy
    ([0.1, 0.3, 0.2, 0.25], {"patience": 2, "mode": "min"}, 3, 1),
])
def test_early_stopping_stops_after_patience_epochs_without_improvement(values, kwargs, stopped_at, best_epoch):
    stopper = EarlyStopping(**{"monitor": "val_loss", **kwargs})
    assert run_on_logs(stopper, values, stopper.monitor) == stopped_at
    assert stopper.best_epoch == best_epoch
    assert stopper.stopped_epoch in (stopped_at, 0)
    assert (stopper.stopped_epoch == 0) == (stopper.wait < stopper.patience)


def scripted_validation_score(model, scores):
    """A metric that reads `scores` in turn at each validation (the model in eval mode)."""
    remaining = list(scores)

    def score(outputs, targets):
        return 0.0 if model.training else remaining.pop(0)
    return score


class WeightsRecorder(Callback):
    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs):
        self.weights.append(copy.deepcopy(self.run.model.state_dict()))


def problem():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Dropout(0.2), torch.nn.Linear(5, 2))
    train = DataLoader(TensorDataset(torch.randn(8, 3), torch.randint(0, 2, (8,))), batch_size=3, shuffle=True)
    val = DataLoader(TensorDataset(torch.randn(4, 3), torch.randint(0, 2, (4,))), batch_size=4)
    return model, train, val


@pytest.mark.parametrize("scores, stops_after", [([3.0, 1.0, 2.0, 2.0, 2.0, 0.5], 4), ([3.0, 1.0, 2.0], 3)])
def test_early_stopping_in_fit_restores_the_best_epochs_weights_bit_for_bit(scores, stops_after):
    model, train, val = problem()
    recorder = WeightsRecorder()
    stopper = EarlyStopping(monitor="val_score", mode="min", patience=2, restore_best_weights=True)
    history = fit(model, train, loss_fn=torch.nn.CrossEntropyLoss(), epochs=len(scores), val_loader=val,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9), progress=False,
                  metrics={"score": scripted_validation_score(model, scores)}, callbacks=[stopper, recorder])
    assert len(history) == stops_after and stopper.best_epoch == 2
    best = recorder.weights[1]
    assert not torch.equal(recorder.weights[-1]["0.weight"], best["0.weight"])
    for name, value in model.state_dict().items():
        assert torch.equal(value, best[name]), name


def test_early_stopping_without_restore_keeps_the_last_weights():
    model, train, val = problem()
    recorder = WeightsRecorder()
    fit(model, train, loss_fn=torch.nn.CrossEntropyLoss(), epochs=4, val_loader=val, progress=False,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.5), metrics={"score": scripted_validation_score(
            model, [1.0, 2.0, 3.0, 4.0])}, callbacks=[EarlyStopping("val_score", patience=1), recorder])
    assert len(recorder.weights) == 2
    assert torch.equal(model.state_dict()["0.weight"], recorder.weights[-1]["0.weight"])


@pytest.mark.parametrize("callback", [EarlyStopping("val_loss"), ModelCheckpoint("unused.pt")])
def test_monitoring_a_metric_never_logged_names_the_logged_ones(callback):
    model, train, _ = problem()
    with pytest.raises(CourseError, match=r"'val_loss', which is never logged \(validation metrics need "
                                          r"fit\(\.\.\., val_loader=\.\.\.\)\); the logged metrics are "
                                          r"\['accuracy', 'loss', 'lr', 'seconds'\]"):
        fit(model, train, loss_fn=torch.nn.CrossEntropyLoss(), epochs=3, progress=False,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), callbacks=[callback])


@pytest.mark.parametrize("kwargs, message", [
    ({"patience": -1}, "patience"), ({"patience": 1.5}, "patience"), ({"min_delta": -0.1}, "min_delta"),
    ({"mode": "lowest"}, "mode must be"),
])
def test_early_stopping_refuses_bad_settings(kwargs, message):
    with pytest.raises(CourseError, match=message):
        EarlyStopping(**kwargs)


def run_on_rates(callback, rates):
    """Feed each epoch end's learning rates (one per parameter group), as fit leaves them
    after the scheduler's step; returns the epochs run."""
    groups = [{"lr": rate} for rate in rates[0]]
    callback.run = SimpleNamespace(optimizer=SimpleNamespace(param_groups=groups), stop_training=False)
    callback.on_train_begin()
    for epoch, epoch_rates in enumerate(rates, start=1):
        for group, rate in zip(groups, epoch_rates):
            group["lr"] = rate
        callback.on_epoch_end(epoch, {"epoch": epoch})
        if callback.run.stop_training:
            return epoch
    return len(rates)


@pytest.mark.parametrize("rates, kwargs, stopped_at", [
    ([[1e-2], [1e-3], [1e-3], [1e-4], [1e-4], [1e-4]], {"min_lr": 1e-4}, 4),
    ([[1e-2], [1e-3], [1e-3], [1e-4], [1e-4], [1e-4]], {"min_lr": 1e-4, "patience": 1}, 5),
    ([[1e-2], [1e-3], [1e-4], [1e-4]], {"min_lr": 1e-5}, 0),  # never reached: runs all epochs
    ([[1e-2], [1e-5]], {"min_lr": 1e-4}, 2),  # below the minimum counts as reaching it
    ([[1e-3 * 0.1 * 0.1]], {"min_lr": 1e-5}, 1),  # 1.0000000000000002e-05: rounding noise counts as reached
    # every group must be at its own minimum
    ([[1e-4, 1e-2], [1e-4, 1e-3], [1e-4, 1e-4]], {"min_lr": 1e-4}, 3),
    ([[1e-3, 1e-2], [1e-4, 1e-3]], {"min_lr": [1e-4, 1e-3]}, 2),
])
def test_stop_at_minimum_rate_stops_once_every_rate_has_reached_its_minimum(rates, kwargs, stopped_at):
    stopper = StopAtMinimumRate(**kwargs)
    epochs = run_on_rates(stopper, rates)
    assert stopper.stopped_epoch == stopped_at
    assert epochs == (stopped_at or len(rates))


def test_stop_at_minimum_rate_ends_a_run_whose_plateau_scheduler_can_lower_the_rate_no_further():
    # the score never improves: ReduceLROnPlateau (patience 0) divides the rate by 10 at every
    # epoch after the first, 1e-3 -> 1e-4 -> 1e-5 (as 1.0000000000000002e-05, which it then
    # no longer changes: the step to 1e-5 is below its eps)
    model, train, val = problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.1, patience=0, min_lr=1e-5)
    stopper = StopAtMinimumRate(min_lr=1e-5, patience=1)
    history = fit(model, train, loss_fn=torch.nn.CrossEntropyLoss(), epochs=10, val_loader=val, progress=False,
                  optimizer=optimizer, scheduler=scheduler, scheduler_monitor="val_score",
                  metrics={"score": scripted_validation_score(model, [1.0] * 10)}, callbacks=[stopper])
    assert [record["lr"] for record in history.epochs] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5])
    assert stopper.stopped_epoch == len(history) == 4  # the rate reached 1e-5 after epoch 3; one epoch ran at it


def test_stop_at_minimum_rate_resumes_its_count_from_its_state():
    stopper = StopAtMinimumRate(min_lr=1e-4, patience=2)
    run_on_rates(stopper, [[1e-4], [1e-4]])
    resumed = StopAtMinimumRate(min_lr=1e-4, patience=2)
    resumed.load_state_dict(stopper.state_dict())
    resumed.run = SimpleNamespace(optimizer=SimpleNamespace(param_groups=[{"lr": 1e-4}]), stop_training=False)
    resumed.on_epoch_end(3, {"epoch": 3})
    assert resumed.run.stop_training and resumed.stopped_epoch == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"min_lr": -1e-5}, "min_lr is the smallest learning rate"), ({"min_lr": "1e-5"}, "min_lr"),
    ({"min_lr": []}, "min_lr"), ({"min_lr": 1e-5, "patience": -1}, "patience"),
    ({"min_lr": 1e-5, "patience": 0.5}, "patience"),
])
def test_stop_at_minimum_rate_refuses_bad_settings(kwargs, message):
    with pytest.raises(CourseError, match=message):
        StopAtMinimumRate(**kwargs)


def test_stop_at_minimum_rate_needs_one_minimum_per_parameter_group():
    with pytest.raises(CourseError, match="min_lr holds 2 rates but the optimizer has 1 parameter groups"):
        run_on_rates(StopAtMinimumRate(min_lr=[1e-4, 1e-5]), [[1e-3]])


def test_model_checkpoint_saves_only_improvements_or_every_epoch(tmp_path):
    model, train, val = problem()
    best = ModelCheckpoint(tmp_path / "best.pt", monitor="val_score", mode="min")
    every = ModelCheckpoint(tmp_path / "epoch{epoch}.pt", save_best_only=False)
    fit(model, train, loss_fn=torch.nn.CrossEntropyLoss(), epochs=4, val_loader=val, progress=False,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), callbacks=[best, every],
        metrics={"score": scripted_validation_score(model, [3.0, 1.0, 2.0, 1.0])})
    assert load_checkpoint(tmp_path / "best.pt")["epoch"] == 2  # 1.0 again is no improvement
    assert sorted(path.name for path in tmp_path.iterdir()) == ["best.pt"] + [f"epoch{e}.pt" for e in range(1, 5)]
    assert every.last_path == str(tmp_path / "epoch4.pt") and best.best == 1.0
