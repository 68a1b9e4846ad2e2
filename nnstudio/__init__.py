"""NN Studio: a desktop trainer and gradient debugger for small neural networks."""

__version__ = "0.1.0"
