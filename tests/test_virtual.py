"""Virtual nodes: iternode, diffnode, zip()."""

from __future__ import annotations

import io
import zipfile

import pytest

from genro_storage import StorageManager


def names_and_data(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_iternode_concatenates_lazily(storage: StorageManager) -> None:
    a, b = storage.node("mem:a.txt"), storage.node("home:b.txt")
    a.write("first ")
    b.write("second")
    joined = storage.iternode(a, b)
    a.write("FIRST ")  # read at materialisation time, not creation
    assert joined.read() == "FIRST second"
    assert joined.read("rb") == b"FIRST second"
    assert joined.exists is False and joined.path is None and joined.fullpath == "None:"


def test_iternode_append_extend_and_empty(storage: StorageManager) -> None:
    joined = storage.iternode()
    assert joined.read() == ""
    for name in ("x", "y", "z"):
        storage.node(f"mem:{name}").write(name)
    joined.append(storage.node("mem:x"))
    joined.extend(storage.node("mem:y"), storage.node("mem:z"))
    assert joined.read() == "xyz"


def test_virtual_nodes_refuse_writes_and_copy_out(storage: StorageManager) -> None:
    storage.node("mem:p").write("part")
    joined = storage.iternode(storage.node("mem:p"), storage.node("mem:p"))
    with pytest.raises(ValueError, match="Cannot write to virtual node"):
        joined.write("x")
    dest = joined.copy_to("home:joined.txt")
    assert dest.read() == "partpart"
    with pytest.raises(AttributeError):
        _ = joined.size


def test_diffnode(storage: StorageManager) -> None:
    a, b = storage.node("mem:a.txt"), storage.node("mem:b.txt")
    a.write("one\ntwo\n")
    b.write("one\nthree\n")
    diff = storage.diffnode(a, b).read()
    assert diff.startswith(f"--- {a.fullpath}\n+++ {b.fullpath}\n")
    assert "-two\n" in diff and "+three\n" in diff
    b.write("one\ntwo\n")
    assert storage.diffnode(a, b).read() == ""
    assert storage.diffnode(a, b).read("rb") == b""


def test_diffnode_refuses_binary(storage: StorageManager) -> None:
    storage.node("mem:bin").write_bytes(b"\x00\x01")
    storage.node("mem:txt").write("t")
    with pytest.raises(ValueError, match="Cannot diff binary files"):
        storage.diffnode(storage.node("mem:bin"), storage.node("mem:txt")).read()


def test_zip_of_file_directory_and_iternode(storage: StorageManager) -> None:
    storage.node("home:d/a.txt").write("a")
    storage.node("home:d/sub/b.txt").write("b")
    assert names_and_data(storage.node("home:d/a.txt").zip()) == {"a.txt": b"a"}
    assert names_and_data(storage.node("home:d").zip()) == {"a.txt": b"a", "sub/b.txt": b"b"}
    joined = storage.iternode(storage.node("home:d/a.txt"), storage.node("home:d/sub/b.txt"))
    assert names_and_data(joined.zip()) == {"a.txt": b"a", "b.txt": b"b"}
    assert storage.iternode().zip().startswith(b"PK")
    with pytest.raises(ValueError, match="Cannot create ZIP"):
        storage.node("home:missing").zip()
