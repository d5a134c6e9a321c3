import numpy as np
import pytest
import torch

from course_lib.metrics import accuracy


def torch_accuracy(scores, targets):
    return (scores.argmax(dim=1) == targets).double().mean().item()


@pytest.mark.parametrize("seed", range(4))
def test_class_scores_use_the_argmax_for_numpy_and_torch(seed):
    generator = torch.Generator().manual_seed(seed)
    scores, targets = torch.randn(50, 4, generator=generator), torch.randint(0, 4, (50,), generator=generator)
    expected = torch_accuracy(scores, targets)
    assert accuracy(scores, targets) == expected
    assert accuracy(scores.numpy(), targets.numpy()) == expected
    assert accuracy(scores.requires_grad_(), targets.numpy()) == expected
    assert type(accuracy(scores, targets)) is float


def test_single_logits_predict_class_1_above_zero():
    logits = np.array([-2.0, -0.1, 0.0, 0.3, 5.0])
    targets = np.array([0, 1, 0, 1, 0])
    assert accuracy(logits, targets) == 3 / 5
    assert accuracy(torch.tensor(logits)[:, None], torch.tensor(targets, dtype=torch.float32)[:, None]) == 3 / 5


@pytest.mark.parametrize("scores, targets, message", [
    (np.zeros((5, 3)), np.zeros(4), "scores hold 5 samples but targets 4"),
    (np.zeros(5), np.zeros(6), "scores hold 5 samples but targets 6"),
    (np.zeros((5, 3)), np.eye(3)[[0, 1, 2, 0, 1]], "one-hot"),
    (np.zeros((5, 3, 2)), np.zeros(5), r"got shape \(5, 3, 2\)"),
    (np.zeros((0, 3)), np.zeros(0), "zero samples"),
])
def test_accuracy_explains_inputs_it_cannot_score(scores, targets, message):
    with pytest.raises(ValueError, match=message):
        accuracy(scores, targets)
