import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.data import DataLoader, TensorDataset

from course_lib.training.callbacks import ModelCheckpoint
from course_lib.training.fit import fit
from course_lib.training.tensorboard import TensorBoardLogger


def problem():
    """A tiny classifier: 10 training samples in batches of 4 (3 steps an epoch), 4 to validate."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    train = DataLoader(TensorDataset(torch.randn(10, 3), torch.randint(0, 2, (10,))), batch_size=4)
    val = DataLoader(TensorDataset(torch.randn(4, 3), torch.randint(0, 2, (4,))), batch_size=4)
    return model, train, val


def train(model, train_loader, val_loader, callbacks, epochs, **options):
    return fit(model, train_loader, loss_fn=torch.nn.CrossEntropyLoss(), epochs=epochs, val_loader=val_loader,
               optimizer=torch.optim.SGD(model.parameters(), lr=0.1), callbacks=callbacks, progress=False,
               **options)


def written(log_dir):
    """{tag: [(step, value), ...]} of each run under `log_dir`, read back from its event files."""
    runs = {}
    for run in ("train", "validation"):
        events = EventAccumulator(str(log_dir / run))
        events.Reload()
        runs[run] = {tag: [(event.step, event.value) for event in events.Scalars(tag)]
                     for tag in events.Tags()["scalars"]}
    return runs


def series(records, name, clock):
    """(step, value) pairs of `name` in fit's records, at the `clock` they are written at."""
    return [(record[clock], pytest.approx(record[name], rel=1e-6)) for record in records]  # TensorBoard keeps float32


def test_every_scalar_fit_logs_is_written_per_iteration_and_per_epoch_with_its_step(tmp_path):
    model, train_loader, val_loader = problem()
    history = train(model, train_loader, val_loader, [TensorBoardLogger(tmp_path)], epochs=2, validate_every=2)

    runs = written(tmp_path)

    assert sorted(runs["train"]) == ["epoch_accuracy", "epoch_loss", "epoch_lr", "epoch_seconds",
                                     "iteration_accuracy", "iteration_grad_norm", "iteration_loss", "iteration_lr"]
    assert sorted(runs["validation"]) == ["epoch_accuracy", "epoch_loss", "iteration_accuracy", "iteration_loss"]
    for name in ("loss", "accuracy", "lr", "grad_norm"):
        assert runs["train"][f"iteration_{name}"] == series(history.iterations, name, "step")
    for name in ("loss", "accuracy", "lr", "seconds"):
        assert runs["train"][f"epoch_{name}"] == series(history.epochs, name, "epoch")
    # every 2 steps and at each epoch end: steps 2, 3 (end of epoch 1), 4, 6 (and end of epoch 2)
    assert [step for step, _ in runs["validation"]["iteration_loss"]] == [2, 3, 4, 6]
    for name in ("loss", "accuracy"):
        assert runs["validation"][f"iteration_{name}"] == series(history.validations, f"val_{name}", "step")
        assert runs["validation"][f"epoch_{name}"] == series(history.epochs, f"val_{name}", "epoch")


def test_without_validation_only_the_train_run_has_scalars(tmp_path):
    model, train_loader, _ = problem()
    history = train(model, train_loader, None, [TensorBoardLogger(tmp_path)], epochs=1)

    runs = written(tmp_path)

    assert runs["validation"] == {}
    assert runs["train"]["iteration_loss"] == series(history.iterations, "loss", "step")


def test_a_resumed_run_writes_only_what_it_adds(tmp_path):
    model, train_loader, val_loader = problem()
    checkpoint = tmp_path / "checkpoint.pt"
    train(model, train_loader, val_loader, [ModelCheckpoint(checkpoint, save_best_only=False),
                                            TensorBoardLogger(tmp_path / "first")], epochs=1)
    history = train(model, train_loader, val_loader, [ModelCheckpoint(checkpoint, save_best_only=False),
                                                      TensorBoardLogger(tmp_path / "resumed")],
                    epochs=2, resume_from=checkpoint)

    runs = written(tmp_path / "resumed")

    assert runs["train"]["iteration_loss"] == series(history.iterations[3:], "loss", "step")
    assert runs["validation"]["iteration_loss"] == [(6, pytest.approx(history.validations[-1]["val_loss"]))]
    assert runs["validation"]["epoch_loss"] == [(2, pytest.approx(history.epochs[-1]["val_loss"]))]
