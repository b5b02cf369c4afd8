"""Backends built on an fsspec filesystem: the engine behind every non-local mount.

:class:`FsspecBackend` maps the backend primitives onto one fsspec filesystem rooted at a
prefix. Per-service modules (``s3``, ``gcs``, ``azure``...) build the filesystem, declare
capabilities and override what their service does better (metadata, versions, signing).

Three things every service gets from here:

- **Errors mapped at the edge**: every public method is wrapped (also in subclasses) so a
  client-library error leaves as a :mod:`genro_storage.errors` exception naming the mount.
- **Writes that publish only on success**: ``open(path, "wb")``, ``write_bytes`` and
  ``write_stream`` never show a partial file. Object stores send one PUT or a multipart /
  resumable / block upload committed at the end (aborted on error); services with real
  files write a temporary sibling and rename it over the target.
- **Bounded memory**: reads fetch :attr:`read_block_size` bytes per request, writes buffer
  at most :attr:`block_size` bytes (streams up to :data:`SPOOL_LIMIT` go out in one PUT).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import inspect
import itertools
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any

from ..capabilities import BackendCapabilities
from ..errors import CapabilityError, StoragePermissionError
from ..fileio import is_write_mode
from ..paths import canonical
from ._batch import CopyStarter, LoopStarter
from ._errors import classify, translate, wrap_methods
from ._objectparams import ObjectParameters
from ._publish import REMOTE_TEMP_SUFFIX, PublishOnClose, PublishText, discard_buffered, temp_name
from ._transfer import NetworkSettings
from .base import CHUNK_SIZE, UPLOAD_CHUNK, EntryInfo, StorageBackend

__all__ = ["MTIME_METADATA", "SPOOL_LIMIT", "FsspecBackend", "info_md5", "info_mtime"]

#: The user metadata key in which an upload of a local file records the file's
#: modification time (Unix seconds as text, as rclone writes it on S3).
MTIME_METADATA = "mtime"

#: A streamed write up to this size is collected in memory and sent as one atomic PUT.
SPOOL_LIMIT = 8 * 1024 * 1024
#: A local file up to this size going up on the batch route is read on the calling
#: thread (the engine's, idle meanwhile) and sent as bytes: the loop thread only sends
#: (memory: this x the files queued, a few per worker)
SMALL_UPLOAD = 256 * 1024
#: A download on the batch route whose listed size is at most this is read whole (one
#: GET) and written to its temp file in one call (memory: this x files in flight)
SMALL_DOWNLOAD = 512 * 1024

# Object stores: no real directories, and uploads that become visible only when complete
# (single PUT, or multipart/resumable/block uploads committed at the end).
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl"})

_MTIME_KEYS = (
    "mtime",
    "Last-Modified",
    "LastModified",
    "last_modified",
    "modified",
    "updated",
    "created",
    "timeCreated",
    "creation_time",
)
# public methods whose client-library errors are mapped (in this class and subclasses)
MAPPED_METHODS = (
    "connect",
    "cleanup",
    "info",
    "exists",
    "open",
    "list_dir",
    "list_detail",
    "list_page",
    "walk_files",
    "delete",
    "mkdir",
    "read_bytes",
    "read_range",
    "write_bytes",
    "write_stream",
    "save_stream",
    "upload_file",
    "download_file",
    "iter_bytes",
    "get_hash",
    "copy",
    "copy_file",
    "server_side_copy",
    "get_metadata",
    "set_metadata",
    "get_versions",
    "open_version",
    "delete_version",
    "url",
)


def info_mtime(info: dict[str, Any]) -> float | None:
    """The modification time of an fsspec info dict, as a Unix timestamp."""
    for key in _MTIME_KEYS:
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            with contextlib.suppress(TypeError, ValueError):  # RFC 9110 HTTP-date
                return parsedate_to_datetime(value).timestamp()
    return None


def stored_mtime(info: dict[str, Any]) -> float | None:
    """The source file's modification time an upload stored as ``mtime`` user metadata,
    when the driver's answer carries the metadata (GCS and Azure listings do; S3's do not)."""
    meta = info.get("metadata")
    value = meta.get(MTIME_METADATA) if isinstance(meta, dict) else None
    if not isinstance(value, str):
        return None
    with contextlib.suppress(ValueError):
        return float(value)
    with contextlib.suppress(ValueError):  # RFC 3339 (rclone on Azure, GCS)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


def _is_md5_hex(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def info_md5(info: dict[str, Any]) -> str | None:
    """A content MD5 stored by the service (S3 single-part ETag, GCS md5Hash, Azure content_md5)."""
    etag = info.get("ETag") or info.get("etag")
    if isinstance(etag, str) and _is_md5_hex(etag.strip('"').lower()):
        return etag.strip('"').lower()
    md5_b64 = info.get("md5Hash")
    if isinstance(md5_b64, str):
        with contextlib.suppress(binascii.Error, ValueError):
            return base64.b64decode(md5_b64).hex()
    # azure: a dict from info(), the SDK's ContentSettings (dict-like) in listings
    settings = info.get("content_settings")
    raw = getattr(settings, "get", lambda _key: None)("content_md5") or info.get("content_md5")
    if isinstance(raw, (bytes, bytearray)) and len(raw) == 16:
        return bytes(raw).hex()
    return None


class FsspecBackend(StorageBackend):
    """A mount over an fsspec filesystem rooted at ``root`` (a bucket, share or directory).

    ``fs`` is a filesystem or a zero-argument factory; a factory runs on first use, so a
    server that is down fails the first operation, not ``configure()``.
    """

    default_capabilities = BackendCapabilities()
    #: The async API may call the fs's coroutines directly when the fs is async-capable
    #: (s3fs, gcsfs, adlfs, http). A subclass whose sync primitives do more than the
    #: generic ones here (extra requests, other semantics) sets this to False.
    native_async = True
    #: bytes buffered per write request; None = the driver's default
    block_size: int | None = None
    #: bytes fetched per read request (read-ahead); None = same as ``block_size``
    read_block_size: int | None = None
    #: retries, timeouts and part sizes of an object-store mount (``_transfer``)
    network: NetworkSettings | None = None
    #: how a file of a service with real directories is published: "rename" (a temp
    #: sibling renamed over the target on success) or "buffered" (the driver's own file,
    #: discarded on error: right where the driver uploads only on close)
    write_strategy = "rename"
    #: ``pipe_file`` stores the whole content in one step (object stores, memory): a
    #: failure leaves nothing behind, so ``write_bytes`` needs no temporary file
    atomic_pipe = False
    #: trees copied to or from this backend run each file as a coroutine on the client's
    #: event loop (:meth:`copy_starter`): set by the async object stores
    batch_transfers = False
    #: downloads to a local disk on the batch route too (on for S3; the others keep the
    #: worker threads until measured)
    batch_downloads = False
    #: header defaults and metadata of every object written (object stores; see
    #: :mod:`._objectparams`)
    object_parameters = ObjectParameters()

    def __init__(
        self,
        fs: Any,
        root: str = "",
        protocol: str | None = None,
        mount_name: str = "",
        capabilities: BackendCapabilities | None = None,
    ) -> None:
        from fsspec import AbstractFileSystem

        if isinstance(fs, AbstractFileSystem) or not callable(fs):
            self._fs, self._factory = fs, None
            protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
            if any(p in _OBJECT_STORES for p in protocols):
                self.implicit_dirs = True
        else:
            self._fs, self._factory = None, fs
        self._fs_lock = threading.Lock()
        self.root = root.rstrip("/") if root not in ("", "/") else root
        self.protocol = protocol or (_protocol_name(fs) if self._fs is not None else "fsspec")
        self.mount_name = mount_name
        self._capabilities = capabilities or self.default_capabilities

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_methods(cls, MAPPED_METHODS)

    @property
    def fs(self) -> Any:
        """The fsspec filesystem (created on first use when a factory was given)."""
        if self._fs is None:
            with self._fs_lock:
                if self._fs is None:
                    assert self._factory is not None
                    self._fs = self._factory()
        return self._fs

    def connect(self) -> None:
        """Create the filesystem now (drivers that connect at creation connect here)."""
        _ = self.fs

    @property
    def connected(self) -> bool:
        """Whether the filesystem is created (:meth:`connect` has nothing left to do)."""
        return self._fs is not None

    @property
    def capabilities(self) -> BackendCapabilities:
        return self._capabilities

    # ------------------------------------------------------------------ path mapping
    def _full(self, path: str) -> str:
        path = canonical(path)  # (returns ``path`` itself when it is already canonical)
        if not path:
            return self.root or ""
        if not self.root:
            return path
        if self.root == "/":
            return "/" + path
        return f"{self.root}/{path}"

    def _name(self, info_name: str) -> str:
        """A driver's entry name, normalised for comparison with ``_full`` paths."""
        return str(self.fs._strip_protocol(info_name)).rstrip("/")

    def _rel(self, full: str) -> str:
        root = self._name(self.root) if self.root else ""
        stripped = self._name(full)
        if root and stripped.startswith(root):
            stripped = stripped[len(root) :]
        return stripped.strip("/")

    def _entry(self, info: dict[str, Any], path: str | None = None) -> EntryInfo:
        is_dir = info.get("type") == "directory"
        etag = info.get("ETag") or info.get("etag")
        return EntryInfo(
            path=self._rel(info["name"]) if path is None else path,
            is_dir=is_dir,
            size=0 if is_dir else int(info.get("size") or 0),
            mtime=(None if is_dir else stored_mtime(info)) or info_mtime(info),
            etag=etag.strip('"') if isinstance(etag, str) else None,
            md5=None if is_dir else info_md5(info),
        )

    def transfer_attempts(self) -> int:
        return self.network.retries + 1 if self.network is not None else 1

    def check_write_allowed(self) -> None:
        caps = self._capabilities  # the declared flags: `capabilities` may ask the server
        if caps.readonly or not caps.write:
            raise StoragePermissionError(f"{self.describe()} is read-only")

    def _open_kwargs(self, write: bool = True) -> dict[str, Any]:
        size = self.block_size if write else (self.read_block_size or self.block_size)
        return {"block_size": size} if size else {}

    # ------------------------------------------------------------------ primitives
    def info(self, path: str) -> EntryInfo:
        full = self._full(path)
        try:
            found = self.fs.info(full)
        except OSError as exc:
            if classify(exc) != "not_found":
                raise
            found = self._empty_root(full)  # the driver's error says more otherwise
            if found is None:
                raise
        return self._entry(found, path)

    def _stat_or_none(self, full: str) -> dict[str, Any] | None:
        """The driver's info dict, or None when missing (never when the server is down)."""
        try:
            return dict(self.fs.info(full))
        except OSError as exc:
            if classify(exc) != "not_found":
                raise
        return self._empty_root(full)

    def _empty_root(self, full: str) -> dict[str, Any] | None:
        """An object store's mount root under a prefix, before any object is stored there.

        A prefix exists only while objects are under it; the root of a mount is a
        directory all the same (empty), as long as its bucket or container exists.
        """
        root = self.root.strip("/")
        if not self.implicit_dirs or full.strip("/") != root or "/" not in root:
            return None
        self.fs.info(root.split("/", 1)[0])  # the bucket: missing raises not-found
        return {"name": self.root, "type": "directory", "size": 0}

    def _check_file_write(self, path: str) -> None:
        self.check_write_allowed()
        self.refuse_root_write(path)

    def exists(self, path: str) -> bool:
        # not fs.exists(): it answers False when the server cannot be reached
        return self._stat_or_none(self._full(path)) is not None

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        full = self._full(path)
        if not is_write_mode(mode):
            return self._open_read(path, full, mode)
        self._check_file_write(path)
        self._ensure_parent(path)
        if mode in ("w", "wb"):
            # never bound to a local: a frame kept alive by an exception caught below
            # (``_ensure_parent``) must not keep an unclosed handle from its finalizer
            if mode == "wb":
                return self._open_pending(full)  # type: ignore[return-value]
            return PublishText(self._open_pending(full))
        opened: IO[Any] = self.fs.open(full, mode)
        return opened

    def _open_read(self, path: str, full: str, mode: str) -> IO[Any]:
        """A read handle; an object-store prefix (a "directory") is refused, not read as
        an empty file."""
        handle: IO[Any] = self.fs.open(full, mode, **self._open_kwargs(write=False))
        details = getattr(getattr(handle, "buffer", handle), "details", None)
        if isinstance(details, dict) and details.get("type") == "directory":
            handle.close()
            raise IsADirectoryError(f"{self.describe()}: {path!r} is a directory")
        return handle

    def _ensure_parent(self, path: str) -> None:
        if "/" in path and not self.implicit_dirs:
            with contextlib.suppress(FileExistsError):
                self.fs.makedirs(self._full(path.rsplit("/", 1)[0]), exist_ok=True)

    def _open_pending(self, full: str) -> PublishOnClose:
        """A write handle on ``full`` that publishes on commit only (see module docstring)."""
        if self.implicit_dirs or self.write_strategy == "buffered":
            # object stores: the driver's upload becomes visible only when completed
            raw = self._tune_write_handle(
                self.fs.open(full, "wb", **self._open_kwargs(), **self._put_kwargs(full))
            )

            def commit_buffered() -> None:
                raw.close()
                self._invalidate_full(full)

            return PublishOnClose(
                raw, commit_buffered, lambda: discard_buffered(raw), full, self._translator(full)
            )
        head, _, name = full.rpartition("/")
        temp = (
            f"{head}/{temp_name(name, REMOTE_TEMP_SUFFIX)}"
            if head
            else temp_name(name, REMOTE_TEMP_SUFFIX)
        )
        raw = self._tune_write_handle(self.fs.open(temp, "wb", **self._open_kwargs()))

        def commit() -> None:
            raw.close()
            self._replace(temp, full)
            self._invalidate_full(full)

        def discard() -> None:
            with contextlib.suppress(Exception):  # not close(): it would upload (WebDAV)
                discard_buffered(raw)
            with contextlib.suppress(Exception):
                self.fs.rm_file(temp)

        return PublishOnClose(raw, commit, discard, full, self._translator(full))

    def _translator(self, full: str) -> Callable[[BaseException], BaseException | None]:
        """How a write handle on ``full`` names the mount in a driver's exception."""
        path = self._rel(full)
        return lambda exc: translate(self, exc, path)

    def _tune_write_handle(self, raw: Any) -> Any:
        """Adjust a driver's fresh write handle (SFTP turns on pipelining)."""
        return raw

    def _replace(self, temp: str, full: str) -> None:
        """Rename ``temp`` over ``full`` (overwriting it); used by the "rename" strategy."""
        self.fs.mv(temp, full)

    def list_dir(self, path: str) -> list[str]:
        return [entry.name for entry in self.list_detail(path)]

    def list_detail(self, path: str) -> list[EntryInfo]:
        return self._detail_entries(path, self._ls_infos(self._full(path)))

    def _ls_infos(self, full: str) -> list[dict[str, Any]]:
        """The driver's detailed listing of ``full``; an empty mount root lists empty."""
        try:
            infos: list[dict[str, Any]] = self.fs.ls(full, detail=True)
        except FileNotFoundError:
            if self._empty_root(full) is None:
                raise
            return []
        return infos

    def _detail_entries(self, path: str, infos: list[dict[str, Any]]) -> list[EntryInfo]:
        """Entries of directory ``path`` from the fs's ``ls`` answer (shared with async)."""
        prefix = f"{path}/" if path else ""
        own = self._name(self._full(path))
        out = []
        for info in infos:
            name = self._name(info["name"])
            if name == own:
                if info.get("type") != "directory" and not self._is_folder_marker(info):
                    raise ValueError(f"Not a directory: {path!r}")
                continue
            out.append(self._entry(info, prefix + name.rsplit("/", 1)[-1]))
        return out

    def _is_folder_marker(self, info: dict[str, Any]) -> bool:
        """An empty ``dir/`` object: how consoles and tools make a folder in a bucket."""
        return bool(
            self.implicit_dirs
            and str(info.get("name", "")).endswith("/")
            and not int(info.get("size") or 0)
        )

    def walk_files(self, path: str) -> Iterator[EntryInfo]:
        found = self.fs.find(self._full(path), withdirs=True, detail=True)
        prefix = self._rel(self._full(path))
        for name in sorted(found):
            rel = self._rel(name)
            if rel == prefix:
                continue
            yield self._entry(found[name], rel)

    def delete(self, path: str, recursive: bool = False) -> None:
        self.check_write_allowed()
        self.refuse_root_delete(path)
        full = self._full(path)
        if full.strip("/") == self.root.strip("/") or not full.strip("/"):
            # belt and braces: a root reached by another spelling is never removed
            self.refuse_root_delete("")
        entry = self._stat_or_none(full)
        if entry is None:
            return
        if entry.get("type") != "directory" and self._deletes_one_object():
            # one DeleteObject: fsspec's ``rm`` would list and HEAD the path first
            with contextlib.suppress(FileNotFoundError):  # gone meanwhile: so be it
                self.fs.rm_file(full)
        else:
            self.fs.rm(full, recursive=recursive or entry.get("type") == "directory")
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache()

    def _deletes_one_object(self) -> bool:
        """Whether a file is removed with the driver's one-request delete (``rm_file``):
        object stores whose async driver has its own (s3fs, gcsfs, adlfs)."""
        from fsspec.asyn import AsyncFileSystem

        fs = self.fs
        return (
            self.implicit_dirs
            and isinstance(fs, AsyncFileSystem)
            and type(fs)._rm_file is not AsyncFileSystem._rm_file
        )

    def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        self.check_write_allowed()
        full = self._full(path)
        found = self._stat_or_none(full)
        if found is not None:
            if exist_ok and found.get("type") == "directory":
                return
            raise FileExistsError(f"Already exists: {path!r}")
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent and not parents and not self.fs.isdir(self._full(parent)):
            raise FileNotFoundError(f"Parent directory does not exist: {parent!r}")
        self.fs.makedirs(full, exist_ok=True)
        self._invalidate(path)

    # ------------------------------------------------------------------ content
    def read_bytes(self, path: str) -> bytes:
        full = self._full(path)
        try:  # one GET; the directory check only when that fails
            return bytes(self.fs.cat_file(full, **self.cat_options))
        except (FileNotFoundError, IsADirectoryError):
            if self.fs.isdir(full):
                raise IsADirectoryError(f"Is a directory: {path!r}") from None
            raise

    @functools.cached_property
    def cat_options(self) -> dict[str, Any]:
        """Extra ``cat_file`` arguments: s3fs would otherwise HEAD every object before
        reading it (to split big ones into parallel ranges), doubling the requests."""
        method = getattr(self.fs, "_cat_file", None) or self.fs.cat_file
        try:
            params = inspect.signature(method).parameters
        except (TypeError, ValueError):
            return {}
        return {"max_concurrency": 1} if "max_concurrency" in params else {}

    def read_range(self, path: str, start: int, end: int) -> bytes:
        return bytes(self.fs.cat_file(self._full(path), start=start, end=end))

    def iter_bytes(self, path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        with self.open(path, "rb") as fh:
            while chunk := fh.read(chunk_size):
                yield chunk

    def write_bytes(self, path: str, data: bytes) -> None:
        self._check_file_write(path)
        self._ensure_parent(path)
        full = self._full(path)
        if self.implicit_dirs or self.atomic_pipe:
            self._pipe(full, data, self._put_kwargs(full))
            self._invalidate_full(full)
            return
        with self._open_pending(full) as fh:
            fh.write(data)

    def write_stream(self, path: str, chunks: Any) -> None:
        """Write chunks atomically: the destination never shows a partial file.

        Up to :data:`SPOOL_LIMIT` bytes go out through :meth:`write_bytes` (one PUT on
        object stores); longer streams through a handle that publishes only on success.
        """
        self._check_file_write(path)
        iterator = iter(chunks)
        head: list[bytes] = []
        size = 0
        for chunk in iterator:
            head.append(bytes(chunk))
            size += len(chunk)
            if size > SPOOL_LIMIT:
                break
        else:
            self.write_bytes(path, b"".join(head))
            return
        self._ensure_parent(path)
        head.reverse()
        with self._open_pending(self._full(path)) as fh:
            while head:  # let go of each spooled chunk once it is sent
                fh.write(head.pop())
            for chunk in iterator:
                fh.write(chunk)

    def save_stream(
        self, path: str, chunks: Any, *, exclusive: bool = False, content_type: str | None = None
    ) -> None:
        """:meth:`write_stream` with a Content-Type and, with ``exclusive``, no overwrite.

        ``exclusive`` raises ``FileExistsError`` when ``path`` exists, decided by the
        service at the moment the file is published: object stores send a conditional
        create (S3 ``If-None-Match: *``, GCS ``ifGenerationMatch=0``, Azure
        ``If-None-Match: *``); services with real files publish the temporary file with
        :meth:`_publish_new`.
        """
        if not exclusive and content_type is None:
            self.write_stream(path, chunks)
            return
        self._check_file_write(path)
        self._ensure_parent(path)
        full = self._full(path)
        if not self.implicit_dirs and not self.atomic_pipe:
            self._create_by_rename(path, full, chunks, exclusive)
            return
        kwargs = self._put_kwargs(full, content_type)
        iterator = iter(chunks)
        head, complete = _spool(iterator)
        try:
            if complete:
                self._pipe_new(full, b"".join(head), exclusive, kwargs)
                return
            mode = "xb" if exclusive else "wb"
            raw = self.fs.open(full, mode, **self._open_kwargs(), **kwargs)
            try:
                for chunk in head:
                    raw.write(chunk)
                for chunk in iterator:
                    raw.write(chunk)
            except BaseException:
                discard_buffered(raw)
                raise
            raw.close()
        except OSError as exc:
            if exclusive and _is_precondition_failure(exc):
                raise FileExistsError(f"{self.describe()}: {path!r} already exists") from exc
            raise
        finally:
            self._invalidate_full(full)

    def _pipe_new(self, full: str, data: bytes, exclusive: bool, kwargs: dict[str, Any]) -> None:
        """Store ``data`` in one request (conditionally when ``exclusive``)."""
        self._pipe(full, data, {**kwargs, "mode": "create"} if exclusive else kwargs)

    def _pipe(self, full: str, data: bytes, kwargs: dict[str, Any]) -> None:
        """``pipe_file`` with the driver arguments of :meth:`_put_kwargs` (and ``mode``)."""
        self.fs.pipe_file(full, data, **kwargs)

    def pipes_natively(self) -> bool:
        """True when :meth:`write_bytes` is one plain ``pipe_file`` (object stores,
        memory), which the async edges may then send on the event loop with
        :meth:`write_bytes_async`; a subclass whose ``_pipe`` does more says False."""
        return (self.implicit_dirs or self.atomic_pipe) and (
            type(self).write_bytes is FsspecBackend.write_bytes
        )

    async def write_bytes_async(self, afs: Any, path: str, data: bytes) -> None:
        """Coroutine twin of :meth:`write_bytes` on ``afs`` (the running loop's twin of
        :attr:`fs`), for a backend that :meth:`pipes_natively`: the same checks, and the
        same Content-Type, object parameters and metadata (:meth:`_put_kwargs`)."""
        self._check_file_write(path)
        full = self._full(path)
        await afs._pipe_file(full, data, **self._put_kwargs(full))
        self._invalidate_full(full)

    def own_async(self) -> bool:
        """True when this backend has coroutines of its own for the async API's reads
        (``info_async``, ``exists_async``, ``read_bytes_async``, ``read_range_async``,
        ``list_detail_async``, ``iter_bytes_async``; an S3 mount with ``client:
        obstore``): ``engine/aio_native`` then runs those, not the fs's."""
        return False

    def lists_natively(self) -> bool:
        """True when :meth:`list_detail` is the fsspec listing, whose coroutine twin the
        async edges may run on the loop; a backend with a listing of its own says False."""
        return type(self).list_detail is FsspecBackend.list_detail

    def uploads_natively(self) -> bool:
        """True when :meth:`upload_file_async` is this backend's whole upload route, for
        files of any size: the async faces then upload on the loop, not in a thread."""
        return False

    async def upload_file_async(self, afs: Any, os_path: str, path: str) -> None:
        """Coroutine twin of :meth:`upload_file` on ``afs`` (the running loop's twin of
        :attr:`fs`): the same checks, upload route and headers."""
        self._check_file_write(path)
        full = self._full(path)
        await self._upload_async(os_path, full, afs)
        self._invalidate_full(full)

    def _create_by_rename(self, path: str, full: str, chunks: Any, exclusive: bool) -> None:
        if not exclusive:
            self.write_stream(path, chunks)
            return
        head, _, name = full.rpartition("/")
        temp = temp_name(name, REMOTE_TEMP_SUFFIX)  # bounded, and found by cleanup()
        temp = f"{head}/{temp}" if head else temp
        raw = self._tune_write_handle(self.fs.open(temp, "wb", **self._open_kwargs()))
        try:
            for chunk in chunks:
                raw.write(chunk)
            raw.close()
            self._publish_new(temp, full)
        except BaseException:
            with contextlib.suppress(Exception):
                discard_buffered(raw)
            with contextlib.suppress(Exception):
                self.fs.rm_file(temp)
            raise
        finally:
            self._invalidate_full(full)

    def _publish_new(self, temp: str, full: str) -> None:
        """Move the written ``temp`` to ``full``, refusing to replace an existing file.

        The generic check-then-rename leaves a short window where two writers both see the
        name free; a service with an atomic no-replace rename overrides this (SFTP).
        """
        if self._stat_or_none(full) is not None:
            raise FileExistsError(f"{self.describe()}: {full!r} already exists")
        self._replace(temp, full)

    def _put_kwargs(self, full: str, content_type: str | None = None) -> dict[str, Any]:
        """Driver arguments that set an object's headers and metadata (object stores)."""
        return {}

    def _invalidate(self, path: str) -> None:
        self._invalidate_full(self._full(path))

    def _invalidate_full(self, full: str) -> None:
        try:  # (not contextlib.suppress: this runs after every write, and it costs ~1 us)
            self.fs.invalidate_cache(full)
        except Exception:  # a listing cache that cannot be dropped is only stale
            pass

    def get_hash(self, path: str) -> str | None:
        return self.stored_md5(self.info(path))

    def stored_md5(self, entry: EntryInfo) -> str | None:
        """The content MD5 the service stored, when this backend trusts it."""
        # the declared flags: `capabilities` may ask the server (S3 bucket versioning)
        return entry.md5 if self._capabilities.hash_on_metadata else None

    # ------------------------------------------------------------------ copy
    def server_side_copy(self, src_path: str, dest_path: str) -> bool:
        if not self.capabilities.copy_optimization:
            return False
        self.check_write_allowed()
        self.fs.copy(self._full(src_path), self._full(dest_path))
        self._invalidate(dest_path)
        return True

    def copy_file(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        """Server-side copy (S3 CopyObject...) when both ends are one account, else stream."""
        if isinstance(dest_backend, FsspecBackend) and self._copies_server_side_to(dest_backend):
            dest_backend.check_write_allowed()
            dest_backend._ensure_parent(dest_path)
            self._copy_object(src_path, dest_backend, dest_path)
            dest_backend._invalidate(dest_path)
            return None
        return super().copy_file(src_path, dest_backend, dest_path)

    def _copies_server_side_to(self, dest_backend: FsspecBackend) -> bool:
        """Whether a file can go to ``dest_backend`` without its bytes passing through us.

        The declared flags, not :attr:`capabilities` (which may ask the server: S3 bucket
        versioning), and one account on both ends.
        """
        return bool(self._capabilities.copy_optimization) and _same_account(
            self.fs, dest_backend.fs
        )

    def _copy_object(self, src_path: str, dest_backend: FsspecBackend, dest_path: str) -> None:
        """Server-side copy of one file (known to be a file: no path expansion, no listing)."""
        self.fs.cp_file(self._full(src_path), dest_backend._full(dest_path))

    #: the driver keyword that carries user metadata (s3fs says ``Metadata``)
    metadata_kwarg = "metadata"

    def upload_file(self, os_path: str, path: str) -> str | None:
        """Write the local file ``os_path`` to ``path`` (atomically).

        Object stores record the file's modification time as ``mtime`` user metadata
        (rclone's convention), so ``skip='mtime'`` compares it from listings that carry
        metadata, and other tools see the original time.
        """
        if not self.implicit_dirs:
            return super().upload_file(os_path, path)
        self._check_file_write(path)
        full = self._full(path)
        kwargs = self._upload_kwargs(full, os.stat(os_path).st_mtime)
        with open(os_path, "rb") as fh:
            iterator = iter(lambda: fh.read(UPLOAD_CHUNK), b"")
            head, complete = _spool(iterator)
            try:
                if complete:
                    self._pipe(full, b"".join(head), kwargs)
                    return None
                raw = self.fs.open(full, "wb", **self._open_kwargs(), **kwargs)
                try:
                    for chunk in itertools.chain(head, iterator):
                        raw.write(chunk)
                except BaseException:
                    discard_buffered(raw)
                    raise
                raw.close()
            finally:
                self._invalidate_full(full)
        return None

    def _upload_kwargs(self, full: str, mtime: float) -> dict[str, Any]:
        """:meth:`_put_kwargs` plus the ``mtime`` user metadata of an uploaded file."""
        kwargs = self._put_kwargs(full)
        metadata = dict(kwargs.get(self.metadata_kwarg) or {})
        metadata[MTIME_METADATA] = f"{mtime:.9f}".rstrip("0").rstrip(".")
        kwargs[self.metadata_kwarg] = metadata
        return kwargs

    # ------------------------------------------------------------------ batch route
    def copy_starter(self, dest_backend: StorageBackend, concurrency: int) -> CopyStarter | None:
        """Server-side copies and downloads to a local disk as coroutines on the client's
        event loop (:attr:`batch_transfers` backends), else the destination's route."""
        if self.batch_transfers:
            if isinstance(dest_backend, FsspecBackend) and self._copies_server_side_to(
                dest_backend
            ):
                prepare = functools.partial(self._prepare_server_copy, dest_backend)
                return LoopStarter(self.fs.loop, concurrency, prepare)
            if self.native_download and self.batch_downloads:
                prepare = functools.partial(self._prepare_download, dest_backend)
                return LoopStarter(self.fs.loop, concurrency, prepare)
        return super().copy_starter(dest_backend, concurrency)

    def receive_starter(self, src_backend: StorageBackend, concurrency: int) -> CopyStarter | None:
        """Uploads of local files as coroutines (:attr:`batch_transfers` backends)."""
        if not self.batch_transfers:
            return None
        prepare = functools.partial(self._prepare_upload, src_backend)
        return LoopStarter(self.fs.loop, concurrency, prepare)

    def _prepare_upload(
        self, src_backend: StorageBackend, src_path: str, dest_path: str, size: int | None
    ) -> Job:
        os_path = src_backend.os_path(src_path)
        if os_path is None or not self._uploads_in_batch(os_path):
            return None
        self._check_file_write(dest_path)
        full = self._full(dest_path)
        local = read_local(os_path, SMALL_UPLOAD)  # here: the loop thread only sends

        async def upload() -> None:
            await self._upload_async(os_path, full, local=local)
            self._invalidate_full(full)

        return _mapped_job(self, dest_path, upload)

    def _prepare_download(
        self, dest_backend: StorageBackend, src_path: str, dest_path: str, size: int | None
    ) -> Job:
        receipt = dest_backend.begin_receive(dest_path)
        if receipt is None:
            return None
        full = self._full(src_path)
        small = size is not None and size <= SMALL_DOWNLOAD

        async def download() -> None:
            try:
                if small:  # one GET read whole, one write: no file object, no chunk loop
                    _write_all(receipt.tmp, await self._read_whole_async(full))
                else:
                    await self._download_async(full, receipt.tmp, size)
                receipt.publish()
            except BaseException:
                receipt.discard()
                raise

        return _mapped_job(self, src_path, download)

    def _prepare_server_copy(
        self, dest_backend: FsspecBackend, src_path: str, dest_path: str, size: int | None
    ) -> Job:
        dest_backend._check_file_write(dest_path)

        async def copy() -> None:
            await self._copy_object_async(src_path, dest_backend, dest_path)
            dest_backend._invalidate(dest_path)

        return _mapped_job(self, src_path, copy)

    def _uploads_in_batch(self, os_path: str) -> bool:
        """Whether the batch route uploads this local file (this default: up to
        :data:`SPOOL_LIMIT` bytes, sent in one request as :meth:`write_bytes` does)."""
        return os.path.getsize(os_path) <= SPOOL_LIMIT

    async def _upload_async(
        self, os_path: str, full: str, fs: Any = None, local: LocalSource | None = None
    ) -> None:
        """Coroutine twin of :meth:`upload_file` (``full``: the driver's path); this
        default stores a small file in one request, as :meth:`upload_file` does.
        ``fs``: another instance of this mount's driver (the running loop's own);
        ``local``: the file's stat and (small files) bytes, read by the caller."""
        fs = fs if fs is not None else self.fs
        local = local or read_local(os_path, SPOOL_LIMIT)
        data = local.data
        if data is None:
            with open(os_path, "rb") as fh:  # at most SPOOL_LIMIT bytes (_uploads_in_batch)
                data = fh.read()
        kwargs = self._upload_kwargs(full, local.stat.st_mtime)
        await fs._pipe_file(full, data, **kwargs)

    async def _download_async(self, full: str, os_path: str, size: int | None = None) -> None:
        """Coroutine twin of :meth:`download_file` (``size``: the listing's, when known)."""
        await self.fs._get_file(full, os_path, **self.download_options())

    async def _read_whole_async(self, full: str) -> bytes:
        """The whole object ``full`` in one request (small downloads of the batch route)."""
        data: bytes = await self.fs._cat_file(full, **self.cat_options)
        return data

    async def _copy_object_async(
        self, src_path: str, dest_backend: FsspecBackend, dest_path: str
    ) -> None:
        """Coroutine twin of :meth:`_copy_object`."""
        await self.fs._cp_file(self._full(src_path), dest_backend._full(dest_path))

    def download_file(self, path: str, os_path: str) -> None:
        """The client's own download (``native_download`` backends): one streaming GET,
        or parallel ranged GETs when :meth:`download_options` allow them."""
        if not self.native_download:
            super().download_file(path, os_path)
            return
        self.fs.get_file(self._full(path), os_path, **self.download_options())

    def download_options(self) -> dict[str, Any]:
        """Extra ``get_file`` arguments (part size, parts in flight)."""
        return {}

    # ------------------------------------------------------------------ metadata / urls
    def _check_metadata_args(self, path: str, metadata: Any) -> None:
        if not self.exists(path):
            raise FileNotFoundError(f"File not found: {path!r}")
        if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise ValueError("metadata must be a dict of str to str")

    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        self._check_metadata_args(path, metadata)
        raise CapabilityError(f"{self.protocol} backend does not support metadata operations")

    def get_metadata(self, path: str) -> dict[str, str]:
        self.info(path)
        return {}

    # ------------------------------------------------------------------ async edge hooks
    # What ``engine/aio_native`` needs to run this backend's fsspec coroutines itself:
    # the same path mapping, parsing and cache invalidation as the sync methods.
    def full_path(self, path: str) -> str:
        """The fsspec path of mount path ``path``."""
        return self._full(path)

    def parse_info(self, info: dict[str, Any], path: str) -> EntryInfo:
        """The :class:`EntryInfo` of an fsspec ``info()`` answer for mount path ``path``."""
        return self._entry(info, path)

    def parse_listing(self, path: str, infos: list[dict[str, Any]]) -> list[EntryInfo]:
        """The entries of directory ``path`` from an fsspec ``ls(detail=True)`` answer."""
        return self._detail_entries(path, infos)

    def invalidate(self, path: str) -> None:
        """Forget the fs's cached listings around ``path`` (after a write)."""
        self._invalidate(path)

    def close(self) -> None:
        if self._fs is not None:
            with contextlib.suppress(Exception):
                self._fs.invalidate_cache()


Job = Callable[[], Awaitable[None]] | None


def _mapped_job(
    backend: FsspecBackend, path: str, job: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """``job`` whose client-library errors leave as genro-storage errors naming the mount
    (what :func:`~._errors.mapped` does for the synchronous methods)."""

    async def run() -> None:
        try:
            await job()
        except Exception as exc:
            new = translate(backend, exc, path)
            if new is None:
                raise
            raise new from exc

    return run


@dataclass(frozen=True)
class LocalSource:
    """A local file about to go up: its stat, and its bytes when small."""

    stat: os.stat_result
    data: bytes | None


def read_local(os_path: str, limit: int) -> LocalSource:
    """``os_path``'s stat, and its content when at most ``limit`` bytes."""
    with open(os_path, "rb") as fh:
        info = os.fstat(fh.fileno())
        return LocalSource(info, fh.read() if info.st_size <= limit else None)


def _write_all(os_path: str, data: bytes) -> None:
    """``data`` into the (existing, empty) local file ``os_path``."""
    fd = os.open(os_path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_BINARY", 0))
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _spool(iterator: Iterator[bytes]) -> tuple[list[bytes], bool]:
    """Up to :data:`SPOOL_LIMIT` bytes of ``iterator``, and whether that was all of it."""
    head: list[bytes] = []
    size = 0
    for chunk in iterator:
        chunk = bytes(chunk)
        head.append(chunk)
        size += len(chunk)
        if size > SPOOL_LIMIT:
            return head, False
    return head, True


_EXISTS_MARKS = ("PreconditionFailed", "412", "ResourceExists", "BlobAlreadyExists", "409")


def _is_precondition_failure(exc: BaseException) -> bool:
    """A conditional create refused because the object exists (HTTP 409/412)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, FileExistsError):
            return True
        text = f"{type(seen).__name__} {seen}"
        if any(
            mark in text
            for mark in ("PreconditionFailed", "412", "ResourceExists", "BlobAlreadyExists", "409")
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _protocol_name(fs: Any) -> str:
    proto = getattr(fs, "protocol", "fsspec")
    return proto[0] if isinstance(proto, (tuple, list)) else str(proto)


def _same_account(fs1: Any, fs2: Any) -> bool:
    """Whether one filesystem can copy between the two without moving bytes through us."""
    if fs1 is fs2:
        return True
    if type(fs1) is not type(fs2):
        return False
    # the client session (request logging of each mount) is not part of the account
    options1 = {k: v for k, v in fs1.storage_options.items() if k != "session"}
    options2 = {k: v for k, v in fs2.storage_options.items() if k != "session"}
    return options1 == options2


wrap_methods(FsspecBackend, MAPPED_METHODS)
