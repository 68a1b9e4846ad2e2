"""The numerical engine: layers, losses, networks, optimizers. numpy only, no Qt."""
from .context import Context
from .layers import (BUILTIN_LAYERS, LAYER_TYPES, BatchNorm, Dense, Dropout, Layer, LeakyReLU,
                     ReLU, Sigmoid, Tanh, layer_from_config, register_layer)
from .losses import LOSS_TYPES, Loss, MeanSquaredError, SoftmaxCrossEntropy, loss_for_task
from .network import LossValue, Network, NonFiniteError
from .optimizers import OPTIMIZERS, SGD, Adam, Optimizer, make_optimizer
from .regularization import NO_REGULARIZATION, Regularization
from .spec import build_network, parse_layer_spec

__all__ = [
    "BUILTIN_LAYERS", "LAYER_TYPES", "LOSS_TYPES", "NO_REGULARIZATION", "OPTIMIZERS", "SGD", "Adam",
    "BatchNorm", "Context", "Dense", "Dropout", "Layer", "LeakyReLU", "Loss", "LossValue",
    "MeanSquaredError", "Network", "NonFiniteError", "Optimizer", "ReLU", "Regularization",
    "Sigmoid", "SoftmaxCrossEntropy", "Tanh", "build_network", "layer_from_config",
    "loss_for_task", "make_optimizer", "parse_layer_spec", "register_layer",
]
