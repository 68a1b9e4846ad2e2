"""Reading layer functions out of a user's loaded module: the NAME convention and cs231n's
``layers.py``.

Called by :func:`~nnstudio.engine.custom_layers.load_custom_layers` for a file that defines
no ``Layer`` subclass:

* a file with ``NAME`` gives one layer (``PARAMS``, ``LAYER_PARAM``, ``OUTPUT``,
  ``forward``, ``backward``; see :mod:`nnstudio.engine.function_layers`);
* a file without ``NAME`` gives one layer per cs231n pair it has — ``affine``, ``relu``,
  ``batchnorm``, ``layernorm``, ``dropout`` (``X_forward`` with ``X_backward``) — with the
  assignment's parameter shapes. Its other functions are ignored.

Every problem raises :class:`CustomLayerError` naming the file and line.
"""
from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

from .custom_layers import CustomLayerError
from .function_layers import (Convention, FunctionLayer, ParamSpec, make_function_layer,
                              parse_params)
from .layers import BUILTIN_LAYERS

_AFFINE = (ParamSpec("w", ("D", "units"), "he"), ParamSpec("b", ("units",), "zeros"))
_NORM = (ParamSpec("gamma", ("D",), "ones"), ParamSpec("beta", ("D",), "zeros"))
#: cs231n function prefix -> (layer name, PARAMS, LAYER_PARAM, OUTPUT, kink, description)
CS231N_PAIRS: dict[str, tuple] = {
    "affine": ("cs231n_affine", _AFFINE, None, "units", None,
               "cs231n affine_forward(x, w, b): out = x·w + b, w: (D, UNITS)"),
    "relu": ("cs231n_relu", (), None, "D", "relu", "cs231n relu_forward(x)"),
    "batchnorm": ("cs231n_batchnorm", _NORM, {"eps": 1e-5, "momentum": 0.9}, "D", None,
                  "cs231n batchnorm_forward(x, gamma, beta, bn_param)"),
    "layernorm": ("cs231n_layernorm", _NORM, {"eps": 1e-5}, "D", None,
                  "cs231n layernorm_forward(x, gamma, beta, ln_param)"),
    "dropout": ("cs231n_dropout", (), {"p": 0.5}, "D", None,
                "cs231n dropout_forward(x, dropout_param); p as the file reads it"),
}


def function_layer_classes(module: ModuleType, path: Path, tree: ast.Module
                           ) -> list[type[FunctionLayer]]:
    """The layer classes of ``module`` in one of the two conventions ([] if neither)."""
    if hasattr(module, "NAME"):
        return [_named_layer(module, path, tree)]
    classes = []
    for prefix, (name, params, layer_param, output, kink, text) in CS231N_PAIRS.items():
        forward = getattr(module, f"{prefix}_forward", None)
        backward = getattr(module, f"{prefix}_backward", None)
        if callable(forward) and callable(backward):
            convention = Convention(name, params, layer_param, output, forward, backward,
                                    str(path), _lines(path, tree, forward, backward), kink, text)
            _check_signatures(convention, path, tree)
            classes.append(make_function_layer(convention, module.__name__))
    return classes


def _named_layer(module: ModuleType, path: Path, tree: ast.Module) -> type[FunctionLayer]:
    assigned = _assignment_lines(tree)
    name = module.NAME
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise CustomLayerError(path, assigned.get("NAME"), "NAME must be a lower-case identifier, "
                               f"e.g. NAME = \"student_bn\"; got {name!r}")
    if any(builtin.type_name == name for builtin in BUILTIN_LAYERS):
        raise CustomLayerError(path, assigned.get("NAME"), f"NAME {name!r} is a built-in "
                               "layer's name; choose another")
    try:
        params = parse_params(getattr(module, "PARAMS", {}))
    except ValueError as exc:
        raise CustomLayerError(path, assigned.get("PARAMS"), str(exc)) from None
    layer_param = getattr(module, "LAYER_PARAM", None)
    if layer_param is not None and not isinstance(layer_param, dict):
        raise CustomLayerError(path, assigned.get("LAYER_PARAM"), "LAYER_PARAM must be a dict "
                               f"(e.g. {{\"eps\": 1e-5}}), got {type(layer_param).__name__}")
    output = getattr(module, "OUTPUT", "D")
    if not (output in ("D", "units") or (isinstance(output, int) and not isinstance(output, bool)
                                         and output >= 1)):
        raise CustomLayerError(path, assigned.get("OUTPUT"), "OUTPUT must be \"D\" (the input "
                               f"width), \"units\" or a positive integer; got {output!r}")
    functions = []
    for function in ("forward", "backward"):
        value = getattr(module, function, None)
        if not callable(value):
            raise CustomLayerError(path, assigned.get("NAME"), f"NAME is set but the file defines "
                                   f"no {function}() function: {_usage(params, layer_param)}")
        functions.append(value)
    description = (getattr(module, "DESCRIPTION", "") or (module.__doc__ or "").strip()
                   .split("\n")[0])
    convention = Convention(name, params, None if layer_param is None else dict(layer_param),
                            output, functions[0], functions[1], str(path),
                            _lines(path, tree, *functions), None, str(description))
    _check_signatures(convention, path, tree)
    return make_function_layer(convention, module.__name__)


def _usage(params: tuple[ParamSpec, ...], layer_param: Any) -> str:
    names = [p.name for p in params]
    args = ", ".join(["x", *names] + (["layer_param"] if layer_param is not None else []))
    grads = ", ".join(["dx", *(f"d{n}" for n in names)])
    return f"def forward({args}) -> (out, cache) and def backward(dout, cache) -> {grads}"


def _check_signatures(convention: Convention, path: Path, tree: ast.Module) -> None:
    """forward must take x, the parameters and the dict; backward dout and cache."""
    count = 1 + len(convention.params) + (convention.layer_param is not None)
    for function, arguments in ((convention.forward, count), (convention.backward, 2)):
        try:
            inspect.signature(function).bind(*range(arguments))
        except TypeError:
            where, line = _definition(function)
            raise CustomLayerError(Path(where), line, f"{function.__name__} cannot be called "
                                   f"with {arguments} arguments; the convention is "
                                   f"{_usage(convention.params, convention.layer_param)}") from None
        except ValueError:  # no signature (a builtin): let the call report it
            pass


def _definition(function) -> tuple[str, int | None]:
    code = getattr(function, "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code else ("?", None)


def _lines(path: Path, tree: ast.Module, forward, backward) -> dict[str, tuple[str, int | None]]:
    """Where a contract violation is reported: the function's only return, else its def."""
    lines = {}
    defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for role, function in (("forward", forward), ("backward", backward)):
        where, line = _definition(function)
        node = defs.get(function.__name__)
        if node is not None and Path(where) == path:
            returns = [n for n in _own_nodes(node) if isinstance(n, ast.Return)]
            line = returns[0].lineno if len(returns) == 1 else node.lineno
        lines[role] = (where, line)
    return lines


def _own_nodes(function: ast.FunctionDef):
    """Nodes of ``function`` outside any nested function or class."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _assignment_lines(tree: ast.Module) -> dict[str, int]:
    lines = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    lines[target.id] = node.lineno
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            lines[node.target.id] = node.lineno
    return lines


__all__ = ["CS231N_PAIRS", "function_layer_classes"]
