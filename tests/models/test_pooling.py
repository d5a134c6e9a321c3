import pytest
import torch

from course_lib.models.pooling import masked_mean


def test_masked_mean_averages_the_real_positions_only():
    hidden = torch.arange(24, dtype=torch.float64).reshape(2, 4, 3)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])

    pooled = masked_mean(hidden, mask)

    torch.testing.assert_close(pooled[0], hidden[0, :2].mean(dim=0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(dim=0))


def test_the_padding_s_values_change_nothing_and_an_empty_sequence_gives_zeros():
    hidden = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[True, True, True, False, False], [False] * 5])
    changed = hidden.clone()
    changed[0, 3:] = 1e6

    torch.testing.assert_close(masked_mean(changed, mask), masked_mean(hidden, mask))
    torch.testing.assert_close(masked_mean(hidden, mask)[1], torch.zeros(4))


def test_masked_mean_passes_gradients_to_the_real_positions_only():
    hidden = torch.randn(1, 3, 2, requires_grad=True)
    masked_mean(hidden, torch.tensor([[True, False, True]])).sum().backward()

    torch.testing.assert_close(hidden.grad, torch.tensor([[[0.5, 0.5], [0.0, 0.0], [0.5, 0.5]]]))


def test_masked_mean_names_the_shapes_it_was_given():
    with pytest.raises(ValueError, match=r"hidden \[B, T, D\] and mask \[B, T\]; got hidden \(2, 3, 4\) and mask \(2, 4\)"):
        masked_mean(torch.zeros(2, 3, 4), torch.ones(2, 4, dtype=torch.bool))
