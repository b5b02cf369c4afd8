"""The memory backend's directory index: fsspec's answers, without scanning the store.

``_MemoryFS`` answers ``ls``/``info``/``find`` from :mod:`genro_storage.backends._memindex`;
fsspec's own ``MemoryFileSystem`` methods, called on the same store, are the reference.
"""

from __future__ import annotations

import pickle
import threading
import uuid
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genro_storage import StorageManager
from genro_storage.backends._memindex import IndexedDirs, IndexedStore, install
from genro_storage.backends.memory import MemoryBackend, _MemoryFS


@pytest.fixture
def fs() -> _MemoryFS:
    MemoryBackend("")  # installs the index
    return _MemoryFS()


def _reference(fs: MemoryFileSystem, method: str, *args: Any, **kwargs: Any) -> Any:
    """fsspec's own answer (the base class method, on the same store)."""
    try:
        return getattr(MemoryFileSystem, method)(fs, *args, **kwargs)
    except FileNotFoundError:
        return FileNotFoundError


def _ours(fs: _MemoryFS, method: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return getattr(fs, method)(*args, **kwargs)
    except FileNotFoundError:
        return FileNotFoundError


def _same(fs: _MemoryFS, paths: list[str]) -> None:
    for path in paths:
        for detail in (True, False):
            ours, ref = _ours(fs, "ls", path, detail=detail), _reference(fs, "ls", path, detail)
            if detail and isinstance(ours, list):  # (files first here, store order there)
                ours = sorted(ours, key=lambda e: (e["name"], e["type"]))
                ref = sorted(ref, key=lambda e: (e["name"], e["type"]))
            assert ours == ref, ("ls", path, detail)
        assert _ours(fs, "info", path) == _reference(fs, "info", path), ("info", path)
        for withdirs in (True, False):
            ours = _ours(fs, "find", path, withdirs=withdirs, detail=True)
            assert ours == _reference(fs, "find", path, withdirs=withdirs, detail=True)
            assert list(ours) == list(_reference(fs, "find", path, withdirs=withdirs, detail=True))


SEGMENT = st.sampled_from(["a", "b", "c", "d.txt"])
REL = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)
OPS = st.lists(
    st.tuples(st.sampled_from(["pipe", "rm", "mkdir", "rmdir", "rmtree"]), REL),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_answers_match_fsspec_after_any_changes(fs: _MemoryFS, ops: list[tuple[str, str]]) -> None:
    base = f"/idx-{uuid.uuid4().hex[:8]}"
    for op, rel in ops:
        path = f"{base}/{rel}"
        try:
            if op == "pipe":
                fs.pipe_file(path, b"x" * len(rel))
            elif op == "rm":
                fs.rm_file(path)
            elif op == "mkdir":
                fs.mkdir(path)
            elif op == "rmdir":
                fs.rmdir(path)
            else:
                fs.rm(path, recursive=True)
        except (OSError, ValueError):
            pass  # (a file in the way, a directory not empty...): the same store either way
    rels = {"", *(rel for _, rel in ops)}
    rels |= {r.rsplit("/", 1)[0] for r in rels if "/" in r}
    _same(fs, [*sorted(f"{base}/{r}".rstrip("/") for r in rels), f"{base}/missing"])


def test_odd_keys_are_matched_as_fsspec_matches_them(fs: _MemoryFS) -> None:
    base = f"/odd-{uuid.uuid4().hex[:8]}"
    fs.pipe_file(f"{base}/plain.txt", b"1")
    fs.store[f"{base}//double"] = fs.store[f"{base}/plain.txt"]  # not filed by directory
    fs.store[f"{base}/sub/trailing/"] = fs.store[f"{base}/plain.txt"]
    fs.pseudo_dirs.append(f"{base}/made//odd")
    try:
        _same(fs, [base, f"{base}/sub", f"{base}/sub/trailing", f"{base}/made", ""])
    finally:
        del fs.store[f"{base}//double"]
        del fs.store[f"{base}/sub/trailing/"]
        fs.pseudo_dirs.remove(f"{base}/made//odd")
    assert not fs.store.tree.odd and not fs.pseudo_dirs.tree.odd


def test_every_dict_and_list_change_keeps_the_index() -> None:
    store = IndexedStore({"/a/b/c": 1, "/a/d": 2})
    store.update({"/e/f": 3})
    store |= {"/g": 4}
    store.setdefault("/a/x", 5)
    assert store.pop("/a/d") == 2 and store.pop("/nope", None) is None
    assert store.tree.below == {"": 4, "/a": 2, "/a/b": 1, "/e": 1}
    assert store.tree.subdirs == {"": {"/a": None, "/e": None}, "/a": {"/a/b": None}}
    store.popitem()  # "/g"? no: the last inserted, "/a/x"
    assert "/a/x" not in store and store.tree.below["/a"] == 1
    copy = pickle.loads(pickle.dumps(store))
    assert isinstance(copy, IndexedStore) and copy == store and copy.tree.below == store.tree.below
    store.clear()
    assert not store.tree.below and not store.tree.direct and not store.tree.subdirs

    dirs = IndexedDirs([""])
    dirs.append("/m/n")
    dirs += ["/m/o"]
    dirs.insert(0, "/p")
    assert "/m/n" in dirs and "/q" not in dirs
    assert dirs.tree.subdirs == {"": {"/m": None}}
    dirs.remove("/m/n")
    dirs[:] = [""]  # what tests/test_docs.py does to reset fsspec's store
    assert list(dirs) == [""] and "/m/o" not in dirs and not dirs.tree.below.get("/m")
    assert dirs.pop() == "" and not dirs


def test_install_keeps_what_the_store_held_and_is_idempotent() -> None:
    class Isolated(MemoryFileSystem):
        store: dict[str, Any] = {"/kept/file": b"x"}
        pseudo_dirs: list[str] = ["", "/made"]

    store, dirs = install(Isolated)
    assert Isolated.store is store and Isolated.pseudo_dirs is dirs
    assert dict(store) == {"/kept/file": b"x"} and list(dirs) == ["", "/made"]
    assert install(Isolated) == (store, dirs)


def test_a_replaced_store_falls_back_to_fsspec(
    fs: _MemoryFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MemoryFileSystem, "store", {"/plain/file.txt": fs.store.get("/x")})
    monkeypatch.setattr(MemoryFileSystem, "pseudo_dirs", [""])
    monkeypatch.setattr(MemoryFileSystem, "pseudo_dirs", [""])
    assert fs._index() is None
    assert fs.info("/plain")["type"] == "directory"


def test_lookups_never_scan_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """ls, stat, exists, walk, read, write, copy and delete touch their directory only:
    any pass over the whole store (fsspec's way) fails here."""
    storage = StorageManager()
    storage.configure(
        [{"name": "m", "type": "memory", "base_path": f"scan-{uuid.uuid4().hex[:8]}"}]
    )
    for i in range(10):
        storage.node(f"m:small/sub/f{i}").write_bytes(b"x")
    storage.node("m:small/empty").mkdir()

    def scanned(*args: Any) -> Any:
        raise AssertionError("the whole store was scanned")

    for name in ("__iter__", "keys", "items", "values"):
        monkeypatch.setattr(IndexedStore, name, scanned)
    with pytest.raises(AssertionError, match="scanned"):  # fsspec's own ls does scan
        MemoryFileSystem.ls(_MemoryFS(), "/")
    node = storage.node("m:small")
    assert [n.basename for n in node.children()] == ["sub", "empty"]
    assert node.isdir and node.child("sub").isdir and node.child("empty").isdir
    assert not node.child("none").exists and node.child("sub/f1").exists
    assert node.child("sub/f1").size == 1 and node.child("sub/f1").read_bytes() == b"x"
    assert len([e for _, e in node.walk() if not e.is_dir]) == 10
    node.child("sub/new").write_bytes(b"y")
    node.child("sub/new").copy_to("m:small/sub/copy")
    node.child("sub/copy").delete()
    assert sorted(n.basename for n in node.child("sub").children())[-1] == "new"


def test_concurrent_writers_keep_the_index_consistent(fs: _MemoryFS) -> None:
    base = f"/conc-{uuid.uuid4().hex[:8]}"

    def writer(n: int) -> None:
        for i in range(200):
            fs.pipe_file(f"{base}/w{n}/f{i}", b"x")
            if i % 3 == 0:
                fs.rm_file(f"{base}/w{n}/f{i}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _same(fs, [base, *(f"{base}/w{n}" for n in range(6))])
    assert fs.store.tree.below[base] == 6 * (200 - 67)
    fs.rm(base, recursive=True)
    assert base not in fs.store.tree.below


def test_backend_answers_equal_the_generic_fsspec_backend() -> None:
    """The memory backend's own lookups give what the generic fsspec ones gave."""
    from genro_storage.backends.fsspec import FsspecBackend

    backend = MemoryBackend(f"eq-{uuid.uuid4().hex[:8]}", "m")
    for rel in ("a.txt", "d/b.txt", "d/e/c.txt", "d/e/f/g.txt"):
        backend.write_bytes(rel, rel.encode())
    backend.mkdir("empty/inner", parents=True)
    backend.write_bytes("both/under.txt", b"x")  # "both": a file and a directory of files
    backend.fs.store[backend._key("both")] = backend.fs.store[backend._key("a.txt")]
    for path in ("", "d", "d/e", "empty", "both"):
        assert list(backend.walk_files(path)) == list(FsspecBackend.walk_files(backend, path))
        if path == "both":  # fsspec lists the file: both refuse it
            for method in (backend.list_dir, lambda p: FsspecBackend.list_dir(backend, p)):
                with pytest.raises(ValueError, match="Not a directory"):
                    method(path)
            continue
        assert backend.list_detail(path) == FsspecBackend.list_detail(backend, path)
        assert backend.list_dir(path) == FsspecBackend.list_dir(backend, path)
    for path in ("", "a.txt", "d", "d/e/c.txt", "empty/inner", "both", "nope"):
        assert backend.exists(path) == FsspecBackend.exists(backend, path)
        if FsspecBackend.exists(backend, path):
            assert backend.info(path) == FsspecBackend.info(backend, path)
    with pytest.raises(ValueError, match="Not a directory"):
        backend.list_dir("a.txt")
    assert backend.read_bytes("d/e/c.txt") == b"d/e/c.txt"
    backend.delete("both")  # fsspec's rm takes the file, as before; the folder stays
    assert backend.info("both").is_dir and backend.list_dir("both") == ["under.txt"]
    backend.delete("d/b.txt")
    assert backend.list_dir("d") == ["e"]
    backend.delete("d", recursive=True)
    assert sorted(backend.list_dir("")) == ["a.txt", "both", "empty"]


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(["", "/", "b", "/b/", "b/c", "x//y"]),
    path=st.text(alphabet="ab./:", max_size=8),
)
def test_store_keys_are_the_ones_fsspec_strips_to(base: str, path: str) -> None:
    """``_key`` skips ``_strip_protocol``: it must give the very key fsspec would look up."""
    backend = MemoryBackend(base)
    assert backend._key(path) == MemoryFileSystem._strip_protocol(backend._full(path))


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
def test_walks_from_the_index_match_the_walk_through_find(ops: list[tuple[str, str]]) -> None:
    """``walk_files`` reads the index directly: same entries, same order as the walk
    through fsspec's ``find`` (which the generic backend and odd keys use)."""
    backend = MemoryBackend(f"walk-{uuid.uuid4().hex[:8]}", "m")
    fs = backend.fs
    for op, rel in ops:
        key = backend._key(rel)
        try:
            if op == "pipe":
                fs.pipe_file(key, b"x" * len(rel))
            elif op == "rm":
                fs.rm_file(key)
            elif op in ("mkdir", "rmdir"):
                getattr(fs, op)(key)
            else:
                fs.rm(key, recursive=True)
        except (OSError, ValueError):
            pass
    rels = {"", "missing", *(rel for _, rel in ops)}
    rels |= {r.rsplit("/", 1)[0] for r in rels if "/" in r}
    for rel in sorted(rels):
        assert list(backend.walk_files(rel)) == list(backend._walk_through_find(rel)), rel


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
def test_writes_check_what_fsspecs_pipe_file_checks(ops: list[tuple[str, str]]) -> None:
    """``MemoryBackend._pipe`` answers fsspec's checks from the index: the same refusals
    (onto a made folder, under a file) and the same store as fsspec's ``pipe_file``."""
    ours = MemoryBackend(f"pipe-{uuid.uuid4().hex[:8]}", "m")
    ref = MemoryBackend(f"pipe-{uuid.uuid4().hex[:8]}", "m")
    fs = ours.fs

    def run(backend: MemoryBackend, op: str, rel: str) -> Any:
        key = backend._key(rel)
        try:
            if op == "pipe":
                if backend is ours:
                    backend._pipe(key, rel.encode(), {})
                else:
                    MemoryFileSystem.pipe_file(fs, key, rel.encode())
            elif op == "rm":
                fs.rm_file(key)
            elif op in ("mkdir", "rmdir"):
                getattr(fs, op)(key)
            else:
                fs.rm(key, recursive=True)
        except (OSError, ValueError) as exc:
            return type(exc)
        return None

    for op, rel in ops:
        assert run(ours, op, rel) == run(ref, op, rel), (op, rel)

    def stored(backend: MemoryBackend) -> dict[str, bytes]:
        cut = len(backend._key("")) + 1
        prefix = backend._key("") + "/"
        return {k[cut:]: v.getvalue() for k, v in fs.store.items() if k.startswith(prefix)}

    assert stored(ours) == stored(ref)


def test_a_write_under_a_file_or_onto_a_made_folder_is_refused() -> None:
    backend = MemoryBackend(f"refuse-{uuid.uuid4().hex[:8]}", "m")
    backend.write_bytes("a.txt", b"a")
    with pytest.raises(FileExistsError):
        backend.write_bytes("a.txt/b.txt", b"b")
    backend.mkdir("made")
    with pytest.raises(IsADirectoryError):
        backend._pipe(backend._key("made"), b"x", {})
    backend.write_bytes("made/in.txt", b"in")
    assert backend.read_bytes("made/in.txt") == b"in" and backend.read_bytes("a.txt") == b"a"


COPY_CASES = [
    ("a.txt", "b.txt"),  # a new file
    ("a.txt", "old.txt"),  # over a file
    ("a.txt", "folder"),  # onto a folder of files: lands inside
    ("a.txt", "made"),  # onto a made (empty) folder: lands inside
    ("a.txt", ""),  # onto the mount root: lands inside
    ("a.txt", "deep/er/c.txt"),  # parents made
    ("missing.txt", "x.txt"),  # "Source not found"
    ("folder", "copy_of_folder"),  # a tree
    ("both", "both_copy"),  # a file that is also a folder of files
]


@pytest.mark.parametrize(("src", "dest"), COPY_CASES)
def test_quick_copies_end_as_the_general_route_ends(
    monkeypatch: pytest.MonkeyPatch, src: str, dest: str
) -> None:
    """``copy_to`` without options takes ``quick_copy`` between memory mounts: the same
    stores and the same errors as the engine's general route."""

    def run(quick: bool) -> tuple[Any, dict[str, bytes], list[str]]:
        with monkeypatch.context() as patch:
            if not quick:
                patch.setattr(MemoryBackend, "quick_copy", lambda *a: False)
            base = f"quick-{uuid.uuid4().hex[:8]}"
            manager = StorageManager(env=False)
            manager.configure([{"name": "m", "type": "memory", "base_path": base}])
            for name in ("a.txt", "old.txt", "folder/in.txt", "both/under.txt"):
                manager.node(f"m:{name}").write_bytes(name.encode())
            manager.node("m:made").mkdir()
            backend = manager.get_backend("m")
            backend.fs.store[backend._key("both")] = backend.fs.store[backend._key("a.txt")]
            try:
                manager.node(f"m:{src}").copy_to(f"m:{dest}")
                error = None
            except Exception as exc:
                error = (type(exc), str(exc).replace(base, "BASE"))
            cut = len(backend._key("")) + 1
            files = {
                k[cut:]: v.getvalue()
                for k, v in backend.fs.store.items()
                if k.startswith(backend._key("") + "/")
            }
            made = sorted(
                d[cut:] for d in backend.fs.pseudo_dirs if d.startswith(backend._key("") + "/")
            )
            return error, files, made

    assert run(quick=True) == run(quick=False)


def test_a_quick_copy_is_refused_by_a_readonly_mount() -> None:
    from genro_storage.errors import StoragePermissionError

    manager = StorageManager(env=False)
    base = f"ro-{uuid.uuid4().hex[:8]}"
    manager.configure(
        [
            {"name": "m", "type": "memory", "base_path": base},
            {"name": "ro", "type": "memory", "base_path": base, "permissions": "readonly"},
        ]
    )
    manager.node("m:a.txt").write_bytes(b"a")
    with pytest.raises(StoragePermissionError):
        manager.node("m:a.txt").copy_to("ro:b.txt")
    assert not manager.node("m:b.txt").exists


def test_a_plain_memory_copy_takes_the_quick_route(monkeypatch: pytest.MonkeyPatch) -> None:
    from genro_storage.engine import copying

    manager = StorageManager(env=False)
    manager.configure([{"name": "m", "type": "memory", "base_path": f"q-{uuid.uuid4().hex[:8]}"}])
    manager.node("m:a.txt").write_bytes(b"a")
    monkeypatch.setattr(copying, "_source_entry", lambda *a: pytest.fail("general route"))
    manager.node("m:a.txt").copy_to("m:sub/b.txt")
    assert manager.node("m:sub/b.txt").read_bytes() == b"a"
    assert manager.node("m:sub").isdir


DELETE_CASES = [
    "a.txt",  # a file
    "folder",  # a folder of files
    "folder/in.txt",  # the last file of a folder
    "made",  # a made (empty) folder
    "both",  # a file that is also a folder of files
    "missing.txt",  # nothing: a no-op
    "",  # the mount root: refused
    "./.",  # the mount root spelt otherwise: refused
    "folder/../a.txt",  # a hostile path: refused
]


def _delete_run(monkeypatch: pytest.MonkeyPatch, target: str, quick: bool, readonly: bool) -> Any:
    from genro_storage.backends import memory

    with monkeypatch.context() as patch:
        if not quick:  # (while DEBUG logging is on, every delete takes fsspec's route)
            patch.setattr(memory, "debug_logging", lambda: True)
        base = f"del-{uuid.uuid4().hex[:8]}"
        manager = StorageManager(env=False)
        manager.configure(
            [
                {"name": "m", "type": "memory", "base_path": base},
                {"name": "ro", "type": "memory", "base_path": base, "permissions": "readonly"},
            ]
        )
        for name in ("a.txt", "folder/in.txt", "both/under.txt"):
            manager.node(f"m:{name}").write_bytes(name.encode())
        manager.node("m:made").mkdir()
        backend = manager.get_backend("m")
        backend.fs.store[backend._key("both")] = backend.fs.store[backend._key("a.txt")]
        try:
            manager.node(f"{'ro' if readonly else 'm'}:{target}").delete()
            error = None
        except Exception as exc:
            error = (type(exc), str(exc).replace(base, "BASE"))
        root = backend._key("")
        files = sorted(k[len(root) :] for k in backend.fs.store if k.startswith(root + "/"))
        made = sorted(d[len(root) :] for d in backend.fs.pseudo_dirs if d.startswith(root + "/"))
        return error, files, made


@pytest.mark.parametrize("readonly", [False, True])
@pytest.mark.parametrize("target", DELETE_CASES)
def test_quick_deletes_end_as_fsspecs_route_ends(
    monkeypatch: pytest.MonkeyPatch, target: str, readonly: bool
) -> None:
    """A memory ``delete`` pops a plain file itself: the same store and the same errors
    (mount root, read-only mount, hostile path) as fsspec's route for every case."""
    assert _delete_run(monkeypatch, target, True, readonly) == _delete_run(
        monkeypatch, target, False, readonly
    )


def test_a_plain_memory_delete_takes_the_quick_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """One stored file is popped without fsspec's ``rm`` (path expansion, listing) and
    without the error-mapping wrapper; a folder still takes fsspec's route."""
    from genro_storage.backends.fsspec import FsspecBackend

    manager = StorageManager(env=False)
    manager.configure([{"name": "m", "type": "memory", "base_path": f"q-{uuid.uuid4().hex[:8]}"}])
    manager.node("m:sub/a.txt").write_bytes(b"a")
    manager.node("m:sub/b.txt").write_bytes(b"b")
    general: list[str] = []
    original = FsspecBackend.delete

    def counted(self: Any, path: str, *args: Any) -> None:
        general.append(path)
        original(self, path, *args)

    monkeypatch.setattr(FsspecBackend, "delete", counted)
    assert not hasattr(MemoryBackend.delete, "__wrapped__")
    manager.node("m:sub/a.txt").delete()
    assert general == [] and not manager.node("m:sub/a.txt").exists
    assert manager.node("m:sub/b.txt").exists
    manager.node("m:sub").delete()
    assert general == ["sub"] and not manager.node("m:sub").exists


def test_a_quick_copy_names_no_location_and_stats_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain memory copy is the store's one step: no engine location built, no stat
    of either end, the parent made once (the second copy finds it made)."""
    from genro_storage.engine import location

    manager = StorageManager(env=False)
    manager.configure([{"name": "m", "type": "memory", "base_path": f"q-{uuid.uuid4().hex[:8]}"}])
    manager.node("m:a.txt").write_bytes(b"a")
    made: list[str] = []
    original = MemoryBackend._ensure_parent

    def making(self: Any, path: str) -> None:
        made.append(path)
        original(self, path)

    monkeypatch.setattr(MemoryBackend, "_ensure_parent", making)
    monkeypatch.setattr(location.Location, "__init__", lambda *a: pytest.fail("a location"))
    for name in ("info", "info_or_none", "exists"):
        monkeypatch.setattr(MemoryBackend, name, lambda *a: pytest.fail("a stat"))
    manager.node("m:a.txt").copy_to("m:sub/b.txt")
    manager.node("m:a.txt").copy_to("m:sub/c.txt")
    assert made == ["sub/b.txt"]
    store = manager.get_backend("m").fs.store
    key = manager.get_backend("m")._key
    assert store[key("sub/b.txt")].getvalue() == store[key("sub/c.txt")].getvalue() == b"a"
