"""Small file-object basics every layer shares: the chunk size, write modes, MD5 digests.

Foundation layer: imports nothing from the package.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, Iterable

__all__ = ["CHUNK_SIZE", "is_write_mode", "md5_hex", "md5_hex_async"]

#: Bytes per read when streaming a file (copies, hashing, serving, uploads).
CHUNK_SIZE = 64 * 1024

_WRITE_CHARS = frozenset("wax+")


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
