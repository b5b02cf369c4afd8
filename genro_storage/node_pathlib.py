"""The pathlib names of :class:`~genro_storage.StorageNode` that do not clash with 0.4.2.

0.4.2 already has ``exists``/``isfile``/``isdir``/``size`` as **properties**, ``stat()``
(our :class:`EntryInfo`), ``iterdir()``, ``/`` and ``walk()`` yielding ``(node, entry)``;
those keep their 0.4.2 shape. Added here, as pathlib spells them: ``is_file()``,
``is_dir()``, ``name``, ``joinpath()``, ``with_name()``, ``with_suffix()``, ``glob()``,
``rglob()``, ``touch()``, ``unlink(missing_ok=)``, ``rename()``, ``replace()``, plus
``uri`` (``genro://mount/path``, for pandas & co.) and ``__fspath__`` (local mounts only).
See docs/pathlib.md for each choice.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backends.base import StorageBackend
    from .manager import StorageManager
    from .node import StorageNode

__all__ = ["PathlibMixin", "TextHandle", "wrap_text"]


class TextHandle(io.TextIOWrapper):
    """Text over a binary handle; an error inside ``with`` discards a pending write."""

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        discard = getattr(self.buffer, "discard", None)
        if exc_type is not None and discard is not None:
            discard()
            return
        super().__exit__(exc_type, exc, tb)


def wrap_text(
    raw: IO[Any],
    encoding: str | None,
    errors: str | None,
    newline: str | None,
    buffering: int,
) -> IO[Any]:
    """``builtins.open``'s text layer over a binary handle."""
    if buffering == 0:
        raw.close()
        raise ValueError("can't have unbuffered text I/O")
    return TextHandle(
        raw,
        encoding=encoding or "utf-8",
        errors=errors,
        newline=newline,
        line_buffering=buffering == 1,
    )


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """pathlib semantics: ``*`` and ``?`` stay in one segment, ``**`` spans any depth."""
    from fsspec.utils import glob_translate

    return re.compile(glob_translate(pattern))


