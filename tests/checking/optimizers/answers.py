"""Right answers to the update-rule exercises of 03, as students write them, shared by the
tests of course_lib/checking/optimizers."""
import numpy as np

from course_lib.checking.optimizers import (
    check_adam_update, check_adamax_update, check_adamw_update, check_ema_momentum_update,
    check_momentum_update, check_nesterov_update, check_rmsprop_update, check_sgd_update,
)


def sgd_update(param, grad, state, *, lr, weight_decay=0.0):
    param -= lr * (grad + weight_decay * param)


def momentum_update(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    g = grad + weight_decay * param
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = g.copy()
    else:
        state["momentum_buffer"] = momentum * state["momentum_buffer"] + (1 - dampening) * g
    param -= lr * state["momentum_buffer"]


def nesterov_update(param, grad, state, *, lr, momentum, weight_decay=0.0):
    g = grad + weight_decay * param
    buf = state.get("momentum_buffer")
    buf = g.copy() if buf is None else momentum * buf + g
    state["momentum_buffer"] = buf
    param -= lr * (g + momentum * buf)


def ema_momentum_update(param, grad, state, *, lr, beta):
    velocity = beta * state.get("velocity", np.zeros_like(param)) + (1 - beta) * grad
    state["velocity"] = velocity
    param -= lr * velocity


def rmsprop_update(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = grad + weight_decay * param
    square_avg = alpha * state.get("square_avg", np.zeros_like(param)) + (1 - alpha) * g * g
    state["square_avg"] = square_avg
    param -= lr * g / (np.sqrt(square_avg) + eps)


def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    state["step"] = t = state.get("step", 0) + 1
    g = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * g * g
    param -= lr / (1 - beta1 ** t) * m / (np.sqrt(v / (1 - beta2 ** t)) + eps)


def adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    param *= 1 - lr * weight_decay
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps)


def adamax_update(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    state["step"] = t = state.get("step", 0) + 1
    g = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    u = state["exp_inf"] = np.maximum(beta2 * state.get("exp_inf", 0.0), abs(g) + eps)  # np.abs is tampered with
    param -= lr / (1 - beta1 ** t) * m / u


def ema_momentum_update_as_torch(param, grad, state, *, lr, beta):
    """Torch's form with the rescaled lr: the same trajectory, so also right."""
    buffer = state.get("momentum_buffer")
    state["momentum_buffer"] = grad.copy() if buffer is None else beta * buffer + grad
    param -= lr * (1 - beta) * state["momentum_buffer"]


CHECKS = [
    (check_sgd_update, sgd_update), (check_momentum_update, momentum_update),
    (check_nesterov_update, nesterov_update), (check_ema_momentum_update, ema_momentum_update),
    (check_rmsprop_update, rmsprop_update), (check_adam_update, adam_update),
    (check_adamw_update, adamw_update), (check_adamax_update, adamax_update),
]
