"""The safetensors file format, written and read with the standard library and numpy.

A ``.safetensors`` file is an 8-byte little-endian header length, a JSON header
(name -> dtype, shape, byte offsets; optional ``__metadata__`` of strings) and the raw
little-endian bytes of every tensor, back to back. Nothing in it is executed or unpickled,
and writing it needs no torch: the export writes it here, and the exported ``model.py``
reads it with the ``safetensors`` package when installed, else with the same few lines.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

#: numpy dtype -> safetensors dtype name (what our networks hold)
DTYPE_NAMES: dict[np.dtype, str] = {
    np.dtype(np.float32): "F32", np.dtype(np.float64): "F64",
    np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.bool_): "BOOL"}
NUMPY_DTYPES = {name: dtype for dtype, name in DTYPE_NAMES.items()}
_ALIGN = 8


def encode_safetensors(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding ``tensors`` (in name order).

    Parameters
    ----------
    tensors : dict of str -> ndarray
        float32, float64, int64, int32 or bool arrays of any shape (0-d included).
    metadata : dict of str -> str, optional
        Stored as ``__metadata__`` in the header.
    """
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in metadata.items()}
    chunks, offset = [], 0
    for name in sorted(tensors):
        array = np.asarray(tensors[name])
        kind = DTYPE_NAMES.get(array.dtype)
        if kind is None:
            raise ValueError(f"tensor {name!r}: dtype {array.dtype} cannot be exported "
                             f"(expected one of {sorted(str(d) for d in DTYPE_NAMES)})")
        data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": kind, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % _ALIGN)  # the format pads the header with spaces
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write_safetensors(path: str | Path, tensors: dict[str, np.ndarray],
                      metadata: dict[str, str] | None = None) -> None:
    Path(path).write_bytes(encode_safetensors(tensors, metadata))


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Arrays of a safetensors file (numpy, native byte order); ValueError if malformed."""
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path}: not a safetensors file (too short)")
    (size,) = struct.unpack("<Q", raw[:8])
    if 8 + size > len(raw):
        raise ValueError(f"{path}: the header runs past the end of the file")
    try:
        header = json.loads(raw[8:8 + size])
    except ValueError as exc:
        raise ValueError(f"{path}: the header is not JSON: {exc}") from None
    header.pop("__metadata__", None)
    data = memoryview(raw)[8 + size:]
    arrays = {}
    for name, info in header.items():
        dtype = NUMPY_DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has an unsupported dtype {info.get('dtype')!r}")
        start, stop = info["data_offsets"]
        flat = np.frombuffer(data[start:stop], dtype=dtype.newbyteorder("<"))
        arrays[name] = flat.astype(dtype).reshape(info["shape"])
    return arrays
