"""What the serve core needs to know about a file: :class:`Resource` and :func:`make_etag`."""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass

from ._text import has_crlf_nul

__all__ = ["Resource", "is_valid_etag", "make_etag"]

_HEX = frozenset(string.hexdigits)
_NOT_ETAGC = re.compile(r"[^\x21\x23-\x7e]")  # one character class: linear time


def is_valid_etag(opaque: str) -> bool:
    """Tell whether ``opaque`` can be sent between double quotes as an entity tag.

    RFC 9110 §8.8.3: ``etagc = %x21 / %x23-7E / obs-text``. We also refuse obs-text
    (non-ASCII) so every tag we send is plain ASCII. The empty tag is valid.
    """
    return _NOT_ETAGC.search(opaque) is None


def _is_md5(value: str) -> bool:
    return len(value) == 32 and all(c in _HEX for c in value)


def _unquote(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    return tag


def make_etag(
    size: int,
    mtime: float | None,
    md5: str | None = None,
    backend_etag: str | None = None,
) -> str:
    """Return a strong, unquoted entity tag for a file, stable across processes.

    In order of preference:

    1. ``md5``, the content's MD5 as 32 hex digits (lower-cased);
    2. ``backend_etag``, the storage's own version token (quotes and ``W/`` stripped): an
       S3 multipart ETag such as ``"9b2cf5…-3"`` is *not* an MD5 of the content, but it
       still changes whenever the object does, so it is used as it is;
    3. a token from the modification time in microseconds and the size, both in hex
       (``"<mtime_us>-<size>"``). Without ``mtime`` the token is ``"s-<size>"``, which
       only changes with the size: pass a hash for such backends when you can.

    A backend tag that could not be sent in a header is skipped.
    """
    if md5 is not None and _is_md5(md5.strip()):
        return md5.strip().lower()
    if backend_etag is not None:
        tag = _unquote(backend_etag)
        if tag and is_valid_etag(tag):
            return tag.lower() if _is_md5(tag) else tag
    if mtime is None or not math.isfinite(mtime):
        return f"s-{size:x}"
    return f"{round(mtime * 1_000_000):x}-{size:x}"


def _check_header_text(name: str, value: str) -> None:
    if has_crlf_nul(value) or not value.isascii():
        raise ValueError(f"Resource.{name} must be ASCII without CR, LF or NUL: {value!r}")


@dataclass(frozen=True)
class Resource:
    """The metadata of one file as the serve core sees it; no handle, no I/O.

    Attributes:
        size: length in bytes of what would be sent (the encoded variant's size when
            ``content_encoding`` is set).
        mtime: modification time as a POSIX timestamp, or None when unknown (then no
            ``Last-Modified`` is sent and date preconditions are ignored).
        etag: strong validator, unquoted (see :func:`make_etag`), or None.
        content_type: media type, e.g. ``"text/css"``; the core adds the charset.
        filename: the name offered in ``Content-Disposition``.
        content_encoding: ``"br"``/``"gzip"`` when this is a precompressed variant.
        negotiated: True when the representation was chosen by ``Accept-Encoding``
            (alternatives exist), so ``Vary: Accept-Encoding`` is sent even for the
            identity variant and caches keep the variants apart.

    Raises:
        ValueError: a negative size, an etag that cannot be quoted, or a content type or
            encoding that is not plain ASCII header text.
    """

    size: int
    mtime: float | None
    etag: str | None
    content_type: str
    filename: str
    content_encoding: str | None = None
    negotiated: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValueError(f"Resource.size must be an int >= 0, got {self.size!r}")
        if self.etag is not None and not is_valid_etag(self.etag):
            raise ValueError(f"Resource.etag cannot be sent as an entity tag: {self.etag!r}")
        _check_header_text("content_type", self.content_type)
        if self.content_encoding is not None:
            _check_header_text("content_encoding", self.content_encoding)
