"""Loading a user's Python file of layers — only when asked to.

    classes = load_custom_layers("my_layer.py")   # runs the file's code; registers its layers

The file is ordinary Python in one of three conventions: it defines ``Layer`` subclasses
(``type_name``, ``forward``, ``backward``; from ``nnstudio.engine``); or cs231n-style layer
functions with a ``NAME`` (``PARAMS``, ``LAYER_PARAM``, ``forward``, ``backward``); or it is
a cs231n ``layers.py`` whose ``affine``/``relu``/``batchnorm``/``layernorm``/``dropout``
pairs each become a layer (see ``function_layer_files``). A file inside a package is
imported as part of it, and its folder is importable while it loads. Once loaded, a layer
can be used in specs and checked like a built-in one. Project files never trigger this;
the user does, explicitly. Every problem in the file — a syntax error,
an exception while it runs, no layer class, a bad ``type_name`` — is raised as
:class:`CustomLayerError` naming the file and the line.
"""
from __future__ import annotations

import ast
import traceback
from pathlib import Path

from .layers import BUILTIN_LAYERS, Layer, register_layer
from .user_import import import_user_file


#: type name -> the file it was loaded from (projects record these files)
_SOURCES: dict[str, Path] = {}


def source_file(type_name: str) -> Path | None:
    """The file a registered custom layer type was loaded from, or None."""
    return _SOURCES.get(type_name)


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
    classes: list[type[Layer]] = _layer_classes(module)
    class_lines = {node.name: node.lineno for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    if not classes:
        from .function_layer_files import function_layer_classes  # it imports this module

        classes = list(function_layer_classes(module, path, tree))
    if not classes:
        raise CustomLayerError(path, None, "defines no Layer subclass and no layer functions: "
                               "write a Layer subclass "
                               "('class MyLayer(Layer):' with type_name, forward and backward; "
                               "from nnstudio.engine import Layer), or layer functions with "
                               "NAME, forward(x, ...) -> (out, cache) and backward(dout, cache), "
                               "or cs231n's affine_forward/affine_backward, relu_*, batchnorm_*, "
                               "layernorm_*, dropout_* pairs")
    for cls in classes:
        _validate(path, cls, class_lines.get(cls.__name__))
    for cls in classes:
        try:
            register_layer(cls)
        except ValueError as exc:
            raise CustomLayerError(path, class_lines.get(cls.__name__), str(exc)) from None
        _SOURCES[cls.type_name] = path
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
    try:
        return import_user_file(path, source)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's code may raise anything
        line = _line_in_file(exc, path)
        raise CustomLayerError(path, line, f"{type(exc).__name__} while running the file: {exc}") from None


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
