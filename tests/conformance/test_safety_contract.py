"""The safety half of the write contract, on every writable backend.

A mount root (and so a bucket, container or share) is never deleted or overwritten by a
file, whatever the spelling; a write handle that is never closed publishes nothing; long
names stay writable because temporary names are bounded.
"""

from __future__ import annotations

import gc

import pytest

from genro_storage.errors import MountRootError, StorageError, StoragePermissionError
from tests.conformance.conftest import Mount

ROOT_SPELLINGS = ["", ".", "./", "./.", "/", "//", "/./"]


@pytest.mark.parametrize("spelling", ROOT_SPELLINGS)
def test_deleting_the_mount_root_is_refused_in_any_spelling(
    storage_mount: Mount, spelling: str
) -> None:
    kept = storage_mount.node("kept/file.txt")
    kept.write("still here")
    with pytest.raises(StoragePermissionError, match="'m'"):
        storage_mount.node(spelling).delete()
    with pytest.raises(MountRootError):
        storage_mount.manager.node("m:", spelling).delete()
    with pytest.raises(MountRootError):
        storage_mount.manager.node("m", spelling).delete()
    assert kept.read() == "still here"
    assert storage_mount.node("").isdir


def test_moving_the_mount_root_is_refused_before_copying(storage_mount: Mount) -> None:
    storage_mount.node("a.txt").write("a")
    with pytest.raises(MountRootError):
        storage_mount.node(".").move_to("local:moved")
    assert not storage_mount.local("moved").exists
    assert storage_mount.node("a.txt").read() == "a"


def test_the_backend_itself_refuses_its_root(storage_mount: Mount) -> None:
    storage_mount.node("x.txt").write("x")
    backend = storage_mount.manager.get_backend("m")
    for spelling in ("", ".", "./."):
        with pytest.raises(MountRootError, match="'m'"):
            backend.delete(spelling, recursive=True)
    assert storage_mount.node("x.txt").exists


@pytest.mark.parametrize("spelling", ["", ".", "./"])
def test_a_file_write_onto_the_mount_root_fails_before_any_byte(
    storage_mount: Mount, spelling: str
) -> None:
    root = storage_mount.node(spelling)
    with pytest.raises(StorageError, match="'m'"):
        root.open("wb")
    with pytest.raises(StorageError, match="'m'"):
        root.write_bytes(b"data")
    with pytest.raises(StorageError):
        root.write_stream(iter([b"data"]))
    assert storage_mount.node("").isdir
    assert storage_mount.node("").children() == []


@pytest.mark.parametrize("mode", ["wb", "w"])
def test_an_unclosed_write_is_discarded_with_a_resource_warning(
    storage_mount: Mount, mode: str, own_garbage: None
) -> None:
    node = storage_mount.node("unclosed/file.txt")
    node.write("old content")
    fh = node.open(mode)
    fh.write(b"new content" if mode == "wb" else "new content")
    with pytest.warns(ResourceWarning, match="discarded"):
        del fh
        gc.collect()
    assert node.read() == "old content"
    assert [c.basename for c in node.parent.children()] == ["file.txt"]


def test_an_unclosed_new_file_never_appears(storage_mount: Mount, own_garbage: None) -> None:
    node = storage_mount.node("unclosed/new.bin")
    fh = node.open("wb")
    fh.write(b"x" * 1000)
    with pytest.warns(ResourceWarning):
        del fh
        gc.collect()
    assert not node.exists
    folder = node.parent
    assert not folder.exists or folder.children() == []


@pytest.mark.parametrize("size", [242, 250, 255])
def test_names_up_to_255_bytes_are_writable(storage_mount: Mount, size: int) -> None:
    name = "n" * (size - 4) + ".txt"
    node = storage_mount.node(f"long/{name}")
    node.write("long")
    assert node.read() == "long"
    with node.open("wb") as fh:
        fh.write(b"streamed")
    assert node.read_bytes() == b"streamed"
    assert [c.basename for c in node.parent.children()] == [name]
