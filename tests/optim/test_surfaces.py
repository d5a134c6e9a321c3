import math

import numpy as np
import pytest
import torch

from course_lib.optim import SGD, Adam
from course_lib.optim.surfaces import ill_conditioned_quadratic, rosenbrock, trajectory
from tests.strategies import SEEDS


def torch_quadratic(condition_number, angle):
    theta = math.radians(angle)
    rotation = torch.tensor([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]],
                            dtype=torch.float64)
    a = rotation @ torch.diag(torch.tensor([1.0, condition_number], dtype=torch.float64)) @ rotation.T
    return lambda p: 0.5 * p @ a @ p


def torch_rosenbrock(a, b):
    return lambda p: (a - p[0]) ** 2 + b * (p[1] - p[0] ** 2) ** 2


SURFACES = [
    (ill_conditioned_quadratic, {}, torch_quadratic(25.0, 0.0)),
    (ill_conditioned_quadratic, dict(condition_number=10.0, angle=30.0), torch_quadratic(10.0, 30.0)),
    (rosenbrock, {}, torch_rosenbrock(1.0, 100.0)),
    (rosenbrock, dict(a=-0.5, b=3.0), torch_rosenbrock(-0.5, 3.0)),
]


@pytest.mark.parametrize(("factory", "arguments", "oracle"), SURFACES)
@pytest.mark.parametrize("seed", SEEDS)
def test_value_and_gradient_match_torch_autograd(factory, arguments, oracle, seed):
    surface = factory(**arguments)
    point = np.random.default_rng(seed).uniform(-2, 2, size=2)

    tensor = torch.tensor(point, requires_grad=True)
    value = oracle(tensor)
    value.backward()

    assert surface.value(point) == pytest.approx(value.item(), rel=1e-12)
    assert surface(point) == surface.value(point)
    np.testing.assert_allclose(surface.gradient(point), tensor.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("factory", "arguments", "oracle"), SURFACES)
def test_value_and_gradient_take_a_grid_of_points(factory, arguments, oracle):
    surface = factory(**arguments)
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 4), np.linspace(-1, 3, 3)), axis=-1)

    values, gradients = surface.value(grid), surface.gradient(grid)

    assert values.shape == (3, 4) and gradients.shape == (3, 4, 2)
    assert values[1, 2] == surface.value(grid[1, 2])
    np.testing.assert_array_equal(gradients[2, 3], surface.gradient(grid[2, 3]))


@pytest.mark.parametrize(("factory", "arguments", "oracle"), SURFACES)
def test_the_minimum_is_a_stationary_point_below_the_start(factory, arguments, oracle):
    surface = factory(**arguments)

    np.testing.assert_allclose(surface.gradient(surface.minimum), 0.0, atol=1e-12)
    assert surface.minimum_value == pytest.approx(0.0, abs=1e-12)
    assert surface(surface.start) > surface.minimum_value
    for point in (surface.minimum, surface.start):
        assert surface.x_range[0] < point[0] < surface.x_range[1]
        assert surface.y_range[0] < point[1] < surface.y_range[1]


def test_rosenbrock_minimum_is_at_a_a_squared():
    np.testing.assert_array_equal(rosenbrock(a=2.0).minimum, [2.0, 4.0])


def test_quadratic_has_the_asked_condition_number():
    surface = ill_conditioned_quadratic(condition_number=40.0, angle=20.0)
    # f is quadratic, so its Hessian is the Jacobian of the (linear) gradient
    hessian = np.stack([surface.gradient([1.0, 0.0]), surface.gradient([0.0, 1.0])], axis=1)

    np.testing.assert_allclose(np.linalg.eigvalsh(hessian), [1.0, 40.0])


def test_quadratic_rejects_a_condition_number_below_one():
    with pytest.raises(ValueError, match="condition_number"):
        ill_conditioned_quadratic(condition_number=0.5)


def test_sgd_trajectory_is_the_hand_computed_iterates():
    # on diag(1, 25): x_t = (1 - lr)^t x_0 and y_t = (1 - 25 lr)^t y_0
    surface = ill_conditioned_quadratic(25.0)
    lr = 0.07

    path = trajectory(surface, SGD, steps=30, lr=lr)

    t = np.arange(31)
    expected = np.stack([-5.0 * (1 - lr) ** t, 2.0 * (1 - 25 * lr) ** t], axis=1)
    assert path.dtype == np.float64 and path.shape == (31, 2)
    np.testing.assert_allclose(path, expected, rtol=1e-12, atol=1e-300)


def test_the_start_is_row_zero_and_left_alone():
    start = np.array([0.5, -0.5])

    path = trajectory(rosenbrock(), SGD, steps=3, start=start, lr=1e-3)

    np.testing.assert_array_equal(path[0], [0.5, -0.5])
    np.testing.assert_array_equal(start, [0.5, -0.5])
    assert len(path) == 4


def momentum_update(param, grad, state, *, lr, momentum):
    """A student's momentum rule, written as the notebook asks: torch's SGD with momentum."""
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = grad.copy()
    else:
        state["momentum_buffer"] = momentum * state["momentum_buffer"] + grad
    param -= lr * state["momentum_buffer"]


def test_an_update_function_gives_the_same_trajectory_as_the_matching_class():
    surface = rosenbrock()

    by_function = trajectory(surface, momentum_update, steps=50, lr=1e-3, momentum=0.9)
    by_class = trajectory(surface, SGD, steps=50, lr=1e-3, momentum=0.9)

    np.testing.assert_allclose(by_function, by_class, rtol=1e-14)


def test_hyperparameters_reach_the_optimizer():
    surface = ill_conditioned_quadratic()

    slow = trajectory(surface, Adam, steps=5, lr=0.01)
    fast = trajectory(surface, Adam, steps=5, lr=0.1, betas=(0.5, 0.9))

    # Adam's first step moves each coordinate by about lr, whatever the gradient's size
    np.testing.assert_allclose(np.abs(slow[1] - slow[0]), 0.01, rtol=1e-6)
    np.testing.assert_allclose(np.abs(fast[1] - fast[0]), 0.1, rtol=1e-6)


@pytest.mark.filterwarnings("error")  # the overflow on the way out is not a numpy warning
def test_a_diverging_run_stops_at_the_first_escaped_iterate():
    surface = ill_conditioned_quadratic(25.0)

    path = trajectory(surface, SGD, steps=1000, lr=0.1)  # above 2 / 25: |1 - 25 lr| = 1.5

    assert len(path) < 1001
    assert surface.diverged(path[-1])
    assert not any(surface.diverged(point) for point in path[:-1])
    # y grows by a factor 1.5 per step from 2 until it passes 10 window sizes (120)
    assert len(path) - 1 == math.ceil(math.log(120 / 2) / math.log(1.5))


@pytest.mark.filterwarnings("error")
def test_a_run_that_overflows_ends_with_its_non_finite_iterate():
    surface = rosenbrock()

    path = trajectory(surface, SGD, steps=100, start=[1e120, 1e120], lr=1.0)

    assert len(path) == 2
    assert not np.isfinite(path[-1]).all()
    assert surface.diverged(path[-1])
