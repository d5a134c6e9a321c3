"""Two-dimensional test functions for watching optimizers move.

A `Surface` is a function of a point (x, y) with its gradient, its minimum, a start point
and the window to draw it in. `trajectory` runs an optimizer on it from the start point
and returns every iterate, so a notebook can draw the path on a contour map:

- `ill_conditioned_quadratic`: f = ½ pᵀAp with eigenvalues 1 and `condition_number`. A
  rate small enough for the steep direction crawls along the flat one; a larger one
  zig-zags across the valley, then diverges past 2 / condition_number.
- `rosenbrock`: a curved, flat-bottomed valley, easy to find and slow to follow.

`trajectory` takes either a course_lib.optim optimizer class (`Adam`) or an update
function with the notebook's signature `update(param, grad, state, **hyperparameters)`,
so a student's own update rule runs on the same surfaces.
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .optimizer import Optimizer

__all__ = ["Surface", "ill_conditioned_quadratic", "rosenbrock", "trajectory"]

# An iterate farther than this many window sizes from the minimum has diverged: it will
# not come back, and a few more steps would overflow.
ESCAPE_WINDOWS = 10.0


@dataclass(frozen=True, eq=False)
class Surface:
    """A function of 2-D points, its gradient, and where to look at it.

    `value(xy)` and `gradient(xy)` take an array whose last axis holds (x, y), so one
    point (shape [2]), a trajectory ([k, 2]) or a grid ([ny, nx, 2]) alike; `value` returns
    the shape without that axis, `gradient` the same shape as `xy`. Calling the surface is
    `value`.
    """
    name: str
    function: Callable  # f(x, y) on broadcast arrays
    partials: Callable  # (df/dx, df/dy)(x, y) on broadcast arrays
    minimum: np.ndarray  # the point where f is least
    start: np.ndarray  # the default start of a trajectory
    x_range: tuple[float, float]  # the window of the contour map
    y_range: tuple[float, float]

    def value(self, xy):
        xy = np.asarray(xy, dtype=np.float64)
        return self.function(xy[..., 0], xy[..., 1])

    __call__ = value

    def gradient(self, xy):
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack(np.broadcast_arrays(*self.partials(xy[..., 0], xy[..., 1])), axis=-1)

    @property
    def minimum_value(self):
        return float(self.value(self.minimum))

    def diverged(self, xy):
        """Whether the point `xy` is not finite or has escaped: farther from the minimum
        than `ESCAPE_WINDOWS` times the size of the window."""
        xy = np.asarray(xy, dtype=np.float64)
        if not np.isfinite(xy).all():
            return True
        size = max(self.x_range[1] - self.x_range[0], self.y_range[1] - self.y_range[0])
        return bool(np.linalg.norm(xy - self.minimum) > ESCAPE_WINDOWS * size)


def ill_conditioned_quadratic(condition_number=25.0, angle=0.0):
    """f(p) = ½ pᵀAp, A = R diag(1, condition_number) Rᵀ, R the rotation by `angle` degrees:
    the flat direction (eigenvalue 1) points along `angle` (0: the x-axis), the steep one
    across it. Minimum f(0, 0) = 0. Gradient descent converges for lr < 2 / condition_number,
    and zig-zags across the valley for lr > 1 / condition_number."""
    if condition_number < 1:
        raise ValueError(f"condition_number must be at least 1, got {condition_number}")
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    rotation = np.array([[cos, -sin], [sin, cos]])
    a = rotation @ np.diag([1.0, float(condition_number)]) @ rotation.T
    (axx, axy), (_, ayy) = a

    def function(x, y):
        return 0.5 * (axx * x * x + 2 * axy * x * y + ayy * y * y)

    def partials(x, y):
        return axx * x + axy * y, axy * x + ayy * y

    # In the valley's own frame the window is [-6, 6] × [-3, 3] and the start (-5, 2): far
    # along the flat direction and well up the steep wall. Rotated, the window is the
    # smallest square around the turned rectangle.
    half_x = 6 * abs(cos) + 3 * abs(sin)
    half_y = 6 * abs(sin) + 3 * abs(cos)
    if angle % 180:
        half_x = half_y = max(half_x, half_y)
    return Surface(
        name=f"ill-conditioned quadratic (condition number {condition_number:g})",
        function=function, partials=partials, minimum=np.zeros(2),
        start=rotation @ np.array([-5.0, 2.0]),
        x_range=(-half_x, half_x), y_range=(-half_y, half_y))


def rosenbrock(a=1.0, b=100.0):
    """Rosenbrock's function f(x, y) = (a − x)² + b (y − x²)², minimum f(a, a²) = 0 at the
    end of a narrow curved valley along y = x²; the start (−1.5, 2) is on the far side."""
    def function(x, y):
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def partials(x, y):
        across = y - x * x
        return -2 * (a - x) - 4 * b * x * across, 2 * b * across

    return Surface(
        name=f"Rosenbrock (a = {a:g}, b = {b:g})", function=function, partials=partials,
        minimum=np.array([a, a * a], dtype=np.float64), start=np.array([-1.5, 2.0]),
        x_range=(min(-2.0, a - 1), max(2.0, a + 1)), y_range=(min(-1.0, a * a - 1), max(3.0, a * a + 1)))


def trajectory(surface, optimizer, steps=100, *, start=None, **hyperparameters):
    """The iterates of `steps` optimizer steps on `surface`, float64 array [k, 2], k ≤ steps + 1.

    Row 0 is the start (`start`, by default `surface.start`), row t the point after step t.
    `optimizer` is a course_lib.optim optimizer class, built as
    `optimizer([point], **hyperparameters)`, or an update function called as
    `optimizer(point, grad, state, **hyperparameters)` that changes `point` in place and
    keeps its buffers in `state` (a dict, empty before the first step).

    The run stops early at the first iterate that diverged (`surface.diverged`: not finite,
    or escaped far beyond the window); that iterate is the last row, as it is (it may hold
    inf or nan), so `surface.diverged(path[-1])` says whether the run diverged and
    `len(path) - 1` at which step.
    """
    point = np.array(surface.start if start is None else start, dtype=np.float64)
    if point.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got shape {point.shape}")
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        built = optimizer([point], **hyperparameters)

        def step(grad):
            built.step([grad])
    else:
        state = {}

        def step(grad):
            optimizer(point, grad, state, **hyperparameters)

    path = [point.copy()]
    # a diverging run overflows on its way out: that is a result here, not an accident
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            step(surface.gradient(point))
            path.append(point.copy())
            if surface.diverged(point):
                break
    return np.array(path)
