"""``multipart/byteranges`` bodies (RFC 9110 §14.6), described as prefixes and offsets.

The body of a multi-range 206 is, for each range::

    [CRLF] "--" boundary CRLF
    "Content-Type: " type CRLF
    "Content-Range: bytes " first "-" last "/" size CRLF
    CRLF
    <the file's bytes first..last>

then ``CRLF "--" boundary "--" CRLF``. The CRLF that ends one part's data belongs to the
next delimiter (RFC 2046 §5.1.1), which is why every prefix but the first starts with it.

The boundary is random per response (``secrets.token_hex``), not derived from the ETag:
nobody, not even the author of a stored file, can know it in advance and plant it in the
content. It always has the same length, so a HEAD and a GET agree on Content-Length.
"""

from __future__ import annotations

import secrets

from .response import Part

__all__ = ["byteranges", "new_boundary"]


def new_boundary() -> str:
    """A fresh boundary: 32 random hex digits (RFC 2046 allows up to 70 characters)."""
    return secrets.token_hex(16)


def byteranges(
    ranges: list[tuple[int, int]], size: int, content_type: str, boundary: str
) -> tuple[str, tuple[Part, ...], bytes]:
    """Describe a multipart body for inclusive ``ranges`` of a ``size``-byte file.

    Returns the response ``Content-Type``, the parts and the trailer.
    """
    parts = []
    for index, (first, last) in enumerate(ranges):
        head = (
            f"--{boundary}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Range: bytes {first}-{last}/{size}\r\n\r\n"
        ).encode("latin-1")
        parts.append(Part(first, last + 1, head if index == 0 else b"\r\n" + head))
    trailer = f"\r\n--{boundary}--\r\n".encode("latin-1")
    return f"multipart/byteranges; boundary={boundary}", tuple(parts), trailer
