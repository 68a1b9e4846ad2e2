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


def assignment(name: str, value: Any) -> str:
    """``NAME = value``, containers wrapped over lines of at most :data:`WIDTH`."""
    return f"{name} = " + pretty(value, 0, len(name) + 3)


def pretty(value: Any, indent: int = 0, start: int | None = None) -> str:
    """``literal(value)``, spread over lines when it does not fit after column ``start``.

    Continuation lines are indented from column ``indent`` (where the closing bracket
    goes); scalars in a list share lines, dicts and nested lists take one line each.
    """
    start = indent if start is None else start
    flat = literal(value)
    if start + len(flat) <= WIDTH or not isinstance(value, (list, tuple, dict)) or not value:
        return flat
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, dict):
        lines = ["{"]
        for key, item in value.items():
            head = f"{literal(key)}: "
            lines.append(f"{inner}{head}{pretty(item, indent + 4, indent + 4 + len(head))},")
        return "\n".join(lines + [pad + "}"])
    opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    if any(isinstance(item, (list, tuple, dict)) for item in value):
        lines = [opening] + [f"{inner}{pretty(item, indent + 4)}," for item in value]
        return "\n".join(lines + [pad + closing])
    lines, line = [opening], inner
    for item in value:
        piece = literal(item) + ","
        if line.strip() and len(line) + 1 + len(piece) > WIDTH:
            lines.append(line.rstrip())
            line = inner
        line += piece if not line.strip() else " " + piece
    return "\n".join(lines + [line.rstrip(), pad + closing])


def one_line(text: str) -> str:
    """``text`` safe inside a ``#`` comment or a docstring line: no newlines, no quotes runs."""
    return " ".join(str(text).split()).replace('"""', "'''")


def comment(text: str, indent: str = "") -> list[str]:
    """``# text`` wrapped to lines of at most :data:`WIDTH`."""
    import textwrap
    return textwrap.wrap(one_line(text), WIDTH, initial_indent=indent + "# ",
                         subsequent_indent=indent + "#   ")
