"""Small file basics every layer shares: the chunk size, write modes, MD5 digests, the
media type a name implies.

Foundation layer: imports nothing from the package.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import AsyncIterable, Iterable
from functools import lru_cache

__all__ = ["CHUNK_SIZE", "guess_mimetype", "is_write_mode", "md5_hex", "md5_hex_async"]

#: Bytes per read when streaming a file (copies, hashing, serving, uploads).
CHUNK_SIZE = 64 * 1024

_WRITE_CHARS = frozenset("wax+")


@lru_cache(maxsize=1024)
def guess_mimetype(name: str) -> str:
    """MIME type from the file extension (case-insensitive); octet-stream when unknown.

    This is ``StorageNode.mimetype`` (0.4.2): ``"a.css.gz"`` is ``text/css`` here. What a
    response sends is :func:`genro_storage.http.encoding.media_type_of`, which tells such
    a file apart. Memoised by name (``mimetypes`` takes microseconds; serving asks per
    request): types added to ``mimetypes`` later apply to names not asked before.
    """
    mime, _ = mimetypes.guess_type(name.lower() if name else name, strict=False)
    return mime or "application/octet-stream"


def is_write_mode(mode: str) -> bool:
    """True when an ``open()`` mode writes (``w``, ``a``, ``x`` or ``+`` in it)."""
    return not _WRITE_CHARS.isdisjoint(mode)


def md5_hex(chunks: Iterable[bytes]) -> str:
    """The MD5 hex digest of a stream of chunks."""
    digest = hashlib.md5()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


async def md5_hex_async(chunks: AsyncIterable[bytes]) -> str:
    """:func:`md5_hex` over an async stream."""
    digest = hashlib.md5()
    async for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
