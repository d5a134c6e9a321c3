import copy

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from course_lib.errors import CourseError
from course_lib.training.callbacks import Callback
from course_lib.training.fit import fit


def problem(n_samples=10, batch_size=4, dropout=0.0, seed=0):
    """A tiny classifier, a shuffling training loader with its own generator, a validation loader."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Dropout(dropout),
                                torch.nn.Linear(8, 3))
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n_samples, 4, generator=generator)
    targets = torch.randint(0, 3, (n_samples,), generator=generator)
    train_loader = DataLoader(TensorDataset(inputs, targets), batch_size=batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(seed + 1))
    val_loader = DataLoader(TensorDataset(inputs[:6], targets[:6]), batch_size=4)
    return model, train_loader, val_loader


def quiet_fit(model, loader, **kwargs):
    kwargs.setdefault("loss_fn", torch.nn.CrossEntropyLoss())
    kwargs.setdefault("optimizer", torch.optim.SGD(model.parameters(), lr=0.1))
    return fit(model, loader, progress=False, **kwargs)


def hand_written_loop(model, loader, optimizer, epochs, scheduler=None, interval="epoch", max_norm=None):
    """The loop of the lectures; returns the lr and the pre-clipping norm of every step."""
    lrs, norms = [], []
    for _ in range(epochs):
        for inputs, targets in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(inputs), targets).backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm or float("inf"))))
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if scheduler is not None and interval == "iteration":
                scheduler.step()
        if scheduler is not None and interval == "epoch":
            scheduler.step()
    return lrs, norms


def assert_same_weights(model, expected):
    for (name, value), expected_value in zip(model.state_dict().items(), expected.state_dict().values()):
        assert torch.equal(value, expected_value), name


def test_records_one_iteration_per_batch_and_sample_weighted_epoch_means():
    model, train_loader, val_loader = problem(n_samples=10, batch_size=4)  # 4, 4, 2 per epoch
    history = quiet_fit(model, train_loader, epochs=3, val_loader=val_loader)
    assert len(history.iterations) == 3 * 3 == len(train_loader) * 3
    assert history.iteration_series("step") == list(range(1, 10))
    assert history.iteration_series("epoch") == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert set(history.iterations[0]) == {"step", "epoch", "loss", "accuracy", "lr", "grad_norm"}
    assert len(history) == 3 and history["epoch"] == [1, 2, 3] and history["step"] == [3, 6, 9]
    for epoch in range(3):
        batches = history.iterations[3 * epoch:3 * epoch + 3]
        for name in ("loss", "accuracy"):
            expected = (4 * batches[0][name] + 4 * batches[1][name] + 2 * batches[2][name]) / 10
            assert history[name][epoch] == pytest.approx(expected, rel=1e-12)
    assert all(0 <= value <= 1 for value in history["val_accuracy"])
    assert all(seconds > 0 for seconds in history["seconds"])


def test_validation_metrics_match_an_evaluation_in_eval_mode():
    model, train_loader, val_loader = problem(dropout=0.5)
    history = quiet_fit(model, train_loader, epochs=1, val_loader=val_loader)
    assert model.training  # as training left it; evaluation restored the mode
    model.eval()
    inputs, targets = val_loader.dataset.tensors
    with torch.no_grad():
        scores = model(inputs)
    assert history["val_loss"][0] == pytest.approx(torch.nn.functional.cross_entropy(scores, targets).item())
    assert history["val_accuracy"][0] == (scores.argmax(1) == targets).float().mean().item()


def test_validate_every_n_steps_also_validates_at_each_epoch_end_once():
    model, train_loader, val_loader = problem(n_samples=10, batch_size=4)
    history = quiet_fit(model, train_loader, epochs=2, val_loader=val_loader, validate_every=2)
    assert history.validation_series("step") == [2, 3, 4, 6]
    assert history["val_loss"] == [history.validations[1]["val_loss"], history.validations[3]["val_loss"]]


def test_metrics_are_pluggable():
    model, train_loader, _ = problem()
    history = quiet_fit(model, train_loader, epochs=1,
                        metrics={"mean_score": lambda outputs, targets: outputs.mean().item()})
    assert set(history.keys()) == {"epoch", "step", "loss", "mean_score", "lr", "seconds"}


@pytest.mark.parametrize("interval", ["epoch", "iteration"])
def test_scheduler_steps_as_in_a_hand_written_loop(interval):
    model, train_loader, _ = problem()
    reference, reference_loader, _ = problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.5, momentum=0.9)
    history = quiet_fit(model, train_loader, epochs=3, optimizer=optimizer, scheduler_interval=interval,
                        scheduler=torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5))
    lrs, _ = hand_written_loop(reference, reference_loader, reference_optimizer, 3, interval=interval,
                               scheduler=torch.optim.lr_scheduler.StepLR(reference_optimizer, 2, gamma=0.5))
    assert history.iteration_series("lr") == lrs
    assert len(set(lrs)) > 1
    assert_same_weights(model, reference)


def test_reduce_lr_on_plateau_is_stepped_with_the_monitored_validation_metric():
    model, train_loader, val_loader = problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    history = quiet_fit(model, train_loader, epochs=4, optimizer=optimizer, val_loader=val_loader,
                        scheduler=scheduler, scheduler_monitor="val_accuracy")
    replay = torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD([torch.zeros(1)], lr=0.1),
                                                        patience=0, factor=0.5)
    expected_lrs = []
    for value in history["val_accuracy"]:
        expected_lrs.append(replay.get_last_lr()[0])
        replay.step(value)
    assert history["lr"] == expected_lrs
    assert optimizer.param_groups[0]["lr"] == replay.get_last_lr()[0]


def test_clipping_equals_torch_clip_grad_norm_and_records_the_norm_before_clipping():
    model, train_loader, _ = problem(dropout=0.3)
    reference, reference_loader, _ = problem(dropout=0.3)
    torch.manual_seed(1)  # the same dropout masks in both loops
    history = quiet_fit(model, train_loader, epochs=2, clip_grad_norm=0.05,
                        optimizer=torch.optim.SGD(model.parameters(), lr=0.5))
    torch.manual_seed(1)
    _, norms = hand_written_loop(reference, reference_loader, torch.optim.SGD(reference.parameters(), lr=0.5),
                                 2, max_norm=0.05)
    assert history.iteration_series("grad_norm") == norms
    assert all(norm > 0.05 for norm in norms)  # so clipping did act
    assert_same_weights(model, reference)


def test_without_clipping_the_recorded_norm_is_the_global_gradient_norm():
    model, train_loader, _ = problem()
    inputs, targets = next(iter(DataLoader(train_loader.dataset, batch_size=100)))
    probe = copy.deepcopy(model)
    torch.nn.functional.cross_entropy(probe(inputs), targets).backward()
    expected = torch.cat([p.grad.reshape(-1) for p in probe.parameters()]).norm().item()
    loader = DataLoader(train_loader.dataset, batch_size=100)
    history = quiet_fit(model, loader, epochs=1)
    assert history.iterations[0]["grad_norm"] == pytest.approx(expected, rel=1e-6)


def test_a_callback_sees_every_hook_in_order_and_can_stop_training():
    class Recorder(Callback):
        def __init__(self):
            self.calls = []

        def on_train_begin(self):
            self.calls.append(("begin", self.run.epoch))

        def on_iteration_end(self, step, logs):
            self.calls.append(("iteration", step))

        def on_epoch_end(self, epoch, logs):
            self.calls.append(("epoch", epoch))
            self.run.stop_training = epoch == 2

        def on_train_end(self):
            self.calls.append(("end", self.run.global_step))

    model, train_loader, _ = problem(n_samples=8, batch_size=4)
    recorder = Recorder()
    history = quiet_fit(model, train_loader, epochs=5, callbacks=[recorder])
    assert recorder.calls == [("begin", 0), ("iteration", 1), ("iteration", 2), ("epoch", 1),
                              ("iteration", 3), ("iteration", 4), ("epoch", 2), ("end", 4)]
    assert len(history) == 2


def test_shows_progress_bars_on_request():
    model, train_loader, val_loader = problem()
    history = fit(model, train_loader, loss_fn=torch.nn.CrossEntropyLoss(), epochs=1, val_loader=val_loader,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1), progress=True)
    assert len(history) == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be"),
    ({"scheduler_interval": "batch"}, "scheduler_interval"),
    ({"validate_every": 2}, "needs a val_loader"),
    ({"clip_grad_norm": 0}, "clip_grad_norm"),
    ({"callbacks": [Callback]}, "add the parentheses"),
    ({"metrics": {"loss": lambda o, t: 0.0}}, "cannot be called 'loss'"),
    ({"metrics": {"val_f1": lambda o, t: 0.0}}, "cannot be called"),
    ({"metrics": {"f1": 3}}, "must be a function"),
])
def test_misuse_is_refused_with_a_clear_message(kwargs, message):
    model, train_loader, _ = problem()
    kwargs = {"epochs": 1, **kwargs}
    with pytest.raises(CourseError, match=message):
        quiet_fit(model, train_loader, **kwargs)


def test_a_metric_that_does_not_suit_the_outputs_names_itself_and_the_fix():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(6, 2), torch.randn(6, 3)), batch_size=3)
    model = torch.nn.Linear(2, 3)
    with pytest.raises(CourseError, match=r"metric 'accuracy' failed.*metrics=\{\}"):
        quiet_fit(model, loader, epochs=1, loss_fn=torch.nn.MSELoss())
    history = quiet_fit(model, loader, epochs=1, loss_fn=torch.nn.MSELoss(), metrics={})
    assert set(history.iterations[0]) == {"step", "epoch", "loss", "lr", "grad_norm"}


def test_plateau_scheduler_misuse():
    model, train_loader, _ = problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    with pytest.raises(CourseError, match='scheduler_interval="epoch"'):
        quiet_fit(model, train_loader, epochs=1, optimizer=optimizer, scheduler=scheduler,
                  scheduler_interval="iteration")
    with pytest.raises(CourseError, match=r"'val_loss'.*not logged.*\['accuracy', 'loss', 'lr', 'seconds'\]"):
        quiet_fit(model, train_loader, epochs=1, optimizer=optimizer, scheduler=scheduler)


def test_an_empty_training_loader_is_refused():
    model, _, _ = problem()
    with pytest.raises(CourseError, match="no batches"):
        quiet_fit(model, [], epochs=1)


class LengthScaledScore(torch.nn.Module):
    """A model taking two tensors, as the text models' (padded, lengths): sum of the first
    `length` features of each row, scaled. Records the inputs it was given."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.5))
        self.seen = []

    def forward(self, features, lengths):
        self.seen.append((type(features), type(lengths)))
        kept = torch.arange(features.shape[1]) < lengths[:, None]
        return self.scale * (features * kept).sum(dim=1)


