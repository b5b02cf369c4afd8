"""Local filesystem backend: the OS directly (stat, rename, sendfile-friendly paths)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Union

from ..capabilities import BackendCapabilities
from ..errors import PathTraversalError, StorageConfigError
from ..fileio import is_write_mode
from ..paths import resolve_within
from ._atomic import AtomicWriter
from ._create import create_new
from .base import EntryInfo, StorageBackend

__all__ = ["LocalStorage"]

PathSource = Union[str, "os.PathLike[str]", Callable[[], Any]]


class LocalStorage(StorageBackend):
    """A directory on local disk. ``path`` may be a zero-argument callable (per-user roots)."""

    protocol = "local"

    def __init__(self, path: PathSource, mount_name: str = "") -> None:
        self.mount_name = mount_name
        self._resolved: str | None = None
        if callable(path):
            self._source: PathSource = path
            return
        root = Path(path)
        if not root.is_absolute():
            raise ValueError(f"Local storage path must be absolute, got {str(path)!r}")
        if not root.exists():
            raise FileNotFoundError(f"Local storage path does not exist: {str(path)!r}")
        if not root.is_dir():
            raise ValueError(f"Local storage path is not a directory: {str(path)!r}")
        self._source = root
        resolved = os.path.realpath(root)
        # A root reached through no symlink is resolved once; a symlinked root (a deploy's
        # ``current -> releases/N``) is resolved on every access, so a swap is followed.
        self._resolved = resolved if resolved == os.path.abspath(root) else None

    @property
    def base_path(self) -> Path:
        """The mount root, resolved now (callable roots are called each time)."""
        return Path(self._root())

    def _root(self) -> str:
        """The real path of the mount root (resolved once when no symlink leads to it)."""
        if self._resolved is not None:
            return self._resolved
        source = self._source
        value = source() if callable(source) else source
        if not isinstance(value, (str, os.PathLike)):
            raise StorageConfigError(
                f"path callable of mount '{self.mount_name}' returned {type(value).__name__}"
            )
        return os.path.realpath(value)

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities(symbolic_links=sys.platform != "win32", copy_optimization=True)

    def _full(self, path: str) -> Path:
        return Path(resolve_within(self._root(), path)[0])

    def os_path(self, path: str) -> str:
        return resolve_within(self._root(), path)[0]

    def local_stat(self, path: str) -> tuple[str, os.stat_result]:
        """``(os_path(path), its stat)`` with as few system calls as the path allows.

        Under a root reached through no symlink, a file with no symlink on its way costs one
        ``lstat`` per path segment and nothing else. Raises like ``os.stat`` (and
        :class:`PathTraversalError` for a symlink leading out of the mount).
        """
        resolved, found = resolve_within(self._root(), path)
        return resolved, found if found is not None else os.stat(resolved)

    # ------------------------------------------------------------------ primitives
    def info(self, path: str) -> EntryInfo:
        st = self.local_stat(path)[1]
        is_dir = stat.S_ISDIR(st.st_mode)
        return EntryInfo(
            path=path, is_dir=is_dir, size=0 if is_dir else st.st_size, mtime=st.st_mtime
        )

    def exists(self, path: str) -> bool:
        return self._full(path).exists()

    def is_file(self, path: str) -> bool:
        return self._full(path).is_file()

    def is_dir(self, path: str) -> bool:
        return self._full(path).is_dir()

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        full = self._full(path)
        if is_write_mode(mode):
            full.parent.mkdir(parents=True, exist_ok=True)
            if mode.replace("t", "") in ("w", "wb"):
                return AtomicWriter(full, mode)  # type: ignore[return-value]
        if "b" in mode:
            return open(full, mode)
        return open(full, mode, encoding="utf-8")

    def list_dir(self, path: str) -> list[str]:
        full = self._full(path)
        if not full.exists():
            raise FileNotFoundError(f"Directory not found: {path!r}")
        if not full.is_dir():
            raise ValueError(f"Not a directory: {path!r}")
        return os.listdir(full)

    def list_detail(self, path: str) -> list[EntryInfo]:
        full = self._full(path)
        prefix = f"{path}/" if path else ""
        out = []
        with os.scandir(full) as it:
            for entry in it:
                try:
                    st = entry.stat()
                except OSError:  # a dangling link, a link loop (ELOOP): nothing to list
                    continue
                is_dir = entry.is_dir()
                out.append(
                    EntryInfo(
                        path=prefix + entry.name,
                        is_dir=is_dir,
                        size=0 if is_dir else st.st_size,
                        mtime=st.st_mtime,
                    )
                )
        return out

    def delete(self, path: str, recursive: bool = False) -> None:
        full = self._full(path)
        if full == self.base_path and not path:
            raise PathTraversalError("Refusing to delete the mount root")
        if full.is_dir() and not full.is_symlink():
            if recursive:
                shutil.rmtree(full)
            elif any(full.iterdir()):
                raise ValueError(f"Directory not empty: {path!r} (use recursive=True)")
            else:
                full.rmdir()
        else:
            with contextlib.suppress(FileNotFoundError):
                full.unlink()

    def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        self._full(path).mkdir(parents=parents, exist_ok=exist_ok)

    # ------------------------------------------------------------------ faster paths
    def read_bytes(self, path: str) -> bytes:
        return self._full(path).read_bytes()

    def write_bytes(self, path: str, data: bytes) -> None:
        full = self._full(path)
        full.parent.mkdir(parents=True, exist_ok=True)
        with AtomicWriter(full, "wb") as fh:
            fh.write(data)

    def write_stream(self, path: str, chunks: Any) -> None:
        full = self._full(path)
        full.parent.mkdir(parents=True, exist_ok=True)
        with AtomicWriter(full, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)

    def save_stream(
        self, path: str, chunks: Any, *, exclusive: bool = False, content_type: str | None = None
    ) -> None:
        if exclusive:
            create_new(self._full(path), chunks)
        else:
            self.write_stream(path, chunks)

    def copy(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        if isinstance(dest_backend, LocalStorage) and self._full(src_path).is_dir():
            shutil.copytree(self._full(src_path), dest_backend._full(dest_path), dirs_exist_ok=True)
            return None
        return super().copy(src_path, dest_backend, dest_path)

    def upload_file(self, os_path: str, path: str) -> None:
        """Copy a local file here: temp file + rename, keeping the source's times and mode."""
        dest = self._full(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        writer = AtomicWriter(dest, "wb")
        try:
            with open(os_path, "rb") as fh:
                shutil.copyfileobj(fh, writer, 1024 * 1024)
        except BaseException:
            writer.discard()
            raise
        writer.close()
        shutil.copystat(os_path, dest)

    def receive_file(self, path: str, fill: Callable[[str], None]) -> None:
        """``fill`` writes a temp file beside the target, renamed into place on success."""
        dest = self._full(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        writer = AtomicWriter(dest, "wb")
        try:
            writer.flush()
            fill(writer.temp_path)
        except BaseException:
            writer.discard()
            raise
        writer.close()

    @contextlib.contextmanager
    def local_path(self, path: str, mode: str = "r") -> Iterator[str]:
        full = self._full(path)
        if mode in ("w", "rw"):
            full.parent.mkdir(parents=True, exist_ok=True)
        yield str(full)


def create(config: dict[str, Any], mount_name: str) -> LocalStorage:
    return LocalStorage(config["path"], mount_name)
