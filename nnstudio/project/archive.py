"""Zip and npz reading and writing that trusts nothing in the file.

Members are read by name into memory with a size cap, never extracted to disk, so a name
cannot escape anywhere; unsafe names are still refused because a file that has them was
not written by us. Arrays are parsed from their ``.npy`` headers by hand: object (pickled)
arrays and headers promising more data than the member holds are refused before any
allocation. Writing goes to a temporary file in the same directory, then ``os.replace``;
the temporary file is locked while it is written, so one left behind by a killed save
(unlocked) is removed by the next save of the same file.

Every failure, including the operating system's (a missing file, a FIFO, a full disk),
is a :class:`ProjectError` naming the file and the problem.
"""
from __future__ import annotations

import io
import math
import os
import re
import secrets
import struct
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable

import numpy as np

from ..data.filecheck import file_problem, os_error_text

try:
    import fcntl
except ImportError:  # Windows: stale temporary files are recognised by their age instead
    fcntl = None  # type: ignore[assignment]  # the module or nothing


class ProjectError(ValueError):
    """A project file cannot be read or written; the message says which part is wrong."""


class ProjectFileNotFound(ProjectError, FileNotFoundError):
    """The project file (or the folder to save it in) does not exist."""


#: what zipfile and zlib raise for a damaged archive or member (besides BadZipFile)
DAMAGED_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError,
                      EOFError, struct.error, ValueError, OverflowError, UnicodeDecodeError)
#: a temporary file of an unlockable platform older than this is taken as left behind
STALE_SECONDS = 3600


MAX_MEMBERS = 256
MAX_MEMBER_BYTES = 512 * 2**20
MAX_TOTAL_BYTES = 1024 * 2**20
#: a deflated member may be at most this many times its compressed size (zip bombs)
MAX_COMPRESSION_RATIO = 1000
ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
ARRAY_KINDS = "fiub"  # float, signed and unsigned integer, bool: never objects or strings
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so saving the same project twice gives the same bytes


def check_member_name(name: str, where: str) -> None:
    """Refuse names that are absolute, climb out with "..", or are otherwise not plain."""
    path = PurePosixPath(name)
    if (not name or "\\" in name or "\x00" in name or path.is_absolute() or ":" in name
            or any(part in ("..", ".", "") for part in name.rstrip("/").split("/"))):
        raise ProjectError(f"{where}: refusing member {name!r}: its path is not a plain relative "
                           "name inside the archive (a damaged or malicious file)")


