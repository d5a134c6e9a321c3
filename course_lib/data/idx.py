"""The IDX format MNIST is published in (http://yann.lecun.com/exdb/mnist/, bottom).

A header of two zero bytes, a type code, the number of dimensions, then each dimension
as a big-endian uint32; then the values, big-endian, in C order.
"""
import math
import struct

import numpy as np

from ..errors import CourseError

TYPE_CODES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(content, name):
    """The array held by IDX `content` (bytes), in native byte order.

    `name` is used in errors, which say exactly what is wrong with a malformed file.
    """
    if len(content) < 4:
        raise CourseError(f"{name}: {len(content)} bytes is too short for an IDX header")
    zeros, type_code, ndim = struct.unpack_from(">HBB", content)
    if zeros != 0 or type_code not in TYPE_CODES or ndim == 0:
        raise CourseError(
            f"{name}: not an IDX file (magic number 0x{content[:4].hex()}; expected two zero "
            f"bytes, a type code among {', '.join(f'0x{code:02x}' for code in TYPE_CODES)} "
            f"and at least one dimension)")
    header_bytes = 4 + 4 * ndim
    if len(content) < header_bytes:
        raise CourseError(f"{name}: the IDX header announces {ndim} dimensions but the file "
                          f"ends after {len(content)} bytes, inside the header")
    dims = struct.unpack_from(f">{ndim}I", content, 4)
    dtype = TYPE_CODES[type_code]
    _check_payload_size(name, dims, dtype, len(content) - header_bytes)
    array = np.frombuffer(content, dtype, count=math.prod(dims), offset=header_bytes)
    # astype copies, which also makes the array writable (frombuffer of bytes is not).
    return array.reshape(dims).astype(dtype.newbyteorder("="))


def _check_payload_size(name, dims, dtype, payload_bytes):
    entry_bytes = math.prod(dims[1:]) * dtype.itemsize
    if payload_bytes == dims[0] * entry_bytes:
        return
    entries, stray_bytes = (divmod(payload_bytes, entry_bytes) if entry_bytes
                            else (0, payload_bytes))  # a zero dimension: empty entries
    entry = f"{' × '.join(map(str, dims[1:]))} {dtype.name}".strip()
    message = (f"{name}: the IDX header says {dims[0]} entries ({entry} each) "
               f"but the file holds {entries}")
    if stray_bytes:
        message += f" and {stray_bytes} bytes more"
    raise CourseError(message)
