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


def big_chunks(chunk: int = MiB) -> Iterator[bytes]:
    """50 MiB, generated a chunk at a time (text lines: archives compress it quickly)."""
    line_count = 0
    produced = 0
    while produced < BIG_SIZE:
        lines = []
        size = 0
        while size < chunk:
            line = b"line %010d of the fifty mebibyte conformance file\n" % line_count
            lines.append(line)
            size += len(line)
            line_count += 1
        block = b"".join(lines)[: min(chunk, BIG_SIZE - produced)]
        produced += len(block)
        yield block


@functools.cache
def big_md5() -> str:
    """MD5 of the 50 MiB file (computed once)."""
    digest = hashlib.md5()
    for block in big_chunks():
        digest.update(block)
    return digest.hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()
