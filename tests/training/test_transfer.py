import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.errors import CourseError
from course_lib.models import keras_cnn, pytorch_examples_cnn
from course_lib.training.fit import fit
from course_lib.training.transfer import (
    InEvalMode, few_shot_subset, split_by_classes, transfer_parameter_groups, with_new_head,
)

LABELS = np.array([3, 5, 9, 5, 0, 7, 9, 3, 5, 8])
IMAGES = np.arange(len(LABELS) * 4, dtype=np.uint8).reshape(len(LABELS), 2, 2)


def test_split_by_classes_keeps_those_digits_and_relabels_them_in_the_order_given():
    images, labels = split_by_classes(IMAGES, LABELS, [9, 5])

    kept = [1, 2, 3, 6, 8]
    np.testing.assert_array_equal(images, IMAGES[kept])
    np.testing.assert_array_equal(labels, [1, 0, 1, 0, 1])
    assert labels.dtype == np.int64


def test_split_by_classes_returns_tensors_for_tensors():
    images, labels = split_by_classes(torch.from_numpy(IMAGES), torch.from_numpy(LABELS), (5, 7, 9))
    assert isinstance(images, torch.Tensor) and isinstance(labels, torch.Tensor)
    assert labels.tolist() == [0, 2, 0, 1, 2, 0] and labels.dtype == torch.int64
    assert torch.equal(images, torch.from_numpy(IMAGES[[1, 2, 3, 5, 6, 8]]))


def test_split_by_classes_explains_bad_classes():
    with pytest.raises(CourseError, match="no sample has label 4"):
        split_by_classes(IMAGES, LABELS, [4, 5])
    with pytest.raises(CourseError, match="distinct"):
        split_by_classes(IMAGES, LABELS, [5, 5])
    with pytest.raises(CourseError, match="same number of samples"):
        split_by_classes(IMAGES[:3], LABELS, [5])


def test_few_shot_subset_draws_the_same_number_of_every_class_with_its_seed():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    images = np.arange(400)  # each "image" is its own index, so the draw can be traced

    chosen, chosen_labels = few_shot_subset(images, labels, per_class=5, seed=1)

    assert np.bincount(chosen_labels).tolist() == [5, 5, 5, 5]
    np.testing.assert_array_equal(labels[chosen], chosen_labels)
    assert len(set(chosen.tolist())) == 20  # without replacement
    assert len(set(chosen_labels[:4].tolist())) > 1  # shuffled, not class by class
    again, _ = few_shot_subset(images, labels, per_class=5, seed=1)
    other, _ = few_shot_subset(images, labels, per_class=5, seed=2)
    np.testing.assert_array_equal(again, chosen)
    assert set(other.tolist()) != set(chosen.tolist())
    tensors, tensor_labels = few_shot_subset(torch.from_numpy(images), torch.from_numpy(labels), 5, seed=1)
    assert tensors.tolist() == chosen.tolist() and tensor_labels.tolist() == chosen_labels.tolist()


def test_few_shot_subset_explains_a_class_too_small():
    with pytest.raises(CourseError, match="class 0 has only 1 samples, fewer than per_class=2"):
        few_shot_subset(IMAGES, LABELS, per_class=2, seed=0)
    with pytest.raises(CourseError, match="per_class"):
        few_shot_subset(IMAGES, LABELS, per_class=0, seed=0)


def test_with_new_head_copies_the_base_and_replaces_the_head():
    torch.manual_seed(0)
    pretrained = keras_cnn(num_classes=5)
    model = with_new_head(pretrained, 3)

    assert isinstance(model, nn.Sequential) and len(model) == 2
    base, head = model
    assert (head.in_features, head.out_features) == (64, 3)
    for copied, original in zip(base.parameters(), pretrained[:-1].parameters()):
        assert torch.equal(copied, original) and copied is not original
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 3)
    with pytest.raises(CourseError, match="LogSoftmax.*model\\[:-1\\]"):
        with_new_head(pytorch_examples_cnn(), 3)
    assert with_new_head(pytorch_examples_cnn()[:-1], 3)[-1].out_features == 3


def small_cnn(classes=3):
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, classes))


def test_parameter_groups_of_each_mode():
    torch.manual_seed(0)
    model = with_new_head(small_cnn(), 2)
    base, head = list(model[:-1].parameters()), list(model[-1].parameters())

    frozen = transfer_parameter_groups(model, "frozen", 0.1)
    assert [p.requires_grad for p in base] == [False] * 4 and [p.requires_grad for p in head] == [True] * 2
    assert len(frozen) == 1 and frozen[0]["lr"] == 0.1 and frozen[0]["params"] == head

    fine_tune = transfer_parameter_groups(model, "fine_tune", 0.1, base_lr_factor=0.2)
    assert all(p.requires_grad for p in model.parameters())  # unfrozen again
    assert [group["lr"] for group in fine_tune] == [pytest.approx(0.02), 0.1]
    assert fine_tune[0]["params"] == base and fine_tune[1]["params"] == head

    scratch = transfer_parameter_groups(model, "scratch", 0.05)
    assert len(scratch) == 1 and scratch[0]["params"] == base + head and scratch[0]["lr"] == 0.05
    with pytest.raises(CourseError, match="mode must be one of 'frozen', 'fine_tune', 'scratch'"):
        transfer_parameter_groups(model, "freeze", 0.1)


def few_shot_run(model, groups, epochs=2):
    generator = torch.Generator().manual_seed(0)
    inputs, targets = torch.randn(12, 1, 6, 6, generator=generator), torch.randint(0, 2, (12,), generator=generator)
    loader = DataLoader(TensorDataset(inputs, targets), batch_size=4)
    return fit(model, loader, loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(groups, momentum=0.9),
               epochs=epochs, progress=False)


def test_a_frozen_base_keeps_its_weights_but_batch_norm_still_learns_statistics_in_train_mode():
    torch.manual_seed(0)
    model = with_new_head(small_cnn(), 2)
    before = {name: value.clone() for name, value in model.state_dict().items()}

    few_shot_run(model, transfer_parameter_groups(model, "frozen", 0.1))

    after = model.state_dict()
    for name in ("0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias"):
        assert torch.equal(after[name], before[name]), name
    assert not torch.equal(after["1.weight"], before["1.weight"])
    # what the docstring warns of: fit puts the model in train mode, so BatchNorm updated them
    assert not torch.equal(after["0.1.running_mean"], before["0.1.running_mean"])
    assert after["0.1.num_batches_tracked"] == 6


def test_in_eval_mode_keeps_a_frozen_base_entirely_as_it_was():
    torch.manual_seed(0)
    pretrained = small_cnn()
    model = with_new_head(pretrained, 2, base_in_eval_mode=True)
    assert isinstance(model[0], InEvalMode)
    before = {name: value.clone() for name, value in model.state_dict().items()}

    few_shot_run(model, transfer_parameter_groups(model, "frozen", 0.1))

    after = model.state_dict()
    assert model.training and not model[0].training and not model[0].module[1].training
    for name, value in before.items():
        if name.startswith("0."):
            assert torch.equal(after[name], value), name
    assert not torch.equal(after["1.weight"], before["1.weight"])
    # and the base computes what the pretrained network's base computes in eval mode
    inputs = torch.randn(5, 1, 6, 6)
    with torch.no_grad():
        assert torch.equal(model[0](inputs), pretrained[:-1].eval()(inputs))
