"""numpy optimizers mirroring `torch.optim`: same names, arguments, defaults and updates."""
from .sgd import SGD

__all__ = ["SGD"]
