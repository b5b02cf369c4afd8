"""0.4.2 compatibility, docs/virtual-nodes.md:
virtual nodes (iternode, diffnode), the dummy node, and zip()."""

from __future__ import annotations

import difflib
import io
import zipfile

import pytest

from genro_storage import StorageManager, StorageNode


def archive(blob: bytes) -> zipfile.ZipFile:
    assert blob.startswith(b"PK")
    return zipfile.ZipFile(io.BytesIO(blob))


# ================================================================ iternode
def test_iternode_reads_text_and_bytes(storage: StorageManager) -> None:
    storage.node("mem:a").write("é-")
    storage.node("home:b").write(b"\x00\x01", "wb")
    joined = storage.iternode(storage.node("mem:a"), storage.node("home:b"))
    assert joined.read("rb") == "é-".encode() + b"\x00\x01"
    storage.node("home:b").write("b")
    assert joined.read() == "é-b"


def test_iternode_encoding_and_modes(storage: StorageManager) -> None:
    storage.node("mem:l1").write("à", encoding="latin-1")
    joined = storage.iternode(storage.node("mem:l1"))
    assert joined.read("r", encoding="latin-1") == "à"
    with pytest.raises(ValueError):
        joined.read("w")


def test_iternode_reads_sources_at_materialisation(storage: StorageManager) -> None:
    node = storage.node("mem:later.txt")
    joined = storage.iternode(node)
    node.write("created after the iternode")
    assert joined.read() == "created after the iternode"


def test_iternode_append_and_extend_return_nothing(storage: StorageManager) -> None:
    for name in "abc":
        storage.node(f"mem:{name}").write(name)
    joined = storage.iternode()
    assert joined.read() == ""
    assert joined.append(storage.node("mem:a")) is None
    assert joined.extend(storage.node("mem:b"), storage.node("mem:c")) is None
    assert joined.read() == "abc"


def test_iternode_of_iternodes(storage: StorageManager) -> None:
    storage.node("mem:x").write("x")
    inner = storage.iternode(storage.node("mem:x"), storage.node("mem:x"))
    assert storage.iternode(inner, storage.node("mem:x")).read() == "xxx"


# ================================================================ diffnode
def test_diffnode_is_difflib_unified_diff(storage: StorageManager) -> None:
    a, b = storage.node("mem:a.txt"), storage.node("home:b.txt")
    a.write("one\ntwo\r\nthree\n")
    b.write("one\n2\r\nthree\nfour")
    expected = "".join(
        difflib.unified_diff(
            "one\ntwo\r\nthree\n".splitlines(keepends=True),
            "one\n2\r\nthree\nfour".splitlines(keepends=True),
            fromfile="mem:a.txt",
            tofile="home:b.txt",
        )
    )
    diff = storage.diffnode(a, b)
    assert diff.read() == expected
    assert "-two\r\n" in expected
    assert diff.read("rb") == expected.encode("utf-8")


def test_diffnode_identical_is_empty(storage: StorageManager) -> None:
    storage.node("mem:a").write("same\n")
    storage.node("mem:b").write("same\n")
    assert storage.diffnode(storage.node("mem:a"), storage.node("mem:b")).read() == ""


@pytest.mark.parametrize("data", [b"text\x00more", b"\xff\xfe\xfa"])
@pytest.mark.parametrize("side", [0, 1])
def test_diffnode_refuses_binary(storage: StorageManager, data: bytes, side: int) -> None:
    storage.node("mem:bin").write(data, "wb")
    storage.node("mem:txt").write("text")
    pair = [storage.node("mem:txt"), storage.node("mem:bin")]
    if side:
        pair.reverse()
    with pytest.raises(ValueError, match="Cannot diff binary files"):
        storage.diffnode(*pair).read()


# ================================================================ common virtual behaviour
@pytest.fixture(params=["iternode", "diffnode"])
def virtual(request: pytest.FixtureRequest, storage: StorageManager) -> StorageNode:
    storage.node("mem:v1").write("one\n")
    storage.node("mem:v2").write("two\n")
    a, b = storage.node("mem:v1"), storage.node("mem:v2")
    return storage.iternode(a, b) if request.param == "iternode" else storage.diffnode(a, b)


def test_virtual_identity(virtual: StorageNode) -> None:
    assert virtual.exists is False
    assert virtual.path is None and virtual.fullpath == "None:" and str(virtual) == "None:"


