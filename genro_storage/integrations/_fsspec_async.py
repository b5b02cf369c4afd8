"""The async face of ``genro://``: fsspec's coroutine API (``_cat_file``, ``_info``...).

``fsspec.filesystem("genro", asynchronous=True, ...)`` inside a running asyncio loop
gives a filesystem whose ``_``-prefixed coroutines take one of two edges per mount:

- **native**: a mount over an async fsspec filesystem (s3fs, gcsfs, adlfs, HTTP) awaits
  that filesystem's own coroutines on the running loop, no thread in between. The
  driver's ``asynchronous=True`` twin for the loop comes from
  :mod:`genro_storage.engine.aio_native` (one per loop, closed with it);
- **thread**: every other mount (local, memory, SFTP, SMB...) runs the sync face's method
  in a worker thread (``asyncio.to_thread``), so the loop never waits on disk or network.

Writes keep the sync face's rules on both edges: the permission check first, the mount
root never written or removed, object-store writes in one request with the mount's object
parameters (headers, metadata). fsspec's bulk coroutines (``_cat``, ``_copy``, ``_get``,
``_put``, ``_glob``, ``_walk``...) are built on these and gather them concurrently.

The sync face is :class:`GenroFileSystem`'s own code (``mirror_sync_methods`` is off):
a sync caller never goes through an event loop, and fsspec's IO thread only starts when
something asks a sync instance for its ``loop``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from fsspec import AbstractFileSystem
from fsspec.asyn import AsyncFileSystem, get_loop

from ..backends.fsspec import FsspecBackend
from ._fsspec_target import Target, directory, find_entries, ls_entries, renamed, whole_listing

__all__ = ["AsyncFace"]

T = TypeVar("T")


async def _thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The thread edge: a blocking call of the sync face, off the event loop."""
    return await asyncio.to_thread(func, *args, **kwargs)


