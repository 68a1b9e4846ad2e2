"""Loading a user's model from a file: ``FILE[:FACTORY]``, as ``--model`` and the window's
*Check ▸ Check Own Model…* name it.

    model = load_model("cs231n/classifiers/fc_net.py:FullyConnectedNet", input_dim=4,
                       num_classes=3, kwargs={"hidden_dims": [16, 16]})

``FACTORY`` (default ``make_model``) is a function or a class in the file, called as
``FACTORY(input_dim=D, num_classes=C, **kwargs)``. The file is imported with
:func:`~nnstudio.engine.user_import.import_user_file` (as part of its package, so cs231n's
``from ..layers import *`` works). Running it executes the user's code: only on request.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .user_code import UserCodeError, call_user
from .user_import import import_user_file

DEFAULT_FACTORY = "make_model"


def parse_model_spec(spec: str) -> tuple[Path, str]:
    """``"path/file.py[:FACTORY]"`` -> (resolved path, factory name)."""
    text = str(spec).strip()
    path, factory = text, DEFAULT_FACTORY
    head, sep, tail = text.rpartition(":")
    if sep and tail.isidentifier() and head.endswith(".py"):
        path, factory = head, tail
    resolved = Path(path).expanduser().resolve()
    if resolved.suffix != ".py":
        raise ValueError(f"--model takes a Python file, FILE.py[:FACTORY]; got {spec!r}")
    if not resolved.is_file():
        raise FileNotFoundError(f"model file not found: {resolved}")
    return resolved, factory


def load_factory(path: Path, factory: str = DEFAULT_FACTORY):
    """Import ``path`` and return its ``factory``; errors name the file (and line)."""
    try:
        module = import_user_file(path)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's file may raise anything
        raise UserCodeError.from_exception(exc, f"while running {path.name}") from None
    found = getattr(module, factory, None)
    if not callable(found):
        candidates = sorted(name for name, value in vars(module).items()
                            if isinstance(value, type) and value.__module__ == module.__name__
                            and callable(getattr(value, "loss", None)))
        hint = (f"; classes with a loss method in the file: {', '.join(candidates)} "
                f"(e.g. {path.name}:{candidates[0]})") if candidates else ""
        raise ValueError(f"{path} defines no {factory}(input_dim, num_classes); name the factory "
                         f"or class as FILE:NAME{hint}")
    return found


def load_model(spec: str, input_dim: int, num_classes: int, kwargs: dict[str, Any] | None = None):
    """The model made by ``FACTORY(input_dim=D, num_classes=C, **kwargs)`` from ``spec``."""
    path, factory = parse_model_spec(spec)
    make = load_factory(path, factory)
    return call_user(make, input_dim=int(input_dim), num_classes=int(num_classes),
                     **dict(kwargs or {}), context=f"calling {factory}(input_dim=..., num_classes=...)")


__all__ = ["DEFAULT_FACTORY", "load_factory", "load_model", "parse_model_spec"]