@pytest.mark.parametrize("data", ["x", b"x"])
def test_virtual_write_refused(virtual: StorageNode, data: object) -> None:
    with pytest.raises(ValueError, match=r"Cannot write to virtual node \(no path\)"):
        virtual.write(data, "wb" if isinstance(data, bytes) else "w")  # type: ignore[arg-type]


def test_virtual_copy_writes_materialised_bytes(
    virtual: StorageNode, storage: StorageManager
) -> None:
    expected = virtual.read("rb")
    for dest in ("home:out.txt", "mem:out.txt"):
        result = virtual.copy_to(dest)
        assert result.fullpath == dest and result.read("rb") == expected
    target = storage.node("data:")
    virtual.copy_to(target)
    assert target.read("rb") == expected


def test_append_only_on_iternode(storage: StorageManager) -> None:
    storage.node("mem:a").write("a")
    a = storage.node("mem:a")
    for node in (storage.diffnode(a, a), a, storage.node()):
        with pytest.raises(ValueError, match=r"append\(\) is only available for iternode"):
            node.append(a)
        with pytest.raises(ValueError, match="only available for iternode"):
            node.extend(a)


def test_dummy_node_is_not_an_accumulator(storage: StorageManager) -> None:
    # [Q] kept: node() is a plain backend-less node, not an iternode
    dummy = storage.node()
    assert type(dummy) is StorageNode
    for attempt in (dummy.read, lambda: dummy.write("x"), dummy.children, dummy.delete):
        with pytest.raises(AttributeError):
            attempt()


# ================================================================ zip()
def test_zip_of_iternode_names_and_compression(storage: StorageManager) -> None:
    storage.node("mem:d/a.txt").write("a" * 1000)
    storage.node("home:b.bin").write(b"b", "wb")
    joined = storage.iternode(storage.node("mem:d/a.txt"), storage.node("home:b.bin"))
    with archive(joined.zip()) as zf:
        assert zf.namelist() == ["a.txt", "b.bin"]
        assert zf.read("a.txt") == b"a" * 1000 and zf.read("b.bin") == b"b"
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())


def test_zip_of_iternode_duplicates_and_nameless(storage: StorageManager) -> None:
    storage.node("mem:x/same.txt").write("1")
    storage.node("home:same.txt").write("2")
    inner = storage.iternode(storage.node("mem:x/same.txt"))
    joined = storage.iternode(storage.node("mem:x/same.txt"), storage.node("home:same.txt"), inner)
    with pytest.warns(UserWarning, match="Duplicate name"):
        blob = joined.zip()
    with archive(blob) as zf:
        assert [i.filename for i in zf.infolist()] == ["same.txt", "same.txt", "file"]
        assert zf.read(zf.infolist()[2]) == b"1"


def test_zip_of_empty_iternode(storage: StorageManager) -> None:
    with archive(storage.iternode().zip()) as zf:
        assert zf.namelist() == []


@pytest.mark.parametrize("mount", ["home", "mem"])
def test_zip_of_file_and_directory(storage: StorageManager, mount: str) -> None:
    for rel in ("a.txt", "sub/b.txt", "sub/deep/c.txt"):
        storage.node(f"{mount}:dir/{rel}").write(rel)
    storage.node(f"{mount}:dir/empty").mkdir()
    with archive(storage.node(f"{mount}:dir/sub/b.txt").zip()) as zf:
        assert zf.namelist() == ["b.txt"]
    with archive(storage.node(f"{mount}:dir").zip()) as zf:
        assert sorted(zf.namelist()) == ["a.txt", "sub/b.txt", "sub/deep/c.txt"]
        assert zf.read("sub/deep/c.txt") == b"sub/deep/c.txt"


def test_zip_of_mount_root(storage: StorageManager) -> None:
    storage.node("home:r.txt").write("r")
    with archive(storage.node("home:").zip()) as zf:
        assert zf.namelist() == ["r.txt"]


def test_zip_of_missing_path(storage: StorageManager) -> None:
    with pytest.raises(ValueError, match="Cannot create ZIP"):
        storage.node("mem:ghost").zip()


def test_diffnode_zip_is_attribute_error(storage: StorageManager) -> None:
    # [Q] kept
    storage.node("mem:a").write("a")
    with pytest.raises(AttributeError):
        storage.diffnode(storage.node("mem:a"), storage.node("mem:a")).zip()
