"""A local file's MD5 is computed once per (path, size, mtime, inode)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends import local


def test_unchanged_file_is_not_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = StorageManager()
    manager.configure([{"name": "disk", "type": "local", "path": str(tmp_path)}])
    target = tmp_path / "f.bin"
    target.write_bytes(b"first")
    node = manager.node("disk:f.bin")
    assert node.md5hash == hashlib.md5(b"first").hexdigest()

    def no_read(chunks: object) -> str:
        raise AssertionError("hashed again")

    monkeypatch.setattr(local, "md5_hex", no_read)
    assert node.md5hash == hashlib.md5(b"first").hexdigest()  # from the cache
    monkeypatch.undo()

    target.write_bytes(b"second, longer")
    os.utime(target, ns=(1, 2_000_000_000))
    assert node.md5hash == hashlib.md5(b"second, longer").hexdigest()
    with pytest.raises(ValueError, match="directory"):
        _ = manager.node("disk:").md5hash
