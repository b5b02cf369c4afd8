"""fsspec's process-wide memory store, indexed by directory.

fsspec keeps every memory file in one flat dict (``MemoryFileSystem.store``, path ->
``MemoryFile``) and every explicitly made directory in one list (``pseudo_dirs``). Its
``ls``, ``info`` of a directory (and so ``exists``, ``isdir``) and ``find`` scan the whole
store: a listing costs as much as the store is big, and a copy onto a memory mount of
10,000 files went quadratic.

:class:`IndexedStore` and :class:`IndexedDirs` are that dict and that list, unchanged for
every reader and writer (fsspec's own methods, other ``MemoryFileSystem`` instances, code
that clears the store), which also keep, per directory, what is directly in it and how
many entries are below it. :func:`install` puts them in place of fsspec's (copying what
is already stored), so the memory backend answers ``ls``/``info``/``find`` from the
directory in question only. Keys that are not plain absolute paths (``//``, a trailing
``/``, a protocol) are kept aside and matched by scanning, as fsspec does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any, SupportsIndex

__all__ = ["IndexedDirs", "IndexedStore", "Tree", "install"]


def _plain(key: Any) -> bool:
    """A key the index files by directory: ``/a/b``, no empty segment, no trailing ``/``."""
    return (
        isinstance(key, str)
        and key.startswith("/")
        and len(key) > 1
        and not key.endswith("/")
        and "//" not in key
        and "://" not in key
        and "::" not in key
    )


def _parent(key: str) -> str:
    return key[: key.rfind("/")]  # "/a" -> "" (the store's root)


class Tree:
    """Where keys sit: per directory its direct keys (insertion order), the number of keys
    anywhere below it, and its direct sub-directories that have keys below them."""

    def __init__(self) -> None:
        self.direct: dict[str, dict[str, None]] = {}
        self.below: dict[str, int] = {}
        self.subdirs: dict[str, dict[str, None]] = {}
        self.odd: dict[Any, int] = {}  # other keys, by count (a list may repeat them)

    def add(self, key: Any) -> None:
        if key == "":  # the store's root itself: below nothing
            return
        if not _plain(key):
            self.odd[key] = self.odd.get(key, 0) + 1
            return
        folder = _parent(key)
        self.direct.setdefault(folder, {})[key] = None
        while True:
            count = self.below.get(folder, 0)
            self.below[folder] = count + 1
            if not folder:
                return
            up = _parent(folder)
            if not count:  # a directory that appears: its parent gets it as a child
                self.subdirs.setdefault(up, {})[folder] = None
            folder = up

    def remove(self, key: Any) -> None:
        if key == "":
            return
        if not _plain(key):
            left = self.odd.get(key, 0) - 1
            if left > 0:
                self.odd[key] = left
            else:
                self.odd.pop(key, None)
            return
        folder = _parent(key)
        keys = self.direct.get(folder)
        if keys is not None:
            keys.pop(key, None)
            if not keys:
                del self.direct[folder]
        while True:
            count = self.below.get(folder, 0) - 1
            if count > 0:
                self.below[folder] = count
            else:
                self.below.pop(folder, None)
            if not folder:
                return
            up = _parent(folder)
            if count <= 0:  # nothing left below it: no longer implied
                children = self.subdirs.get(up)
                if children is not None:
                    children.pop(folder, None)
                    if not children:
                        del self.subdirs[up]
            folder = up

    def clear(self) -> None:
        self.direct.clear()
        self.below.clear()
        self.subdirs.clear()
        self.odd.clear()


class IndexedStore(dict[str, Any]):
    """fsspec's memory store (path -> ``MemoryFile``), indexed by directory as it changes.

    Every way a dict can change goes through the index; reads are a dict's own.
    """

    def __init__(self, items: Iterable[tuple[str, Any]] | dict[str, Any] = ()) -> None:
        super().__init__()
        self.lock = threading.RLock()
        self.tree = Tree()
        self.update(items)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __setitem__(self, key: str, value: Any) -> None:
        with self.lock:
            new = key not in self
            super().__setitem__(key, value)
            if new:
                self.tree.add(key)

    def __delitem__(self, key: str) -> None:
        with self.lock:
            super().__delitem__(key)
            self.tree.remove(key)

    def pop(self, key: str, *default: Any) -> Any:
        with self.lock:
            if key in self:
                value = super().pop(key)
                self.tree.remove(key)
                return value
            return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        with self.lock:
            key, value = super().popitem()
            self.tree.remove(key)
            return key, value

    def clear(self) -> None:
        with self.lock:
            super().clear()
            self.tree.clear()

    def setdefault(self, key: str, default: Any = None) -> Any:
        with self.lock:
            if key not in self:
                self[key] = default
            return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            for key, value in dict(*args, **kwargs).items():
                self[key] = value

    def __ior__(self, other: Any) -> IndexedStore:  # type: ignore[override,misc]
        self.update(other)
        return self


class IndexedDirs(list[str]):
    """fsspec's list of explicitly made directories, with O(1) ``in`` and an index."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.lock = threading.RLock()
        self.tree = Tree()
        #: made directory -> how many times the list holds it: ``in dirs`` asks it (readers
        #: on a hot path test ``key in dirs.made`` directly: no Python-level ``__contains__``)
        self.made: dict[str, int] = {}
        self._rebuild()

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self),))

    def _rebuild(self) -> None:
        self.tree.clear()
        self.made.clear()
        for item in list.__iter__(self):
            self._added(item)

    def _added(self, item: str) -> None:
        self.made[item] = self.made.get(item, 0) + 1
        self.tree.add(item)

    def __contains__(self, item: object) -> bool:
        return item in self.made

    def append(self, item: str) -> None:
        with self.lock:
            super().append(item)
            self._added(item)

    def extend(self, items: Iterable[str]) -> None:
        with self.lock:
            for item in list(items):
                self.append(item)

    def __iadd__(self, items: Iterable[str]) -> IndexedDirs:  # type: ignore[override,misc]
        self.extend(items)
        return self

    def remove(self, item: str) -> None:
        with self.lock:
            super().remove(item)
            left = self.made[item] - 1
            if left:
                self.made[item] = left
            else:
                del self.made[item]
            self.tree.remove(item)

    def insert(self, index: SupportsIndex, item: str) -> None:
        with self.lock:
            super().insert(index, item)
            self._added(item)

    def pop(self, index: SupportsIndex = -1) -> str:
        with self.lock:
            item = super().pop(index)
            self._rebuild()
            return item

    def clear(self) -> None:
        with self.lock:
            super().clear()
            self._rebuild()

    def __setitem__(self, index: Any, value: Any) -> None:
        with self.lock:
            super().__setitem__(index, value)
            self._rebuild()

    def __delitem__(self, index: Any) -> None:
        with self.lock:
            super().__delitem__(index)
            self._rebuild()

    def __iter__(self) -> Iterator[str]:
        return iter(list(list.__iter__(self)))  # a snapshot: writers may append meanwhile


_INSTALL = threading.Lock()


def install(cls: Any) -> tuple[IndexedStore, IndexedDirs]:
    """Put the indexed store and directory list in place of ``cls``'s (fsspec's
    ``MemoryFileSystem``, whose class attributes every global-store instance shares),
    keeping what they hold; a second call finds them in place."""
    with _INSTALL:
        store = cls.store
        if not isinstance(store, IndexedStore):
            store = IndexedStore(store)
            cls.store = store
        dirs = cls.pseudo_dirs
        if not isinstance(dirs, IndexedDirs):
            dirs = IndexedDirs(dirs)
            cls.pseudo_dirs = dirs
        return store, dirs
