"""0.4.2 compatibility, docs/file-operations.md:
StorageNode identity, path and state properties, read/write/open,
directory and file operations (local and memory; base64 in test_api_4_11_base64.py)."""

from __future__ import annotations

import base64
import inspect
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager, StorageNode

from .conftest import VersionedMemory

MOUNTS = ["home", "mem"]


@pytest.fixture(params=MOUNTS)
def root(request: pytest.FixtureRequest, storage: StorageManager) -> StorageNode:
    return storage.node(f"{request.param}:")


# ================================================================ constructor
def test_constructor(storage: StorageManager) -> None:
    node = StorageNode(storage, "mem", "a/b.txt")
    assert node.fullpath == "mem:a/b.txt" and node._backend is storage._mounts["mem"]
    assert StorageNode(storage, "mem", "f", version=2).capabilities.versioning is False
    params = list(inspect.signature(StorageNode.__init__).parameters)
    assert params == ["self", "manager", "mount_name", "path", "version"]
    with pytest.raises(KeyError):
        StorageNode(storage, "absent", "x")


# ================================================================ identity
def test_str_and_repr_of_root(storage: StorageManager) -> None:
    assert str(storage.node("mem:")) == "mem:"
    assert repr(storage.node("mem")) == "StorageNode('mem:')"


def test_eq_with_non_nodes_is_not_implemented(storage: StorageManager) -> None:
    node = storage.node("mem:x")
    assert node.__eq__("mem:x") is NotImplemented
    assert node.__ne__("mem:x") is NotImplemented
    assert (node == "mem:x") is False and (node != "mem:x") is True
    assert (node == None) is False and (node != None) is True  # noqa: E711


def test_same_fullpath_is_equal_without_io(storage: StorageManager) -> None:
    class Exploding:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"I/O attempted: {name}")

    a, b = storage.node("mem:ghost/a"), storage.node("mem:ghost/a")
    a._backend = b._backend = Exploding()  # type: ignore[assignment]
    assert a == b
    assert (a != b) is False


def test_two_virtual_nodes_compare_equal(storage: StorageManager) -> None:
    # [Q] kept: both have fullpath 'None:'
    storage.node("mem:a").write("a")
    storage.node("mem:b").write("b")
    assert storage.iternode(storage.node("mem:a")) == storage.diffnode(
        storage.node("mem:a"), storage.node("mem:b")
    )


def test_directories_and_missing_files_never_equal(root: StorageNode) -> None:
    root.child("d1/f").write("x")
    root.child("d2/f").write("x")
    assert root.child("d1") != root.child("d2")
    assert root.child("d1") == root.child("d1")  # same path: equal without I/O
    assert root.child("gone1") != root.child("gone2")
    assert root.child("d1/f") != root.child("d1")


