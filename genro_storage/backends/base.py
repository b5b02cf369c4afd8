"""The backend interface: a few primitives every backend implements, the rest derived.

Paths given to a backend are already normalised, mount-relative POSIX strings
(``''`` is the mount root); backends never see ``..``. A backend never imports the
manager or the node.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from ..capabilities import BackendCapabilities
from ..errors import CapabilityError, MountRootError, StorageIsADirectoryError
from ..fileio import CHUNK_SIZE, md5_hex
from ..paths import is_root
from ._batch import CopyStarter
from ._publish import LocalReceipt

__all__ = ["CHUNK_SIZE", "EntryInfo", "StorageBackend", "entry_mtime"]

UPLOAD_CHUNK = 1024 * 1024  # read size when a local file feeds a remote write


@dataclass(frozen=True, init=False)
class EntryInfo:
    """One stat of a file or directory, as cheap as the backend can give it."""

    path: str
    is_dir: bool
    size: int
    mtime: float | None = None
    etag: str | None = None  # opaque version token from the server, unquoted
    md5: str | None = None  # content MD5 (hex) when the server stores one

    def __init__(
        self,
        path: str,
        is_dir: bool,
        size: int,
        mtime: float | None = None,
        etag: str | None = None,
        md5: str | None = None,
    ) -> None:
        # The fields are set once, here, in the instance dict: the generated __init__ of
        # a frozen dataclass calls object.__setattr__ per field (0.9 us against 0.4 us,
        # once per entry of every listing and walk)
        self.__dict__.update(path=path, is_dir=is_dir, size=size, mtime=mtime, etag=etag, md5=md5)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def entry_mtime(entry: EntryInfo) -> float:
    """The modification time of an entry; now when the backend keeps none."""
    return time.time() if entry.mtime is None else entry.mtime


class StorageBackend(ABC):
    """Abstract base of all backends.

    Subclasses implement :meth:`info`, :meth:`open`, :meth:`list_dir`, :meth:`delete` and
    :meth:`mkdir` (and override anything they can do faster); everything else has a
    default built on those.
    """

    protocol: str = "abstract"
    mount_name: str = ""
    #: True when directories exist only as prefixes of file paths (object stores): a
    #: write needs no ``mkdir`` of its parents, and an empty directory cannot be kept.
    implicit_dirs: bool = False
    #: True when the path *is* the content (``base64``): the manager never normalises
    #: it, and a write gives the file a new path (see :meth:`open_write`).
    path_is_content: bool = False
    #: The most transfers the copy engine may run at once on this backend; None = no
    #: limit of its own (an archive read through one file handle says 1).
    max_concurrency: int | None = None
    #: True when the async API may run this backend's fsspec coroutines on the event
    #: loop instead of a worker thread (see ``engine/aio_native.py``).
    native_async: bool = False
    #: True when no operation ever waits (no network, no disk: ``memory``): the copy
    #: engine copies between two such backends serially by default, as threads would
    #: only contend for the GIL.
    in_process: bool = False
    #: Files in flight on this backend's batch route (:meth:`copy_starter`: coroutines on
    #: the client's event loop, no thread each) when the caller gives no ``max_workers``;
    #: None = the engine's thread count. Round trips bound small-file copies: N in flight
    #: cap them at N / RTT files per second.
    batch_in_flight: int | None = None

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities()

    def describe(self) -> str:
        """How error messages name this mount."""
        return f"mount '{self.mount_name}' ({self.protocol})" if self.mount_name else self.protocol

    # ------------------------------------------------------------------ primitives
    @abstractmethod
    def info(self, path: str) -> EntryInfo:
        """Stat ``path``; raise ``FileNotFoundError`` when it does not exist."""

    @abstractmethod
    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        """Open a file object."""

    @abstractmethod
    def list_dir(self, path: str) -> list[str]:
        """Names (not paths) of the entries of a directory."""

    @abstractmethod
    def delete(self, path: str, recursive: bool = False) -> None:
        """Remove a file or directory; a missing path is a no-op."""

    @abstractmethod
    def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        """Create a directory."""

    def scoped(self, prefix: str) -> StorageBackend | None:
        """This backend rooted at ``prefix``, where containment needs its own root.

        Local disks return a backend whose symlink containment is checked against
        ``prefix`` (relative mounts use it); others return None (paths are joined).
        """
        return None

    def tuned(
        self, part_size: int | None = None, part_concurrency: int | None = None
    ) -> StorageBackend:
        """This backend with one call's transfer settings (``copy_to(part_size=...)``):
        a twin sharing the client, or this same backend when it has no such settings
        (local disks, memory) or none is given. A bad value raises
        :class:`~genro_storage.errors.StorageConfigError` naming the mount."""
        return self

    def resolve(self, path: str) -> tuple[StorageBackend, str]:
        """The backend that really holds ``path``, and the path there: this one, except
        under a relative mount (its parent's, prefixed). The native async edge uses it."""
        return self, path

    def refuse_root_delete(self, path: str) -> None:
        """Raise :class:`MountRootError` when ``path`` is the mount root in any spelling.

        Every ``delete`` calls this first: a mount root (and so a bucket, container or
        share) is never deleted by the library, whatever path reaches it.
        """
        if is_root(path):
            raise MountRootError(
                f"Refusing to delete the root of {self.describe()} (path {path!r}): "
                f"a mount root, bucket, container or share is never deleted; "
                f"delete its entries instead"
            )

    def refuse_root_write(self, path: str) -> None:
        """Raise :class:`StorageIsADirectoryError` when a file write targets the mount root."""
        if is_root(path):
            raise StorageIsADirectoryError(
                f"{self.describe()}: the mount root is a directory, a file cannot be written "
                f"onto it (path {path!r})"
            )

    def check_write_allowed(self) -> None:
        """Raise ``StoragePermissionError`` when this mount refuses writes (permission layer)."""

    def check_delete_allowed(self) -> None:
        """Raise ``StoragePermissionError`` when this mount refuses deletes (permission layer)."""

    # ------------------------------------------------------------------ derived state
    def info_or_none(self, path: str) -> EntryInfo | None:
        """:meth:`info`, or None when ``path`` does not exist (any other error raises).

        What the copy engine asks of every destination. Backends that can tell "missing"
        without raising and catching an exception (memory, local disk) override it: an
        exception costs microseconds, as much as a whole memory lookup.
        """
        try:
            return self.info(path)
        except FileNotFoundError:
            return None

    def exists(self, path: str) -> bool:
        try:
            self.info(path)
        except FileNotFoundError:
            return False
        return True

    def is_file(self, path: str) -> bool:
        try:
            return not self.info(path).is_dir
        except FileNotFoundError:
            return False

    def is_dir(self, path: str) -> bool:
        try:
            return self.info(path).is_dir
        except FileNotFoundError:
            return False

    def size(self, path: str) -> int:
        entry = self.info(path)
        if entry.is_dir:
            raise ValueError(f"Cannot get size of a directory: {path!r}")
        return entry.size

    def mtime(self, path: str) -> float:
        return entry_mtime(self.info(path))

    def list_detail(self, path: str) -> list[EntryInfo]:
        """The entries of a directory with their stats (one listing where possible)."""
        prefix = f"{path}/" if path else ""
        return [self.info(prefix + name) for name in self.list_dir(path)]

    def list_page(
        self, path: str, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[EntryInfo], str | None]:
        """One page of a directory, by name: ``(entries, next cursor or None)``.

        ``cursor`` is opaque: pass back the one a page returned to get the next. This
        default lists the whole directory and slices it (the cursor is the last name);
        object stores override it with one listing request per page.
        """
        entries = sorted(self.list_detail(path), key=lambda e: e.name)
        if cursor:
            entries = [e for e in entries if e.name > cursor]
        page = entries[: max(1, limit)]
        more = len(entries) > len(page)
        return page, (page[-1].name if more and page else None)

    def walk_files(self, path: str) -> Iterator[EntryInfo]:
        """Every file below ``path``, depth-first, directories included as entries."""
        for entry in self.list_detail(path):
            yield entry
            if entry.is_dir:
                yield from self.walk_files(entry.path)

    # ------------------------------------------------------------------ content
    def read_bytes(self, path: str) -> bytes:
        with self.open(path, "rb") as fh:
            return bytes(fh.read())

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    def read_range(self, path: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` without reading the rest of the file."""
        with self.open(path, "rb") as fh:
            fh.seek(start)
            return bytes(fh.read(end - start))

    def write_bytes(self, path: str, data: bytes) -> str | None:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent:
            self.mkdir(parent, parents=True, exist_ok=True)
        with self.open(path, "wb") as fh:
            fh.write(data)
        return None

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> str | None:
        return self.write_bytes(path, text.encode(encoding))

    def write_stream(self, path: str, chunks: Any) -> str | None:
        """Write an iterable of byte chunks (never holding the whole content)."""
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent:
            self.mkdir(parent, parents=True, exist_ok=True)
        with self.open(path, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        return None

    def save_stream(
        self, path: str, chunks: Any, *, exclusive: bool = False, content_type: str | None = None
    ) -> str | None:
        """:meth:`write_stream`, refusing an existing ``path`` with ``exclusive``.

        ``content_type`` is recorded where the backend stores one (object stores). With
        ``exclusive`` an existing file raises ``FileExistsError``; backends that can decide
        it atomically (local disk, memory, S3, GCS, Azure, SFTP) override this check-then-
        write fallback, whose short window can let two writers both see the name free.
        """
        if exclusive and self.exists(path):
            raise FileExistsError(f"{self.describe()}: {path!r} already exists")
        return self.write_stream(path, chunks)

    def iter_bytes(self, path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        with self.open(path, "rb") as fh:
            while chunk := fh.read(chunk_size):
                yield chunk

    # ------------------------------------------------------------------ hashing
    def get_hash(self, path: str) -> str | None:
        """A stored content MD5 (no download), or ``None``."""
        return None

    def stored_md5(self, entry: EntryInfo) -> str | None:
        """The content MD5 the storage keeps for ``entry`` (from :meth:`info`), when this
        backend trusts it; ``None`` means: stream the content to hash it."""
        return entry.md5

    def compute_md5(self, path: str) -> str:
        return md5_hex(self.iter_bytes(path))

    # ------------------------------------------------------------------ copy
    def copy(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        """Copy a file or tree to exactly ``dest_path``; returns the new dest path or None."""
        if self.is_dir(src_path):
            if not dest_backend.exists(dest_path):
                dest_backend.mkdir(dest_path, parents=True, exist_ok=True)
            for name in self.list_dir(src_path):
                src_child = f"{src_path}/{name}" if src_path else name
                dest_child = f"{dest_path}/{name}" if dest_path else name
                self.copy(src_child, dest_backend, dest_child)
            return None
        return self.copy_file(src_path, dest_backend, dest_path)

    def copy_file(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        """Copy one file (known not to be a directory) by the cheapest route available.

        Local bytes go through ``dest_backend.upload_file`` (which may upload in parallel
        parts); anything else streams. Backends override this for server-side copies.
        """
        os_path = self.os_path(src_path)
        if os_path is not None:
            return dest_backend.upload_file(os_path, dest_path)
        if self.native_download and dest_backend.os_path(dest_path) is not None:
            return dest_backend.receive_file(
                dest_path, lambda tmp: self.download_file(src_path, tmp)
            )
        return dest_backend.write_stream(dest_path, self.iter_bytes(src_path))

    #: whether :meth:`download_file` beats streaming (one GET, or parallel ranged GETs)
    native_download = False

    def upload_file(self, os_path: str, path: str) -> str | None:
        """Write the content of the local file ``os_path`` to ``path`` (atomically)."""
        with open(os_path, "rb") as fh:
            return self.write_stream(path, iter(lambda: fh.read(UPLOAD_CHUNK), b""))

    def download_file(self, path: str, os_path: str) -> None:
        """Write the content of ``path`` into the local file ``os_path`` (created or
        truncated; the caller makes it atomic). Object stores override this with their
        client's native download."""
        with open(os_path, "wb") as fh:
            for chunk in self.iter_bytes(path, UPLOAD_CHUNK):
                fh.write(chunk)

    def receive_file(self, path: str, fill: Callable[[str], None]) -> str | None:
        """Write ``path`` from a local temporary file that ``fill(tmp_path)`` writes.

        Local backends fill a temp file beside the target and rename it into place;
        this default uploads the temp file.
        """
        fd, tmp = tempfile.mkstemp(prefix="genro-recv-")
        os.close(fd)
        try:
            fill(tmp)
            return self.upload_file(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def copy_starter(self, dest_backend: StorageBackend, concurrency: int) -> CopyStarter | None:
        """A batch route for many files from here to ``dest_backend``, or None.

        ``start(src_path, dest_path)`` begins one file's copy as a coroutine on the
        client's own event loop (object stores) and returns a
        ``concurrent.futures.Future``, or None for a file that must take
        :meth:`copy_file` on a worker thread; at most ``concurrency`` copies run at once.
        The copy engine uses it for trees: no thread hop per file. This default asks the
        destination (:meth:`receive_starter`: uploads of local files).
        """
        return dest_backend.receive_starter(self, concurrency)

    def receive_starter(self, src_backend: StorageBackend, concurrency: int) -> CopyStarter | None:
        """The batch route of :meth:`copy_starter` seen from the destination (an object
        store receiving local files); None: no such route."""
        return None

    def begin_receive(self, path: str) -> LocalReceipt | None:
        """A temp file beside local ``path`` for a download to fill and publish
        (:class:`~._publish.LocalReceipt`), or None when this backend is not a local disk."""
        return None

    def server_side_copy(self, src_path: str, dest_path: str) -> bool:
        """Copy inside this backend without moving bytes through us; False if unsupported."""
        return False

    def quick_copy(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> bool:
        """Copy file ``src_path`` onto ``dest_path`` in one step when this backend can tell
        on its own, cheaply, that the source is a file and the destination is not a
        directory (``copy_to`` without options); False, having changed nothing: the copy
        engine's general route decides (stats of both ends, then :meth:`copy_file`).
        Memory mounts say yes between themselves: their stats cost as much as the copy."""
        return False

    # ------------------------------------------------------------------ optional features
    def get_metadata(self, path: str) -> dict[str, str]:
        return {}

    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        raise CapabilityError(f"{type(self).__name__} does not support metadata operations")

    def get_versions(self, path: str) -> list[dict[str, Any]]:
        return []

    def open_version(self, path: str, version_id: str, mode: str = "rb") -> IO[Any]:
        raise CapabilityError(f"{self.describe()} does not support versioning")

    def delete_version(self, path: str, version_id: str) -> None:
        raise CapabilityError(f"{self.describe()} does not support version deletion")

    def url(self, path: str, expires_in: int = 3600, **kwargs: Any) -> str | None:
        return None

    def internal_url(self, path: str, nocache: bool = False) -> str | None:
        return None

    def public_url(self, path: str) -> str | None:
        """The unsigned URL of ``path`` on a store that has one (GCS, Azure: readable when
        the bucket or container is public), else ``None``."""
        return None

    def transfer_attempts(self) -> int:
        """How many times the copy engine tries one file's transfer: the mount's
        ``retries`` + 1 on a network store, 1 (no retry) here."""
        return 1

    def os_path(self, path: str) -> str | None:
        """The real filesystem path when the bytes live on local disk, else ``None``."""
        return None

    def local_root(self) -> str | None:
        """The real path of a local mount's root when it can never move (no symlink leads
        to it), else ``None``. Change notification (``serving/watch.py``) needs it."""
        return None

    def local_stat(self, path: str) -> tuple[str, os.stat_result] | None:
        """``(os_path, os.stat)`` of a file on local disk, or ``None`` when not local.

        The serve path calls this once per request; a local backend overrides it to
        resolve and stat in one step.
        """
        os_path = self.os_path(path)
        return None if os_path is None else (os_path, os.stat(os_path))

    def open_write(self, path: str, mode: str, on_new_path: Callable[[str], None]) -> IO[Any]:
        """Open ``path`` for writing. A backend whose path is its content
        (:attr:`path_is_content`) calls ``on_new_path(new_path)`` when the file is closed;
        every other backend is :meth:`open`."""
        return self.open(path, mode)

    def translate_error(self, exc: BaseException, path: str) -> BaseException | None:
        """A genro-storage exception for a driver error on ``path``, or ``None`` to let
        the generic classification decide (``backends/_errors.py``)."""
        return None

    @contextlib.contextmanager
    def local_path(self, path: str, mode: str = "r") -> Iterator[str]:
        """A local file holding the content: downloaded before, uploaded after (``w``/``rw``)."""
        suffix = os.path.splitext(path)[1]
        fd, tmp = tempfile.mkstemp(suffix=suffix)
        os.close(fd)
        try:
            if mode in ("r", "rw") and self.is_file(path):
                with self.open(path, "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK_SIZE)
            yield tmp
            if mode in ("w", "rw"):
                with open(tmp, "rb") as fh:
                    self.write_stream(path, iter(lambda: fh.read(CHUNK_SIZE), b""))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def cleanup(
        self, path: str = "", older_than: float = 3600.0, dry_run: bool = False
    ) -> list[str]:
        """Remove what interrupted writes left under ``path``; return what went (or would).

        Temporary siblings of the publish-on-close writer (``.<name>.<12 hex>.part``)
        last modified more than ``older_than`` seconds ago are deleted; object stores
        also abort their incomplete uploads (see each backend). Anything younger may
        belong to a write still running, so it is left alone.
        """
        from ._publish import REMOTE_TEMP_SUFFIX, is_temp_name

        cutoff = time.time() - older_than
        found = []
        for entry in self.walk_files(path):
            if entry.is_dir or not is_temp_name(entry.name, REMOTE_TEMP_SUFFIX):
                continue
            if entry.mtime is not None and entry.mtime > cutoff:
                continue
            found.append(entry.path)
            if not dry_run:
                self.delete(entry.path)
        return found

    def close(self) -> None:
        """Release connections; the backend may not be used afterwards."""


def text_wrapper(raw: IO[bytes], mode: str, encoding: str | None = None) -> IO[Any]:
    """Wrap a binary file object for a text mode."""
    if "b" in mode:
        return raw
    return io.TextIOWrapper(raw, encoding=encoding or "utf-8")
