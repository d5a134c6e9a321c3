import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from course_lib.errors import CourseError
from course_lib.training import checkpoint
from course_lib.training.callbacks import EarlyStopping, ModelCheckpoint
from course_lib.training.checkpoint import CheckpointError, load_checkpoint
from course_lib.training.fit import fit


def setup(seed, hidden=8):
    """Model with dropout, shuffling loader with its own generator, momentum SGD, a scheduler;
    `seed` sets everything random, so a resumed run built from another seed must get it all
    from the checkpoint."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                                torch.nn.Linear(hidden, 3))
    data = torch.Generator().manual_seed(100)
    inputs, targets = torch.randn(22, 4, generator=data), torch.randint(0, 3, (22,), generator=data)
    train = DataLoader(TensorDataset(inputs, targets), batch_size=5, shuffle=True,
                       generator=torch.Generator().manual_seed(seed))
    val = DataLoader(TensorDataset(inputs[:8], targets[:8]), batch_size=4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    return dict(model=model, train_loader=train, val_loader=val, optimizer=optimizer, scheduler=scheduler)


def run(parts, epochs, callbacks=(), **kwargs):
    return fit(parts["model"], parts["train_loader"], loss_fn=torch.nn.CrossEntropyLoss(), epochs=epochs,
               optimizer=parts["optimizer"], scheduler=parts["scheduler"], val_loader=parts["val_loader"],
               validate_every=3, clip_grad_norm=1.0, callbacks=callbacks, progress=False, **kwargs)


def without_seconds(history):
    return [{key: value for key, value in record.items() if key != "seconds"} for record in history.epochs]


def assert_bit_identical(state, expected):
    if isinstance(state, torch.Tensor):
        assert torch.equal(state, expected)
    elif isinstance(state, dict):
        assert state.keys() == expected.keys()
        for key in state:
            assert_bit_identical(state[key], expected[key])
    elif isinstance(state, (list, tuple)):
        assert len(state) == len(expected)
        for item, expected_item in zip(state, expected):
            assert_bit_identical(item, expected_item)
    else:
        assert state == expected


@pytest.mark.parametrize("stop_after", [1, 2])
def test_stopping_after_epoch_k_and_resuming_is_bit_identical_to_an_uninterrupted_run(tmp_path, stop_after):
    path = tmp_path / "run.pt"
    uninterrupted = setup(seed=0)
    expected = run(uninterrupted, 4, callbacks=[EarlyStopping(patience=10), ModelCheckpoint(tmp_path / "x.pt")])

    first = setup(seed=0)
    run(first, stop_after, callbacks=[EarlyStopping(patience=10), ModelCheckpoint(path, save_best_only=False)])
    torch.manual_seed(12345)  # whatever happens in between must not matter
    resumed = setup(seed=7)
    history = run(resumed, 4, callbacks=[EarlyStopping(patience=10), ModelCheckpoint(path, save_best_only=False)],
                  resume_from=path)

    assert_bit_identical(resumed["model"].state_dict(), uninterrupted["model"].state_dict())
    assert_bit_identical(resumed["optimizer"].state_dict(), uninterrupted["optimizer"].state_dict())
    assert_bit_identical(resumed["scheduler"].state_dict(), uninterrupted["scheduler"].state_dict())
    assert history.iterations == expected.iterations and history.validations == expected.validations
    assert without_seconds(history) == without_seconds(expected)
    assert len(history.iterations) == 4 * len(resumed["train_loader"])
    assert torch.equal(resumed["train_loader"].generator.get_state(),
                       uninterrupted["train_loader"].generator.get_state())


def test_a_checkpoint_holds_the_whole_training_state(tmp_path):
    parts = setup(seed=0)
    run(parts, 2, callbacks=[ModelCheckpoint(tmp_path / "run.pt", save_best_only=False)])
    state = load_checkpoint(tmp_path / "run.pt")
    assert (state["epoch"], state["global_step"]) == (2, 2 * 5)
    assert state["optimizer_class"] == "SGD" and state["scheduler"]["last_epoch"] == 2
    assert set(state["random_states"]) >= {"python", "numpy", "torch", "loaders"}
    assert len(state["random_states"]["loaders"][0]) == 1  # the training loader's generator
    assert len(state["history"]["epochs"]) == 2


class FailingSave(Exception):
    pass


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    parts = setup(seed=0)
    run(parts, 1, callbacks=[ModelCheckpoint(path, save_best_only=False)])
    good = path.read_bytes()

    def save_half_then_fail(state, file):
        file.write(b"half a checkpoint")
        raise FailingSave("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", save_half_then_fail)
    with pytest.raises(CheckpointError, match=r"failed \(FailingSave\('disk full'\)\); the previous checkpoint "
                                              "there is unchanged"):
        run(parts, 3, callbacks=[ModelCheckpoint(path, save_best_only=False)], resume_from=path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no temporary file left behind
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1


def test_resuming_from_a_missing_file_says_so(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at .*missing.pt.*leave resume_from out"):
        run(setup(seed=0), 2, resume_from=tmp_path / "missing.pt")


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_corrupted_checkpoint_is_reported_as_such(tmp_path, damage):
    path = tmp_path / "run.pt"
    run(setup(seed=0), 1, callbacks=[ModelCheckpoint(path, save_best_only=False)])
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if damage == "truncate" else b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="cannot be read, it is corrupted or truncated"):
        run(setup(seed=0), 2, callbacks=[ModelCheckpoint(path, save_best_only=False)], resume_from=path)
    assert isinstance(CheckpointError("x"), CourseError)


def test_a_file_that_is_not_a_training_checkpoint_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(setup(seed=0)["model"].state_dict(), path)
    with pytest.raises(CheckpointError, match="not a course_lib training checkpoint"):
        run(setup(seed=0), 2, resume_from=path)


def test_resuming_with_another_architecture_names_the_mismatching_parameters(tmp_path):
    path = tmp_path / "run.pt"
    run(setup(seed=0), 1, callbacks=[ModelCheckpoint(path, save_best_only=False)])
    with pytest.raises(CheckpointError, match=r"another architecture:\n  0.weight: checkpoint \[8, 4\], model "
                                              r"\[16, 4\]\n  0.bias: .*\n  3.weight: .*\n.*without resume_from"):
        run(setup(seed=0, hidden=16), 2, callbacks=[ModelCheckpoint(path, save_best_only=False)], resume_from=path)
    wider = setup(seed=0)
    wider["model"].append(torch.nn.Linear(3, 3))
    with pytest.raises(CheckpointError, match=r"missing from the checkpoint: 4.weight \[3, 3\]"):
        run(wider, 2, callbacks=[ModelCheckpoint(path, save_best_only=False)], resume_from=path)


def test_resuming_with_other_optimizer_scheduler_or_callbacks_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    run(setup(seed=0), 1, callbacks=[ModelCheckpoint(path, save_best_only=False)])
    parts = setup(seed=0)
    parts["optimizer"] = torch.optim.Adam(parts["model"].parameters())
    parts["scheduler"] = torch.optim.lr_scheduler.StepLR(parts["optimizer"], 1)
    with pytest.raises(CheckpointError, match="optimizer SGD but this run has Adam"):
        run(parts, 2, resume_from=path)
    parts = setup(seed=0)
    parts["scheduler"] = None
    with pytest.raises(CheckpointError, match="scheduler StepLR but this run has None"):
        run(parts, 2, resume_from=path)
    with pytest.raises(CheckpointError, match=r"callbacks \['ModelCheckpoint'\], this run has \[\]"):
        run(setup(seed=0), 2, resume_from=path)
    with pytest.raises(CourseError, match="from epoch 1, past epochs=0|epochs must be"):
        run(setup(seed=0), 0, resume_from=path)
