"""Loading a user's Python file that defines Layer subclasses — only when asked to.

    classes = load_custom_layers("my_layer.py")   # runs the file's code; registers its layers

The file is ordinary Python that imports ``nnstudio.engine`` (``Layer``, ``Context``) and
defines one or more ``Layer`` subclasses with a ``type_name``, ``forward`` and ``backward``.
Once loaded, a layer can be used in specs and checked like a built-in one. Project files
never trigger this; the user does, explicitly. Every problem in the file — a syntax error,
an exception while it runs, no layer class, a bad ``type_name`` — is raised as
:class:`CustomLayerError` naming the file and the line.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path

from .layers import BUILTIN_LAYERS, Layer, register_layer

_MODULE_PREFIX = "nnstudio_custom_"


class CustomLayerError(ValueError):
    """A custom-layer file cannot be used; ``path`` and ``line`` say where (line may be None)."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path, self.line = path, line


def load_custom_layers(path: str | Path) -> list[type[Layer]]:
    """Run ``path`` and register every Layer subclass it defines; return those classes.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    CustomLayerError
        Anything wrong inside the file, with its line number.
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"custom layer file not found: {path}")
    source = _read(path)
    tree = _parse(path, source)
    module = _execute(path, source)
    classes = _layer_classes(module)
    class_lines = {node.name: node.lineno for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    if not classes:
        raise CustomLayerError(path, None, "defines no Layer subclass: write e.g. "
                               "'class MyLayer(Layer):' with type_name, forward and backward "
                               "(from nnstudio.engine import Layer)")
    for cls in classes:
        _validate(path, cls, class_lines.get(cls.__name__))
    for cls in classes:
        try:
            register_layer(cls)
        except ValueError as exc:
            raise CustomLayerError(path, class_lines.get(cls.__name__), str(exc)) from None
    return classes


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CustomLayerError(path, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _parse(path: Path, source: str) -> ast.Module:
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise CustomLayerError(path, exc.lineno, f"syntax error: {exc.msg}") from None


def _execute(path: Path, source: str):
    """Run the file as a fresh module; an exception becomes a CustomLayerError at its line."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"{_MODULE_PREFIX}{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look classes up here
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's code may raise anything
        del sys.modules[name]
        line = _line_in_file(exc, path)
        raise CustomLayerError(path, line, f"{type(exc).__name__} while running the file: {exc}") from None
    return module


def _line_in_file(exc: BaseException, path: Path) -> int | None:
    """The innermost traceback line that lies in the user's file."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return line


def _layer_classes(module) -> list[type[Layer]]:
    return [value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Layer) and value is not Layer
            and value.__module__ == module.__name__]


def _validate(path: Path, cls: type[Layer], line: int | None) -> None:
    name = getattr(cls, "type_name", "")
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise CustomLayerError(path, line, f"class {cls.__name__} needs a type_name that is a "
                               f"lower-case identifier, e.g. type_name = \"{cls.__name__.lower()}\"; "
                               f"got {name!r}")
    if any(builtin.type_name == name for builtin in BUILTIN_LAYERS):
        raise CustomLayerError(path, line, f"type_name {name!r} of {cls.__name__} is a built-in "
                               "layer's name; choose another")
    for method in ("forward", "backward"):
        if getattr(cls, method) is getattr(Layer, method):
            raise CustomLayerError(path, line, f"class {cls.__name__} does not define {method}()")
    if not isinstance(getattr(cls, "FAULTS", {}), dict):
        raise CustomLayerError(path, line, f"{cls.__name__}.FAULTS must be a dict of name -> explanation")