def two_input_samples(n_samples, seed=0):
    """((features, length), float 0/1 target) samples; the DataLoader collates the pairs into a list."""
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(n_samples, 5, generator=generator)
    lengths = torch.randint(1, 6, (n_samples,), generator=generator)
    targets = (torch.rand(n_samples, generator=generator) > 0.5).float()
    return [((features[i], lengths[i]), targets[i]) for i in range(n_samples)], (features, lengths, targets)


def test_a_model_of_several_inputs_gets_them_as_arguments_and_epochs_are_weighted_by_the_targets():
    train_samples, _ = two_input_samples(10)
    val_samples, (val_features, val_lengths, val_targets) = two_input_samples(6, seed=1)
    model = LengthScaledScore()
    train_loader = DataLoader(train_samples, batch_size=4)  # 4, 4 and 2 samples: two inputs each
    val_loader = DataLoader(val_samples, batch_size=4)

    history = quiet_fit(model, train_loader, epochs=2, val_loader=val_loader, loss_fn=torch.nn.BCEWithLogitsLoss(),
                        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))

    assert set(model.seen) == {(torch.Tensor, torch.Tensor)}
    assert len(history.iterations) == 6
    for epoch in range(2):
        batches = history.iterations[3 * epoch:3 * epoch + 3]
        for name in ("loss", "accuracy"):  # the default accuracy reads [N] logits against float 0/1 targets
            expected = (4 * batches[0][name] + 4 * batches[1][name] + 2 * batches[2][name]) / 10
            assert history[name][epoch] == pytest.approx(expected, rel=1e-12)
    with torch.no_grad():
        logits = model(val_features, val_lengths)
    assert history["val_loss"][-1] == pytest.approx(
        torch.nn.functional.binary_cross_entropy_with_logits(logits, val_targets).item(), rel=1e-6)
    assert history["val_accuracy"][-1] == pytest.approx(((logits > 0).float() == val_targets).double().mean().item())


