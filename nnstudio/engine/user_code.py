"""Errors raised inside code a user brought (custom layers, models, submissions).

A user's exception is never a verdict: it is reported as ``error in FILE:LINE:
ExceptionType: message`` — the innermost frame of the traceback that lies in the user's
own code (not in NN Studio, not in an installed library), the way pytest's short
tracebacks show the test's line rather than the framework's. ``UserCodeError`` is a
``ValueError``, so the command line reports it as bad input (exit 2), never as a mismatch.

    try:
        out = layer.forward(x, ctx)
    except Exception as exc:
        raise UserCodeError.from_exception(exc, "in forward of layer 1 student_bn") from None
"""
from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path

_OUR_PACKAGE = Path(__file__).resolve().parents[1]          # .../nnstudio
_LIBRARY_ROOTS = tuple(Path(p).resolve() for p in {
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
    sysconfig.get_paths()["platlib"]})


class UserCodeError(ValueError):
    """An exception in user code, located at its file and line.

    Attributes
    ----------
    path : str or None      the user's file (None when no frame lies in user code)
    line : int or None
    kind : str              the exception's type name, e.g. ``"IndexError"``
    detail : str            the exception's message
    context : str           what we were doing, e.g. ``"in backward of layer 1 student_bn"``
    """

    def __init__(self, path: str | None, line: int | None, kind: str, detail: str,
                 context: str = "") -> None:
        self.path, self.line, self.kind, self.detail, self.context = path, line, kind, detail, context
        where = f"{path}:{line}" if path and line else (path or "user code")
        suffix = f" ({context})" if context else ""
        super().__init__(f"error in {where}: {kind}: {detail}{suffix}")

    @classmethod
    def from_exception(cls, exc: BaseException, context: str = "") -> "UserCodeError":
        """Locate ``exc`` in the user's code; keep its type name and message."""
        if isinstance(exc, UserCodeError):
            return exc
        path, line = user_frame(exc)
        return cls(path, line, type(exc).__name__, str(exc), context)

    def to_dict(self) -> dict:
        return {"file": self.path, "line": self.line, "type": self.kind,
                "message": self.detail, "context": self.context}


def is_user_file(filename: str) -> bool:
    """True for a file that is neither NN Studio's nor the standard library's or an
    installed package's (a user's file inside site-packages would not be user code)."""
    if not filename or filename.startswith("<"):
        return False
    path = Path(filename).resolve()
    if path.is_relative_to(_OUR_PACKAGE):
        return False
    # A venv inside the user's project puts libraries below it: libraries win.
    return not any(path.is_relative_to(root) for root in _LIBRARY_ROOTS) \
        and "site-packages" not in path.parts


def user_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """(file, line) of the innermost traceback frame in user code, or (None, None)."""
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if is_user_file(frame.filename):
            found = (frame.filename, frame.lineno)
    if found[0] is None and isinstance(exc, SyntaxError) and exc.filename:
        found = (exc.filename, exc.lineno)
    return found


def call_user(function, *args, context: str = "", **kwargs):
    """``function(*args, **kwargs)``; any exception (also ``SystemExit``) becomes a
    :class:`UserCodeError`. ``KeyboardInterrupt`` is left alone: the user meant it."""
    try:
        return function(*args, **kwargs)
    except UserCodeError:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code may raise anything
        raise UserCodeError.from_exception(exc, context) from None


__all__ = ["UserCodeError", "call_user", "is_user_file", "user_frame"]
