"""``genro://MOUNT/path``: every mount as an fsspec filesystem, for pandas, pyarrow, DuckDB, Dask.

:class:`GenroFileSystem` is registered with fsspec (entry point ``fsspec.specs``) under the
protocol ``genro``. It finds mounts through a :class:`~genro_storage.StorageManager`:

- one passed in: ``GenroFileSystem(manager=storage)`` or ``storage.fs``;
- a configuration in the storage options: ``{"config": "mounts.yaml"}`` or
  ``{"config": [{"name": ..., "type": ...}, ...]}``;
- otherwise the default manager, configured from ``$GENRO_STORAGE_CONFIG``.

Reads take the fast path where the mount has an fsspec filesystem of its own (S3, GCS,
Azure, memory, SFTP...; a local mount uses fsspec's local filesystem): ``info``, ``ls``,
``find``, ``cat_file`` and ``open`` for reading go straight to it, with the mount's prefix
in front. Writes and deletes always go through the mount's backend, so permissions
(``readonly`` mounts), atomic publication and error messages naming the mount hold.
Mounts without an fsspec filesystem (base64, git...) are served through the backend API.

With ``asynchronous=True`` it is an fsspec async filesystem too (``_cat_file``,
``_info``...): coroutines await the mount driver's own on the caller's loop where the
driver is async, a worker thread otherwise (:mod:`._fsspec_async`).

Pickling keeps the mount configuration, never live connections: a Dask worker in another
process builds its own mounts from it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import os
from glob import has_magic
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.spec import make_instance

from ..errors import CapabilityError, StorageNotFoundError
from ..fileio import is_write_mode
from ..manager import StorageManager, default_manager
from ..paths import normalize
from ._fsspec_async import AsyncFace
from ._fsspec_snapshot import bulk_call, current
from ._fsspec_target import (
    Target,
    directory,
    entry_dict,
    find_entries,
    ls_entries,
    renamed,
    whole_listing,
)

__all__ = ["GenroFileSystem"]

PROTOCOL = "genro"


class _ManagerAwareCache(type(AbstractFileSystem)):  # type: ignore[misc]
    """fsspec's instance cache keys on ``str(arguments)``; two managers print alike, so a
    filesystem built on an explicit manager object is never taken from the cache."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("manager") is not None:
            kwargs["skip_instance_cache"] = True
        return super().__call__(*args, **kwargs)


