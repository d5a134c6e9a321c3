
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.functional import (
    cross_entropy, linear, log_softmax, logsumexp, relu, softmax,
)
from tests.strategies import SEEDS, random_array, random_shape, t



def random_shape_and_dim(rng):
    """A shape of at least one dimension and one of its dims, possibly negative."""
    shape = (int(rng.integers(1, 6)),) + random_shape(rng, max_ndim=2)
    return shape, int(rng.integers(-len(shape), len(shape)))


def logits_and_targets(rng, kind, dtype=np.float64, extremes=True):
    n, classes = int(rng.integers(1, 8)), int(rng.integers(1, 6))
    logits = random_array(rng, (n, classes), dtype, extremes=extremes)
    if kind == "indices":
        return logits, rng.integers(0, classes, n)
    return logits, rng.dirichlet(np.ones(classes), n).astype(dtype)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_matches_torch_with_and_without_bias(seed):
    rng = np.random.default_rng(seed)
    leading, in_features, out_features = random_shape(rng, max_ndim=2), *rng.integers(1, 6, 2)
    input = random_array(rng, leading + (in_features,))
    weight, bias = random_array(rng, (out_features, in_features)), random_array(rng, (out_features,))
    np.testing.assert_allclose(linear(input, weight, bias), F.linear(t(input), t(weight), t(bias)).numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(linear(input, weight), F.linear(t(input), t(weight)).numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_matches_torch_exactly(seed):
    rng = np.random.default_rng(seed)
    input = random_array(rng, random_shape(rng), extremes=True)
    np.testing.assert_array_equal(relu(input), F.relu(t(input)).numpy())
    np.testing.assert_array_equal(relu(np.array([-0.0, 0.0, np.nan])), [0.0, 0.0, np.nan])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_logsumexp_matches_torch_including_extreme_inputs(seed, keepdim):
    rng = np.random.default_rng(seed)
    shape, dim = random_shape_and_dim(rng)
    input = random_array(rng, shape, extremes=True)
    result = logsumexp(input, dim, keepdim=keepdim)
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, torch.logsumexp(t(input), dim, keepdim=keepdim).numpy(), rtol=1e-12)


def test_logsumexp_of_infinite_rows_and_over_several_dims_is_torchs():
    input = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 2.0], [1000.0, 1000.0]])
    np.testing.assert_array_equal(logsumexp(input, 1), torch.logsumexp(t(input), 1).numpy())
    cube = random_array(np.random.default_rng(0), (2, 3, 4))
    np.testing.assert_allclose(logsumexp(cube, (0, 2)), torch.logsumexp(t(cube), (0, 2)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("function, torch_function", [(softmax, F.softmax), (log_softmax, F.log_softmax)])
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_and_log_softmax_match_torch_including_extreme_inputs(seed, function, torch_function):
    rng = np.random.default_rng(seed)
    shape, dim = random_shape_and_dim(rng)
    input = random_array(rng, shape, extremes=True)
    result = function(input, dim)
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, torch_function(t(input), dim).numpy(), rtol=1e-12, atol=1e-300)


def test_softmax_of_extreme_logits_is_a_distribution_and_log_softmax_its_log():
    input = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -30.0]])
    np.testing.assert_allclose(softmax(input, 1).sum(1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(softmax(input, 1)[:, :2], [[1.0, 0.0], [1 / 3, 1 / 3], [0.5, 0.5]])
    np.testing.assert_array_equal(log_softmax(input, 1)[0], [0.0, -2000.0, -1000.0])


@pytest.mark.parametrize("kind", ["indices", "probabilities"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_matches_torch_including_extreme_logits(seed, reduction, kind):
    rng = np.random.default_rng(seed)
    logits, target = logits_and_targets(rng, kind)
    loss = cross_entropy(logits, target, reduction=reduction)
    assert np.all(np.isfinite(loss))
    expected = F.cross_entropy(t(logits), t(target), reduction=reduction).numpy()
    np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-300)


def test_cross_entropy_of_a_confident_wrong_answer_is_the_logit_gap():
    logits = np.array([[1000.0, -1000.0], [1000.0, -1000.0]])
    np.testing.assert_array_equal(cross_entropy(logits, np.array([1, 0]), reduction="none"), [2000.0, 0.0])


@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_everything_keeps_float32_as_torch_does(kind):
    rng = np.random.default_rng(0)
    input, target = logits_and_targets(rng, kind, np.float32)
    weight, bias = random_array(rng, (3, input.shape[1]), np.float32), random_array(rng, (3,), np.float32)
    results = [linear(input, weight, bias), relu(input), logsumexp(input, 1), softmax(input, 1),
               log_softmax(input, 0)]
    results += [cross_entropy(input, target, reduction=reduction) for reduction in ("mean", "sum", "none")]
    assert [result.dtype for result in results] == [np.float32] * len(results)
    np.testing.assert_allclose(results[-3], F.cross_entropy(t(input), t(target)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("input, target, error, message", [
    (np.zeros((3, 4)), np.zeros(2, dtype=np.int64), ValueError,
     r"shape \(3,\) to match input of shape \(3, 4\)"),
    (np.zeros((3, 4)), np.zeros((3, 1), dtype=np.int64), ValueError, r"got \(3, 1\)"),
    (np.zeros((3, 4)), np.zeros((3, 3)), ValueError, r"shape of input \(3, 4\), got \(3, 3\)"),
    (np.zeros((3, 4)), np.zeros(3), ValueError, r"shape of input \(3, 4\), got \(3,\)"),
    (np.zeros(4), np.zeros(1, dtype=np.int64), ValueError, r"\[N, C\], got shape \(4,\)"),
    (np.zeros((3, 4)), np.zeros(3, dtype=bool), ValueError, "dtype bool"),
    (np.zeros((3, 4)), np.array([0, 4, 1]), IndexError, "Target 4 is out of bounds"),
    (np.zeros((3, 4)), np.array([0, -1, 1]), IndexError, "Target -1 is out of bounds"),
])
def test_cross_entropy_explains_targets_it_cannot_use(input, target, error, message):
    with pytest.raises(error, match=message):
        cross_entropy(input, target)


def test_cross_entropy_rejects_unknown_reductions():
    with pytest.raises(ValueError, match="reduction must be one of"):
        cross_entropy(np.zeros((2, 3)), np.zeros(2, dtype=np.int64), reduction="average")
