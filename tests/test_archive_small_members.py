"""Archive mounts keep their small members, read in one pass.

A compressed TAR is one stream: without that, each read of a member lying before the last
one read decompressed the archive again from its start (the read contract's ``tar.bz2``
tree: 0.7 s of CPU per test, 50 MiB decompressed for a 12-byte file). libarchive reads
any archive in sequence: each read went through every entry before the member.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends import archives
from tests.services import in_ci

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


# ---------------------------------------------------------------- libarchive
@functools.cache
def _seven_zip_bytes() -> bytes:
    """A 7z archive (one solid block) made by bsdtar, as the conformance fixture's; built
    once per run."""
    if shutil.which("bsdtar") is None:
        message = "bsdtar missing: run bash scripts/install.sh"
        pytest.fail(message) if in_ci() else pytest.skip(message)
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder)
        for name, data in {"big.bin": BIG, **SMALL}.items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(data)
        names = ["big.bin", *SMALL]  # the big member first, in the archive's order
        options = ["--options", "7zip:compression-level=1"]
        command = ["bsdtar", "--format", "7zip", *options, "-cf", "tree.7z", *names]
        subprocess.run(command, cwd=src, check=True)
        return (src / "tree.7z").read_bytes()


def _seven_zip(tmp_path: Path) -> Path:
    path = tmp_path / "tree.7z"
    path.write_bytes(_seven_zip_bytes())
    return path


def _libarchive_mount(path: Path) -> StorageManager:
    manager = StorageManager(env=False)
    manager.configure([{"name": "a", "type": "libarchive", "file": str(path)}])
    return manager


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/io is Linux")
def test_libarchive_reads_its_small_members_in_one_pass(tmp_path: Path) -> None:
    manager = _libarchive_mount(_seven_zip(tmp_path))
    first = next(iter(reversed(SMALL)))
    before = _bytes_read()
    assert manager.node(f"a:{first}").read_bytes() == SMALL[first]  # the one pass
    one_pass = _bytes_read() - before
    assert one_pass > len(BIG) // 2  # through the incompressible member
    before = _bytes_read()
    for name in reversed(SMALL):
        assert manager.node(f"a:{name}").read_bytes() == SMALL[name]
        with manager.node(f"a:{name}").open("rb") as fh:
            assert fh.read() == SMALL[name]
    # without the kept members: a pass for each read (10 passes); with them, none
    assert _bytes_read() - before < 64 * 1024
    assert manager.node("a:big.bin").read_bytes() == BIG  # a big one: its own pass
    manager.close()


def test_libarchive_members_over_the_budget_are_read_from_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = sorted(len(data) for data in SMALL.values())
    monkeypatch.setattr(archives, "SMALL_BUDGET", sum(sizes[:2]))
    manager = _libarchive_mount(_seven_zip(tmp_path))
    for name in reversed(SMALL):
        assert manager.node(f"a:{name}").read_bytes() == SMALL[name]
        assert manager.node(f"a:{name}").read_range(3, 8) == SMALL[name][3:8]
    assert len(manager.get_backend("a")._small) == 2
    manager.close()


def test_libarchive_reads_the_member_after_a_big_one_in_a_7z(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libarchive 3.6 skipping the big member of a compressed 7z then failed the next one
    ("Truncated 7-Zip file body"); the backend reads through instead of skipping."""
    monkeypatch.setattr(archives, "SMALL_MEMBER", 0)  # every read scans the archive
    manager = _libarchive_mount(_seven_zip(tmp_path))
    for name in SMALL:  # the first of them follows big.bin
        assert manager.node(f"a:{name}").read_bytes() == SMALL[name]
    assert manager.get_backend("a")._small is None  # no read went through the kept ones
    manager.close()
