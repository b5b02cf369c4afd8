"""The content every backend of the conformance suite is checked against."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator

MiB = 1024 * 1024

#: a small tree with the names that break naive code: spaces, non-ASCII, an empty file
TREE: dict[str, bytes] = {
    "a.txt": b"hello world\n",
    "empty.txt": b"",
    "dir with spaces/\u00f1and\u00fa \u00fc.txt": "\u00f1and\u00fa \u00fc \u2713\n".encode(),
    "sub/note.md": b"# note\n",
    "sub/deep/data.bin": bytes(range(256)) * 64,
}
TREE_DIRS = {"dir with spaces", "sub", "sub/deep"}

BIG_NAME = "big/big.bin"
BIG_SIZE = 50 * MiB


@functools.cache
def _big_blocks() -> tuple[bytes, ...]:
    """The 50 MiB as 1 MiB blocks, built once per session: generating ~1 million numbered
    lines inside a test measured under tracemalloc cost seconds per backend, and blocks
    that already exist add nothing to the peak a flat-memory test measures."""
    blocks: list[bytes] = []
    line_count = 0
    produced = 0
    while produced < BIG_SIZE:
        lines = []
        size = 0
        while size < MiB:
            line = b"line %010d of the fifty mebibyte conformance file\n" % line_count
            lines.append(line)
            size += len(line)
            line_count += 1
        block = b"".join(lines)[: min(MiB, BIG_SIZE - produced)]
        produced += len(block)
        blocks.append(block)
    return tuple(blocks)


def big_chunks_ready() -> None:
    """Build the 50 MiB now (a memory measure must not count the test data itself)."""
    _big_blocks()


def big_chunks() -> Iterator[bytes]:
    """50 MiB in 1 MiB chunks (text lines: archives compress it quickly)."""
    yield from _big_blocks()


@functools.cache
def big_md5() -> str:
    """MD5 of the 50 MiB file (computed once)."""
    digest = hashlib.md5()
    for block in big_chunks():
        digest.update(block)
    return digest.hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()
