"""In-memory backend (fsspec's process-wide memory store), for tests and scratch data."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import IO, Any

from fsspec.implementations.memory import MemoryFile, MemoryFileSystem

from ..capabilities import BackendCapabilities
from ..errors import StorageNotFoundError
from ..paths import canonical, is_root
from ._errors import debug_logging, unwrapped
from ._memindex import IndexedDirs, IndexedStore, install
from ._publish import PublishOnClose
from .base import EntryInfo, StorageBackend
from .fsspec import FsspecBackend
from .relative import writable_target

__all__ = ["MemoryBackend"]

_CREATE_LOCK = threading.Lock()


class _MemoryFS(MemoryFileSystem):
    """fsspec's memory filesystem (the same process-wide store) answering from the
    store's directory index (:mod:`._memindex`).

    fsspec's ``ls``, ``find`` and ``info`` of a directory scan every key of the store, so
    a listing cost as much as the store was big and a copy onto a memory mount of 10,000
    files went quadratic. Here a file lookup is one dict access, and a directory's
    listing, stat or walk touches that directory (and, for a walk, what is below it)
    only. The answers are fsspec's, entry for entry (``ls`` lists a directory's files
    before its sub-directories); when the store is not the indexed one (replaced by
    other code), fsspec's own methods answer.
    """

    def _index(self) -> tuple[IndexedStore, IndexedDirs] | None:
        store, dirs = self.store, self.pseudo_dirs
        if isinstance(store, IndexedStore) and isinstance(dirs, IndexedDirs):
            return store, dirs
        return None

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        index = self._index()
        if index is None:
            return dict(super().info(path, **kwargs))
        store, dirs = index
        if path in dirs or _has_below(store, dirs, path):
            return {"name": path, "size": 0, "type": "directory"}
        filelike = store.get(path)
        if filelike is None:
            raise FileNotFoundError(path)
        return {
            "name": path,
            "size": filelike.size,
            "type": "file",
            "created": getattr(filelike, "created", None),
        }

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path)
        index = self._index()
        if index is None:
            return list(super().ls(path, detail=detail, **kwargs))
        store, dirs = index
        filelike = store.get(path)
        if filelike is not None:  # a file lists itself
            if not detail:
                return [path]
            return [_file_entry(path, filelike)]
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        with store.lock:
            names = list(store.tree.direct.get(path, ()))
            implied = list(store.tree.subdirs.get(path, ()))
            odd = list(store.tree.odd)
        for name in names:
            found = store.get(name)
            if found is not None:
                out.append(_file_entry(name, found))
        starter = path + "/"
        for name in odd:  # keys the index does not file: matched as fsspec does
            if isinstance(name, str) and name.startswith(starter) and name in store:
                rest = name[len(starter) :]
                if "/" not in rest:
                    out.append(_file_entry(name, store[name]))
                elif rest:
                    implied.append(starter + rest.split("/", 1)[0])
        with dirs.lock:
            implied.extend(dirs.tree.direct.get(path, ()))
            implied.extend(dirs.tree.subdirs.get(path, ()))
            implied.extend(
                starter + name[len(starter) :].split("/", 1)[0]
                for name in dirs.tree.odd
                if isinstance(name, str) and name.startswith(starter)
            )
        for name in implied:
            if name not in seen:
                seen.add(name)
                out.append({"name": name, "size": 0, "type": "directory"})
        if not out:
            if path in dirs:
                return []
            raise FileNotFoundError(path)
        if detail:
            return out
        return sorted(entry["name"] for entry in out)

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        index = self._index()
        if index is None or maxdepth is not None or index[0].tree.odd or index[1].tree.odd:
            return super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail)
        store, dirs = index
        path = self._strip_protocol(path)
        filelike = store.get(path)
        if filelike is not None:  # a file finds itself
            if not detail:
                return [path]
            return {path: _file_entry(path, filelike)}
        files, folders = _below(store, dirs, path)
        out = {name: _file_entry(name, found) for name, found in files.items()}
        if withdirs:
            out.update((name, {"name": name, "size": 0, "type": "directory"}) for name in folders)
            if path != "" and self.isdir(path):
                out[path] = self.info(path)
        names = sorted(out)
        return {name: out[name] for name in names} if detail else names


def _below(store: IndexedStore, dirs: IndexedDirs, path: str) -> tuple[dict[str, Any], set[str]]:
    """The files (key -> stored file) and folders below ``path``, from the directory
    index: this directory and what is below it, nothing else."""
    files: dict[str, Any] = {}
    folders: set[str] = set()
    pending = [path]
    while pending:
        folder = pending.pop()
        with store.lock:
            names = list(store.tree.direct.get(folder, ()))
            children = list(store.tree.subdirs.get(folder, ()))
        with dirs.lock:
            children.extend(dirs.tree.direct.get(folder, ()))
            children.extend(dirs.tree.subdirs.get(folder, ()))
        for name in names:
            found = store.get(name)
            if found is not None:
                files[name] = found
        for child in children:
            if child not in folders:
                folders.add(child)
                pending.append(child)
    return files, folders


def _file_info(path: str, filelike: Any) -> EntryInfo:
    """A stored file's entry: its size and its last write's time (``MemoryFile.created``:
    each write stores a new one)."""
    return EntryInfo(
        path=path, is_dir=False, size=filelike.size, mtime=filelike.created.timestamp()
    )


def _file_entry(name: str, filelike: Any) -> dict[str, Any]:
    return {
        "name": name,
        "size": filelike.size,
        "type": "file",
        "created": filelike.created.timestamp(),
    }


def _has_below(store: IndexedStore, dirs: IndexedDirs, path: str) -> bool:
    """Whether any file or made directory is below ``path`` (what makes it a directory)."""
    if store.tree.below.get(path) or dirs.tree.below.get(path):
        return True
    if not store.tree.odd and not dirs.tree.odd:
        return False
    prefix = path + "/"
    return any(  # the keys the index does not file (rare): scanned as fsspec does
        isinstance(key, str) and key.startswith(prefix)
        for tree in (store.tree, dirs.tree)
        for key in list(tree.odd)
    )


class MemoryDirectoryError(IsADirectoryError, FileNotFoundError):
    """Reading a directory of a memory mount.

    0.4.2 raised ``FileNotFoundError`` there (local mounts raise ``IsADirectoryError``);
    this is both, so ``except`` clauses written for either keep working.
    """


class MemoryBackend(FsspecBackend):
    """Files in fsspec's memory store, shared by every memory mount in the process.

    Mounts with different ``base_path`` values see different trees. Modification times are
    real (the time of the last write), so ETags of unchanged files are stable.
    """

    default_capabilities = BackendCapabilities(copy_optimization=True, temporary=True)
    atomic_pipe = True
    in_process = True

    def __init__(self, base_path: str = "", mount_name: str = "", **_: Any) -> None:
        install(MemoryFileSystem)  # (once: later calls find it in place)
        root = "/" + base_path.strip("/") if base_path.strip("/") else "/"
        super().__init__(_MemoryFS(), root, "memory", mount_name)
        # the mount root's store key ('' for the store's root) and what precedes the key
        # of a path below it: ``_key`` is one concatenation (``self.root`` never changes)
        self._root_key = "" if self.root == "/" else self.root
        self._key_prefix = self._root_key + "/"

    # ------------------------------------------------------------------ lookups
    # Built on the store's directory index (``_MemoryFS``) and the stored ``MemoryFile``
    # objects directly: one dict access per file, no generic parsing of fsspec's info
    # dicts (ETags, metadata, date formats) that a memory file never has.

    def _key(self, path: str) -> str:
        """The store key of ``path``: what ``fs._strip_protocol(self._full(path))`` gives.

        ``_full`` already spells it that way (``/root/a/b``: a leading ``/``, no empty
        segment, no trailing ``/``) except for the store's own root ``/``, whose key is
        ``''``; so no second parse per call (``tests/test_memory_index.py`` compares).
        """
        path = canonical(path)  # (``path`` itself when already canonical)
        return self._key_prefix + path if path else self._root_key

    def info(self, path: str) -> EntryInfo:
        entry = self._lookup(path)
        if entry is None:
            # what the generic path says, without raising and translating fsspec's
            shown = f"'{path}'" if path else "the mount root"
            raise StorageNotFoundError(f"{self.describe()}: {shown} not found ({self._key(path)})")
        return entry

    def info_or_none(self, path: str) -> EntryInfo | None:
        """:meth:`info` without an exception for a missing path (the copy engine's
        destination check: most destinations of a copy do not exist yet)."""
        return self._lookup(path)

    def _lookup(self, path: str) -> EntryInfo | None:
        key = self._key(path)
        fs = self.fs
        found = fs.store.get(key)
        if found is not None and key not in fs.pseudo_dirs:
            return _file_info(path, found)
        index = fs._index()
        if index is not None:
            store, dirs = index
            if key in dirs or _has_below(store, dirs, key):
                return EntryInfo(path=path, is_dir=True, size=0)
            if found is None and (not is_root(path) or self._empty_root(self._full(path)) is None):
                return None  # (only the mount root is a directory before anything is in it)
        try:
            return FsspecBackend.info(self, path)  # (mapped: the driver's errors translated)
        except FileNotFoundError:
            return None

    def list_detail(self, path: str) -> list[EntryInfo]:
        return [entry for entry, _ in self._children(path)]

    def list_dir(self, path: str) -> list[str]:
        """Names from the directory index alone (no entry built per file), in the order of
        :meth:`list_detail`; anything unusual (a file, an empty or missing folder, keys
        the index does not file) takes :meth:`list_detail`'s path."""
        key = self._key(path)
        fs = self.fs
        index = fs._index()
        if index is not None and key not in fs.store:
            store, dirs = index
            with store.lock:
                odd = bool(store.tree.odd)
                files = list(store.tree.direct.get(key, ()))
                folders = list(store.tree.subdirs.get(key, ()))
            with dirs.lock:
                odd = odd or bool(dirs.tree.odd)
                folders.extend(dirs.tree.direct.get(key, ()))
                folders.extend(dirs.tree.subdirs.get(key, ()))
            if not odd and (files or folders):
                cut = len(key) + 1
                names = [name[cut:] for name in files]
                return names + list(dict.fromkeys(name[cut:] for name in folders))
        return [name for _, name in self._children(path)]

    def _children(self, path: str) -> list[tuple[EntryInfo, str]]:
        key = self._key(path)
        infos = self._ls_infos(key)
        prefix = f"{path}/" if path else ""
        out = []
        store = self.fs.store
        for info in infos:
            name = info["name"].rstrip("/")
            if name == key:  # a file lists itself
                if info["type"] != "directory":
                    raise ValueError(f"Not a directory: {path!r}")
                continue
            base = name.rsplit("/", 1)[-1]
            found = store.get(name) if info["type"] == "file" else None
            if found is not None:
                out.append((_file_info(prefix + base, found), base))
            else:
                out.append((EntryInfo(path=prefix + base, is_dir=True, size=0), base))
        return out

    def walk_files(self, path: str) -> Iterator[EntryInfo]:
        """Every entry below ``path``, sorted by name, from the directory index: each
        file looked up once (no fsspec info dict built per file on the way)."""
        key = self._key(path)
        fs = self.fs
        index = fs._index()
        if index is None or index[0].tree.odd or index[1].tree.odd or key in fs.store:
            yield from self._walk_through_find(path)
            return
        store, dirs = index
        files, folders = _below(store, dirs, key)
        root = self._key("")
        cut = len(root) + 1 if root else 1
        for name in sorted(files.keys() | folders):
            if name in folders:  # (a name both a file and a folder is listed as a folder)
                yield EntryInfo(name[cut:], True, 0)
            else:
                yield _file_info(name[cut:], files[name])

    def _walk_through_find(self, path: str) -> Iterator[EntryInfo]:
        """:meth:`walk_files` through fsspec's ``find`` (keys the index does not file)."""
        key = self._key(path)
        found = self.fs.find(key, withdirs=True, detail=True)
        root = self._key("")
        cut = len(root) + 1 if root else 1
        store = self.fs.store
        for name, info in found.items():  # (sorted by name)
            if name == key:
                continue
            rel = name[cut:].rstrip("/")
            filelike = store.get(name) if info["type"] == "file" else None
            if filelike is not None:
                yield _file_info(rel, filelike)
            else:
                yield EntryInfo(path=rel, is_dir=True, size=0)

    def exists(self, path: str) -> bool:
        key = self._key(path)
        return key in self.fs.store or self._stat_or_none(key) is not None

    def _invalidate_full(self, full: str) -> None:
        """Nothing to drop: a memory mount keeps no listing cache (fsspec's memory
        filesystem answers every listing from the store)."""

    def _invalidate(self, path: str) -> None:
        """(no listing cache: see :meth:`_invalidate_full`)"""

    def _ensure_parent(self, path: str) -> None:
        # a parent made before (or the mount root) is one set lookup, not a makedirs
        if "/" in path and self._key(path.rsplit("/", 1)[0]) in self.fs.pseudo_dirs:
            return
        super()._ensure_parent(path)

    @unwrapped  # (a third of the call was the error-mapping wrapper: see ``unwrapped``)
    def delete(self, path: str, recursive: bool = False) -> None:
        """One stored file: popped from the store (checks: not the mount root, the mount
        may write, the key is not also a folder). Anything else, and every call while
        DEBUG logging is on: fsspec's route (:meth:`FsspecBackend.delete`, mapped)."""
        key = self._key(path)
        fs = self._fs  # (given at creation: not the lazy ``fs`` property)
        store, dirs = fs.store, fs.pseudo_dirs
        if (
            key in store
            and key != self._root_key  # (``is_root(path)``, as keys)
            and isinstance(store, IndexedStore)
            and isinstance(dirs, IndexedDirs)
            and not debug_logging()
        ):
            self.check_write_allowed()
            tree = store.tree
            if (  # a file, not also a directory of files (what fs.info says)
                key not in dirs.made
                and not tree.below.get(key)
                and not dirs.tree.below.get(key)
                and (not (tree.odd or dirs.tree.odd) or not _has_below(store, dirs, key))
            ):
                store.pop(key, None)  # one file: no path expansion, no listing
                return
        super().delete(path, recursive)

    def quick_copy(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> bool:
        """A stored file onto a memory path that is not a folder: one step, the checks
        answered from the store and its index (the engine's general route stats both
        ends first, which here cost as much as the copy). Anything else: False.

        Each check is one dict lookup on keys computed once: the mount roots (compared
        as keys), a source that is also a folder, a destination that is a folder (the
        file would land inside it), the destination's permission; parents are made only
        when the destination's folder is not a made one already.
        """
        target = writable_target(dest_backend, dest_path)  # (through relative mounts)
        if target is None:
            return False
        dest_backend, dest_path = target
        if not isinstance(dest_backend, MemoryBackend) or not self._capabilities.copy_optimization:
            return False
        fs = self._fs  # (given at creation: not the lazy ``fs`` property)
        store, dirs = fs.store, fs.pseudo_dirs
        dest_fs = dest_backend._fs
        if (
            not isinstance(store, IndexedStore)
            or not isinstance(dirs, IndexedDirs)
            or dest_fs.store is not store  # (one process-wide store: always the same)
            or dest_fs.pseudo_dirs is not dirs
        ):
            return False
        key, dest_key = self._key(src_path), dest_backend._key(dest_path)
        if key == self._root_key or dest_key == dest_backend._root_key:
            return False  # a mount root: the general route says what it is
        found = store.get(key)
        tree, dir_tree, made = store.tree, dirs.tree, dirs.made
        if (
            found is None
            or tree.odd  # keys the index does not file (rare): the general route
            or dir_tree.odd
            or key in made
            or tree.below.get(key)
            or dir_tree.below.get(key)
        ):
            return False  # missing, or a folder (also): the general route says which
        if dest_key in made or tree.below.get(dest_key) or dir_tree.below.get(dest_key):
            return False  # onto a folder: the file lands inside it (the general route)
        dest_backend.check_write_allowed()
        parent = dest_key[: dest_key.rfind("/")]
        if parent not in made and parent != dest_backend._root_key:
            dest_backend._ensure_parent(dest_path)
        store[dest_key] = MemoryFile(dest_fs, dest_key, found.getvalue())
        return True

    def copy_file(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        """A copy to a memory mount (one process-wide store): a new stored file of the
        same bytes (no account comparison, no listing cache to drop)."""
        if isinstance(dest_backend, MemoryBackend) and self._capabilities.copy_optimization:
            dest_backend.check_write_allowed()
            dest_backend._ensure_parent(dest_path)
            self._copy_object(src_path, dest_backend, dest_path)
            return None
        return super().copy_file(src_path, dest_backend, dest_path)

    def _copy_object(self, src_path: str, dest_backend: FsspecBackend, dest_path: str) -> None:
        """A stored file copied to another key of the store, as fsspec's ``cp_file`` does
        (a new ``MemoryFile`` of the same bytes), without its second parse of both paths
        and its ``isfile`` lookup: the source was just found in the store."""
        fs = self.fs
        key = self._key(src_path)
        found = fs.store.get(key)
        if found is None or not isinstance(dest_backend, MemoryBackend) or key in fs.pseudo_dirs:
            super()._copy_object(src_path, dest_backend, dest_path)
            return
        dest_key = dest_backend._key(dest_path)
        dest_backend.fs.store[dest_key] = MemoryFile(dest_backend.fs, dest_key, found.getvalue())

    # ------------------------------------------------------------------ content
    def read_bytes(self, path: str) -> bytes:
        found = self.fs.store.get(self._key(path))
        if found is not None:
            return bytes(found.getbuffer())
        try:
            return super().read_bytes(path)
        except IsADirectoryError as exc:
            raise MemoryDirectoryError(f"Is a directory: {path!r}") from exc

    def write_stream(self, path: str, chunks: Any) -> None:
        # The bytes end up in RAM anyway. Collecting them first and storing them in one
        # step means a stream that fails part-way (a dropped download) leaves the previous
        # content, where the driver's write-mode file would already have replaced it.
        self.write_bytes(path, b"".join(chunks))

    def save_stream(
        self, path: str, chunks: Any, *, exclusive: bool = False, content_type: str | None = None
    ) -> None:
        data = b"".join(bytes(chunk) for chunk in chunks)
        if not exclusive:
            self.write_bytes(path, data)
            return
        with _CREATE_LOCK:  # one store per process: the check and the store are one step
            if self.exists(path):
                raise FileExistsError(f"{self.describe()}: {path!r} already exists")
            self.write_bytes(path, data)

    def _pipe(self, full: str, data: bytes, kwargs: dict[str, Any]) -> None:
        """fsspec's memory ``pipe_file`` (a new ``MemoryFile`` committed to the store) with
        its checks (not onto a made folder, no ancestor stored as a file) made directly:
        fsspec's ``open`` strips and re-parses the path at each ancestor."""
        fs = self.fs
        index = fs._index()
        if kwargs or index is None or fs._intrans or full == "/":
            super()._pipe(full, data, kwargs)  # (exclusive creates, a replaced store...)
            return
        store, dirs = index
        if full in dirs:
            raise IsADirectoryError(full)
        parent = full
        while len(parent) > 1:
            parent = parent[: parent.rfind("/")]
            if parent in store:  # (fsspec's memory ``isfile`` is this key lookup)
                raise FileExistsError(parent)
        MemoryFile(fs, full, data).commit()

    def _empty_root(self, full: str) -> dict[str, Any] | None:
        # a mount's base_path is a directory before anything is written under it
        if full.rstrip("/") != self.root.rstrip("/"):
            return None
        return {"name": self.root, "type": "directory", "size": 0}

    def _open_pending(self, full: str) -> PublishOnClose:
        # fsspec's memory files enter the store when opened; this one only on commit
        handle = MemoryFile(self.fs, self.fs._strip_protocol(full))
        return PublishOnClose(handle, handle.commit, lambda: None, full)

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        try:
            return super().open(path, mode)
        except IsADirectoryError as exc:
            raise MemoryDirectoryError(f"Is a directory: {path!r}") from exc


def create(config: dict[str, Any], mount_name: str) -> MemoryBackend:
    return MemoryBackend(config.get("base_path") or "", mount_name)
