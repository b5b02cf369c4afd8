"""Archives libarchive reads (7z, ISO 9660, RAR, cpio, xar, tar.zst...) through libarchive-c.

Read-only. Listing uses fsspec's ``libarchive`` filesystem. Contents are read with a
fresh handle on the archive each time, so readers never share a position: ``iter_bytes``
(copies, hashing, serving) streams the member block by block; ``open`` holds the whole
member (libarchive reads archives in sequence, there is no seeking inside a member).

Reading a member goes through every entry before it (decompressing a solid 7z block, say).
So the first read of a small member (:func:`~.archives.is_small`) reads all the small
members in one pass and keeps them (:class:`~.archives.SmallMembers`),
as TAR mounts do: serving a site out of an archive then costs one pass, not one a file.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Generator, Iterator
from typing import IO, Any

from ..capabilities import READ_ONLY
from ..fileio import is_write_mode
from .archives import SmallMembers, is_small
from .base import CHUNK_SIZE, text_wrapper
from .fsspec import FsspecBackend

__all__ = ["LibArchiveBackend", "create"]


class LibArchiveBackend(FsspecBackend):
    """The files inside one archive libarchive understands."""

    default_capabilities = READ_ONLY
    max_concurrency = 1

    def __init__(self, fs: Any, source: dict[str, Any], mount_name: str) -> None:
        super().__init__(fs, "", "libarchive", mount_name)
        self._source = source
        self._small: SmallMembers | None = None
        self._small_lock = threading.Lock()

    @contextlib.contextmanager
    def _entries(self) -> Iterator[Any]:
        import fsspec
        from fsspec.implementations.libarchive import custom_reader

        source = fsspec.open(self._source["fo"], "rb", **self._source["open"])
        with source as handle, custom_reader(handle) as archive:
            yield archive

    @staticmethod
    def _member_name(entry: Any) -> str:
        return str(entry.pathname).rstrip("/").removeprefix("./")

    def _small_members(self) -> SmallMembers:
        """Every small member (``archives.SmallMembers``), read in one pass."""
        with self._small_lock:
            if self._small is None:
                small = SmallMembers()
                with self._entries() as archive:
                    for entry in archive:
                        if entry.isfile and small.has_room(entry.size):
                            small.keep(self._member_name(entry), b"".join(entry.get_blocks()))
                        else:
                            _read_through(entry)
                self._small = small
            return self._small

    def _blocks(self, path: str) -> Generator[bytes, None, None]:
        entry_info = self.info(path)
        if entry_info.is_dir:
            raise IsADirectoryError(f"Is a directory: {path!r}")
        if is_small(entry_info.size):
            kept = self._small_members().get(path)
            if kept is not None:
                if kept:
                    yield kept
                return
        with self._entries() as archive:
            for entry in archive:
                if self._member_name(entry) == path:
                    yield from entry.get_blocks()
                    return
                _read_through(entry)
        raise FileNotFoundError(f"{self.describe()}: '{path}' not found")

    def iter_bytes(self, path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        for block in self._blocks(path):
            for start in range(0, len(block), chunk_size):
                yield bytes(block[start : start + chunk_size])

    def read_bytes(self, path: str) -> bytes:
        return b"".join(self._blocks(path))

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if is_write_mode(mode):
            self.check_write_allowed()
        raw = io.BytesIO(self.read_bytes(path))
        return text_wrapper(raw, mode)

    def read_range(self, path: str, start: int, end: int) -> bytes:
        # decompression is sequential: read up to `end`, keep only [start, end)
        out = bytearray()
        offset = 0
        with contextlib.closing(self._blocks(path)) as blocks:
            for block in blocks:
                if offset + len(block) > start:
                    out += block[max(0, start - offset) : end - offset]
                offset += len(block)
                if offset >= end:
                    break
        return bytes(out)


def _read_through(entry: Any) -> None:
    """Read a member's data and drop it, rather than let libarchive skip it: libarchive
    3.6's 7-Zip reader, skipping a large member of a compressed (solid) block, then
    fails the next member with "Truncated 7-Zip file body"."""
    for _ in entry.get_blocks():
        pass


def create(config: dict[str, Any], mount_name: str) -> LibArchiveBackend:
    from fsspec.implementations.libarchive import LibArchiveFileSystem

    options: dict[str, Any] = {"fo": config["file"]}
    open_options: dict[str, Any] = dict(config.get("target_options") or {})
    if config.get("target_protocol"):
        options["target_protocol"] = config["target_protocol"]
        open_options["protocol"] = config["target_protocol"]
    if config.get("target_options"):
        options["target_options"] = dict(config["target_options"])

    def connect() -> Any:
        return LibArchiveFileSystem(**options)

    backend = LibArchiveBackend(connect, {"fo": config["file"], "open": open_options}, mount_name)
    backend.connect()  # a missing archive fails at configure()
    return backend
