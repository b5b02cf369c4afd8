"""Relative mounts and the permission layer.

``{'name': 'child', 'path': 'parent:sub/dir', 'permissions': 'readonly'}`` makes a mount
that acts on ``parent:sub/dir/...`` with restricted rights. A ``permissions`` key on an
ordinary mount wraps it in the same layer with an empty prefix.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Iterator
from typing import IO, Any, Literal

from ..capabilities import BackendCapabilities
from ..errors import StoragePermissionError
from ..fileio import CHUNK_SIZE, is_write_mode
from ..paths import is_root
from .base import EntryInfo, StorageBackend

__all__ = ["PERMISSION_LEVELS", "PermissionLevel", "RelativeMountBackend", "writable_target"]

PermissionLevel = Literal["readonly", "readwrite", "delete"]
PERMISSION_LEVELS: tuple[str, ...] = ("readonly", "readwrite", "delete")


class RelativeMountBackend(StorageBackend):
    """Delegates to ``parent`` under ``prefix``, enforcing ``permissions``."""

    def __init__(
        self,
        parent: StorageBackend,
        prefix: str = "",
        permissions: PermissionLevel = "delete",
        mount_name: str = "",
    ) -> None:
        self.prefix = prefix.strip("/")
        scoped = parent.scoped(self.prefix) if self.prefix else None
        if scoped is not None:
            # containment (symlinks) against this mount's own root, not the parent's
            parent, self.prefix = scoped, ""
        self.parent = parent
        self.permissions = permissions
        self.mount_name = mount_name
        self.protocol = parent.protocol
        self.path_is_content = parent.path_is_content
        self.max_concurrency = parent.max_concurrency
        self.in_process = parent.in_process
        self.batch_in_flight = parent.batch_in_flight

    @property
    def capabilities(self) -> BackendCapabilities:
        """The parent's flags, minus what the permission level refuses.

        0.4.2 always returned the parent's object, so a readonly mount claimed
        ``write=True``; capabilities tell the truth here. At ``delete`` level (the
        default) the parent's object is returned unchanged.
        """
        caps = self.parent.capabilities
        if self.permissions == "readonly":
            return caps.evolve(
                readonly=True, write=False, delete=False, mkdir=False, append_mode=False
            )
        if self.permissions == "readwrite":
            return caps.evolve(delete=False)
        return caps

    @property
    def base_path(self) -> Any:
        return getattr(self.parent, "base_path", None)

    def scoped(self, prefix: str) -> StorageBackend | None:
        inner = self.parent.scoped(self._p(prefix))
        if inner is None:
            return None
        return RelativeMountBackend(inner, "", self.permissions, self.mount_name)

    def tuned(
        self, part_size: int | None = None, part_concurrency: int | None = None
    ) -> StorageBackend:
        parent = self.parent.tuned(part_size, part_concurrency)
        if parent is self.parent:
            return self
        twin = copy.copy(self)
        twin.parent = parent
        return twin

    def _p(self, path: str) -> str:
        if not self.prefix:
            return path
        return f"{self.prefix}/{path}" if path else self.prefix

    def resolve(self, path: str) -> tuple[StorageBackend, str]:
        return self.parent.resolve(self._p(path))

    def _unprefix(self, path: str) -> str:
        if self.prefix and path.startswith(self.prefix + "/"):
            return path[len(self.prefix) + 1 :]
        return "" if path == self.prefix else path

    def check_write_allowed(self) -> None:
        if self.permissions == "readonly":
            raise StoragePermissionError(
                f"Mount is read-only: '{self.mount_name}' does not allow writes"
            )
        self.parent.check_write_allowed()

    def check_delete_allowed(self) -> None:
        if self.permissions != "delete":
            raise StoragePermissionError(
                f"Mount '{self.mount_name}' does not have delete permission "
                f"(current: {self.permissions})"
            )
        self.parent.check_delete_allowed()

    # ------------------------------------------------------------------ reads
    def info(self, path: str) -> EntryInfo:
        return _renamed(self.parent.info(self._p(path)), path)

    def info_or_none(self, path: str) -> EntryInfo | None:
        entry = self.parent.info_or_none(self._p(path))
        return None if entry is None else _renamed(entry, path)

    def exists(self, path: str) -> bool:
        return self.parent.exists(self._p(path))

    def is_file(self, path: str) -> bool:
        return self.parent.is_file(self._p(path))

    def is_dir(self, path: str) -> bool:
        return self.parent.is_dir(self._p(path))

    def size(self, path: str) -> int:
        return self.parent.size(self._p(path))

    def mtime(self, path: str) -> float:
        return self.parent.mtime(self._p(path))

    def list_dir(self, path: str) -> list[str]:
        return self.parent.list_dir(self._p(path))

    def list_detail(self, path: str) -> list[EntryInfo]:
        prefix = f"{path}/" if path else ""
        return [_renamed(e, prefix + e.name) for e in self.parent.list_detail(self._p(path))]

    def list_page(
        self, path: str, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[EntryInfo], str | None]:
        prefix = f"{path}/" if path else ""
        entries, after = self.parent.list_page(self._p(path), cursor, limit)
        return [_renamed(e, prefix + e.name) for e in entries], after

    def walk_files(self, path: str) -> Iterator[EntryInfo]:
        for e in self.parent.walk_files(self._p(path)):
            yield _renamed(e, self._unprefix(e.path))

    def read_bytes(self, path: str) -> bytes:
        return self.parent.read_bytes(self._p(path))

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return self.parent.read_text(self._p(path), encoding)

    def read_range(self, path: str, start: int, end: int) -> bytes:
        return self.parent.read_range(self._p(path), start, end)

    def iter_bytes(self, path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        return self.parent.iter_bytes(self._p(path), chunk_size)

    def get_hash(self, path: str) -> str | None:
        return self.parent.get_hash(self._p(path))

    def stored_md5(self, entry: EntryInfo) -> str | None:
        return self.parent.stored_md5(entry)

    def compute_md5(self, path: str) -> str:
        return self.parent.compute_md5(self._p(path))

    def get_metadata(self, path: str) -> dict[str, str]:
        return self.parent.get_metadata(self._p(path))

    def get_versions(self, path: str) -> list[dict[str, Any]]:
        return self.parent.get_versions(self._p(path))

    def open_version(self, path: str, version_id: str, mode: str = "rb") -> IO[Any]:
        return self.parent.open_version(self._p(path), version_id, mode)

    def url(self, path: str, expires_in: int = 3600, **kwargs: Any) -> str | None:
        return self.parent.url(self._p(path), expires_in, **kwargs)

    def internal_url(self, path: str, nocache: bool = False) -> str | None:
        return self.parent.internal_url(self._p(path), nocache)

    def public_url(self, path: str) -> str | None:
        return self.parent.public_url(self._p(path))

    def transfer_attempts(self) -> int:
        return self.parent.transfer_attempts()

    def os_path(self, path: str) -> str | None:
        return self.parent.os_path(self._p(path))

    def local_stat(self, path: str) -> tuple[str, os.stat_result] | None:
        """The parent's ``(os_path, stat)`` of the file, or None when it is not local."""
        return self.parent.local_stat(self._p(path))

    # ------------------------------------------------------------------ writes
    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        if is_write_mode(mode):
            self.check_write_allowed()
        return self.parent.open(self._p(path), mode, **kwargs)

    def open_write(self, path: str, mode: str, on_new_path: Callable[[str], None]) -> IO[Any]:
        self.check_write_allowed()
        return self.parent.open_write(self._p(path), mode, on_new_path)

    def write_bytes(self, path: str, data: bytes) -> str | None:
        self.check_write_allowed()
        return self.parent.write_bytes(self._p(path), data)

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> str | None:
        self.check_write_allowed()
        return self.parent.write_text(self._p(path), text, encoding)

    def write_stream(self, path: str, chunks: Any) -> str | None:
        self.check_write_allowed()
        return self.parent.write_stream(self._p(path), chunks)

    def save_stream(
        self, path: str, chunks: Any, *, exclusive: bool = False, content_type: str | None = None
    ) -> str | None:
        self.check_write_allowed()
        return self.parent.save_stream(
            self._p(path), chunks, exclusive=exclusive, content_type=content_type
        )

    def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        self.check_write_allowed()
        self.parent.mkdir(self._p(path), parents, exist_ok)

    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        self.check_write_allowed()
        self.parent.set_metadata(self._p(path), metadata)

    def delete(self, path: str, recursive: bool = False) -> None:
        self.check_delete_allowed()
        self.refuse_root_delete(path)  # this mount's root, even when the parent's is deeper
        self.parent.delete(self._p(path), recursive)

    def cleanup(
        self, path: str = "", older_than: float = 3600.0, dry_run: bool = False
    ) -> list[str]:
        self.check_write_allowed()
        found = self.parent.cleanup(self._p(path), older_than, dry_run)
        return [self._unprefix(p) for p in found]

    def delete_version(self, path: str, version_id: str) -> None:
        self.check_delete_allowed()
        self.parent.delete_version(self._p(path), version_id)

    def server_side_copy(self, src_path: str, dest_path: str) -> bool:
        self.check_write_allowed()
        return self.parent.server_side_copy(self._p(src_path), self._p(dest_path))

    def copy(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        target, dest_path = _unwrap_for_write(dest_backend, dest_path)
        return self.parent.copy(self._p(src_path), target, dest_path)

    def copy_file(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        target, dest_path = _unwrap_for_write(dest_backend, dest_path)
        return self.parent.copy_file(self._p(src_path), target, dest_path)

    def quick_copy(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> bool:
        """The parent's one-step copy, both ends mapped to the innermost backends' paths;
        False (nothing done) for a mount root at either end or a read-only destination:
        the general route reports those in its own order."""
        if is_root(src_path):
            return False
        target = writable_target(dest_backend, dest_path)
        if target is None:
            return False
        return self.parent.quick_copy(self._p(src_path), *target)

    def upload_file(self, os_path: str, path: str) -> str | None:
        self.check_write_allowed()
        return self.parent.upload_file(os_path, self._p(path))

    @property
    def implicit_dirs(self) -> bool:  # type: ignore[override]
        return self.parent.implicit_dirs

    @contextlib.contextmanager
    def local_path(self, path: str, mode: str = "r") -> Iterator[str]:
        if mode != "r":
            self.check_write_allowed()
        with self.parent.local_path(self._p(path), mode) as local:
            yield local

    def close(self) -> None:
        """The parent mount stays usable: nothing to release here."""


def _renamed(entry: EntryInfo, path: str) -> EntryInfo:
    """The parent's ``entry`` under this mount's ``path``."""
    return EntryInfo(path, entry.is_dir, entry.size, entry.mtime, entry.etag, entry.md5)


def writable_target(backend: StorageBackend, path: str) -> tuple[StorageBackend, str] | None:
    """The innermost backend and path under relative wrappers (``backend`` and ``path``
    themselves for any other backend), for a one-step copy (``quick_copy``) onto
    ``path``; None when ``path`` is a mount root or a wrapper is read-only (the caller
    takes its general route, which reports it)."""
    if is_root(path):
        return None
    try:
        return _unwrap_for_write(backend, path)
    except StoragePermissionError:
        return None


def _unwrap_for_write(backend: StorageBackend, path: str) -> tuple[StorageBackend, str]:
    """The innermost backend and path under relative wrappers, checking each allows writes."""
    while isinstance(backend, RelativeMountBackend):
        backend.check_write_allowed()
        path = backend._p(path)
        backend = backend.parent
    return backend, path