class PathlibMixin:
    """pathlib-style methods on top of the node primitives."""

    _manager: StorageManager
    _mount_name: str | None
    _path: str | None

    if TYPE_CHECKING:

        def _require_backend(self) -> StorageBackend: ...
        def child(self, *parts: str) -> StorageNode: ...
        def stat(self) -> Any: ...
        def move_to(self, dest: StorageNode | str) -> StorageNode: ...
        def write_bytes(self, data: bytes, skip_if_unchanged: bool = False) -> bool: ...
        def delete(self) -> None: ...

        @property
        def basename(self) -> str: ...
        @property
        def parent(self) -> StorageNode: ...
        @property
        def fullpath(self) -> str: ...
        @property
        def _p(self) -> str: ...

    # ------------------------------------------------------------------ names
    @property
    def uri(self) -> str:
        """``genro://mount/path``: what pandas, pyarrow, DuckDB, Dask... open through fsspec.

        ``pd.read_csv(node.uri)`` uses the default manager (``$GENRO_STORAGE_CONFIG``);
        with another manager pass ``storage_options={"config": manager.mount_configs()}``
        or open through ``manager.fs``.
        """
        return f"genro://{self._mount_name}/{self._path or ''}"

    @property
    def name(self) -> str:
        """The final path component (pathlib's name; same as ``basename``)."""
        return self.basename

    def joinpath(self, *parts: str) -> StorageNode:
        """``node.joinpath('a', 'b/c')``: the node below this one."""
        return self.child(*parts)

    def with_name(self, name: str) -> StorageNode:
        """A sibling called ``name``."""
        if not self._path:
            raise ValueError(f"{self.fullpath} has an empty name")
        if not name or "/" in name:
            raise ValueError(f"Invalid name {name!r}")
        return self.parent.child(name)

    def with_suffix(self, suffix: str) -> StorageNode:
        """A sibling with the extension replaced (``''`` removes it)."""
        if suffix and (not suffix.startswith(".") or suffix == "." or "/" in suffix):
            raise ValueError(f"Invalid suffix {suffix!r}")
        stem, _ = posixpath.splitext(self.basename)
        return self.with_name(stem + suffix)

    def __fspath__(self) -> str:
        """The real path on local disk; other mounts are not files ``open()`` can see.

        Only for mounts without a permission restriction: with the OS path anyone could
        write or delete behind a ``readonly``/``readwrite`` mount's back.
        """
        backend = self._require_backend()
        try:
            backend.check_write_allowed()
            backend.check_delete_allowed()
        except PermissionError as exc:
            raise TypeError(
                f"{self.fullpath}: no OS path for a mount with restricted permissions "
                f"({exc}); pass node.uri ({self.uri!r}) or node.open() instead"
            ) from None
        local = backend.os_path(self._p)
        if local is None:
            raise TypeError(
                f"{self.fullpath} is not on local disk: pass node.uri "
                f"({self.uri!r}) or node.open() to pandas and other readers"
            )
        return local

    # ------------------------------------------------------------------ state
    def is_file(self) -> bool:
        """pathlib's spelling of the ``isfile`` property."""
        return self._require_backend().is_file(self._p)

    def is_dir(self) -> bool:
        """pathlib's spelling of the ``isdir`` property."""
        return self._require_backend().is_dir(self._p)

    # ------------------------------------------------------------------ globbing
    def glob(self, pattern: str) -> Iterator[StorageNode]:
        """Nodes below this directory whose relative path matches ``pattern`` (sorted).

        ``*``, ``?`` and ``[...]`` stay within one path segment; ``**`` spans any depth.
        A pattern without ``/`` lists one directory; others walk the tree once.
        """
        if not pattern or pattern.startswith("/"):
            raise ValueError(f"Unacceptable pattern: {pattern!r}")
        backend = self._require_backend()
        base = self._p
        regex = _glob_regex(pattern)
        if "/" not in pattern and "**" not in pattern:
            names = [entry.name for entry in backend.list_detail(base)]
        else:
            cut = len(base) + 1 if base else 0
            names = [entry.path[cut:] for entry in backend.walk_files(base)]
        for rel in sorted(names):
            if regex.match(rel):
                yield self.child(rel)

    def rglob(self, pattern: str) -> Iterator[StorageNode]:
        """``glob('**/' + pattern)``: matches at any depth."""
        return self.glob(f"**/{pattern}")

    # ------------------------------------------------------------------ changes
    def touch(self, exist_ok: bool = True) -> None:
        """Create an empty file when missing (the content of an existing one is kept)."""
        if self._require_backend().exists(self._p):
            if not exist_ok:
                raise FileExistsError(f"File exists: {self.fullpath}")
            return
        self.write_bytes(b"")

    def unlink(self, missing_ok: bool = False) -> None:
        """Remove this file (``IsADirectoryError`` for a directory, as pathlib)."""
        backend = self._require_backend()
        try:
            entry = backend.info(self._p)
        except FileNotFoundError:
            if missing_ok:
                return
            raise FileNotFoundError(f"No such file: {self.fullpath}") from None
        if entry.is_dir:
            raise IsADirectoryError(f"Is a directory: {self.fullpath}: use delete()")
        self.delete()

    def rename(self, target: StorageNode | str) -> StorageNode:
        """Move to ``target`` (a node, ``'mount:path'``, or a path in this mount).

        An existing target file is replaced. Inside one local mount this is one atomic
        ``os.replace``; elsewhere a copy then a delete (what ``move_to`` does). Unlike
        ``move_to``, this node keeps naming the old path (as pathlib); the new node is
        returned.
        """
        dest = self._target_node(target)
        src_backend, dest_backend = self._require_backend(), dest._require_backend()
        src_os, dest_os = src_backend.os_path(self._p), dest_backend.os_path(dest._p)
        if src_os is not None and dest_os is not None and src_backend is dest_backend:
            src_backend.check_delete_allowed()
            src_backend.check_write_allowed()
            if not os.path.exists(src_os):
                raise FileNotFoundError(f"No such file: {self.fullpath}")
            os.makedirs(os.path.dirname(dest_os), exist_ok=True)
            os.replace(src_os, dest_os)
            return dest
        # move_to() turns the node into the destination (0.4.2); pathlib's rename
        # leaves the original object naming the old path
        mover = type(self)(self._manager, self._mount_name, self._path)  # type: ignore[call-arg]
        return mover.move_to(dest)

    def replace(self, target: StorageNode | str) -> StorageNode:
        """pathlib's ``replace``: ``rename`` that always overwrites (so does ``rename``)."""
        return self.rename(target)

    def _target_node(self, target: StorageNode | str) -> StorageNode:
        if not isinstance(target, str):
            return target
        if ":" in target:
            return self._manager.node(target)
        return self._manager.node(f"{self._mount_name}:{target}")
