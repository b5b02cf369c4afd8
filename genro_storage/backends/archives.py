"""ZIP and TAR archives as mounts, through fsspec's ``zip`` and ``tar`` drivers.

``file`` is the archive's path (or URL with ``target_protocol``/``target_options``); a
missing archive fails at ``configure()``. TAR mounts (plain, gz, bz2, xz; compression
inferred from the name unless given) are read-only. ZIP mounts are read-only in the
default mode ``'r'``; in mode ``'w'`` or ``'a'`` files can be added, and the archive is
finalised when the mount is closed (``manager.close()`` / ``remove_mount``).

A compressed TAR is one stream: reading a member that lies before the last one read
decompresses the archive again from its start. So the index pass, which decompresses the
whole stream once anyway, also keeps the small members (:data:`SMALL_MEMBER`, up to
:data:`SMALL_BUDGET` in all); they are then read from memory, in any order.
"""

from __future__ import annotations

import functools
import io
import re
import tarfile
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from ..capabilities import READ_ONLY, BackendCapabilities
from ..fileio import is_write_mode
from .base import EntryInfo, StorageBackend, text_wrapper
from .fsspec import FsspecBackend

__all__ = [
    "SMALL_BUDGET",
    "SMALL_MEMBER",
    "ArchiveBackend",
    "LockedReader",
    "SmallMembers",
    "create",
    "is_small",
]

#: members up to this size are kept in memory: by a compressed TAR mount's index pass, by
#: a libarchive mount's first read of one (backends/libarchive.py)
SMALL_MEMBER = 256 * 1024
#: the most one mount keeps of its small members
SMALL_BUDGET = 16 * 1024 * 1024


def is_small(size: int | None) -> bool:
    """Whether a member of ``size`` bytes is one a mount keeps (:data:`SMALL_MEMBER`)."""
    return size is not None and size <= SMALL_MEMBER


class SmallMembers(dict[str, bytes]):
    """The small members one mount keeps, by name, :data:`SMALL_BUDGET` bytes at most."""

    def __init__(self) -> None:
        super().__init__()
        self.kept = 0

    def has_room(self, size: int | None) -> bool:
        return is_small(size) and self.kept + (size or 0) <= SMALL_BUDGET

    def keep(self, name: str, data: bytes) -> None:
        self[name] = data
        self.kept += len(data)


ZIP_WRITABLE = BackendCapabilities(
    delete=False, mkdir=False, atomic_operations=False, append_mode=False
)


class LockedReader(io.RawIOBase):
    """A member's reader over an archive file shared by every open member.

    TAR members read through one file object (seek, then read); each call here holds
    the mount's lock so concurrent readers cannot move the position under each other.
    """

    def __init__(self, raw: IO[bytes], lock: threading.Lock) -> None:
        super().__init__()
        self._raw = raw
        self._lock = lock

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._lock:
            data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with self._lock:
            return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        if not self.closed:
            with self._lock:
                self._raw.close()
        super().close()


class ArchiveBackend(FsspecBackend):
    """The files inside one archive."""

    max_concurrency = 1  # one archive file, read in sequence: threads gain nothing
    # a ZIP member cannot be renamed or removed: it is written in place, and the archive
    # as a whole is complete once the mount is closed (the central directory goes last)
    write_strategy = "buffered"

    def __init__(self, fs: Any, kind: str, mount_name: str, caps: BackendCapabilities) -> None:
        super().__init__(fs, "", kind, mount_name, caps)
        self._read_lock = threading.Lock()

    def _entry(self, info: dict[str, Any], path: str | None = None) -> EntryInfo:
        entry = super()._entry(info, path)
        stamp = info.get("date_time")  # ZIP: local time, no zone (as the format stores it)
        if entry.mtime is None and isinstance(stamp, (tuple, list)) and len(stamp) == 6:
            return EntryInfo(
                entry.path, entry.is_dir, entry.size, datetime(*stamp).timestamp(), entry.etag
            )
        return entry

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if is_write_mode(mode):
            return super().open(path, mode)
        with self._read_lock:
            raw = self.fs.open(self._full(path), "rb")
        reader = io.BufferedReader(LockedReader(raw, self._read_lock))
        return text_wrapper(reader, mode)

    def read_bytes(self, path: str) -> bytes:
        if self.is_dir(path):
            raise IsADirectoryError(f"Is a directory: {path!r}")
        return StorageBackend.read_bytes(self, path)

    # through open(): the archive driver reads members via the locked file object
    read_range = StorageBackend.read_range

    def close(self) -> None:
        """Finalise a ZIP opened for writing (central directory); release the file."""
        if self._fs is not None and getattr(self._fs, "mode", "r") in ("w", "a"):
            self._fs.close()


def create(config: dict[str, Any], mount_name: str) -> ArchiveBackend:
    kind = str(config["type"])
    options: dict[str, Any] = {"fo": config["file"]}
    if config.get("target_protocol"):
        options["target_protocol"] = config["target_protocol"]
    if config.get("target_options"):
        options["target_options"] = dict(config["target_options"])
    if kind == "zip":
        from fsspec.implementations.zip import ZipFileSystem

        mode = str(config.get("mode") or "r")
        caps = READ_ONLY if mode == "r" else ZIP_WRITABLE

        def connect() -> Any:
            return ZipFileSystem(mode=mode, **options)

    else:
        caps = READ_ONLY
        if config.get("compression"):
            options["compression"] = config["compression"]

        def connect() -> Any:
            return _tar_filesystem()(**options)

    backend = ArchiveBackend(connect, kind, mount_name, caps)
    backend.connect()  # a missing or unreadable archive fails at configure()
    return backend


class _KeepingSmallMembers:
    """``tar`` as fsspec's index pass walks it, reading each small member as it passes
    (its data lies just before the next header, which tarfile reads next)."""

    def __init__(self, tar: tarfile.TarFile, fo: Any, small: SmallMembers) -> None:
        self._tar, self._fo, self._small = tar, fo, small

    def __iter__(self) -> Iterator[tarfile.TarInfo]:
        for member in self._tar:
            if member.isreg() and self._small.has_room(member.size):
                self._fo.seek(member.offset_data)
                self._small.keep(member.name, self._fo.read(member.size))
            yield member

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tar, name)


@functools.cache
def _tar_filesystem() -> type:
    """fsspec's ``TarFileSystem``, keeping the small members of a compressed archive."""
    import bz2
    import gzip
    import lzma

    from fsspec.implementations.tar import TarFileSystem

    class SmallMembersTar(TarFileSystem):
        tar: Any  # tarfile.TarFile, or it wrapped for the index pass
        small: SmallMembers

        def _index(self) -> None:
            self.small = SmallMembers()
            if not isinstance(self.fo, (bz2.BZ2File, gzip.GzipFile, lzma.LZMAFile)):
                super()._index()  # not compressed: seeking back costs nothing
                return
            tar = self.tar
            self.tar = _KeepingSmallMembers(tar, self.fo, self.small)
            try:
                super()._index()
            finally:
                self.tar = tar

        def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
            found = self.index.get(re.sub("/+", "/", path)) if mode == "rb" else None
            data = self.small.get(found[2]) if found and found[0]["type"] == "file" else None
            if data is None:
                return super()._open(path, mode, **kwargs)
            out = io.BytesIO(data)
            out.size = len(data)  # type: ignore[attr-defined]
            return out

    return SmallMembersTar
