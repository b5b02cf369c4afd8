"""StorageNode: what users hold. Path operations, I/O, copy, hashing, tools and serving."""

from __future__ import annotations

import base64 as _b64
import contextlib
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from enum import Enum
from typing import IO, TYPE_CHECKING, Any

from .backends.base import EntryInfo, StorageBackend, text_wrapper
from .capabilities import BackendCapabilities
from .engine import copying, tools, versioning
from .engine.location import Location
from .errors import StorageError
from .fileio import CHUNK_SIZE, guess_mimetype, is_write_mode, md5_hex
from .node_pathlib import PathlibMixin, wrap_text
from .paths import MAX_PATH_BYTES, join

if TYPE_CHECKING:
    from .manager import StorageManager

__all__ = ["SkipStrategy", "StorageNode"]

_new_node = object.__new__
#: a listed name that ``child(name)`` would take as it is: one segment, not ``.``/``..``,
#: no backslash (``normalize`` looks for ``..`` between them), NUL or other control
#: character; anything else goes through ``child()``
_PLAIN_NAME = re.compile(r"(?!\.\.?\Z)[^/\\\x00-\x1f\x7f]+\Z")


class SkipStrategy(str, Enum):
    """When ``copy_to`` leaves an existing destination file alone."""

    NEVER = "never"
    EXISTS = "exists"
    SIZE = "size"
    HASH = "hash"
    CUSTOM = "custom"
    MTIME = "mtime"  # 0.5.0: same size and destination not older, from listings only


def check_read_mode(mode: str) -> None:
    if mode not in ("r", "rb"):
        raise ValueError(f"Invalid read mode {mode!r}: use 'r' or 'rb'")


def decode_payload(data: bytes, mode: str, encoding: str = "utf-8") -> str | bytes:
    """What ``read(mode)`` returns for ``data`` (shared by the sync and async nodes)."""
    return data if mode == "rb" else data.decode(encoding)


def encode_payload(data: str | bytes, mode: str, encoding: str = "utf-8") -> bytes:
    """The bytes ``write(data, mode)`` stores, after checking the mode and the data type."""
    if mode == "w":
        if not isinstance(data, str):
            raise TypeError(f"Text mode 'w' requires str, got {type(data).__name__}")
        return data.encode(encoding)
    if mode == "wb":
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"Binary mode 'wb' requires bytes, got {type(data).__name__}")
        return bytes(data)
    raise ValueError(f"Invalid write mode {mode!r}: use 'w' or 'wb'")


def entry_size(entry: EntryInfo, fullpath: str) -> int:
    if entry.is_dir:
        raise ValueError(f"Cannot get size of a directory: {fullpath}")
    return entry.size


