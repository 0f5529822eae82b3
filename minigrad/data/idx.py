"""IDX file format (LeCun's MNIST format): parse bytes, read raw or gzip files, with checks that name the file.

Layout: 2 zero bytes, a dtype code, the number of dims D, D big-endian uint32 sizes, then the values
big-endian in C order. MNIST images have magic 0x00000803 (uint8, 3 dims), labels 0x00000801.
"""
import gzip
import hashlib
import zlib

import numpy

# dtype code -> big-endian numpy dtype (from the format's description on yann.lecun.com)
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file is not a valid IDX file (bad magic, dims or length), or its gzip stream is damaged."""


def md5_hex(buf):
    """MD5 of bytes as lowercase hex."""
    return hashlib.md5(buf).hexdigest()


def is_gzip(buf):
    """True if the bytes start with gzip's magic number."""
    return bytes(buf[:2]) == GZIP_MAGIC


def gunzip(buf, name="<bytes>"):
    """Decompress a gzip stream; a truncated or damaged stream raises IDXError naming the file."""
    try:
        return gzip.decompress(buf)
    except EOFError as e:  # stream ends before its end marker: the download or copy was cut short
        raise IDXError(f"{name}: truncated gzip file ({e}). Delete it and copy or download it again.") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as e:  # CRC or length mismatch, bad deflate data
        raise IDXError(f"{name}: corrupt gzip file ({e}). Delete it and copy or download it again.") from None


def parse_idx(buf, name="<bytes>", magic=None):
    """Decode IDX bytes to a read-only native-endian array of the header's shape (no copy for uint8).

    magic: the expected 4-byte magic number (e.g. IMAGES_MAGIC) or None to accept any valid one.
    """
    if len(buf) < 4:
        raise IDXError(f"{name}: only {len(buf)} bytes, too short to be an IDX file (truncated or empty).")
    got = int.from_bytes(bytes(buf[:4]), "big")
    if buf[0] != 0 or buf[1] != 0 or buf[2] not in IDX_DTYPES or buf[3] == 0:
        want = f" (expected 0x{magic:08x}, {_describe(magic)})" if magic is not None else ""
        raise IDXError(f"{name}: bad magic number 0x{got:08x}; this is not an IDX file{want}. "
                       "Is it the right file, and not damaged?")
    if magic is not None and got != magic:
        raise IDXError(f"{name}: magic number 0x{got:08x} but expected 0x{magic:08x} "
                       f"({_describe(magic)}); the file is of the wrong kind (images vs labels?).")
    dtype, ndim = numpy.dtype(IDX_DTYPES[buf[2]]), buf[3]
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise IDXError(f"{name}: truncated header ({len(buf)} bytes, need {header} for {ndim} dims).")
    dims = tuple(int.from_bytes(bytes(buf[4 + 4 * i: 8 + 4 * i]), "big") for i in range(ndim))
    want = header + int(numpy.prod(dims, dtype=numpy.int64)) * dtype.itemsize
    if len(buf) != want:
        what = "truncated" if len(buf) < want else "has trailing bytes"
        raise IDXError(f"{name}: {what}: header says shape {dims} ({want} bytes in all) but the file holds "
                       f"{len(buf)} bytes. Delete it and copy or download it again.")
    a = numpy.frombuffer(buf, dtype=dtype, offset=header).reshape(dims)
    if dtype.itemsize > 1:
        a = a.astype(dtype.newbyteorder("="))  # native order, so later ops do not pay for byte swaps
    a.flags.writeable = False
    return a


def read_idx(path, magic=None):
    """Read an IDX file, gzip-compressed or not (decided by content, not name) -> read-only array."""
    with open(path, "rb") as f:
        buf = f.read()
    if is_gzip(buf):
        buf = gunzip(buf, str(path))
    return parse_idx(buf, str(path), magic)


def _describe(magic):
    return {IMAGES_MAGIC: "uint8 images, 3 dims", LABELS_MAGIC: "uint8 labels, 1 dim"}.get(magic, "IDX")