class GenroFileSystem(AsyncFace, metaclass=_ManagerAwareCache):
    """The mounts of a :class:`~genro_storage.StorageManager` as one fsspec filesystem.

    Paths are ``MOUNT/path/inside`` (``genro://`` in front optional); the root lists the
    mounts as directories.

    >>> import fsspec
    >>> fs = fsspec.filesystem("genro", config=[{"name": "scratch", "type": "memory"}])
    >>> fs.pipe("scratch/doctest/hello.txt", b"hi")
    >>> fs.cat("genro://scratch/doctest/hello.txt")
    b'hi'
    """

    protocol = PROTOCOL
    root_marker = ""

    def __init__(
        self,
        manager: StorageManager | None = None,
        config: str | os.PathLike[str] | list[dict[str, Any]] | None = None,
        direct: bool = True,
        **storage_options: Any,
    ) -> None:
        """``direct=False`` serves reads through the backend API too (no fast path)."""
        super().__init__(manager=manager, config=config, direct=direct, **storage_options)
        self.direct = direct
        if manager is not None and config is not None:
            raise ValueError("GenroFileSystem takes a manager or a config, not both")
        if manager is None:
            if config is not None:
                manager = StorageManager(env=False)
                manager.configure(os.fspath(config) if isinstance(config, os.PathLike) else config)
            else:
                manager = default_manager()
        self.manager = manager

    # ------------------------------------------------------------------ pickling
    def __reduce__(self) -> Any:
        """Rebuild from the mount configuration (no connection, no cached state)."""
        options = {"config": self.manager.mount_configs(), "direct": self.direct}
        if self.asynchronous:
            options["asynchronous"] = True
        return make_instance, (type(self), (), options)

    # ------------------------------------------------------------------ paths
    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        uri = getattr(path, "uri", None)  # a StorageNode: its mount path, not its OS path
        if isinstance(uri, str) and uri.startswith("genro://"):
            path = uri
        path = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
        for prefix in ("genro://", "genro::"):
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
        return path.strip("/")

    @classmethod
    def _parent(cls, path: Any) -> str:
        path = cls._strip_protocol(path)
        return path.rsplit("/", 1)[0] if "/" in path else ""

    def unstrip_protocol(self, name: str) -> str:
        return f"{PROTOCOL}://{self._strip_protocol(name)}"

    def _target(self, path: Any) -> Target | None:
        """The mount and mount-relative path of ``path``; None for the root (the mount list)."""
        stripped = self._strip_protocol(path)
        if not stripped:
            return None
        mount, _, rel = stripped.partition("/")
        try:
            backend = self.manager.get_backend(mount)
        except StorageNotFoundError as exc:
            hint = ""
            if not self.manager.get_mount_names():
                hint = (
                    " (no mounts configured: set $GENRO_STORAGE_CONFIG, or pass "
                    "storage_options={'config': 'mounts.yaml'} or a manager)"
                )
            raise FileNotFoundError(f"genro://{stripped}: {exc}{hint}") from exc
        # the library's one audited normaliser: '..' in any spelling, NUL... refused
        rel = normalize(rel) if rel else ""
        return Target(mount, rel, backend, self.direct)

    def _file_target(self, path: Any) -> Target:
        target = self._target(path)
        if target is None:
            raise IsADirectoryError("genro:// root lists the mounts: name a file in a mount")
        return target

    # ------------------------------------------------------------------ bulk calls
    # One listing per object-store tree for the length of the call (_fsspec_snapshot).
    def copy(self, *args: Any, **kwargs: Any) -> Any:
        with bulk_call():
            return super().copy(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with bulk_call():
            return super().get(*args, **kwargs)

    def expand_path(self, *args: Any, **kwargs: Any) -> Any:
        with bulk_call():
            return super().expand_path(*args, **kwargs)

    @staticmethod
    def _snapshot(target: Target | None) -> tuple[bool, dict[str, Any] | None]:
        """(covered, info) of ``target`` in the running bulk call's listings."""
        snapshots = current()
        if snapshots is None or target is None or target.fs is None or not target.rel:
            return False, None
        if not target.driver.implicit_dirs:
            return False, None
        return snapshots.lookup(target.fs, target.fs._strip_protocol(target.full).rstrip("/"))

    @staticmethod
    def _forget(target: Target) -> None:
        """A write is about to happen at ``target``: drop the listings it changes."""
        snapshots = current()
        if snapshots is not None and target.fs is not None:
            snapshots.forget(target.fs, target.fs._strip_protocol(target.full).rstrip("/"))

    # ------------------------------------------------------------------ stat and listing
    def info(self, path: Any, **kwargs: Any) -> dict[str, Any]:
        """The mount filesystem's info dict (ETag, mtime...) with ``name`` as a genro path."""
        target = self._target(path)
        if target is None:
            return directory("")
        covered, known = self._snapshot(target)
        if covered:
            if known is None:
                raise FileNotFoundError(f"genro://{target.name}")
            return renamed(known, target.name)
        if target.fs is not None and target.rel:
            return renamed(target.fs.info(target.full), target.name)
        return entry_dict(target.name, target.backend.info(target.rel))

    def isdir(self, path: Any) -> bool:
        try:
            target = self._target(path)
        except FileNotFoundError:
            return False
        if target is None or not target.rel:
            return target is None or target.backend.is_dir("")
        covered, known = self._snapshot(target)
        if covered:
            return known is not None and known.get("type") == "directory"
        if target.fs is not None:
            return bool(target.fs.isdir(target.full))
        return target.backend.is_dir(target.rel)

    def isfile(self, path: Any) -> bool:
        try:
            target = self._target(path)
        except FileNotFoundError:
            return False
        if target is None or not target.rel:
            return False
        covered, known = self._snapshot(target)
        if covered:
            return known is not None and known.get("type") != "directory"
        if target.fs is not None:
            return bool(target.fs.isfile(target.full))
        return target.backend.is_file(target.rel)

    def exists(self, path: Any, **kwargs: Any) -> bool:
        try:
            target = self._target(path)
        except FileNotFoundError:
            return False
        if target is None:
            return True
        covered, known = self._snapshot(target)
        if covered:
            return known is not None
        if target.fs is not None and target.rel:
            return bool(target.fs.exists(target.full))
        return target.backend.exists(target.rel)

    def ls(self, path: Any, detail: bool = True, **kwargs: Any) -> list[Any]:
        """Entries of a directory (the mounts at the root); a file lists itself."""
        target = self._target(path)
        if target is None:
            entries = [directory(name) for name in self.manager.get_mount_names()]
        elif target.fs is not None:
            entries = self._fs_ls(target)
        else:
            entries = self._backend_ls(target)
        return entries if detail else [entry["name"] for entry in entries]

    def _backend_ls(self, target: Target) -> list[dict[str, Any]]:
        backend, prefix = target.backend, f"{target.name}/"
        try:
            listed = backend.list_detail(target.rel)
        except (ValueError, NotADirectoryError):
            entry = backend.info(target.rel)  # fsspec's ls of a file: the file itself
            if entry.is_dir:
                raise
            return [entry_dict(target.name, entry)]
        return [entry_dict(prefix + entry.name, entry) for entry in listed]

    def _fs_ls(self, target: Target) -> list[dict[str, Any]]:
        try:
            infos = target.fs.ls(target.full, detail=True)
        except FileNotFoundError:
            if target.rel or not target.backend.is_dir(""):
                raise
            return []  # an object store's empty mount root
        return ls_entries(target, infos)

    def find(
        self,
        path: Any,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Every file below ``path`` (directories too with ``withdirs``), sorted."""
        target = self._target(path)
        if target is None or target.fs is None:
            return super().find(path, maxdepth, withdirs, detail, **kwargs)
        snapshots = current()
        if snapshots is not None and target.driver.implicit_dirs:
            return self._find_in_snapshot(target, maxdepth, withdirs, detail)
        whole = whole_listing(target, maxdepth)
        try:
            found = target.fs.find(
                target.full, maxdepth=None if whole else maxdepth, withdirs=withdirs, detail=True
            )
        except FileNotFoundError:
            found = {}
        return find_entries(target, found, maxdepth, detail)

    def _find_in_snapshot(
        self, target: Target, maxdepth: int | None, withdirs: bool, detail: bool
    ) -> Any:
        """``find`` from the bulk call's listing of the tree (listed now if it is not)."""
        snapshots = current()
        assert snapshots is not None
        fs = target.fs
        own = fs._strip_protocol(target.full).rstrip("/")
        entries = snapshots.tree(fs, own)
        if entries is None:
            try:
                found = fs.find(target.full, withdirs=True, detail=True)
            except FileNotFoundError:
                found = {}
            entries = snapshots.store(fs, own, found)
        kept = {
            name: info
            for name, info in entries.items()
            if withdirs or info.get("type") != "directory"
        }
        return find_entries(target, kept, maxdepth, detail, whole=True)

    # ------------------------------------------------------------------ reading
    def cat_file(
        self, path: Any, start: int | None = None, end: int | None = None, **kw: Any
    ) -> bytes:
        """Bytes ``[start, end)`` (negative values count from the end), one ranged read."""
        target = self._file_target(path)
        if target.fs is not None:
            return bytes(target.fs.cat_file(target.full, start=start, end=end))
        backend = target.backend
        if start is None and end is None:
            return backend.read_bytes(target.rel)
        size = backend.size(target.rel)
        lo = 0 if start is None else (max(0, size + start) if start < 0 else start)
        hi = size if end is None else (size + end if end < 0 else min(end, size))
        return backend.read_range(target.rel, lo, hi) if hi > lo else b""

    def _open(
        self,
        path: Any,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        target = self._file_target(path)
        if not is_write_mode(mode):
            if target.fs is not None:
                options = dict(kwargs)
                if block_size is not None:
                    options["block_size"] = block_size
                if cache_options is not None:
                    options["cache_options"] = cache_options
                return target.fs.open(target.full, mode, **options)
            return _SizedReader(target.backend.open(target.rel, "rb"), target)
        backend = target.backend
        backend.check_write_allowed()
        self._forget(target)
        if "x" in mode:
            if backend.exists(target.rel):
                raise FileExistsError(f"genro://{target.name} already exists")
            mode = mode.replace("x", "w")
        return backend.open(target.rel, mode.replace("t", ""))

    def get_file(
        self, rpath: Any, lpath: Any, callback: Any = None, outfile: Any = None, **kw: Any
    ) -> None:
        target = self._target(rpath)
        if (
            target is not None
            and target.fs is not None
            and outfile is None
            and not hasattr(lpath, "write")
        ):
            if self.isdir(rpath):  # a bulk get's listing answers this
                os.makedirs(lpath, exist_ok=True)
                return
            os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
            target.fs.get_file(target.full, lpath)
            return
        options = {} if callback is None else {"callback": callback}
        super().get_file(rpath, lpath, outfile=outfile, **options, **kw)

    # ------------------------------------------------------------------ writing
    def pipe_file(self, path: Any, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        target = self._file_target(path)
        self._forget(target)
        backend = target.backend
        if mode == "create" and backend.exists(target.rel):
            raise FileExistsError(f"genro://{target.name} already exists")
        backend.check_write_allowed()
        backend.write_bytes(target.rel, bytes(value))

    def put_file(
        self, lpath: Any, rpath: Any, callback: Any = None, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        target = self._file_target(rpath)
        self._forget(target)
        backend = target.backend
        if mode == "create" and backend.exists(target.rel):
            raise FileExistsError(f"genro://{target.name} already exists")
        if os.path.isdir(lpath):
            self.makedirs(rpath, exist_ok=True)
            return
        backend.check_write_allowed()
        backend.upload_file(os.fspath(lpath), target.rel)
        if callback is not None:
            size = os.path.getsize(lpath)
            callback.set_size(size)
            callback.relative_update(size)

    def cp_file(self, path1: Any, path2: Any, **kwargs: Any) -> None:
        src, dest = self._file_target(path1), self._file_target(path2)
        self._forget(dest)
        dest.backend.check_write_allowed()
        if src.fs is not None and src.fs is dest.fs:
            # one filesystem (same mount, or mounts on one account): its own copy
            try:
                src.fs.cp_file(src.full, dest.full)
                return
            except (FileNotFoundError, IsADirectoryError):
                if not src.fs.isdir(src.full):
                    raise
            self.makedirs(path2, exist_ok=True)
            return
        if src.backend.is_dir(src.rel):
            self.makedirs(path2, exist_ok=True)
            return
        if src.backend is dest.backend and src.backend.server_side_copy(src.rel, dest.rel):
            return
        src.backend.copy_file(src.rel, dest.backend, dest.rel)

    def rm_file(self, path: Any) -> None:
        target = self._file_target(path)
        self._forget(target)
        target.backend.check_delete_allowed()
        if target.backend.is_dir(target.rel):
            raise IsADirectoryError(f"genro://{target.name} is a directory: use rm(recursive=True)")
        target.backend.delete(target.rel)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        if any(has_magic(str(p)) for p in paths):
            paths = self.expand_path(paths, recursive=recursive, maxdepth=maxdepth)
        targets = [self._file_target(p) for p in paths]
        for target in targets:
            self._forget(target)
            target.backend.check_delete_allowed()
            if not target.rel:
                raise PermissionError(f"genro://{target.name}: a mount root cannot be removed")
        fast = [t for t in targets if t.fs is not None]
        by_fs: dict[int, list[Target]] = {}
        for target in fast:
            by_fs.setdefault(id(target.fs), []).append(target)
        for group in by_fs.values():  # one bulk request where the driver has one
            group[0].fs.rm([t.full for t in group], recursive=recursive, maxdepth=maxdepth)
        for target in targets:
            if target.fs is not None:
                continue
            backend = target.backend
            if not recursive and backend.is_dir(target.rel) and backend.list_dir(target.rel):
                raise OSError(f"genro://{target.name}: directory not empty")
            backend.delete(target.rel, recursive=recursive)

    def rmdir(self, path: Any) -> None:
        target = self._file_target(path)
        self._forget(target)
        if target.backend.list_dir(target.rel):
            raise OSError(f"genro://{target.name}: directory not empty")
        target.backend.check_delete_allowed()
        target.backend.delete(target.rel, recursive=True)

    def mkdir(self, path: Any, create_parents: bool = True, **kwargs: Any) -> None:
        target = self._file_target(path)
        self._forget(target)
        target.backend.mkdir(target.rel, parents=create_parents, exist_ok=False)

    def makedirs(self, path: Any, exist_ok: bool = False) -> None:
        target = self._target(path)
        if target is not None:
            self._forget(target)
        if target is None or not target.rel:
            if not exist_ok:
                raise FileExistsError(f"genro://{self._strip_protocol(path)} exists")
            return
        if exist_ok and target.backend.implicit_dirs:
            target.backend.check_write_allowed()
            return  # object stores: a directory exists once a file is under it
        target.backend.mkdir(target.rel, parents=True, exist_ok=exist_ok)

    # ------------------------------------------------------------------ extras
    def sign(self, path: Any, expiration: int = 100, **kwargs: Any) -> str:
        """A presigned/signed URL where the mount can make one (S3, GCS, Azure...)."""
        target = self._file_target(path)
        url = None
        with contextlib.suppress(CapabilityError):
            url = target.backend.url(target.rel, expires_in=expiration, **kwargs)
        if not url:
            raise NotImplementedError(
                f"mount '{target.mount}' ({target.backend.protocol}) cannot sign URLs"
            )
        return url

    def modified(self, path: Any) -> _dt.datetime:
        target = self._file_target(path)
        entry = target.backend.info(target.rel)
        if entry.mtime is None:
            raise NotImplementedError(f"mount '{target.mount}' keeps no modification time")
        return _dt.datetime.fromtimestamp(entry.mtime, tz=_dt.timezone.utc)

    def created(self, path: Any) -> _dt.datetime:
        target = self._file_target(path)
        if target.fs is not None:
            with contextlib.suppress(NotImplementedError):
                value = target.fs.created(target.full)
                if isinstance(value, _dt.datetime):
                    return value
                return _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)
        raise NotImplementedError(f"mount '{target.mount}' keeps no creation time")

    def ukey(self, path: Any) -> str:
        """Changes whenever the content changes: the stored hash/ETag, else size and mtime."""
        info = self.info(path)
        for key in ("ETag", "etag", "md5", "md5Hash", "content_md5"):
            if info.get(key):
                return f"{key}:{info[key]}"
        return super().ukey(path)  # type: ignore[no-any-return]


class _SizedReader(io.BufferedReader):
    """A backend's read handle with the ``size`` attribute fsspec readers expect."""

    def __init__(self, raw: Any, target: Target) -> None:
        self._raw_handle = raw
        self._size: int | None = None
        self._target = target
        super().__init__(_RawAdapter(raw))

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = self._target.backend.size(self._target.rel)
        return self._size


class _RawAdapter(io.RawIOBase):
    """A raw view of any readable file object (readinto over read)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(getattr(self._handle, "seekable", lambda: False)())

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self._handle.tell())

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._handle.close()
        super().close()


def register() -> None:
    """Make ``genro://`` known to fsspec in this process (the installed entry point does
    the same; this serves a source tree that was never ``pip install``-ed)."""
    import fsspec

    fsspec.register_implementation(PROTOCOL, GenroFileSystem, clobber=True)
    try:
        from upath.registry import register_implementation
    except ImportError:
        return
    register_implementation(PROTOCOL, "genro_storage.integrations.upath.GenroPath", clobber=True)
