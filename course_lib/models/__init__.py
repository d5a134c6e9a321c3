"""The PyTorch models of assignments 05–07, one module per kind of network: `mlp` (MLPs,
the pre-norm residual MLP, re-initialisation of linear layers), `cnn` (06's published
CNNs and the course's `fast_cnn`), `pooling` (07's masked mean over padded sequences) and
`text` (07's review classifiers: bag of words, fastText, LSTM, transformer)."""
from .cnn import Standardize, fast_cnn, keras_cnn, pytorch_examples_cnn
from .mlp import INIT_SCHEMES, NORMS, PreNormResidualBlock, ResidualMLP, init_linear_, mlp
from .pooling import masked_mean
from .text import BagOfWordsClassifier, FastText, LSTMClassifier, TransformerClassifier