class StorageNode(PathlibMixin):
    """A file or directory at ``mount:path``. Get one from :meth:`StorageManager.node`."""

    def __init__(
        self,
        manager: StorageManager,
        mount_name: str | None,
        path: str | None,
        version: int | str | None = None,
    ) -> None:
        self._manager = manager
        self._mount_name = mount_name
        self._path = path
        self._version = version
        self._backend: StorageBackend | None = None
        if mount_name is not None:
            if not manager.has_mount(mount_name):
                raise KeyError(mount_name)  # 0.4.2: a direct constructor call raises KeyError
            self._backend = manager.get_backend(mount_name)  # built now on a lazy manager

    # ------------------------------------------------------------------ identity
    @property
    def fullpath(self) -> str:
        """``'mount:path'`` (``'mount:'`` at the root, ``'None:'`` for virtual nodes)."""
        return f"{self._mount_name}:{self._path or ''}"

    def __str__(self) -> str:
        return self.fullpath

    def __repr__(self) -> str:
        return f"StorageNode('{self.fullpath}')"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StorageNode):
            return NotImplemented
        if self.fullpath == other.fullpath:
            return True
        try:
            if not (self.isfile and other.isfile):
                return False
            return self.md5hash == other.md5hash
        except (FileNotFoundError, ValueError):
            return False

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __truediv__(self, name: str) -> StorageNode:
        return self.child(name)

    # ------------------------------------------------------------------ path properties
    @property
    def path(self) -> str | None:
        """Path inside the mount ('' at the root); for base64 the payload."""
        return self._path

    @property
    def mount_name(self) -> str | None:
        return self._mount_name

    @property
    def basename(self) -> str:
        return (self._path or "").rsplit("/", 1)[-1]

    name = basename

    @property
    def stem(self) -> str:
        return posixpath.splitext(self.basename)[0]

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.basename)[1]

    @property
    def ext(self) -> str:
        """The extension without its dot (``'pdf'``), ``''`` if none."""
        return self.suffix[1:]

    def splitext(self) -> tuple[str, str]:
        """``(fullpath without the extension, extension with dot)``."""
        base, ext = posixpath.splitext(self._path or "")
        return f"{self._mount_name}:{base}", ext

    @property
    def parent(self) -> StorageNode:
        """The directory above (the root's parent is the root); drops any version."""
        parent_path = (self._path or "").rsplit("/", 1)[0] if "/" in (self._path or "") else ""
        return StorageNode(self._manager, self._mount_name, parent_path)

    @property
    def dirname(self) -> str:
        """``fullpath`` of the parent directory."""
        return self.parent.fullpath

    @property
    def mimetype(self) -> str:
        return guess_mimetype(self.basename)

    @property
    def capabilities(self) -> BackendCapabilities:
        caps = self._require_backend().capabilities
        if self._version is not None:
            return caps.evolve(versioning=False, version_listing=False, version_access=False)
        return caps

    @property
    def version(self) -> int | str | None:
        return self._version

    def child(self, *parts: str) -> StorageNode:
        """The node at ``self/parts...`` (``..`` is refused)."""
        return StorageNode(self._manager, self._mount_name, join(self._path or "", *parts))

    # ------------------------------------------------------------------ internals
    @property
    def location(self) -> Location:
        """What the engine works on: the mount, its backend and the path (no version)."""
        return Location(self._mount_name or "", self._require_backend(), self._path or "")

    def _present(self, location: Location) -> StorageNode:
        """The node callbacks receive for an engine location (of this node's manager)."""
        return StorageNode(self._manager, location.mount, location.path)

    def _listed(self, path: str) -> StorageNode:
        """A node of this mount at ``path``, a path a listing of this mount gave: checked
        already, so no ``normalize`` and no mount lookup (``children()``, ``walk()``)."""
        node = _new_node(StorageNode)
        node.__dict__.update(
            _manager=self._manager,
            _mount_name=self._mount_name,
            _path=path,
            _version=None,
            _backend=self._backend,
        )
        return node

    def _require_backend(self) -> StorageBackend:
        if self._backend is None:
            raise AttributeError("This node has no backend (virtual or dummy node)")
        return self._backend

    @property
    def _p(self) -> str:
        self._require_backend()
        return self._path or ""

    def _check_not_snapshot(self) -> None:
        if self._version is not None:
            raise ValueError(
                f"Cannot write to versioned snapshot {self.fullpath} "
                f"(version={self._version!r}); write to the current node instead"
            )

    def _adopt(self, new_path: str | None) -> None:
        """Backends that encode content in the path (base64) return the new path."""
        if new_path is not None:
            self._path = new_path

    def stat(self) -> EntryInfo:
        """Size, mtime, etag, md5 and is_dir in one call (``FileNotFoundError`` if missing)."""
        return self._require_backend().info(self._path or "")

    # ------------------------------------------------------------------ state
    @property
    def exists(self) -> bool:
        return self._require_backend().exists(self._path or "")

    @property
    def isfile(self) -> bool:
        return self._require_backend().is_file(self._p)

    @property
    def isdir(self) -> bool:
        return self._require_backend().is_dir(self._p)

    @property
    def size(self) -> int:
        return entry_size(self.stat(), self.fullpath)

    @property
    def mtime(self) -> float:
        return self._require_backend().mtime(self._p)

    @property
    def md5hash(self) -> str:
        """MD5 hex of the content: the backend's stored MD5 when it has one, else streamed."""
        backend = self._require_backend()
        if self._version is None:  # first: on object stores one stat gives the answer
            stored = backend.get_hash(self._p)
            if stored:
                return stored.lower()
        if backend.info(self._p).is_dir:
            raise ValueError(f"Cannot compute hash of directory: {self.fullpath}")
        if self._version is None:  # the backend's own hashing (local mounts cache it)
            return backend.compute_md5(self._p)
        return md5_hex(self.iter_bytes())

    # ------------------------------------------------------------------ reading
    def read(self, mode: str = "r", encoding: str = "utf-8") -> str | bytes:
        """The whole content: ``'r'`` decoded text, ``'rb'`` bytes."""
        check_read_mode(mode)
        return decode_payload(self._read_all(), mode, encoding)

    def _read_all(self) -> bytes:
        backend = self._require_backend()
        if self._version is not None:
            with self._open_version(self._version, "rb") as fh:
                return bytes(fh.read())
        return backend.read_bytes(self._path or "")

    def read_bytes(self) -> bytes:
        return self._read_all()

    def read_text(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._read_all().decode(encoding or "utf-8", errors)

    def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Stream the content in chunks, never holding the whole file."""
        if self._version is not None:
            with self._open_version(self._version, "rb") as fh:
                while chunk := fh.read(chunk_size):
                    yield chunk
            return
        yield from self._require_backend().iter_bytes(self._p, chunk_size)

    def read_range(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` with a ranged read on backends that have one."""
        return self._require_backend().read_range(self._p, start, end)

    # ------------------------------------------------------------------ writing
    def write(
        self,
        data: str | bytes,
        mode: str = "w",
        encoding: str = "utf-8",
        skip_if_unchanged: bool = False,
    ) -> bool:
        """Write the whole content; returns False when skipped as unchanged."""
        return self._write_payload(encode_payload(data, mode, encoding), skip_if_unchanged)

    def _write_payload(self, payload: bytes, skip_if_unchanged: bool) -> bool:
        self._check_not_snapshot()
        backend = self._require_backend()
        if skip_if_unchanged and self._unchanged(payload):
            return False
        self._adopt(backend.write_bytes(self._p, payload))
        return True

    def _unchanged(self, payload: bytes) -> bool:
        backend = self._require_backend()
        if not backend.exists(self._p):
            return False
        if backend.capabilities.versioning:
            current = versioning.latest_etag(self.versions)
            if current:
                return current == hashlib.md5(payload).hexdigest()
        try:
            stored = backend.get_hash(self._p)
            if stored:
                return stored == hashlib.md5(payload).hexdigest()
            return backend.read_bytes(self._p) == payload
        except (OSError, StorageError, ValueError):
            return False

    def write_bytes(self, data: bytes, skip_if_unchanged: bool = False) -> bool:
        backend = self._backend
        if type(data) is bytes and backend is not None and self._version is None:
            if skip_if_unchanged and self._unchanged(data):  # (``write``'s steps, in line:
                return False  # on a memory mount they were a fifth of the call)
            new_path = backend.write_bytes(self._path or "", data)
            if new_path is not None:
                self._path = new_path
            return True
        return self.write(data, "wb", skip_if_unchanged=skip_if_unchanged)

    def write_text(
        self, text: str, encoding: str = "utf-8", skip_if_unchanged: bool = False
    ) -> bool:
        return self.write(text, "w", encoding=encoding, skip_if_unchanged=skip_if_unchanged)

    def write_stream(self, chunks: Any, *, content_type: str | None = None) -> None:
        """Write an iterable of byte chunks (uploads, downloads) without buffering it all.

        ``content_type`` (an upload's declared type) is what S3, GCS and Azure record for
        the object; without it they record the type the name implies.
        """
        self._check_not_snapshot()
        backend = self._require_backend()
        if content_type is None:
            self._adopt(backend.write_stream(self._p, chunks))
        else:
            self._adopt(backend.save_stream(self._p, chunks, content_type=content_type))

    def open(
        self,
        mode: str = "r",
        version: int | str | None = None,
        as_of: datetime | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        buffering: int = -1,
    ) -> IO[Any]:
        """Open the file (text mode by default), optionally at a version or date.

        ``encoding``, ``errors``, ``newline`` and ``buffering`` work as in
        ``builtins.open`` (text defaults to UTF-8 whatever the locale says).
        """
        text = "b" not in mode
        if encoding is not None or errors is not None or newline is not None or buffering != -1:
            if not text:
                if encoding is not None or errors is not None or newline is not None:
                    raise ValueError("binary mode doesn't take an encoding, errors or newline")
                return self.open(mode, version, as_of)  # buffer sizes are the driver's
            raw = self.open(mode.replace("t", "") + "b", version, as_of)
            return wrap_text(raw, encoding, errors, newline, buffering)
        backend = self._require_backend()
        if self._version is not None:
            if version is not None or as_of is not None:
                raise ValueError("This node is a versioned snapshot: do not pass version/as_of")
            if is_write_mode(mode):
                self._check_not_snapshot()
            return self._open_version(self._version, mode)
        if version is not None and as_of is not None:
            raise ValueError("Cannot specify both version and as_of")
        if version is not None or as_of is not None:
            if not backend.capabilities.versioning:
                raise PermissionError(
                    f"Mount '{self._mount_name}' does not support versioning "
                    f"(capabilities: {backend.capabilities})"
                )
            if is_write_mode(mode):
                raise ValueError("Cannot write to historical versions (read-only)")
            if as_of is not None:
                version_id = versioning.resolve_at_date(self.versions, as_of)
                if version_id is None:
                    raise FileNotFoundError(f"No version of {self.fullpath} at or before {as_of}")
                return self._open_version(version_id, mode)
            return self._open_version(version, mode)  # type: ignore[arg-type]
        if is_write_mode(mode):
            return backend.open_write(self._p, mode, self._adopt)
        return backend.open(self._p, mode)

    def _open_version(self, version: int | str, mode: str) -> IO[Any]:
        backend = self._require_backend()
        if isinstance(version, int):
            version = self._resolve_version_index(version)
        return text_wrapper(backend.open_version(self._p, version, "rb"), mode)

    # ------------------------------------------------------------------ tree operations
    def delete(self) -> None:
        """Remove the file or the whole directory tree; a missing path is a no-op.

        A symlink is removed itself (never what it points to). The mount root, in any
        spelling, is refused with :class:`~genro_storage.errors.MountRootError` (a
        ``StoragePermissionError``): a mount root, bucket or share is never deleted.
        """
        backend = self._backend
        if backend is None:
            backend = self._require_backend()  # (raises)
        path = self._path or ""
        if not path.strip("/."):  # (``is_root``'s first test: a name is never the root)
            backend.refuse_root_delete(path)
        backend.delete(path, recursive=True)

    def cleanup(self, older_than: float = 3600.0, dry_run: bool = False) -> list[str]:
        """Remove what interrupted writes left below this node; return what was removed.

        Stray temporary files of the publish-on-close writer (local ``.tmp``, SFTP, SMB
        and WebDAV ``.part``) and, on S3, incomplete multipart uploads, when older than
        ``older_than`` seconds (younger ones may belong to a write still running).
        ``dry_run=True`` only lists them.
        """
        self._check_not_snapshot()
        return self._require_backend().cleanup(self._p, older_than, dry_run)

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        self._require_backend().mkdir(self._p, parents=parents, exist_ok=exist_ok)

    def children(self) -> list[StorageNode]:
        """One node per directory entry, in the backend's listing order."""
        backend = self._require_backend()
        names = backend.list_dir(self._p)
        if backend.path_is_content:
            return [self.child(name) for name in names]
        base = self._path or ""
        prefix = f"{base}/" if base else ""
        limit = MAX_PATH_BYTES // 4 - len(prefix)  # (4 bytes at most per character)
        return [
            self._listed(prefix + name)
            if len(name) <= limit and _PLAIN_NAME.match(name)
            else self.child(name)  # anything unusual is checked (and refused) as before
            for name in names
        ]

    def iterdir(self) -> Iterator[StorageNode]:
        return iter(self.children())

    def walk(self) -> Iterator[tuple[StorageNode, EntryInfo]]:
        """Every entry below this directory with its stat, from one listing where possible."""
        for entry in self._require_backend().walk_files(self._p):
            yield self._listed(entry.path), entry

    def copy_to(
        self,
        dest: StorageNode | str,
        include: str | list[str] | None = None,
        exclude: str | list[str] | None = None,
        filter: Callable[[StorageNode, str], bool] | None = None,
        skip: SkipStrategy | str = SkipStrategy.NEVER,
        skip_fn: Callable[[StorageNode, StorageNode], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
        on_file: Callable[[StorageNode], None] | None = None,
        on_skip: Callable[[StorageNode, str], None] | None = None,
        **options: Any,
    ) -> StorageNode:
        """Copy this file or tree to ``dest`` (another mount is fine); returns ``dest``.

        ``skip`` leaves existing destination files alone (``exists``, ``size``, ``mtime``:
        same size and destination not older, ``hash``, ``custom`` with ``skip_fn``);
        ``include``/``exclude`` are fnmatch patterns on the relative path;
        ``progress(done, total)``, ``on_file`` and ``on_skip`` report.
        Extra options of the copy engine: ``max_workers`` (files in flight: 16 by
        default, 1 between memory mounts), ``progress_bytes(done_bytes, total_bytes)``,
        and ``on_error`` (``'continue'``: copy the rest, then raise
        :class:`~genro_storage.errors.CopyError` naming each failed file; ``'raise'``:
        stop at the first; a callable ``(src, exc)``), and
        ``executor`` (a ``distributed.Client`` or ``concurrent.futures`` executor: each
        file's copy becomes a task carrying the mount configuration, for mounts every
        worker can reach), ``part_size`` and ``part_concurrency`` (this call's multipart
        uploads to S3: bytes per part, parts of one file in flight; the mounts' own
        settings otherwise). ``options=CopyOptions(...)`` carries all of these in one object
        (:class:`genro_storage.engine.copying.CopyOptions`); keywords override its fields.
        """
        target = self._manager.node(dest) if isinstance(dest, str) else dest
        if self._backend is None or self._version is not None:
            # virtual nodes and versioned snapshots copy what they read, not the current object
            target.write_stream(self.iter_bytes())
            return target
        if (
            include is None
            and exclude is None
            and filter is None
            and skip is SkipStrategy.NEVER
            and skip_fn is None
            and progress is None
            and on_file is None
            and on_skip is None
            and not options
        ):  # a plain copy: the engine without options to merge
            dest_backend = target._backend
            if dest_backend is not None and self._backend.quick_copy(
                self._path or "", dest_backend, target._path or ""
            ):  # a plain file copy the backends did in one step (memory): no locations
                copying.log_copied(self, target)
                return target
            landed = copying.copy(self.location, target.location, quick=False)
            target._adopt(landed.path if landed.path != target._p else None)
            return target
        given = _given(
            ("include", include, None),
            ("exclude", exclude, None),
            ("filter", filter, None),
            ("skip", skip, SkipStrategy.NEVER),
            ("skip_fn", skip_fn, None),
            ("progress", progress, None),
            ("on_file", on_file, None),
            ("on_skip", on_skip, None),
        )
        preset = options.pop("options", None)
        landed = copying.copy(
            self.location,
            target.location,
            preset,
            present=self._present,
            mounts=self._manager,
            **given,
            **options,
        )
        target._adopt(landed.path if landed.path != target._p else None)
        return target

    def sync_to(
        self,
        dest: StorageNode | str,
        delete: bool = False,
        dry_run: bool = False,
        skip: SkipStrategy | str = SkipStrategy.HASH,
        **options: Any,
    ) -> copying.CopyReport:
        """Make ``dest`` mirror this tree: copy what is missing or changed; returns a report.

        ``delete=True`` also removes destination files the source does not have (only when
        every copy succeeded); ``dry_run=True`` reports what would happen without writing.
        Takes ``copy_to``'s filters, callbacks and engine options, plus ``on_delete(node)``.
        """
        target = self._manager.node(dest) if isinstance(dest, str) else dest
        given = _given(("skip", skip, SkipStrategy.HASH))
        preset = options.pop("options", None)
        return copying.sync(
            self.location,
            target.location,
            preset,
            delete=delete,
            dry_run=dry_run,
            present=self._present,
            mounts=self._manager,
            **given,
            **options,
        )

    def move_to(self, dest: StorageNode | str) -> StorageNode:
        """Copy to ``dest``, delete the source, and point this node at ``dest``."""
        target = self._manager.node(dest) if isinstance(dest, str) else dest
        backend = self._require_backend()
        backend.check_delete_allowed()
        backend.refuse_root_delete(self._p)  # before copying: nothing half-done
        self.copy_to(target)
        self.delete()
        self._mount_name, self._path, self._backend = (
            target._mount_name,
            target._path,
            target._backend,
        )
        self._version = None
        return self

    # ------------------------------------------------------------------ content helpers
    def to_base64(self, mime: str | None = None, include_uri: bool = True) -> str:
        """The content as base64, by default as a ``data:<mime>;base64,...`` URI."""
        if self.isdir:
            raise ValueError(f"Cannot encode directory as base64: {self.fullpath}")
        encoded = _b64.b64encode(self._read_all()).decode("ascii")
        if not include_uri:
            return encoded
        return f"data:{mime or guess_mimetype(self.basename)};base64,{encoded}"

    def fill_from_url(self, url: str, timeout: int = 30) -> None:
        """Download ``url`` (http/https) into this node, streaming."""
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            self._check_not_snapshot()  # an invalid URL is reported first, as in 0.4.2
        self._adopt(tools.fill_from_url(self.location, url, timeout))

    def zip(self) -> bytes:
        """A ZIP archive (bytes) of this file or directory."""
        from .virtual import zip_node

        return zip_node(self)

    def append(self, node: StorageNode) -> None:
        raise ValueError("append() is only available for iternode (manager.iternode())")

    def extend(self, *nodes: StorageNode) -> None:
        raise ValueError("extend() is only available for iternode (manager.iternode())")

    # ------------------------------------------------------------------ versioning
    @property
    def versions(self) -> list[dict[str, Any]]:
        """Versions oldest first (S3): version_id, is_latest, last_modified, size, etag."""
        backend = self._require_backend()  # virtual nodes: AttributeError, as in 0.4.2
        try:
            return versioning.sort_versions(backend.get_versions(self._p))
        except Exception:  # any listing error (driver/client exceptions too) means []
            return []

    @property
    def version_count(self) -> int:
        return len(self.versions)

    def _resolve_version_index(self, index: int) -> str:
        return versioning.resolve_index(self.versions, index, self.fullpath)

    def _resolve_version_at_date(self, when: datetime) -> str | None:
        return versioning.resolve_at_date(self.versions, when)

    def compact_versions(self, dry_run: bool = False) -> int:
        """Delete versions identical to their predecessor; returns how many (would be) removed."""
        if not self.capabilities.versioning:
            raise PermissionError(f"{self._mount_name} backend does not support versioning")
        return versioning.compact(self._require_backend(), self._p, self.versions, dry_run)

    # ------------------------------------------------------------------ metadata, URLs
    def get_metadata(self) -> dict[str, str]:
        return self._require_backend().get_metadata(self._p)

    def set_metadata(self, metadata: dict[str, str]) -> None:
        self._require_backend().set_metadata(self._p, metadata)

    def url(self, expires_in: int = 3600, **kwargs: Any) -> str | None:
        """A presigned (S3/GCS/Azure) or public (HTTP) URL, else ``None``."""
        return self._require_backend().url(self._p, expires_in, **kwargs)

    def internal_url(self, nocache: bool = False) -> str | None:
        return self._require_backend().internal_url(self._p, nocache)

    @property
    def os_path(self) -> str | None:
        """The real file path on local disk, or ``None`` for remote mounts."""
        return self._require_backend().os_path(self._p)

    # ------------------------------------------------------------------ external tools
    @contextlib.contextmanager
    def local_path(self, mode: str = "r") -> Iterator[str]:
        """A local file path for tools: the file itself on local mounts, else a temp copy."""
        backend = self._require_backend()
        # 0.4.2's local mounts ignored the mode, so 'rb'/'wb' spellings exist in user code
        requested, mode = mode, mode.replace("b", "").replace("t", "")
        if mode not in ("r", "w", "rw"):
            raise ValueError(f"Invalid local_path mode {requested!r}: use 'r', 'w' or 'rw'")
        if mode != "r":
            self._check_not_snapshot()
        if self._version is not None:
            with tools.snapshot_local_path(self.suffix, self.iter_bytes()) as local:
                yield local
            return
        with backend.local_path(self._p, mode) as local:
            yield local

    def call(
        self,
        *args: Any,
        callback: Callable[[], Any] | None = None,
        async_mode: bool = False,
        return_output: bool = False,
        **subprocess_kwargs: Any,
    ) -> str | None:
        """Run an external command; node arguments become local paths (uploaded after)."""
        return tools.call(
            tuple(_local_argument(a) for a in args),
            callback=callback,
            async_mode=async_mode,
            return_output=return_output,
            **subprocess_kwargs,
        )

    # ------------------------------------------------------------------ serving
    def serve(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        download: bool = False,
        download_name: str | None = None,
        cache_max_age: int | None = None,
    ) -> Any:
        """Answer a WSGI request with this file (ETag, 304, Range, HEAD, streaming).

        genro-storage 0.4.2's contract (``legacy`` headers and ETag, a list-like body:
        ``[b'Not Found']`` for 404, ``[b'']`` for 304, ``[]`` for an empty file or HEAD, a
        lazy sequence of 64 KiB chunks for 200/206) plus HEAD, Range, Last-Modified and
        weak If-None-Match. The mountable apps are in :mod:`genro_storage.serving`.
        """
        # imported here: the serving engine and the HTTP core cost ~20 ms at startup
        from .engine.serve.legacy import serve_legacy

        return serve_legacy(self, environ, start_response, download, download_name, cache_max_age)


def _local_argument(arg: Any) -> Any:
    """A node argument of ``call()`` as the engine takes it: a local path to open."""
    if isinstance(arg, StorageNode):
        return tools.LocalArgument(lambda: arg.local_path(mode="rw"))
    return arg


def _given(*params: tuple[str, Any, Any]) -> dict[str, Any]:
    """The ``(name, value, default)`` parameters a caller set: a keyword left at its
    default does not override the same field of an ``options=CopyOptions(...)``."""
    return {
        name: value
        for name, value, default in params
        if not (value is default or (default is not None and value == default))
    }
