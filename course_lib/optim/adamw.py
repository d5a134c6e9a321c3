"""AdamW, as `torch.optim.AdamW`: Adam whose weight decay shrinks the parameters directly,
p = p * (1 - lr * weight_decay), instead of adding weight_decay * p to the gradient, where
Adam's division by sqrt(v) would weaken it for coordinates with large gradients.

As in torch, it is `Adam` with `decoupled_weight_decay=True` and a default weight decay of 1e-2.
"""
from .adam import Adam, adam_update


def adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
    """One AdamW step of `param` in place; `state` is its dict of buffers, empty at first."""
    adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


class AdamW(Adam):
    """`torch.optim.AdamW` for numpy arrays; its state is Adam's."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
