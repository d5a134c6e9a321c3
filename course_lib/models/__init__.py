"""The PyTorch models of assignments 05–07, one module per kind of network: `mlp` (MLPs,
the pre-norm residual MLP, re-initialisation of linear layers) and `cnn` (06's published
CNNs and the course's `fast_cnn`)."""
from .cnn import Standardize, fast_cnn, keras_cnn, pytorch_examples_cnn
from .mlp import NORMS, INIT_SCHEMES, PreNormResidualBlock, ResidualMLP, init_linear_, mlp
