"""Is a path a regular file that can be opened? Asked before opening anything.

Opening a FIFO with no writer blocks forever, a device can be endless, and the
operating system's own errors (a symlink loop, a name too long, a path through a
file) arrive as bare ``OSError``s; here each becomes one sentence naming the path.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_ERRNO_TEXT = {
    errno.ENOENT: "file not found",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ELOOP: "the path is a loop of symbolic links",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EIO: "input/output error (a disk or device failed)",
    errno.EROFS: "the file system is read-only",
    errno.EXDEV: "the file cannot be moved to another file system",
}
_KINDS = ((stat.S_ISDIR, "this is a folder, not a file"),
          (stat.S_ISFIFO, "this is a named pipe (FIFO), not a regular file"),
          (stat.S_ISCHR, "this is a character device, not a regular file"),
          (stat.S_ISBLK, "this is a block device, not a regular file"),
          (stat.S_ISSOCK, "this is a socket, not a regular file"))


def os_error_text(exc: OSError) -> str:
    """The problem an OSError describes, in words, without the path."""
    if exc.errno in _ERRNO_TEXT:
        return _ERRNO_TEXT[exc.errno]
    return exc.strerror or str(exc) or type(exc).__name__


def file_problem(path: str | Path) -> tuple[str, int | None] | None:
    """None if ``path`` is a regular file (symlinks followed), else (problem, errno).

    Never opens the file, so a FIFO or a device cannot block or flood the caller.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return os_error_text(exc), exc.errno
    except ValueError:  # an embedded NUL character in the path
        return "the file name contains a NUL character", None
    for test, problem in _KINDS:
        if test(mode):
            return problem, errno.EISDIR if test is stat.S_ISDIR else None
    if not stat.S_ISREG(mode):
        return "this is not a regular file", None
    return None
