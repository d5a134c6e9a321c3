"""The PyTorch models of assignments 05–07, one module per kind of network: `mlp` (MLPs,
the pre-norm residual MLP, re-initialisation of linear layers), `cnn` (06's published
CNNs and the course's `fast_cnn`) and `pooling` (07's masked mean over padded sequences)."""
from .cnn import Standardize, fast_cnn, keras_cnn, pytorch_examples_cnn
from .mlp import INIT_SCHEMES, NORMS, PreNormResidualBlock, ResidualMLP, init_linear_, mlp
from .pooling import masked_mean