def open_zip(data: bytes | Path, where: str) -> zipfile.ZipFile:
    """Open and vet a zip archive: member count, names, duplicates, sizes, encryption.

    A path is checked first: it must be a regular file (a FIFO would block, a device
    never end), and the operating system's errors become ProjectErrors.
    """
    if not isinstance(data, bytes):
        problem = file_problem(data)
        if problem is not None:
            error = ProjectFileNotFound if problem[1] == 2 else ProjectError
            raise error(f"{data}: {problem[0]}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except OSError as exc:
        raise ProjectError(f"{where}: cannot read the file: {os_error_text(exc)}") from None
    except DAMAGED_ZIP_ERRORS as exc:
        raise ProjectError(f"{where} is not a valid zip archive (damaged or truncated?): {exc}") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ProjectError(f"{where} has {len(infos)} members; at most {MAX_MEMBERS} are accepted")
    names = [info.filename for info in infos]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ProjectError(f"{where} holds more than one member named {duplicates[0]!r}")
    total = 0
    for info in infos:
        check_member_name(info.filename, where)
        if info.flag_bits & 0x1:
            raise ProjectError(f"{where}: member {info.filename!r} is encrypted")
        if info.compress_type not in ALLOWED_COMPRESSION:
            raise ProjectError(f"{where}: member {info.filename!r} uses an unsupported compression")
        if info.file_size > MAX_MEMBER_BYTES or (
                info.file_size > 2**20 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
            raise ProjectError(f"{where}: member {info.filename!r} is too large "
                               f"({info.file_size} bytes uncompressed); refusing it")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise ProjectError(f"{where}: members add up to {total} bytes; at most {MAX_TOTAL_BYTES} accepted")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, where: str) -> bytes:
    """A member's bytes; reads at most its declared size + 1 so a lying header cannot bloat."""
    info = archive.getinfo(name)
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except (OSError, *DAMAGED_ZIP_ERRORS) as exc:  # bad CRC, truncation, a flipped deflate bit
        raise ProjectError(f"{where}: member {name!r} is damaged or truncated: {exc}") from None
    if len(data) != info.file_size:
        raise ProjectError(f"{where}: member {name!r} does not have its declared size")
    if zlib.crc32(data) != info.CRC:  # zipfile checks only when it meets the stream's end
        raise ProjectError(f"{where}: member {name!r} is damaged (its checksum does not match)")
    return data


# -- arrays -------------------------------------------------------------------------
def encode_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """A standard ``.npz`` (``numpy.load`` reads it) written with pickling disabled."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, value in arrays.items():
            check_member_name(name + ".npy", "array name")
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(name + ".npy", ZIP_DATE), member.getvalue())
    return buffer.getvalue()


def decode_npz(data: bytes, where: str,
               check: Callable[[dict[str, tuple[int, ...]]], None] | None = None
               ) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` member, each parsed and checked by :func:`decode_npy`.

    ``check``, if given, sees every array's shape from its header before any array is
    decoded (and may raise), so that what a file claims is judged before it costs memory.
    """
    archive = open_zip(data, where)
    infos = archive.infolist()
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise ProjectError(f"{where}: member {info.filename!r} is not a .npy array")
    if check is not None:
        check({info.filename[:-4]: npy_header(_read_prefix(archive, info, where),
                                              f"{where}: {info.filename[:-4]!r}")[0]
               for info in infos})
    return {info.filename[:-4]: decode_npy(read_member(archive, info.filename, where),
                                           f"{where}: {info.filename[:-4]!r}")
            for info in infos}


_NPY_HEADER_BYTES = 10 + 10000  # magic, version, length, and numpy's largest header


def _read_prefix(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    try:
        with archive.open(info) as handle:
            return handle.read(min(info.file_size, _NPY_HEADER_BYTES))
    except (OSError, *DAMAGED_ZIP_ERRORS) as exc:
        raise ProjectError(f"{where}: member {info.filename!r} is damaged or truncated: {exc}") from None


def npy_header(data: bytes, where: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran_order, dtype, offset of the data) from the start of a ``.npy``;
    refuses object (pickled) and other non-numeric dtypes."""
    stream = io.BytesIO(data)
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy version {version}")
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran_order, dtype = reader(stream, max_header_size=10000)
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        raise ProjectError(f"{where}: not a valid array ({exc})") from None
    if dtype.hasobject:
        raise ProjectError(f"{where} is a pickled object array; project files never load pickles")
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProjectError(f"{where}: unsupported dtype {dtype}; expected numbers or booleans")
    return shape, fortran_order, dtype, stream.tell()


def decode_npy(data: bytes, where: str) -> np.ndarray:
    """One ``.npy`` array; refuses object dtypes and sizes that do not match the header."""
    shape, fortran_order, dtype, offset = npy_header(data, where)
    count = math.prod(shape)
    payload = data[offset:]
    if count * dtype.itemsize != len(payload):
        raise ProjectError(f"{where}: header promises {count * dtype.itemsize} bytes of data, "
                           f"the member holds {len(payload)} (damaged or truncated)")
    array = np.frombuffer(payload, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran_order else "C").copy()


# -- writing ------------------------------------------------------------------------
def write_zip_atomically(path: Path, members: dict[str, bytes]) -> None:
    """Write members to ``path`` through a temporary file in the same directory.

    ``os.replace`` is atomic on one file system, so an interrupted save leaves the old file
    untouched; the temporary file is removed on any error, and one left behind by a
    killed save of the same file is removed now. Raises ProjectError naming ``path``.
    """
    temporary, fd = _open_temporary(path)
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                _lock(handle.fileno())
                remove_stale_temporaries(path)
                with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
                    for name, data in members.items():
                        info = zipfile.ZipInfo(name, ZIP_DATE)
                        info.compress_type = zipfile.ZIP_DEFLATED
                        info.external_attr = 0o644 << 16
                        archive.writestr(info, data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            raise ProjectError(f"cannot save {path}: {os_error_text(exc)}; "
                               "the previous file (if any) is unchanged") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def check_writable(path: str | Path) -> None:
    """Raise ProjectError now if ``path`` could not be saved (missing or read-only folder,
    a folder in its place), so a long run does not fail only at its end."""
    path = Path(path)
    if path.is_dir():
        raise ProjectError(f"cannot save to {path}: it is a folder")
    temporary, fd = _open_temporary(path)
    os.close(fd)
    temporary.unlink(missing_ok=True)


def _open_temporary(path: Path) -> tuple[Path, int]:
    directory = path.parent
    try:
        is_dir = directory.is_dir()
    except OSError as exc:
        raise ProjectError(f"cannot save {path}: {os_error_text(exc)}") from None
    if not is_dir:
        raise ProjectFileNotFound(f"cannot save {path}: directory {directory} does not exist")
    temporary = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        # 0o666 lets the umask decide permissions, as for any file the user saves.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        return temporary, os.open(temporary, flags, 0o666)
    except OSError as exc:
        raise ProjectError(f"cannot save {path}: {os_error_text(exc)} "
                           f"(in the folder {directory})") from None


def _lock(fd: int) -> None:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a file system without locks: the save itself still works
            pass


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files of saves of ``path`` that were killed; return them.

    A save holds a lock on its temporary file until it ends, so an unlocked one is left
    over (without locks: one older than :data:`STALE_SECONDS`).
    """
    pattern = re.compile(re.escape(f".{path.name}.") + r"[0-9a-f]{8}\.tmp")
    removed: list[Path] = []
    try:
        candidates = [entry for entry in os.scandir(path.parent) if pattern.fullmatch(entry.name)]
    except OSError:
        return removed
    for entry in candidates:
        try:
            if _is_stale(entry.path):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed


def _is_stale(name: str) -> bool:
    if fcntl is None:
        return time.time() - os.stat(name).st_mtime > STALE_SECONDS
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # locked: a save in progress
    finally:
        os.close(fd)
    return True


def _sync_directory(directory: Path) -> None:
    """Make the rename durable; best effort (not every platform opens folders)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
