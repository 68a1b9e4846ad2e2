"""NN Studio: a desktop trainer and gradient debugger for small neural networks."""

__version__ = "0.1.0"


def check_model(model, X, y, **options):
    """Gradient-check a hand-written model (cs231n's ``FullyConnectedNet`` protocol).

    See :func:`nnstudio.engine.gradcheck.model.check_model`; imported on first use so that
    ``import nnstudio`` stays light.
    """
    from .engine.gradcheck.model import check_model as check

    return check(model, X, y, **options)