def test_batch_parts_move_to_the_device_through_nested_tuples_and_lists():
    from course_lib.training.fit import _to

    moved = _to(((torch.zeros(2), [torch.ones(3), torch.ones(1)]), "label"), "meta")

    assert type(moved) is tuple and type(moved[0][1]) is list and moved[1] == "label"
    assert [part.device.type for part in (moved[0][0], *moved[0][1])] == ["meta"] * 3
    assert moved[0][1][0].shape == (3,)
    packed = torch.nn.utils.rnn.pack_sequence([torch.ones(3), torch.ones(2)])
    assert _to([packed], "meta")[0].data.device.type == "meta"  # a PackedSequence moves as one


def embedding_bag_problem(sparse):
    torch.manual_seed(0)
    bag = torch.nn.EmbeddingBag(20, 3, mode="sum", sparse=sparse)

    class BagThenLinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bag, self.linear = bag, torch.nn.Linear(3, 1)

        def forward(self, input, offsets):
            return self.linear(self.bag(input, offsets)).squeeze(-1)

    model = BagThenLinear()
    generator = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(3):
        input = torch.randint(0, 20, (12,), generator=generator)
        batches.append(((input, torch.tensor([0, 3, 3, 7])), torch.tensor([1.0, 0.0, 1.0, 0.0])))
    return model, batches


