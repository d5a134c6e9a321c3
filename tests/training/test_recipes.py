import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.data.preprocessing import mean_and_std
from course_lib.errors import CourseError
from course_lib.training.recipes import fast_cnn_training, predict, scaled_images, shuffled_batches, train_fast_cnn


def bars(n_samples, seed=0):
    """uint8 [N, 28, 28] images whose class (0..9) is the row of a bright horizontal bar, with
    pixel noise: a task a few steps of training learn."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n_samples)
    images = rng.integers(0, 60, (n_samples, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[4 + 2 * label, 4:24] = 255
    return images, labels


def single_dots(n_samples):
    """Blank images with one bright pixel in the middle; label i for image i, to trace each image."""
    images = np.zeros((n_samples, 28, 28), dtype=np.uint8)
    images[:, 14, 14] = 255
    return images, np.arange(n_samples)


def epoch_labels(loader):
    return [labels.tolist() for _, labels in loader]


def test_shuffled_batches_give_every_sample_once_per_epoch_in_a_fresh_order():
    inputs, targets = torch.arange(10.0)[:, None], torch.arange(10)
    loader = shuffled_batches(inputs, targets, 4, seed=0)

    first, second = epoch_labels(loader), epoch_labels(loader)

    assert [len(batch) for batch in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(10))
    assert first != second
    assert epoch_labels(shuffled_batches(inputs, targets, 4, seed=0)) == first
    for batch_inputs, batch_targets in shuffled_batches(inputs, targets, 4, seed=0):
        assert torch.equal(batch_inputs[:, 0], batch_targets.float())  # rows stay paired


def test_the_loader_shifts_images_by_at_most_max_shift_and_keeps_their_labels():
    images, labels = single_dots(64)
    training = fast_cnn_training(images, labels, epochs=1, batch_size=16, max_shift=2)

    offsets = []
    for inputs, targets in training.train_loader:
        assert inputs.shape == (len(targets), 1, 28, 28)
        for image in inputs[:, 0]:
            row, column = divmod(int(image.argmax()), 28)
            offsets.append((row - 14, column - 14))
            assert image.sum() == 1  # moved, not blurred
    assert max(max(abs(down), abs(right)) for down, right in offsets) == 2
    assert len(set(offsets)) > 1


def test_without_augmentation_the_loader_gives_the_images_scaled_into_0_1():
    images, _ = bars(40)
    training = fast_cnn_training(images, np.arange(40), epochs=1, batch_size=16, max_shift=0)

    for inputs, indices in training.train_loader:
        assert torch.equal(inputs, torch.from_numpy(images[indices.numpy()]).unsqueeze(1) / 255)


def test_the_model_standardises_inputs_with_the_training_images_mean_and_std():
    images, labels = bars(50)
    model = fast_cnn_training(images, labels, epochs=1).model
    mean, std = mean_and_std(images / 255)

    standardized = model[0](scaled_images(images))

    assert model[0].mean.item() == pytest.approx(mean) and model[0].std.item() == pytest.approx(std)
    assert standardized.mean().item() == pytest.approx(0, abs=1e-5)
    assert standardized.std(unbiased=False).item() == pytest.approx(1, abs=1e-5)


def test_training_lowers_the_loss_under_one_cycle_of_the_learning_rate():
    torch.manual_seed(0)
    images, labels = bars(256)
    training = fast_cnn_training(images, labels, epochs=2, batch_size=32, max_lr=0.01)
    inputs, targets = scaled_images(images), torch.from_numpy(labels)
    loss_before = _loss(training.model, inputs, targets)

    history = training.fit(progress=False)

    assert len(history.iterations) == 2 * 8
    rates = history.iteration_series("lr")
    assert rates[0] == pytest.approx(0.01 / 25) and max(rates) == pytest.approx(0.01, rel=1e-3)
    assert rates[-1] < rates[0] / 100  # the cycle ends far below where it started
    assert _loss(training.model, inputs, targets) < 0.5 * loss_before


def _loss(model, inputs, targets):
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(inputs), targets).item()


def test_train_fast_cnn_validates_every_epoch_and_predict_gives_classes():
    images, labels = bars(96)
    model, history = train_fast_cnn(images[:64], labels[:64], epochs=2, batch_size=32,
                                    val_images=images[64:], val_labels=labels[64:])

    assert [epoch["epoch"] for epoch in history.epochs] == [1, 2]
    assert all("val_accuracy" in epoch for epoch in history.epochs)
    assert model.training
    predicted = predict(model, images[64:], batch_size=10)
    assert predicted.dtype == torch.int64 and predicted.shape == (32,)
    assert model.training  # predict evaluates in eval mode and puts the model back
    model.eval()
    with torch.no_grad():
        expected = model(scaled_images(images[64:])).argmax(dim=1)
    assert torch.equal(predicted, expected)


def test_the_same_seed_trains_the_same_weights():
    images, labels = bars(64)
    first, _ = train_fast_cnn(images, labels, epochs=1, batch_size=32, seed=3)
    second, _ = train_fast_cnn(images, labels, epochs=1, batch_size=32, seed=3)

    for (name, value), other in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(value, other), name


@pytest.mark.parametrize(("images", "labels", "epochs", "words"), [
    (np.zeros((4, 28, 28), dtype=np.float32), np.zeros(4, dtype=np.int64), 1, "uint8"),
    (np.zeros((4, 784), dtype=np.uint8), np.zeros(4, dtype=np.int64), 1, r"\[N, H, W\]"),
    (np.zeros((4, 28, 28), dtype=np.uint8), np.zeros(3, dtype=np.int64), 1, "one class index per image"),
    (np.zeros((4, 28, 28), dtype=np.uint8), np.zeros(4, dtype=np.int64), 0, "epochs"),
])
def test_bad_inputs_say_what_is_expected(images, labels, epochs, words):
    with pytest.raises(CourseError, match=words):
        fast_cnn_training(images, labels, epochs=epochs)
