"""Reading and writing the IDX format, the file format of MNIST and Fashion-MNIST.

An IDX file is a big-endian header followed by the raw array bytes in row-major (C) order::

    byte 0-1   0x00 0x00                      (always zero)
    byte 2     dtype code                     0x08 uint8, 0x09 int8, 0x0B int16,
                                              0x0C int32, 0x0D float32, 0x0E float64
    byte 3     number of dimensions d         (1 for labels, 3 for images)
    then       d sizes, each a big-endian uint32
    then       prod(sizes) * itemsize bytes   (big-endian values)

So MNIST's training images start with the magic number ``0x00000803`` (uint8, 3 dimensions) and
the sizes 60000, 28, 28; its labels with ``0x00000801`` and 60000.

Files may be gzip-compressed (detected from their first two bytes, not from the name).
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from groundup.errors import DataError, DTypeError, hint

__all__ = ["read_idx", "write_idx", "parse_idx", "encode_idx", "IDX_DTYPES"]

#: IDX dtype code -> NumPy dtype (big-endian, as stored in the file).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_FOR_KIND = {(dtype.kind, dtype.itemsize): code for code, dtype in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _native(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("=") if dtype.itemsize > 1 else dtype


def parse_idx(raw: bytes, ndim: int | None = None, name: str = "<bytes>") -> np.ndarray:
    """Decode the (uncompressed) bytes of an IDX file into an array of native byte order.

    ``ndim`` (optional) is the number of dimensions the caller expects; ``name`` names the source
    in error messages. Raises ``DataError`` for a bad magic number, an unexpected number of
    dimensions, or a body whose length is not ``prod(sizes) * itemsize`` (truncated or trailing).
    """
    view = memoryview(raw)
    if len(view) < 4:
        raise DataError(
            hint(
                f"IDX file {name} is {len(view)} bytes long, too short for the 4-byte magic number",
                "the file is truncated or empty; download or copy it again",
            )
        )
    magic = int.from_bytes(view[:4], "big")
    zeros, code, dims = view[0] << 8 | view[1], view[2], view[3]
    if zeros != 0 or code not in IDX_DTYPES:
        raise DataError(
            hint(
                f"IDX file {name} has magic number 0x{magic:08X}: expected 0x0000TTDD with dtype "
                f"code TT in {{08, 09, 0B, 0C, 0D, 0E}} and DD dimensions",
                "this is not an (uncompressed) IDX file; check the file name and that it was "
                "not saved as HTML or corrupted during download",
            )
        )
    if ndim is not None and dims != ndim:
        raise DataError(
            hint(
                f"IDX file {name} has {dims} dimensions (magic 0x{magic:08X}): expected {ndim}",
                "images have 3 dimensions (0x00000803) and labels 1 (0x00000801); "
                "check that the images and labels files are not swapped",
            )
        )
    header_len = 4 + 4 * dims
    if len(view) < header_len:
        raise DataError(
            hint(
                f"IDX file {name} is {len(view)} bytes long, too short for its header of "
                f"{header_len} bytes ({dims} dimension sizes)",
                "the file is truncated; download or copy it again",
            )
        )
    shape = tuple(
        int.from_bytes(view[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)
    )
    dtype = IDX_DTYPES[code]
    expected_body = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(view) - header_len
    if body != expected_body:
        what = "truncated" if body < expected_body else "longer than its header says"
        raise DataError(
            hint(
                f"IDX file {name} is {what}: shape {shape} of {dtype.name} needs "
                f"{expected_body} data bytes after the {header_len}-byte header, found {body}",
                "download or copy the file again; if it was written by hand, its sizes must "
                "match the data",
            )
        )
    array = np.frombuffer(raw, dtype=dtype, count=expected_body // dtype.itemsize,
                          offset=header_len).reshape(shape)
    # frombuffer gives a read-only view of `raw`; astype makes an owned, writable, native copy.
    return array.astype(_native(dtype), copy=True)


def _decompress(data: bytes, name: str) -> bytes:
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(
            hint(
                f"gzip file {name} cannot be decompressed ({exc})",
                "the download was interrupted or the file is damaged; delete it and fetch it again",
            )
        ) from exc


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a NumPy array of native byte order.

    ``ndim`` (optional) is the expected number of dimensions: 3 for images ``(N, H, W)``, 1 for
    labels ``(N,)``. Raises ``DataError`` for a missing file, bad gzip data, a wrong magic number,
    wrong dimensions, or a truncated file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(
            hint(f"IDX file {path} does not exist", "check the path (and the dataset root)")
        ) from exc
    return parse_idx(_decompress(data, str(path)), ndim=ndim, name=str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as the bytes of an IDX file (header + big-endian data).

    Supported dtypes: uint8, int8, int16, int32, float32, float64; at most 255 dimensions, each
    size below 2**32.
    """
    array = np.asarray(array)
    code = _CODE_FOR_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise DTypeError(
            hint(
                f"write_idx: array has dtype {array.dtype}, which IDX cannot store",
                "convert it to one of uint8, int8, int16, int32, float32, float64 (e.g. "
                "labels.astype(np.uint8))",
            )
        )
    if array.ndim > 255 or any(size >= 2**32 for size in array.shape):
        raise DataError(
            hint(
                f"write_idx: array of shape {array.shape} does not fit the IDX header",
                "IDX allows at most 255 dimensions, each smaller than 2**32",
            )
        )
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        size.to_bytes(4, "big") for size in array.shape
    )
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` to ``path`` as an IDX file; gzip-compress it when ``compress`` is true
    (default: when the name ends in ``.gz``). The file is written to a temporary file in the
    same folder and renamed into place, so a crash never leaves a half-written file.
    Returns the path.
    """
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    payload = encode_idx(array)
    if compress:
        # mtime=0 makes the compressed bytes depend only on the content.
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