def test_sparse_gradients_are_measured_and_clipped_as_their_dense_twins():
    dense, batches = embedding_bag_problem(sparse=False)
    sparse, _ = embedding_bag_problem(sparse=True)
    histories = [quiet_fit(model, batches, epochs=2, loss_fn=torch.nn.BCEWithLogitsLoss(), clip_grad_norm=0.1,
                           optimizer=torch.optim.SGD(model.parameters(), lr=1.0))
                 for model in (dense, sparse)]

    assert histories[1].iteration_series("grad_norm") == pytest.approx(histories[0].iteration_series("grad_norm"))
    assert all(norm > 0.1 for norm in histories[0].iteration_series("grad_norm"))  # so clipping acted
    for parameter, expected in zip(sparse.parameters(), dense.parameters()):
        torch.testing.assert_close(parameter, expected)


def test_the_optimizer_gets_sparse_gradients_already_coalesced():
    # SparseAdam coalesces a gradient before its update; fit has done it for the norm, and
    # hands the optimizer that coalesced gradient rather than sorting the ids twice
    model, batches = embedding_bag_problem(sparse=True)
    seen = []

    class RecordingSGD(torch.optim.SGD):
        def step(self, closure=None):
            seen.append(model.bag.weight.grad.is_coalesced())
            return super().step(closure)

    quiet_fit(model, batches, epochs=1, loss_fn=torch.nn.BCEWithLogitsLoss(),
              optimizer=RecordingSGD(model.parameters(), lr=1.0))
    assert seen == [True] * len(batches)