class AsyncFace(AsyncFileSystem):
    """fsspec's async API over genro mounts (see the module docstring)."""

    mirror_sync_methods = False  # the sync face is our own code, never a loop hop

    if TYPE_CHECKING:  # provided by GenroFileSystem

        def _target(self, path: Any) -> Target | None: ...

        def _file_target(self, path: Any) -> Target: ...

    def __init__(
        self,
        *args: Any,
        asynchronous: bool = False,
        loop: Any = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        # AsyncFileSystem.__init__ without starting fsspec's IO thread: only a sync
        # instance whose ``loop`` is asked for needs it (see ``loop``)
        self.asynchronous = asynchronous
        self._pid = os.getpid()
        self._loop = loop
        self.batch_size = batch_size
        AbstractFileSystem.__init__(self, *args, **kwargs)

    @property
    def loop(self) -> Any:
        if self._pid != os.getpid():
            raise RuntimeError("This class is not fork-safe")
        if self._loop is None and not self.asynchronous:
            self._loop = get_loop()
        return self._loop

    async def _native(self, target: Target) -> Any:
        """The running loop's async twin of the mount's filesystem."""
        from ..engine.aio_native import loop_fs

        return await loop_fs(target.fs)

    # ------------------------------------------------------------------ stat and listing
    async def _info(self, path: Any, **kwargs: Any) -> dict[str, Any]:
        target = self._target(path)
        if target is None:
            return directory("")
        if target.native and target.rel:
            afs = await self._native(target)
            return renamed(await afs._info(target.full), target.name)
        return await _thread(self.info, path)

    async def _exists(self, path: Any, **kwargs: Any) -> bool:
        return await self._ask("exists", path)

    async def _isdir(self, path: Any) -> bool:
        return await self._ask("isdir", path)

    async def _isfile(self, path: Any) -> bool:
        return await self._ask("isfile", path)

    async def _ask(self, question: str, path: Any) -> bool:
        """Answer ``exists``/``isdir``/``isfile``: natively on an async driver, else in a thread."""
        try:
            target = self._target(path)
        except FileNotFoundError:
            return False
        if target is not None and target.native and target.rel:
            afs = await self._native(target)
            return bool(await getattr(afs, "_" + question)(target.full))
        return bool(await _thread(getattr(self, question), path))

    async def _ls(self, path: Any, detail: bool = True, **kwargs: Any) -> list[Any]:
        target = self._target(path)
        if target is None or not target.native:
            return await _thread(self.ls, path, detail=detail)
        afs = await self._native(target)
        try:
            entries = ls_entries(target, await afs._ls(target.full, detail=True))
        except FileNotFoundError:
            if target.rel:
                raise
            return await _thread(self.ls, path, detail=detail)  # an empty mount root
        return entries if detail else [entry["name"] for entry in entries]

    async def _find(
        self,
        path: Any,
        maxdepth: int | None = None,
        withdirs: bool = False,
        **kwargs: Any,
    ) -> Any:
        detail = bool(kwargs.pop("detail", False))
        target = self._target(path)
        if target is None or not target.native:
            return await _thread(self.find, path, maxdepth, withdirs, detail=detail, **kwargs)
        afs = await self._native(target)
        whole = whole_listing(target, maxdepth)
        try:
            found = await afs._find(
                target.full, maxdepth=None if whole else maxdepth, withdirs=withdirs, detail=True
            )
        except FileNotFoundError:
            found = {}
        return find_entries(target, found, maxdepth, detail)

    # ------------------------------------------------------------------ reading
    async def _cat_file(
        self, path: Any, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        target = self._file_target(path)
        if target.native:
            afs = await self._native(target)
            if start is None and end is None:
                options = target.driver.cat_options  # type: ignore[attr-defined]
                return bytes(await afs._cat_file(target.full, **options))
            return bytes(await afs._cat_file(target.full, start=start, end=end))
        return await _thread(self.cat_file, path, start=start, end=end)

    async def _get_file(self, rpath: Any, lpath: Any, **kwargs: Any) -> None:
        target = self._target(rpath)
        if target is None or not target.native or hasattr(lpath, "write"):
            await _thread(self.get_file, rpath, lpath, **kwargs)
            return
        afs = await self._native(target)
        if await afs._isdir(target.full):
            os.makedirs(lpath, exist_ok=True)
            return
        os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
        await afs._get_file(target.full, lpath)

    async def open_async(self, path: Any, mode: str = "rb", **kwargs: Any) -> Any:
        """A streamed async reader where the mount's driver has one (s3fs, HTTP...)."""
        if "b" not in mode or "r" not in mode or kwargs.get("compression"):
            raise ValueError(f"open_async reads bytes only (mode 'rb'), not {mode!r}")
        target = self._file_target(path)
        if not target.native:
            raise NotImplementedError(
                f"mount '{target.mount}' ({target.backend.protocol}) has no async reader: "
                f"use await fs._cat_file(...) or the sync open()"
            )
        afs = await self._native(target)
        return await afs.open_async(target.full, "rb", **kwargs)

    # ------------------------------------------------------------------ writing
    def _native_write(self, target: Target) -> bool:
        """Whether a whole-content write may go to the driver in one native request: an
        object store whose writes are plain ``pipe_file`` calls (s3fs, gcsfs, adlfs)."""
        driver = target.driver
        return target.native and isinstance(driver, FsspecBackend) and driver.pipes_natively()

    async def _pipe_file(
        self, path: Any, value: bytes, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        target = self._file_target(path)
        if not self._native_write(target):
            await _thread(self.pipe_file, path, value, mode=mode)
            return
        if mode == "create" and await self._exists(path):
            raise FileExistsError(f"genro://{target.name} already exists")
        target.backend.check_write_allowed()  # a relative mount's permissions first
        target.backend.refuse_root_write(target.rel)
        driver = target.driver
        assert isinstance(driver, FsspecBackend)  # _native_write said so
        await driver.write_bytes_async(await self._native(target), target.inner, bytes(value))

    async def _put_file(
        self, lpath: Any, rpath: Any, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        target = self._file_target(rpath)
        driver = target.driver
        native = target.native and isinstance(driver, FsspecBackend) and driver.uploads_natively()
        if not native:
            await _thread(self.put_file, lpath, rpath, mode=mode, **kwargs)
            return
        assert isinstance(driver, FsspecBackend)
        if mode == "create" and await self._exists(rpath):
            raise FileExistsError(f"genro://{target.name} already exists")
        if os.path.isdir(lpath):
            await self._makedirs(rpath, exist_ok=True)
            return
        target.backend.check_write_allowed()
        target.backend.refuse_root_write(target.rel)
        # the sync face's upload (one streamed PUT up to multipart_threshold, else parts;
        # the file's mtime kept) with this loop's client
        afs = await self._native(target)
        await driver.upload_file_async(afs, os.fspath(lpath), target.inner)

    async def _cp_file(self, path1: Any, path2: Any, **kwargs: Any) -> None:
        src, dest = self._file_target(path1), self._file_target(path2)
        if not (src.native and src.fs is dest.fs):
            await _thread(self.cp_file, path1, path2, **kwargs)
            return
        dest.backend.check_write_allowed()
        afs = await self._native(src)
        try:  # one filesystem (same mount, or mounts on one account): its own copy
            await afs._cp_file(src.full, dest.full)
        except (FileNotFoundError, IsADirectoryError):
            if not await afs._isdir(src.full):
                raise
            await self._makedirs(path2, exist_ok=True)
            return
        dest.driver.invalidate(dest.inner)  # type: ignore[attr-defined]

    async def _rm_file(self, path: Any, **kwargs: Any) -> None:
        target = self._file_target(path)
        if not target.native:
            await _thread(self.rm_file, path)
            return
        target.backend.check_delete_allowed()
        target.driver.refuse_root_delete(target.inner)
        afs = await self._native(target)
        if await afs._isdir(target.full):
            raise IsADirectoryError(f"genro://{target.name} is a directory: use rm(recursive=True)")
        await afs._rm_file(target.full)
        target.driver.invalidate(target.inner)  # type: ignore[attr-defined]

    async def _rm(
        self,
        path: Any,
        recursive: bool = False,
        batch_size: int | None = None,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        targets = [self._target(p) for p in paths]
        if not all(t is not None and t.native and t.rel for t in targets):
            await _thread(self.rm, path, recursive=recursive, maxdepth=maxdepth)
            return
        if any(self._has_magic(p) for p in paths):
            paths = await self._expand_path(paths, recursive=recursive, maxdepth=maxdepth)
            targets = [self._target(p) for p in paths]
        by_fs: dict[int, list[Target]] = {}
        for target in targets:
            assert target is not None
            target.backend.check_delete_allowed()
            if not target.rel:
                raise PermissionError(f"genro://{target.name}: a mount root cannot be removed")
            by_fs.setdefault(id(target.fs), []).append(target)
        for group in by_fs.values():  # one bulk request where the driver has one
            afs = await self._native(group[0])
            await afs._rm([t.full for t in group], recursive=recursive, maxdepth=maxdepth)
            for target in group:
                target.driver.invalidate(target.inner)  # type: ignore[attr-defined]

    @staticmethod
    def _has_magic(path: Any) -> bool:
        from glob import has_magic

        return bool(has_magic(str(path)))

    async def _mkdir(self, path: Any, create_parents: bool = True, **kwargs: Any) -> None:
        await _thread(self.mkdir, path, create_parents=create_parents, **kwargs)

    async def _makedirs(self, path: Any, exist_ok: bool = False) -> None:
        await _thread(self.makedirs, path, exist_ok=exist_ok)