def test_hashing_errors(root: StorageNode, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = root.child("a.txt"), root.child("b.txt")
    a.write("same")
    b.write("same")
    backend = a._backend
    assert backend is not None

    def missing(path: str) -> str:
        raise FileNotFoundError(path)

    monkeypatch.setattr(backend, "get_hash", missing)
    assert (a == b) is False  # FileNotFoundError while hashing -> False

    def broken(path: str) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(backend, "get_hash", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _ = a == b


def test_nodes_are_unhashable(storage: StorageManager) -> None:
    with pytest.raises(TypeError):
        {storage.node("mem:a")}
    with pytest.raises(TypeError):
        {storage.node("mem:a"): 1}


# ================================================================ path properties
@pytest.mark.parametrize(
    ("path", "basename", "stem", "suffix"),
    [
        ("a/b/c.txt", "c.txt", "c", ".txt"),
        (".bashrc", ".bashrc", ".bashrc", ""),
        ("dir.d/file", "file", "file", ""),
        ("x/archive.tar.gz", "archive.tar.gz", "archive.tar", ".gz"),
        ("trailing.", "trailing.", "trailing", "."),
    ],
)
def test_basename_stem_suffix(
    storage: StorageManager, path: str, basename: str, stem: str, suffix: str
) -> None:
    node = storage.node(f"mem:{path}")
    assert (node.basename, node.stem, node.suffix) == (basename, stem, suffix)


def test_root_and_virtual_path_values(storage: StorageManager) -> None:
    root = storage.node("mem:")
    assert root.path == "" and root.fullpath == "mem:" and root.basename == ""
    assert root.parent.fullpath == "mem:"
    virtual = storage.iternode()
    assert virtual.path is None and virtual.fullpath == "None:"


def test_parent_is_a_new_node_without_version(storage: StorageManager) -> None:
    snapshot = storage.node("mem:a/b/c.txt", version=0)
    parent = snapshot.parent
    assert isinstance(parent, StorageNode) and parent is not snapshot
    assert parent.fullpath == "mem:a/b" and parent._version is None
    assert parent.parent.parent.fullpath == "mem:"


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("x.py", "text/x-python"),
        ("x.wav", "audio/x-wav"),
        ("x.tar.gz", "application/x-tar"),
        ("x.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("x.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("x.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("x.svg", "image/svg+xml"),
        ("x.csv", "text/csv"),
        ("X.CSV", "text/csv"),
        ("photo.JPG", "image/jpeg"),
        ("page.html", "text/html"),
        ("a.txt", "text/plain"),
        ("noext", "application/octet-stream"),
        ("dir.d/noext", "application/octet-stream"),
        ("x.zzz", "application/octet-stream"),
    ],
)
def test_mimetype_table(storage: StorageManager, name: str, mime: str) -> None:
    assert storage.node(f"mem:{name}").mimetype == mime


def test_capabilities_are_the_backends(storage: StorageManager) -> None:
    for mount in ("home", "mem", "data"):
        assert storage.node(f"{mount}:x").capabilities == storage._mounts[mount].capabilities


def test_snapshot_capabilities_lose_versioning_flags(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    current = storage.node("ver:f.txt").capabilities
    assert current.versioning and current.version_listing and current.version_access
    snap = storage.node("ver:f.txt", version=-1).capabilities
    assert not (snap.versioning or snap.version_listing or snap.version_access)
    assert snap.temporary == current.temporary


# ================================================================ state properties
def test_state_members_are_properties() -> None:
    for name in ("exists", "isfile", "isdir", "size", "mtime", "md5hash", "versions"):
        assert isinstance(inspect.getattr_static(StorageNode, name), property), name
    assert isinstance(inspect.getattr_static(StorageNode, "version_count"), property)


def test_local_root_is_a_directory(storage: StorageManager) -> None:
    root = storage.node("home:")
    assert root.isdir and root.exists and not root.isfile


def test_size_of_directory_mentions_directory(root: StorageNode) -> None:
    root.child("dd/f").write("x")
    with pytest.raises(ValueError, match="directory"):
        _ = root.child("dd").size


def test_mtime_follows_writes(root: StorageNode, home: Path) -> None:
    node = root.child("m.txt")
    node.write("1")
    first = node.mtime
    assert first == node.mtime  # 0.5 differs: memory keeps real mtimes (0.4.2: "now" on each call)
    import time

    time.sleep(0.02)
    node.write("2")
    assert node.mtime > first


@pytest.mark.parametrize(
    "member", ["isfile", "isdir", "size", "mtime", "md5hash", "versions", "version_count"]
)
def test_virtual_state_raises_attribute_error_except_exists(
    storage: StorageManager, member: str
) -> None:
    virtual = storage.iternode()
    assert virtual.exists is False
    with pytest.raises(AttributeError):
        getattr(virtual, member)


@pytest.mark.parametrize("member", ["exists", "isfile", "size", "capabilities"])
def test_dummy_node_state_raises_attribute_error(storage: StorageManager, member: str) -> None:
    with pytest.raises(AttributeError):
        getattr(storage.node(), member)


def test_snapshot_state_reports_the_current_object(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    node = storage.node("ver:f.txt")
    node.write("old")
    node.write("newer content")
    snapshot = storage.node("ver:f.txt", version=0)
    assert snapshot.read() == "old"
    assert snapshot.size == len("newer content")  # [Q] kept: the current object's size
    assert snapshot.exists and snapshot.isfile
    assert snapshot.versions == node.versions


# ================================================================ read / write / open
def test_read_signature_and_defaults(root: StorageNode) -> None:
    sig = inspect.signature(StorageNode.read).parameters
    assert sig["mode"].default == "r" and sig["encoding"].default == "utf-8"
    node = root.child("r.txt")
    node.write("text")
    assert node.read() == "text" and node.read("rb") == b"text"


def test_reading_a_directory(storage: StorageManager) -> None:
    storage.node("home:d/f").write("x")
    storage.node("mem:d/f").write("x")
    with pytest.raises(IsADirectoryError):
        storage.node("home:d").read()
    with pytest.raises(FileNotFoundError):  # memory raised FileNotFoundError in 0.4.2
        storage.node("mem:d").read()


def test_write_signature_and_return(root: StorageNode) -> None:
    sig = inspect.signature(StorageNode.write).parameters
    assert list(sig)[1:] == ["data", "mode", "encoding", "skip_if_unchanged"]
    assert sig["mode"].default == "w" and sig["encoding"].default == "utf-8"
    assert sig["skip_if_unchanged"].default is False
    assert root.child("w.txt").write("x") is True
    assert root.child("w.bin").write(b"x", "wb") is True


def test_write_type_mismatch_message(root: StorageNode) -> None:
    with pytest.raises(TypeError, match="Text mode 'w' requires str, got bytes"):
        root.child("f").write(b"x")
    with pytest.raises(TypeError):
        root.child("f").write("x", "wb")


@pytest.mark.parametrize("mode", ["a", "ab", "w+", "r"])
def test_write_invalid_mode_message(root: StorageNode, mode: str) -> None:
    with pytest.raises(ValueError, match="Invalid write mode"):
        root.child("f").write("x", mode)


def test_write_encoding(root: StorageNode) -> None:
    node = root.child("l1.txt")
    node.write("àé", encoding="latin-1")
    assert node.read("rb") == b"\xe0\xe9"


def test_skip_if_unchanged_on_missing_file_writes(root: StorageNode) -> None:
    node = root.child("fresh.txt")
    assert node.write("", skip_if_unchanged=True) is True
    assert node.exists


def test_skip_if_unchanged_with_versioning_uses_latest_etag(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    node = storage.node("ver:s.txt")
    assert node.write("v1", skip_if_unchanged=True) is True
    assert node.write("v1", skip_if_unchanged=True) is False
    assert node.version_count == 1
    assert node.write("v2", skip_if_unchanged=True) is True
    assert node.version_count == 2


def test_write_to_virtual_and_snapshot(storage: StorageManager) -> None:
    with pytest.raises(ValueError, match=r"Cannot write to virtual node \(no path\)"):
        storage.iternode().write("x")
    with pytest.raises(ValueError, match="Cannot write to versioned snapshot"):
        storage.node("mem:f", version=0).write("x")


def test_open_defaults_to_text(root: StorageNode) -> None:
    sig = inspect.signature(StorageNode.open).parameters
    # 0.4.2 has no encoding; ours takes builtins.open's, keyword-only, default UTF-8
    assert sig["mode"].default == "r" and sig["encoding"].kind is inspect.Parameter.KEYWORD_ONLY
    node = root.child("o.txt")
    node.write("text")
    with node.open() as fh:
        assert fh.read() == "text"


@pytest.mark.parametrize("mode", ["w", "wb", "a", "ab"])
def test_open_write_modes_create_parents(root: StorageNode, mode: str) -> None:
    node = root.child(f"deep/{mode}/file")
    with node.open(mode) as fh:
        fh.write(b"x" if "b" in mode else "x")
    assert node.read() == "x"


def test_open_check_order_on_snapshot(storage: StorageManager) -> None:
    snapshot = storage.node("mem:f", version=0)
    with pytest.raises(ValueError, match="This node is a versioned snapshot"):
        snapshot.open("w", version=1)
    with pytest.raises(ValueError, match="This node is a versioned snapshot"):
        snapshot.open(as_of=datetime.now(timezone.utc))
    for mode in ("w", "wb", "a", "ab"):
        with pytest.raises(ValueError, match="Cannot write to versioned snapshot"):
            snapshot.open(mode)


def test_open_check_order_on_plain_node(root: StorageNode) -> None:
    node = root.child("v.txt")
    node.write("x")
    when = datetime.now(timezone.utc)
    with pytest.raises(ValueError, match="Cannot specify both version and as_of"):
        node.open("w", version=0, as_of=when)  # before the capability check
    for kwargs in ({"version": 0}, {"version": "abc"}, {"as_of": when}):
        with pytest.raises(PermissionError) as info:
            node.open("w", **kwargs)  # capability check before the write-mode check
        message = str(info.value)
        assert root.fullpath.rstrip(":") in message
        assert "does not support versioning" in message
        assert message.endswith(f"{node.capabilities})") or str(node.capabilities) in message


def test_open_versions(storage: StorageManager, versioned: VersionedMemory) -> None:
    node = storage.node("ver:f.txt")
    for text in ("one", "two", "three"):
        node.write(text)
    with node.open(version=0) as fh:
        assert fh.read() == "one"
    with node.open("rb", version=-1) as fh:
        assert fh.read() == b"three"
    first_id = node.versions[1]["version_id"]
    with node.open(version=first_id) as fh:
        assert fh.read() == "two"
    as_of = node.versions[1]["last_modified"].replace(tzinfo=None)  # naive = UTC
    with node.open("rb", as_of=as_of) as fh:
        assert fh.read() == b"two"
    for mode in ("w", "ab", "r+"):
        with pytest.raises(ValueError, match=r"Cannot write to historical versions \(read-only\)"):
            node.open(mode, version=0)
        with pytest.raises(ValueError, match=r"Cannot write to historical versions"):
            node.open(mode, as_of=as_of)
    with pytest.raises(FileNotFoundError):
        node.open(as_of=datetime(2000, 1, 1))
    with pytest.raises(IndexError, match="out of range"):
        node.open(version=7)


# ================================================================ directory / file operations
def test_delete_is_recursive_and_idempotent(root: StorageNode) -> None:
    root.child("t/a/b/c.txt").write("x")
    root.child("t").delete()
    assert not root.child("t").exists
    root.child("t").delete()
    root.child("never/existed.txt").delete()


def test_delete_signature_has_no_recursive_flag() -> None:
    assert list(inspect.signature(StorageNode.delete).parameters) == ["self"]


def test_mkdir_signature_and_rules(root: StorageNode) -> None:
    sig = inspect.signature(StorageNode.mkdir).parameters
    assert sig["parents"].default is False and sig["exist_ok"].default is False
    with pytest.raises(FileNotFoundError):
        root.child("no/parent").mkdir()
    root.child("no/parent").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        root.child("no").mkdir()
    root.child("no").mkdir(exist_ok=True)
    root.child("file.txt").write("x")
    with pytest.raises(FileExistsError):
        root.child("file.txt").mkdir(exist_ok=False)


def test_children_are_child_nodes(root: StorageNode) -> None:
    for name in ("b.txt", "a.txt", "z"):
        root.child("kids", name).write(name)
    kids = root.child("kids").children()
    assert all(isinstance(k, StorageNode) for k in kids)
    assert sorted(k.fullpath for k in kids) == sorted(
        root.child("kids", n).fullpath for n in ("a.txt", "b.txt", "z")
    )
    assert root.child("kids/a.txt").children.__name__ == "children"


def test_children_errors(root: StorageNode, storage: StorageManager) -> None:
    with pytest.raises(FileNotFoundError):
        root.child("ghost").children()
    storage.node("home:file.txt").write("x")
    with pytest.raises(ValueError):
        storage.node("home:file.txt").children()


@pytest.mark.parametrize(
    ("start", "parts", "path"),
    [
        ("a", ("b/c",), "a/b/c"),
        ("a", ("b", "c"), "a/b/c"),
        ("a", ("b//c/",), "a/b/c"),
        ("", ("x",), "x"),
        ("a/b", ("/abs", "y"), "abs/y"),  # [Q] kept: a part starting with '/' restarts
        ("a", ("./b",), "a/./b"),
    ],
)
def test_child_joining(storage: StorageManager, start: str, parts: tuple, path: str) -> None:
    assert storage.node(f"mem:{start}").child(*parts).path == path


def test_child_refuses_dotdot(storage: StorageManager) -> None:
    # 0.5 differs: 0.4.2 did not check child('..'); refused here like node()
    for parts in (("..",), ("a/../..",), ("a", "..")):
        with pytest.raises(ValueError, match="traversal"):
            storage.node("mem:x").child(*parts)


def test_child_does_not_inherit_version(storage: StorageManager) -> None:
    assert storage.node("mem:d", version=1).child("f")._version is None


def test_local_mount_refuses_escapes(storage: StorageManager, home: Path) -> None:
    (home / "out").symlink_to(home.parent)
    with pytest.raises(ValueError, match="Path escapes base directory"):
        storage.node("home:out/x.txt").write("x")


def test_base64_tree_operations(storage: StorageManager) -> None:
    node = storage.node(f"data:{base64.b64encode(b'x').decode()}")
    with pytest.raises(PermissionError, match="read-only"):
        node.delete()
    with pytest.raises(PermissionError, match="read-only"):
        node.mkdir(parents=True, exist_ok=True)
    with pytest.raises(ValueError, match="no directory structure"):
        node.children()
