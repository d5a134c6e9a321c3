import copy

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from course_lib.metrics import accuracy
from course_lib.training.loop import EpochStats, EvalStats, evaluate, model_outputs, train_epoch, train_step


def problem(n_samples=10, n_classes=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, n_classes))
    inputs = torch.randn(n_samples, 4, generator=generator)
    targets = torch.randint(0, n_classes, (n_samples,), generator=generator)
    return model, inputs, targets


def manual_sgd_step(model, inputs, targets, lr):
    loss = torch.nn.functional.cross_entropy(model(inputs), targets)
    gradients = torch.autograd.grad(loss, list(model.parameters()))
    with torch.no_grad():
        for parameter, gradient in zip(model.parameters(), gradients):
            parameter -= lr * gradient
    return loss.item()


def test_train_step_takes_one_sgd_step_on_fresh_gradients_and_returns_the_loss_before_it():
    model, inputs, targets = problem()
    model.eval()  # no dropout, so the manual copy sees the same function
    reference = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):  # leftover gradients would show from the second step on
        loss = train_step(model, inputs, targets, torch.nn.CrossEntropyLoss(), optimizer)
        expected_loss = manual_sgd_step(reference, inputs, targets, lr=0.1)
        assert type(loss) is float and loss == pytest.approx(expected_loss, rel=1e-6)
    for parameter, expected in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(parameter, expected)


class Recorder:
    """A loss function that remembers each batch's loss and size, and the model's mode."""

    def __init__(self, model, loss_fn):
        self.model, self.loss_fn, self.calls = model, loss_fn, []

    def __call__(self, scores, targets):
        loss = self.loss_fn(scores, targets)
        self.calls.append((loss.item(), len(targets), self.model.training, scores.requires_grad))
        return loss


def test_train_epoch_steps_once_per_batch_in_training_mode_and_weights_losses_by_batch_size():
    model, inputs, targets = problem(n_samples=10)
    loader = DataLoader(TensorDataset(inputs, targets), batch_size=4)  # 4, 4 and 2 samples
    loss_fn = Recorder(model, torch.nn.CrossEntropyLoss())
    model.eval()
    stats = train_epoch(model, loader, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1))
    assert isinstance(stats, EpochStats)
    assert stats.steps == 3 and model.training
    losses = [loss for loss, _, _, _ in loss_fn.calls]
    assert [size for _, size, _, _ in loss_fn.calls] == [4, 4, 2]
    assert all(training for _, _, training, _ in loss_fn.calls)
    assert stats.mean_loss == pytest.approx((4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10, rel=1e-12)
    assert 0 < stats.seconds < 10


def test_train_epoch_shows_progress_on_request_and_refuses_an_empty_loader():
    model, inputs, targets = problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(inputs, targets), batch_size=4)
    assert train_epoch(model, loader, torch.nn.CrossEntropyLoss(), optimizer, progress=True).steps == 3
    with pytest.raises(ValueError, match="no batches"):
        train_epoch(model, [], torch.nn.CrossEntropyLoss(), optimizer)


@pytest.mark.parametrize("was_training", [True, False])
def test_evaluate_averages_over_samples_in_eval_mode_without_gradients(was_training):
    model, inputs, targets = problem(n_samples=10)
    loader = DataLoader(TensorDataset(inputs, targets), batch_size=4)
    loss_fn = Recorder(model, torch.nn.CrossEntropyLoss())
    model.train(was_training)
    stats = evaluate(model, loader, loss_fn)
    assert isinstance(stats, EvalStats)
    assert model.training == was_training
    assert not any(training or requires_grad for _, _, training, requires_grad in loss_fn.calls)
    model.eval()
    with torch.no_grad():
        scores = model(inputs)
    assert stats.loss == pytest.approx(torch.nn.functional.cross_entropy(scores, targets).item(), rel=1e-6)
    assert stats.accuracy == accuracy(scores, targets)
    assert all(parameter.grad is None for parameter in model.parameters())


@pytest.mark.parametrize("logit_shape", ["[N]", "[N, 1]"])
def test_evaluate_reads_single_logits_as_binary_predictions(logit_shape):
    torch.manual_seed(0)
    inputs = torch.randn(12, 3)
    targets = (inputs[:, 0] > 0).float()
    model = torch.nn.Linear(3, 1)
    if logit_shape == "[N]":
        model = torch.nn.Sequential(model, torch.nn.Flatten(0))
    else:
        targets = targets[:, None]
    stats = evaluate(model, DataLoader(TensorDataset(inputs, targets), batch_size=5),
                     torch.nn.BCEWithLogitsLoss())
    with torch.no_grad():
        assert stats.accuracy == accuracy(model(inputs), targets)


def test_evaluate_restores_the_training_mode_after_an_error():
    model, inputs, targets = problem()
    model.train()

    def broken_loss(scores, targets):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        evaluate(model, [(inputs, targets)], broken_loss)
    assert model.training


def test_train_epoch_with_a_progress_bar_draws_the_same_shuffles_as_a_plain_loop():
    model, inputs, targets = problem(n_samples=12)
    seen = []
    for progress in (False, True):
        loader = DataLoader(TensorDataset(inputs, targets), batch_size=4, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
        loss_fn = Recorder(model, torch.nn.CrossEntropyLoss())
        torch.manual_seed(1)  # the same dropout masks in both runs
        train_epoch(model, loader, loss_fn, torch.optim.SGD(model.parameters(), lr=0.0), progress=progress)
        seen.append([loss for loss, _, _, _ in loss_fn.calls])
    assert seen[0] == seen[1]


class ScaledSum(torch.nn.Module):
    """A model of two input tensors, as the text models' (padded, lengths)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.5))

    def forward(self, features, weights):
        return self.scale * (features * weights).sum(dim=1)


def test_a_tuple_of_inputs_reaches_the_model_as_arguments_and_batches_weigh_by_their_targets():
    generator = torch.Generator().manual_seed(0)
    features, weights = torch.randn(10, 3, generator=generator), torch.rand(10, 3, generator=generator)
    targets = (torch.rand(10, generator=generator) > 0.5).float()
    batches = [((features[start:start + 4], weights[start:start + 4]), targets[start:start + 4])
               for start in (0, 4, 8)]  # 4, 4 and 2 samples, each with two input tensors
    model, loss_fn = ScaledSum(), torch.nn.BCEWithLogitsLoss()

    stats = evaluate(model, batches, loss_fn)
    with torch.no_grad():
        logits = model(features, weights)
    assert stats.loss == pytest.approx(loss_fn(logits, targets).item(), rel=1e-6)
    assert stats.accuracy == accuracy(logits, targets)
    assert train_epoch(model, batches, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1)).steps == 3


class FinalStates(torch.nn.Module):
    """An LSTM reading a PackedSequence, its one input."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(2, 3)

    def forward(self, packed):
        return self.lstm(packed)[1][0][-1]


def test_a_packed_sequence_reaches_the_model_as_one_input():
    packed = torch.nn.utils.rnn.pack_sequence([torch.ones(3, 2), torch.ones(2, 2)])

    assert model_outputs(FinalStates(), packed).shape == (2, 3)
