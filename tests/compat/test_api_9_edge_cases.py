"""0.4.2 compatibility, docs/file-operations.md:
the edge-case checklist, one test per line, run on local, memory and a
relative mount where the line applies to them (serve() lines: see the serving suite;
remote drivers: out of this suite's scope)."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from genro_storage import StorageManager, StorageNode, StorageNotFoundError, StoragePermissionError

MOUNTS = ["home", "mem", "rel"]


@pytest.fixture(params=MOUNTS)
def root(request: pytest.FixtureRequest, storage: StorageManager) -> StorageNode:
    storage.node("home:rel-root").mkdir()
    storage.configure([{"name": "rel", "path": "home:rel-root"}])
    return storage.node(f"{request.param}:")


def test_missing_mount_and_missing_file(root: StorageNode, storage: StorageManager) -> None:
    with pytest.raises(StorageNotFoundError):
        storage.node("absent:f.txt")
    with pytest.raises(FileNotFoundError):
        root.child("absent.txt").read()


def test_dotdot_refused_everywhere(root: StorageNode, storage: StorageManager) -> None:
    with pytest.raises(ValueError, match="Parent directory traversal"):
        storage.node(f"{root.fullpath}a/../b")
    with pytest.raises(ValueError):
        root.child("..")  # 0.5 differs: refused like node()


def test_readonly_write_including_nested_mkdir(storage: StorageManager) -> None:
    storage.configure([{"name": "ro", "path": "home:ro", "permissions": "readonly"}])
    for path in ("ro:f.txt", "ro:a/b/c/f.txt"):
        with pytest.raises(StoragePermissionError):
            storage.node(path).write("x")
    assert not storage.node("home:ro/a").exists


def test_copy_into_readonly_and_from_readonly(storage: StorageManager) -> None:
    storage.node("home:ro/src.txt").write("from ro")
    storage.configure([{"name": "ro", "path": "home:ro", "permissions": "readonly"}])
    storage.node("mem:f.txt").write("x")
    with pytest.raises(StoragePermissionError):
        storage.node("mem:f.txt").copy_to("ro:f.txt")
    with pytest.raises(StoragePermissionError):
        storage.node("mem:f.txt").copy_to("ro:f.txt", skip="exists")
    assert storage.node("ro:src.txt").copy_to("mem:out.txt").read() == "from ro"


@pytest.mark.parametrize("level", ["readonly", "readwrite"])
def test_delete_denied_even_for_missing_paths(storage: StorageManager, level: str) -> None:
    storage.configure([{"name": "lim", "path": "home:lim", "permissions": level}])
    with pytest.raises(StoragePermissionError):
        storage.node("lim:never-existed.txt").delete()


def test_deleting_missing_file_twice(root: StorageNode) -> None:
    root.child("ghost.txt").delete()
    root.child("ghost.txt").delete()


def test_empty_file(root: StorageNode) -> None:
    node = root.child("empty.bin")
    node.write(b"", "wb")
    assert node.exists and node.size == 0 and node.read() == ""
    assert node.md5hash == "d41d8cd98f00b204e9800998ecf8427e"


def test_unicode_and_latin1(root: StorageNode) -> None:
    node = root.child("ünï/cödé ✓.txt")
    node.write("日本語 ✓")
    assert node.read() == "日本語 ✓"
    node.write("ñandú", encoding="latin-1")
    assert node.read(encoding="latin-1") == "ñandú"
    assert node.read("rb") == "ñandú".encode("latin-1")


def test_mkdir_deep_chain_and_existing(root: StorageNode) -> None:
    deep = root.child("/".join(f"l{i}" for i in range(12)))
    deep.mkdir(parents=True)
    assert deep.isdir
    with pytest.raises(FileExistsError):
        deep.mkdir()


def test_copy_missing_source(root: StorageNode) -> None:
    with pytest.raises(FileNotFoundError, match="Source not found"):
        root.child("nope").copy_to("mem:x")


def test_copy_empty_directory(root: StorageNode, storage: StorageManager) -> None:
    root.child("empty-dir").mkdir()
    for dest in ("mem:e1", "home:e1"):
        root.child("empty-dir").copy_to(dest)
        assert storage.node(dest).isdir and storage.node(dest).children() == []


def test_filters_matching_nothing(root: StorageNode, storage: StorageManager) -> None:
    root.child("t/a/x.txt").write("x")
    root.child("t/b/y.txt").write("y")
    root.child("t").copy_to("mem:nothing", include="*.pdf")
    dest = storage.node("mem:nothing")
    assert sorted(c.basename for c in dest.children()) == ["a", "b"]
    assert dest.child("a").children() == [] and dest.child("b").children() == []


@pytest.mark.parametrize("tracked", [False, True])
def test_directory_copy_onto_existing_merges(
    root: StorageNode, storage: StorageManager, tracked: bool
) -> None:
    root.child("m/new.txt").write("new")
    storage.node("mem:target/old.txt").write("old")
    extra = {"skip": "exists"} if tracked else {}
    root.child("m").copy_to("mem:target", **extra)  # type: ignore[arg-type]
    assert sorted(c.basename for c in storage.node("mem:target").children()) == [
        "new.txt",
        "old.txt",
    ]


def test_move_keeps_the_python_object(root: StorageNode) -> None:
    node = root.child("mv.txt")
    node.write("x")
    before = id(node)
    node.move_to(root.child("moved.txt"))
    assert id(node) == before and node.path == "moved.txt"


def test_memory_store_is_shared(storage: StorageManager) -> None:
    base = storage.mount_config("mem")["base_path"]
    storage.node("mem:shared.txt").write("s")
    other = StorageManager()
    other.configure([{"name": "again", "type": "memory", "base_path": base}])
    assert other.node("again:shared.txt").read() == "s"


def test_memory_mtime_is_stable(storage: StorageManager) -> None:
    # 0.5 differs: 0.4.2 returned "now" on every access, so memory ETags never repeated
    node = storage.node("mem:stable.txt")
    node.write("x")
    first = node.mtime
    time.sleep(0.01)
    assert node.mtime == first


def test_virtual_nodes(storage: StorageManager) -> None:
    storage.node("mem:a").write("a\n")
    storage.node("mem:b").write("b\n")
    joined = storage.iternode(storage.node("mem:a"), storage.node("mem:b"))
    diff = storage.diffnode(storage.node("mem:a"), storage.node("mem:b"))
    for virtual in (joined, diff):
        assert virtual.exists is False
        with pytest.raises(ValueError):
            virtual.write("x")
        assert virtual.read()
        assert virtual.copy_to("mem:copied").read() == virtual.read()
    assert joined.zip().startswith(b"PK")
    with pytest.raises(AttributeError):
        diff.zip()
    assert joined == diff  # [Q] kept: both 'None:'


def test_equality_rules(root: StorageNode) -> None:
    root.child("d1").mkdir()
    root.child("d2").mkdir()
    assert root.child("d1") != root.child("d2")
    assert root.child("gone1") != root.child("gone2")
    assert root.child("gone1") == root.child("gone1")
    with pytest.raises(TypeError):
        hash(root)


def test_base64_path_mutates(storage: StorageManager) -> None:
    storage.node("home:l.txt").write("local data")
    target = storage.node("data:")
    storage.node("home:l.txt").copy_to(target)  # 0.5 differs: local -> base64 keeps the data
    assert target.read() == "local data"
    target.write("written")
    assert target.read() == "written"


def test_base64_payload_with_slashes(storage: StorageManager) -> None:
    assert storage.node("data:/A==").read("rb") == b"\xfc"  # 0.5 differs: not normalised away


@pytest.mark.parametrize("kwargs", [{"version": 0}, {"version": "v"}, {"as_of": datetime.now()}])
def test_versions_on_non_versioned(root: StorageNode, kwargs: dict) -> None:
    node = root.child("nv.txt")
    node.write("x")
    with pytest.raises(PermissionError, match="does not support versioning"):
        node.open(**kwargs)
    with pytest.raises(ValueError):
        node.open(version=0, as_of=datetime.now())
    with pytest.raises(PermissionError):
        node.compact_versions(dry_run=True)
    assert node.versions == [] and node.version_count == 0


def test_urls_and_metadata(root: StorageNode) -> None:
    node = root.child("meta.txt")
    node.write("x")
    assert node.url() is None and node.internal_url() is None and node.get_metadata() == {}
    with pytest.raises(PermissionError, match="does not support metadata"):
        node.set_metadata({"a": "b"})


def test_to_base64_of_txt(root: StorageNode) -> None:
    root.child("t.txt").write("hello")
    assert root.child("t.txt").to_base64() == "data:text/plain;base64,aGVsbG8="


def test_local_path_on_memory(storage: StorageManager) -> None:
    node = storage.node("mem:lp.txt")
    node.write("v1")
    with node.local_path() as local:
        assert Path(local).exists()
    assert not Path(local).exists()
    with node.local_path("rw") as local:
        Path(local).write_text("v2")
    assert node.read() == "v2"
    fresh = storage.node("mem:lp-new.txt")
    with fresh.local_path("w") as local:
        Path(local).write_text("created")
    assert fresh.read() == "created"


def test_call_async_sleep(storage: StorageManager) -> None:
    done = threading.Event()
    assert storage.node("home:").call("sleep", "0.1", async_mode=True, callback=done.set) is None
    assert done.wait(10)


def test_md5_is_of_content(root: StorageNode) -> None:
    root.child("h").write("abc")
    assert root.child("h").md5hash == hashlib.md5(b"abc").hexdigest()
