"""In-memory backend (fsspec's process-wide memory store), for tests and scratch data."""

from __future__ import annotations

import threading
from typing import IO, Any

from fsspec.implementations.memory import MemoryFile, MemoryFileSystem

from ..capabilities import BackendCapabilities
from ._publish import PublishOnClose
from .fsspec import FsspecBackend

__all__ = ["MemoryBackend"]

_CREATE_LOCK = threading.Lock()


class _MemoryFS(MemoryFileSystem):
    """fsspec's memory filesystem (the same process-wide store) with O(1) file lookups.

    fsspec's ``info`` scans every key of the store for a directory prefix before it looks
    the path up, so each stat of a file costs a pass over the whole store (a copy onto a
    memory mount of 10,000 files went quadratic). Files are looked up first here; only a
    path that is not a file pays the scan.
    """

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        filelike = self.store.get(path)
        if filelike is not None and path not in self.pseudo_dirs:
            return {
                "name": path,
                "size": filelike.size,
                "type": "file",
                "created": getattr(filelike, "created", None),
            }
        return dict(super().info(path, **kwargs))


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

    def __init__(self, base_path: str = "", mount_name: str = "", **_: Any) -> None:
        root = "/" + base_path.strip("/") if base_path.strip("/") else "/"
        super().__init__(_MemoryFS(), root, "memory", mount_name)

    def read_bytes(self, path: str) -> bytes:
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
