"""Python literals for generated source: exact numbers, wrapped lists, one-line comments."""
from __future__ import annotations

import math
from typing import Any

WIDTH = 88


def literal(value: Any) -> str:
    """Source text that evaluates to ``value``; floats print their shortest exact repr."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} as a literal")
        return repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(literal(item) for item in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "item"):  # a numpy scalar
        return literal(value.item())
    raise ValueError(f"cannot write a {type(value).__name__} as a literal")


def assignment(name: str, value: Any, indent: str = "    ") -> str:
    """``NAME = value``, a list or tuple wrapped over lines of at most :data:`WIDTH`."""
    text = f"{name} = {literal(value)}"
    if len(text) <= WIDTH or not isinstance(value, (list, tuple)) or not value:
        return text
    opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    lines, line = [f"{name} = {opening}"], indent
    for item in value:
        piece = literal(item) + ","
        if line.strip() and len(line) + 1 + len(piece) > WIDTH:
            lines.append(line.rstrip())
            line = indent
        line += piece if not line.strip() else " " + piece
    lines += [line.rstrip(), closing]
    return "\n".join(lines)


def one_line(text: str) -> str:
    """``text`` safe inside a ``#`` comment or a docstring line: no newlines, no quotes runs."""
    return " ".join(str(text).split()).replace('"""', "'''")


def comment(text: str, indent: str = "") -> list[str]:
    """``# text`` wrapped to lines of at most :data:`WIDTH`."""
    import textwrap
    return textwrap.wrap(one_line(text), WIDTH, initial_indent=indent + "# ",
                         subsequent_indent=indent + "#   ")
