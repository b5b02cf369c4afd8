"""Backends built on an fsspec filesystem: the engine behind every non-local mount.

:class:`FsspecBackend` maps the backend primitives onto one fsspec filesystem rooted at a
prefix. Per-service modules (``s3``, ``gcs``, ``azure``...) build the filesystem, declare
capabilities and override what their service does better (metadata, versions, signing).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import inspect
import itertools
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from ..capabilities import BackendCapabilities
from ..errors import CapabilityError, StoragePermissionError
from .base import EntryInfo, StorageBackend

__all__ = ["SPOOL_LIMIT", "FsspecBackend", "info_mtime"]

#: A streamed write up to this size is collected in memory and sent as one atomic PUT.
SPOOL_LIMIT = 8 * 1024 * 1024

# Object stores: no real directories, and uploads that become visible only when complete
# (single PUT, or multipart/resumable/block uploads committed at the end).
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl"})

_MTIME_KEYS = (
    "mtime",
    "LastModified",
    "last_modified",
    "modified",
    "updated",
    "created",
    "timeCreated",
    "creation_time",
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
    """A mount over ``fs`` rooted at ``root`` (a bucket, container, share or directory)."""

    default_capabilities = BackendCapabilities()
    #: The async API may call the fs's coroutines directly when the fs is async-capable
    #: (s3fs, gcsfs, adlfs, http). A subclass whose sync primitives do more than the
    #: generic ones here (extra requests, other semantics) sets this to False.
    native_async = True

    def __init__(
        self,
        fs: Any,
        root: str = "",
        protocol: str | None = None,
        mount_name: str = "",
        capabilities: BackendCapabilities | None = None,
    ) -> None:
        self.fs = fs
        self.root = root.rstrip("/") if root not in ("", "/") else root
        self.protocol = protocol or _protocol_name(fs)
        self.mount_name = mount_name
        self._capabilities = capabilities or self.default_capabilities
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        self.implicit_dirs = any(p in _OBJECT_STORES for p in protocols)

    @property
    def capabilities(self) -> BackendCapabilities:
        return self._capabilities

    # ------------------------------------------------------------------ path mapping
    def _full(self, path: str) -> str:
        if not path:
            return self.root or ""
        if not self.root:
            return path
        if self.root == "/":
            return "/" + path
        return f"{self.root}/{path}"

    def _rel(self, full: str) -> str:
        full = full.rstrip("/")
        root = self.fs._strip_protocol(self.root).rstrip("/") if self.root else ""
        stripped = self.fs._strip_protocol(full).rstrip("/")
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
            mtime=info_mtime(info),
            etag=etag.strip('"') if isinstance(etag, str) else None,
            md5=None if is_dir else info_md5(info),
        )

    def _check_writable(self) -> None:
        if self.capabilities.readonly or not self.capabilities.write:
            raise StoragePermissionError(f"{self.describe()} is read-only")

    # ------------------------------------------------------------------ primitives
    def info(self, path: str) -> EntryInfo:
        return self._entry(self.fs.info(self._full(path)), path)

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self._full(path)))

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if set(mode) & set("wax+"):
            self._check_writable()
            self._ensure_parent(path)
        return self.fs.open(self._full(path), mode)

    def _ensure_parent(self, path: str) -> None:
        if "/" in path and not self.implicit_dirs:
            with contextlib.suppress(Exception):
                self.fs.makedirs(self._full(path.rsplit("/", 1)[0]), exist_ok=True)

    def list_dir(self, path: str) -> list[str]:
        return [entry.name for entry in self.list_detail(path)]

    def list_detail(self, path: str) -> list[EntryInfo]:
        return self._detail_entries(path, self.fs.ls(self._full(path), detail=True))

    def _detail_entries(self, path: str, infos: list[dict[str, Any]]) -> list[EntryInfo]:
        """Entries of directory ``path`` from the fs's ``ls`` answer (shared with async)."""
        full = self._full(path)
        prefix = f"{path}/" if path else ""
        own = self.fs._strip_protocol(full).rstrip("/")
        out = []
        for info in infos:
            name = self.fs._strip_protocol(info["name"]).rstrip("/")
            if name == own:
                if info.get("type") != "directory":
                    raise ValueError(f"Not a directory: {path!r}")
                continue
            out.append(self._entry(info, prefix + name.rsplit("/", 1)[-1]))
        return out

    def walk_files(self, path: str) -> Iterator[EntryInfo]:
        found = self.fs.find(self._full(path), withdirs=True, detail=True)
        prefix = self._rel(self._full(path))
        for name in sorted(found):
            rel = self._rel(name)
            if rel == prefix:
                continue
            yield self._entry(found[name], rel)

    def delete(self, path: str, recursive: bool = False) -> None:
        self._check_writable()
        full = self._full(path)
        if not self.fs.exists(full):
            return
        self.fs.rm(full, recursive=recursive or self.fs.isdir(full))
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache()

    def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        self._check_writable()
        full = self._full(path)
        if self.fs.exists(full):
            if exist_ok and self.fs.isdir(full):
                return
            raise FileExistsError(f"Already exists: {path!r}")
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent and not parents and not self.fs.isdir(self._full(parent)):
            raise FileNotFoundError(f"Parent directory does not exist: {parent!r}")
        self.fs.makedirs(full, exist_ok=True)

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

    def write_bytes(self, path: str, data: bytes) -> None:
        self._check_writable()
        self._ensure_parent(path)
        self.fs.pipe_file(self._full(path), data)
        self._invalidate(path)

    def write_stream(self, path: str, chunks: Any) -> None:
        """Write chunks atomically: the destination never shows a partial file.

        Up to :data:`SPOOL_LIMIT` bytes go out as one PUT. Longer streams use the object
        store's deferred commit (multipart completed only on success, aborted on error),
        elsewhere a temporary sibling renamed into place.
        """
        self._check_writable()
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
        stream = itertools.chain(head, iterator)
        if self.implicit_dirs:
            self._write_deferred(self._full(path), stream)
        else:
            self._write_and_rename(path, stream)
        self._invalidate(path)

    def _write_deferred(self, full: str, chunks: Any) -> None:
        fh = self.fs._open(full, mode="wb", autocommit=False)
        try:
            for chunk in chunks:
                fh.write(chunk)
            fh.close()
        except BaseException:
            with contextlib.suppress(Exception):
                fh.discard()  # aborts the multipart upload
            fh.closed = True  # or its __del__ would close it, and so upload the rest
            raise
        fh.commit()

    def _write_and_rename(self, path: str, chunks: Any) -> None:
        parent, _, name = path.rpartition("/")
        tmp = f"{parent}/.{name}.{uuid.uuid4().hex[:12]}.tmp" if parent else f".{name}.tmp"
        tmp_full = self._full(tmp)
        try:
            with self.fs.open(tmp_full, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            self.fs.mv(tmp_full, self._full(path))
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm(tmp_full)
            raise

    def upload_file(self, os_path: str, path: str) -> str | None:
        """Object stores upload local files natively: one PUT, or parallel parts when big."""
        if not self.implicit_dirs:
            return super().upload_file(os_path, path)
        self._check_writable()
        self.fs.put_file(os_path, self._full(path))
        self._invalidate(path)
        return None

    def _invalidate(self, path: str) -> None:
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache(self._full(path))

    def get_hash(self, path: str) -> str | None:
        return self._stored_md5(self.info(path))

    def _stored_md5(self, entry: EntryInfo) -> str | None:
        """The content MD5 the service stored, when this backend trusts it."""
        return entry.md5 if self.capabilities.hash_on_metadata else None

    # ------------------------------------------------------------------ copy
    def server_side_copy(self, src_path: str, dest_path: str) -> bool:
        if not self.capabilities.copy_optimization:
            return False
        self._check_writable()
        self.fs.copy(self._full(src_path), self._full(dest_path))
        self._invalidate(dest_path)
        return True

    def copy_file(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        """Server-side copy (S3 CopyObject...) when both ends are one account, else stream."""
        if (
            isinstance(dest_backend, FsspecBackend)
            and self.capabilities.copy_optimization
            and _same_account(self.fs, dest_backend.fs)
        ):
            dest_backend._check_writable()
            dest_backend._ensure_parent(dest_path)
            self.fs.copy(self._full(src_path), dest_backend._full(dest_path))
            dest_backend._invalidate(dest_path)
            return None
        return super().copy_file(src_path, dest_backend, dest_path)

    # ------------------------------------------------------------------ metadata / urls
    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        if not self.exists(path):
            raise FileNotFoundError(f"File not found: {path!r}")
        if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise ValueError("metadata must be a dict of str to str")
        raise CapabilityError(f"{self.protocol} backend does not support metadata operations")

    def get_metadata(self, path: str) -> dict[str, str]:
        self.info(path)
        return {}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache()


def _protocol_name(fs: Any) -> str:
    proto = getattr(fs, "protocol", "fsspec")
    return proto[0] if isinstance(proto, (tuple, list)) else str(proto)


def _same_account(fs1: Any, fs2: Any) -> bool:
    """Whether one filesystem can copy between the two without moving bytes through us."""
    if fs1 is fs2:
        return True
    return type(fs1) is type(fs2) and fs1.storage_options == fs2.storage_options
