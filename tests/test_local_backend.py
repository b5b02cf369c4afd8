"""Local backend specifics: atomic writes, containment of symlinks, capabilities."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends import LocalStorage
from genro_storage.errors import PathTraversalError, StoragePermissionError


def test_failed_write_keeps_old_content_and_leaves_no_temp(
    storage: StorageManager, home: Path
) -> None:
    node = storage.node("home:important.txt")
    node.write("original")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), node.open("w") as fh:
        fh.write("half of the new con")
        raise Boom
    assert node.read() == "original"
    assert sorted(os.listdir(home)) == ["important.txt"]


def test_failed_stream_write_keeps_old_content(storage: StorageManager, home: Path) -> None:
    node = storage.node("home:big.bin")
    node.write_bytes(b"old")

    def chunks():
        yield b"new part"
        raise OSError("network dropped")

    with pytest.raises(OSError, match="network dropped"):
        node.write_stream(chunks())
    assert node.read_bytes() == b"old"
    assert sorted(os.listdir(home)) == ["big.bin"]


def test_write_keeps_file_permissions(storage: StorageManager, home: Path) -> None:
    node = storage.node("home:mode.txt")
    node.write("a")
    os.chmod(home / "mode.txt", 0o640)
    node.write("b")
    assert (home / "mode.txt").stat().st_mode & 0o777 == 0o640


def test_symlink_leaving_the_mount_is_refused(
    storage: StorageManager, home: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (home / "escape").symlink_to(tmp_path)
    node = storage.node("home:escape/secret.txt")
    for attempt in (lambda: node.read(), lambda: node.write("x"), lambda: node.exists):
        with pytest.raises(PathTraversalError, match="escapes"):
            attempt()
    assert secret.read_text() == "top secret"


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_a_symlinked_root_follows_a_swap_of_its_link(tmp_path: Path) -> None:
    """A deploy's ``current -> releases/N`` root: the new release is served after a swap."""
    for release in ("r1", "r2"):
        (tmp_path / release).mkdir()
        (tmp_path / release / "v.txt").write_text(release)
    (tmp_path / "current").symlink_to(tmp_path / "r1")
    backend = LocalStorage(str(tmp_path / "current"))
    assert backend.read_bytes("v.txt") == b"r1"
    (tmp_path / "next").symlink_to(tmp_path / "r2")
    os.replace(tmp_path / "next", tmp_path / "current")
    assert backend.read_bytes("v.txt") == b"r2"
    assert backend.os_path("v.txt") == str(tmp_path.resolve() / "r2" / "v.txt")


def test_local_stat_gives_the_real_path_and_its_stat(home: Path) -> None:
    (home / "d").mkdir()
    (home / "d" / "f.txt").write_text("abc")
    backend = LocalStorage(str(home))
    os_path, st = backend.local_stat("d/f.txt")
    assert os_path == backend.os_path("d/f.txt") == os.path.realpath(home / "d" / "f.txt")
    assert st.st_size == 3
    with pytest.raises(FileNotFoundError):
        backend.local_stat("d/missing.txt")


def test_delete_directory_recursive_and_not_root(storage: StorageManager, home: Path) -> None:
    storage.node("home:d/e/f.txt").write("x")
    backend = storage._mounts["home"]
    with pytest.raises(ValueError, match="not empty"):
        backend.delete("d")
    backend.delete("d", recursive=True)
    assert not (home / "d").exists()
    with pytest.raises(StoragePermissionError, match="mount 'home'"):
        backend.delete("", recursive=True)


def test_capabilities(storage: StorageManager) -> None:
    caps = storage.node("home:").capabilities
    assert caps.symbolic_links is (sys.platform != "win32")
    assert caps.copy_optimization and caps.write and not caps.readonly and not caps.versioning


def test_local_path_is_the_real_file(storage: StorageManager, home: Path) -> None:
    node = storage.node("home:real.txt")
    node.write("x")
    with node.local_path() as local:
        assert Path(local) == (home / "real.txt").resolve()


def test_base_path_property(home: Path) -> None:
    assert LocalStorage(str(home)).base_path == home.resolve()


def test_copy_local_to_local_preserves_mtime(storage: StorageManager, home: Path) -> None:
    node = storage.node("home:t.txt")
    node.write("x")
    os.utime(home / "t.txt", (1_000_000_000, 1_000_000_000))
    node.copy_to("home:t2.txt")
    assert storage.node("home:t2.txt").mtime == 1_000_000_000
