"""StorageNode on the embedded backends (local and memory): paths, state, I/O, tree ops."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from genro_storage import StorageManager, StorageNode

MOUNTS = ["home", "mem"]


@pytest.fixture(params=MOUNTS)
def root(request: pytest.FixtureRequest, storage: StorageManager) -> StorageNode:
    """The root node of a local and of a memory mount (each test runs on both)."""
    return storage.node(f"{request.param}:")


# ---------------------------------------------------------------- identity and path props
def test_str_repr_and_fullpath(storage: StorageManager) -> None:
    node = storage.node("home:docs/report.final.pdf")
    assert str(node) == "home:docs/report.final.pdf"
    assert repr(node) == "StorageNode('home:docs/report.final.pdf')"


@pytest.mark.parametrize(
    ("path", "basename", "stem", "suffix", "ext", "parent"),
    [
        ("docs/report.pdf", "report.pdf", "report", ".pdf", "pdf", "home:docs"),
        ("archive.tar.gz", "archive.tar.gz", "archive.tar", ".gz", "gz", "home:"),
        ("README", "README", "README", "", "", "home:"),
        ("", "", "", "", "", "home:"),
    ],
)
def test_path_properties(
    storage: StorageManager, path: str, basename: str, stem: str, suffix: str, ext: str, parent: str
) -> None:
    node = storage.node(f"home:{path}")
    assert (node.basename, node.stem, node.suffix, node.ext) == (basename, stem, suffix, ext)
    assert node.parent.fullpath == parent
    assert node.dirname == parent
    assert node.name == basename


def test_splitext(storage: StorageManager) -> None:
    assert storage.node("home:a/b.txt").splitext() == ("home:a/b", ".txt")


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("a.pdf", "application/pdf"),
        ("A.PDF", "application/pdf"),
        ("x.csv", "text/csv"),
        ("x.svg", "image/svg+xml"),
        ("x.py", "text/x-python"),
        ("noext", "application/octet-stream"),
        ("x.unknownext", "application/octet-stream"),
        ("x.json", "application/json"),
    ],
)
def test_mimetype(storage: StorageManager, name: str, mime: str) -> None:
    assert storage.node(f"home:{name}").mimetype == mime


def test_nodes_are_unhashable(storage: StorageManager) -> None:
    with pytest.raises(TypeError):
        hash(storage.node("home:a"))


def test_equality_by_path_then_content(root: StorageNode, storage: StorageManager) -> None:
    a, b, c = root.child("a.txt"), root.child("b.txt"), root.child("c.txt")
    a.write("same")
    b.write("same")
    c.write("other")
    assert a == b and a != c
    assert a == root.child("a.txt")
    assert (a == "a.txt") is False and a != None  # noqa: E711
    assert root.child("missing1") != root.child("missing2")
    assert root != root.child("a.txt")


def test_equality_across_backends(storage: StorageManager) -> None:
    storage.node("home:x.bin").write_bytes(b"\x00\x01")
    storage.node("mem:y.bin").write_bytes(b"\x00\x01")
    assert storage.node("home:x.bin") == storage.node("mem:y.bin")


def test_truediv_is_child(root: StorageNode) -> None:
    assert (root / "a" / "b.txt").fullpath == root.child("a", "b.txt").fullpath


def test_child_forms(root: StorageNode) -> None:
    assert root.child("a/b/c").fullpath == root.child("a", "b", "c").fullpath
    assert root.child("a//b/").path == "a/b"
    with pytest.raises(ValueError, match="traversal"):
        root.child("..")


# ---------------------------------------------------------------- state
def test_state_of_missing_file(root: StorageNode) -> None:
    node = root.child("missing.txt")
    assert not node.exists and not node.isfile and not node.isdir
    for attribute in ("size", "mtime", "md5hash"):
        with pytest.raises(FileNotFoundError):
            getattr(node, attribute)


def test_state_of_file_and_directory(root: StorageNode) -> None:
    node = root.child("d/f.txt")
    node.write("hello")
    assert node.exists and node.isfile and not node.isdir
    assert node.size == 5
    assert root.child("d").isdir
    with pytest.raises(ValueError, match="directory"):
        _ = root.child("d").size


def test_mtime_is_real_and_stable(root: StorageNode) -> None:
    node = root.child("t.txt")
    node.write("1")
    first = node.mtime
    assert first == node.mtime
    assert isinstance(first, float) and first > 1_600_000_000


def test_empty_file(root: StorageNode) -> None:
    node = root.child("empty.txt")
    node.write("")
    assert node.exists and node.size == 0 and node.read() == ""
    assert node.md5hash == "d41d8cd98f00b204e9800998ecf8427e"


# ---------------------------------------------------------------- read / write
def test_text_round_trip_unicode_and_encoding(root: StorageNode) -> None:
    node = root.child("u.txt")
    assert node.write("héllo ✓ 世界") is True
    assert node.read() == "héllo ✓ 世界"
    node.write("café", encoding="latin-1")
    assert node.read("rb") == "café".encode("latin-1")
    assert node.read(encoding="latin-1") == "café"


def test_bytes_round_trip_and_aliases(root: StorageNode) -> None:
    node = root.child("b.bin")
    node.write_bytes(b"\x00\xff")
    assert node.read_bytes() == b"\x00\xff" == node.read("rb")
    node.write_text("txt")
    assert node.read_text() == "txt"


@pytest.mark.parametrize(("data", "mode"), [(b"x", "w"), ("x", "wb")])
def test_write_type_mismatch(root: StorageNode, data: object, mode: str) -> None:
    with pytest.raises(TypeError):
        root.child("f").write(data, mode)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["a", "ab", "x", "rb"])
def test_write_invalid_mode(root: StorageNode, mode: str) -> None:
    with pytest.raises(ValueError, match="Invalid write mode"):
        root.child("f").write("x", mode)


@pytest.mark.parametrize("mode", ["w", "rt", "x"])
def test_read_invalid_mode(root: StorageNode, mode: str) -> None:
    root.child("f").write("x")
    with pytest.raises(ValueError, match="Invalid read mode"):
        root.child("f").read(mode)


def test_read_missing_raises(root: StorageNode) -> None:
    with pytest.raises(FileNotFoundError):
        root.child("nope").read()


def test_write_creates_parents_and_overwrites(root: StorageNode) -> None:
    node = root.child("a/b/c/d.txt")
    node.write("one")
    node.write("two")
    assert node.read() == "two"


def test_skip_if_unchanged(root: StorageNode) -> None:
    node = root.child("s.txt")
    assert node.write("v1", skip_if_unchanged=True) is True
    assert node.write("v1", skip_if_unchanged=True) is False
    assert node.write("v2", skip_if_unchanged=True) is True
    assert node.read() == "v2"


def test_open_modes(root: StorageNode) -> None:
    node = root.child("o/f.txt")
    with node.open("w") as fh:
        fh.write("line1\n")
    with node.open() as fh:
        assert fh.read() == "line1\n"
    with node.open("ab") as fh:
        fh.write(b"line2\n")
    with node.open("rb") as fh:
        assert fh.read() == b"line1\nline2\n"


def test_open_version_on_unversioned_backend(root: StorageNode) -> None:
    from datetime import datetime

    node = root.child("v.txt")
    node.write("x")
    with pytest.raises(PermissionError, match="does not support versioning"):
        node.open(version=0)
    with pytest.raises(ValueError, match="both"):
        node.open(version=0, as_of=datetime.now())
    with pytest.raises(PermissionError):
        node.compact_versions(dry_run=True)
    assert node.versions == [] and node.version_count == 0


def test_iter_bytes_and_read_range(root: StorageNode) -> None:
    node = root.child("r.bin")
    data = bytes(range(256)) * 1000
    node.write_bytes(data)
    assert b"".join(node.iter_bytes(chunk_size=1000)) == data
    assert node.read_range(10, 20) == data[10:20]


def test_write_stream(root: StorageNode) -> None:
    node = root.child("stream.bin")
    node.write_stream(iter([b"ab", b"cd"]))
    assert node.read_bytes() == b"abcd"


# ---------------------------------------------------------------- tree operations
def test_mkdir_rules(root: StorageNode) -> None:
    deep = root.child("x/y/z")
    with pytest.raises(FileNotFoundError):
        deep.mkdir()
    deep.mkdir(parents=True)
    assert deep.isdir
    with pytest.raises(FileExistsError):
        deep.mkdir()
    deep.mkdir(exist_ok=True)


def test_children_and_delete(root: StorageNode) -> None:
    for name in ("a.txt", "b.txt", "sub/c.txt"):
        root.child("dir", name).write(name)
    names = sorted(child.basename for child in root.child("dir").children())
    assert names == ["a.txt", "b.txt", "sub"]
    root.child("dir").delete()
    assert not root.child("dir").exists
    root.child("dir").delete()  # idempotent


def test_children_of_missing_dir(root: StorageNode) -> None:
    with pytest.raises(FileNotFoundError):
        root.child("ghost").children()


def test_md5hash_of_file_and_directory(root: StorageNode) -> None:
    node = root.child("h.txt")
    node.write("hash me")
    assert node.md5hash == hashlib.md5(b"hash me").hexdigest()
    root.child("hd/x").write("x")
    with pytest.raises(ValueError, match="Cannot compute hash of directory"):
        _ = root.child("hd").md5hash


def test_to_base64(root: StorageNode) -> None:
    node = root.child("t.txt")
    node.write("hi")
    assert node.to_base64() == "data:text/plain;base64,aGk="
    assert node.to_base64(include_uri=False) == "aGk="
    assert node.to_base64(mime="x/y") == "data:x/y;base64,aGk="
    root.child("tdir/f").write("x")
    with pytest.raises(ValueError, match="Cannot encode directory"):
        root.child("tdir").to_base64()
    with pytest.raises(FileNotFoundError):
        root.child("none.txt").to_base64()


def test_metadata_and_urls_on_embedded_backends(root: StorageNode) -> None:
    node = root.child("m.txt")
    node.write("x")
    assert node.get_metadata() == {}
    with pytest.raises(PermissionError, match="does not support metadata"):
        node.set_metadata({"a": "b"})
    assert node.url() is None and node.internal_url() is None


def test_local_node_os_path(storage: StorageManager, home: Path) -> None:
    node = storage.node("home:p.txt")
    assert node.os_path == str((home / "p.txt").resolve())
    assert storage.node("mem:p.txt").os_path is None


def test_stat_gives_everything_in_one_call(root: StorageNode) -> None:
    node = root.child("st.txt")
    node.write("12345")
    entry = node.stat()
    assert (entry.size, entry.is_dir, entry.name) == (5, False, "st.txt")
    assert entry.mtime is not None


def test_dummy_node(storage: StorageManager) -> None:
    dummy = storage.node()
    assert dummy.fullpath == "None:" and dummy.path is None
    with pytest.raises(AttributeError):
        _ = dummy.exists
    with pytest.raises(ValueError, match="only available for iternode"):
        dummy.append(storage.node("home:x"))


# ---------------------------------------------------------------- listed nodes
@pytest.mark.parametrize(
    "name",
    ["a.txt", ".hidden", "x y", "ü.bin", ".", "..", "a\\..\\b", "a\\b", "/abs", "a/b", "",
     "tab\there", "nul\x00", "..\\x", "n" * 300],
)  # fmt: skip
@pytest.mark.parametrize("base", ["", "dir", "dir/sub"])
def test_children_builds_what_child_builds_for_any_listed_name(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch, name: str, base: str
) -> None:
    """``children()`` skips ``normalize`` for plain names: every name, plain or not,
    gives the node ``child(name)`` gives (or the same refusal)."""
    parent = storage.node(f"mem:{base}")
    backend = storage.get_backend("mem")
    monkeypatch.setattr(backend, "list_dir", lambda path: [name])
    try:
        expected = parent.child(name)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            parent.children()
        return
    (listed,) = parent.children()
    assert (listed.fullpath, listed.version) == (expected.fullpath, expected.version)
    assert listed.location == expected.location
    assert listed.parent.fullpath == expected.parent.fullpath


def test_walk_and_children_nodes_work_like_made_ones(root: StorageNode) -> None:
    root.child("w/a.txt").write_text("a")
    root.child("w/d/b.txt").write_text("b")
    (child,) = [n for n in root.child("w").children() if n.basename == "a.txt"]
    assert child.read_text() == "a" and child == root.child("w/a.txt")
    walked = {node.path: node for node, _entry in root.child("w").walk()}
    assert walked["w/d/b.txt"].read_text() == "b"
    walked["w/d/b.txt"].delete()
    assert not root.child("w/d/b.txt").exists
