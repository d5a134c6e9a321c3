import pytest
import torch
import torch.nn.functional as F

from course_lib.training.losses import two_class_logits
from tests.strategies import SEEDS


def logits_and_targets(seed, dtype):
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(12, generator=generator, dtype=dtype)
    logits[:2] = torch.tensor([100.0, -100.0], dtype=dtype)  # far out, where only a stable loss stays finite
    return logits, torch.randint(0, 2, (12,), generator=generator)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_entropy_of_the_two_logits_is_binary_cross_entropy_value_and_gradient(seed, dtype):
    z, y = logits_and_targets(seed, dtype)
    softmax_leaf, binary_leaf = z.clone().requires_grad_(), z.clone().requires_grad_()

    softmax_loss = F.cross_entropy(two_class_logits(softmax_leaf), y)
    binary_loss = F.binary_cross_entropy_with_logits(binary_leaf, y.to(dtype))
    softmax_loss.backward()
    binary_loss.backward()

    assert softmax_loss.dtype == dtype
    torch.testing.assert_close(softmax_loss, binary_loss)
    torch.testing.assert_close(softmax_leaf.grad, binary_leaf.grad)


@pytest.mark.parametrize("seed", SEEDS)
def test_with_probability_targets_the_equality_holds_for_soft_labels_too(seed):
    z, _ = logits_and_targets(seed, torch.float64)
    y = torch.rand(12, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)

    for reduction in ("mean", "sum", "none"):
        torch.testing.assert_close(F.cross_entropy(two_class_logits(z), torch.stack([1 - y, y], 1), reduction=reduction),
                                   F.binary_cross_entropy_with_logits(z, y, reduction=reduction))


def test_the_class_0_logit_is_0_and_the_softmax_is_the_sigmoid():
    z = torch.tensor([-2.0, 0.0, 1.5])
    two = two_class_logits(z)
    assert two.shape == (3, 2)
    torch.testing.assert_close(two, torch.tensor([[0.0, -2.0], [0.0, 0.0], [0.0, 1.5]]))
    torch.testing.assert_close(two.softmax(dim=1), torch.stack([1 - torch.sigmoid(z), torch.sigmoid(z)], 1))


def test_two_class_logits_wants_one_logit_per_sample():
    with pytest.raises(ValueError, match=r"got shape \(4, 1\): an nn.Linear\(..., 1\) output \[N, 1\] becomes \[N\] "
                                         r"with .squeeze\(1\)"):
        two_class_logits(torch.zeros(4, 1))
