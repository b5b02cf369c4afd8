"""Compressed TAR mounts keep their small members from the index pass.

A compressed TAR is one stream: without that, each read of a member lying before the last
one read decompressed the archive again from its start (the read contract's ``tar.bz2``
tree: 0.7 s of CPU per test, 50 MiB decompressed for a 12-byte file).
"""

from __future__ import annotations

import functools
import io
import os
import sys
import tarfile
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends import archives

# 16-20 KiB each: more than a decompressing reader's buffer (8 KiB), which would serve a
# short step back without decompressing again
SMALL = {f"small/{n}.txt": (f"member {n}\n" * 3000).encode()[: (16 + n) * 1024] for n in range(5)}
BIG = os.urandom(2 * 1024 * 1024)  # incompressible: every pass reads all of it again
LEVEL = {".tar": {}, ".tar.gz": {"compresslevel": 1}, ".tar.bz2": {"compresslevel": 1}}


@functools.cache
def _built(suffix: str) -> bytes:
    """The archive's bytes, built once per module run (compressing costs seconds)."""
    out = io.BytesIO()
    mode = {".tar": "w", ".tar.gz": "w:gz", ".tar.bz2": "w:bz2", ".tar.xz": "w:xz"}[suffix]
    with tarfile.open(fileobj=out, mode=mode, **LEVEL.get(suffix, {"preset": 0})) as tf:
        for name, data in {"big.bin": BIG, **SMALL}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _archive(tmp_path: Path, suffix: str) -> Path:
    """The big member first, then the small ones: each lies after the big one."""
    path = tmp_path / f"tree{suffix}"
    path.write_bytes(_built(suffix))
    return path


def _mount(path: Path) -> StorageManager:
    manager = StorageManager(env=False)
    manager.configure([{"name": "t", "type": "tar", "file": str(path)}])
    return manager


def _bytes_read() -> int:
    """Bytes this process has read through system calls (Linux ``/proc/self/io``)."""
    with open("/proc/self/io") as stats:
        return next(int(line.split()[1]) for line in stats if line.startswith("rchar:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/io is Linux")
@pytest.mark.parametrize("suffix", [".tar.gz", ".tar.bz2", ".tar.xz"])
def test_small_members_read_in_any_order_read_the_archive_no_more(
    tmp_path: Path, suffix: str
) -> None:
    manager = _mount(_archive(tmp_path, suffix))
    assert manager.node("t:big.bin").read_bytes() == BIG  # the stream is now past them all
    before = _bytes_read()
    for name in reversed(SMALL):  # each before the last one read
        assert manager.node(f"t:{name}").read_bytes() == SMALL[name]
        assert manager.node(f"t:{name}").md5hash
    # without the kept members: the 2 MiB again for each (8 MiB); with them, nothing
    assert _bytes_read() - before < 64 * 1024
    manager.close()


@pytest.mark.parametrize("suffix", [".tar.gz", ".tar.bz2", ".tar.xz"])
def test_members_over_the_budget_are_read_from_the_archive(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = sorted(len(data) for data in SMALL.values())
    monkeypatch.setattr(archives, "SMALL_BUDGET", sum(sizes[:2]))  # room for two members
    manager = _mount(_archive(tmp_path, suffix))
    kept = manager.get_backend("t").fs.small
    assert len(kept) == 2
    for name in reversed(SMALL):
        assert manager.node(f"t:{name}").read_bytes() == SMALL[name]
        with manager.node(f"t:{name}").open("rb") as fh:
            fh.seek(3)
            assert fh.read(5) == SMALL[name][3:8]
    assert manager.node("t:big.bin").read_bytes() == BIG
    manager.close()


def test_big_members_and_plain_archives_are_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "SMALL_MEMBER", 17 * 1024)  # the two shortest only
    manager = _mount(_archive(tmp_path, ".tar.gz"))
    assert set(manager.get_backend("t").fs.small) == {"small/0.txt", "small/1.txt"}
    manager.close()
    plain = _mount(_archive(tmp_path, ".tar"))  # seeking back in a plain TAR is free
    assert plain.get_backend("t").fs.small == {}
    assert plain.node("t:small/3.txt").read_bytes() == SMALL["small/3.txt"]
    plain.close()
