"""One listing per object-store tree for the length of one bulk fsspec call.

fsspec's bulk calls (``copy``, ``get``, ``expand_path``, hence ``rm`` of a glob and
``mv``) ask about every path they handle: ``glob``, then ``find``/``exists`` on each match
and ``isdir`` on each source. On an object store each question is a request (S3: a
ListObjectsV2 or a HEAD), and mounts keep no listing cache (a cache would show other
writers' changes late). Inside one bulk call, ``genro://`` instead lists a tree once,
recursively (1,000 keys per request), and answers ``find``/``isdir``/``isfile``/
``exists``/``info`` under it from that listing. The snapshot lives in a context variable
(this thread or task only) and ends with the call; a write through the filesystem drops
the trees it touches first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["Snapshots", "bulk_call", "current"]


class Snapshots:
    """Whole-tree listings taken during one bulk call: (fs, root) -> {path: info}."""

    def __init__(self) -> None:
        self.trees: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}

    def lookup(self, fs: Any, path: str) -> tuple[bool, dict[str, Any] | None]:
        """(covered, info): whether a listed tree holds ``path``, and its info (None:
        the tree says it does not exist)."""
        for (fs_id, root), entries in self.trees.items():
            if fs_id == id(fs) and (path == root or path.startswith(root + "/") or not root):
                return True, entries.get(path)
        return False, None

    def tree(self, fs: Any, root: str) -> dict[str, dict[str, Any]] | None:
        """The listing of a tree covering ``root``, with the entries at or under it."""
        for (fs_id, top), entries in self.trees.items():
            if fs_id == id(fs) and (root == top or root.startswith(top + "/") or not top):
                return {
                    name: info
                    for name, info in entries.items()
                    if name == root or name.startswith(root + "/") or not root
                }
        return None

    def store(self, fs: Any, root: str, found: dict[str, Any]) -> dict[str, dict[str, Any]]:
        entries = {fs._strip_protocol(name).rstrip("/"): info for name, info in found.items()}
        self.trees[(id(fs), root)] = entries
        return entries

    def forget(self, fs: Any, path: str) -> None:
        """Drop the trees ``path`` is in or above (a write there is about to happen)."""
        for key in list(self.trees):
            fs_id, root = key
            if fs_id != id(fs):
                continue
            inside = path.startswith(root + "/") or root.startswith(path + "/")
            if not root or not path or path == root or inside:
                del self.trees[key]


_CURRENT: ContextVar[Snapshots | None] = ContextVar("genro_fsspec_snapshots", default=None)


def current() -> Snapshots | None:
    """The snapshots of the bulk call running in this context, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def bulk_call() -> Iterator[None]:
    """Take listings once for the length of this call (nested calls share them)."""
    if _CURRENT.get() is not None:
        yield
        return
    token = _CURRENT.set(Snapshots())
    try:
        yield
    finally:
        _CURRENT.reset(token)
