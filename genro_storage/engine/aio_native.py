"""The native async edge: fsspec's own coroutines on the caller's event loop.

Backends over an async fsspec filesystem (``async_impl``: s3fs, gcsfs, adlfs, http) can run
their I/O on the running asyncio loop with no worker thread. fsspec binds an async
filesystem's sessions to the loop that opened them, so each loop gets its own instance
(``asynchronous=True``), built once and closed when the loop shuts down (or by
``AsyncStorageManager.aclose()``).

:class:`NativeFile` runs the handful of operations the async node calls often (stat,
read, ranged read, write, listing, streaming) on a :class:`~genro_storage.engine.location.
Location`. It asks the backend through its declared hooks (``resolve`` under relative
mounts; ``full_path``, ``parse_info``, ``parse_listing``, ``invalidate`` and
``cat_options`` of :class:`FsspecBackend`), so only the I/O call differs from the sync
path. Anything else goes through a worker thread (``thread_edge``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import weakref
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, cast

from ..backends._errors import F, classify, mapped
from ..backends.base import EntryInfo
from ..backends.fsspec import FsspecBackend
from ..fileio import CHUNK_SIZE
from .location import Location

__all__ = [
    "NATIVE_WRITE_LIMIT",
    "NativeFile",
    "close_native",
    "connect_off_loop",
    "loop_fs",
    "native_file",
]

#: Ranged reads use blocks this big when the filesystem cannot stream a GET body.
STREAM_BLOCK = 4 * 1024 * 1024
#: Bigger writes go through a worker thread: some clients (gcsfs) build and send the
#: request body in one piece, which would hold the loop for tens of milliseconds.
NATIVE_WRITE_LIMIT = 1024 * 1024 - 1


def native_file(location: Location | None) -> NativeFile | None:
    """A native-async handle on ``location``, or None when it must go through a thread
    (None in: a versioned snapshot or a virtual node, which always do)."""
    if location is None:
        return None
    backend, path = location.backend.resolve(location.path)
    if not isinstance(backend, FsspecBackend) or not backend.native_async or not path:
        return None  # the mount root goes through the thread edge (see _empty_root)
    if backend.own_async():
        return OwnAsyncFile(location, backend, path) if _on_asyncio() else None
    if not getattr(backend.fs, "async_impl", False) or not _on_asyncio():
        return None
    return NativeFile(location, backend, path)


async def connect_off_loop(location: Location) -> None:
    """Create the driver of ``location``'s backend in a worker thread when it is not
    created yet, before :func:`native_file` asks it whether it is async: its set-up (an
    S3 mount's botocore session registers ~130 handlers: 10-15 ms, more on a busy
    machine) then never runs on the loop."""
    backend, path = location.backend.resolve(location.path)
    if (
        isinstance(backend, FsspecBackend)
        and backend.native_async
        and path
        and not backend.connected
        and _on_asyncio()
    ):
        await asyncio.to_thread(backend.connect)


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio, or no loop: the thread edge works everywhere
        return False
    try:
        import sniffio

        return sniffio.current_async_library() == "asyncio"
    except Exception:
        return True


def _native_location(self: NativeFile, args: tuple[Any, ...]) -> tuple[Any, str]:
    return self.backend, self.location.path


def _mapped(method: F) -> F:
    """Client-library errors leave as genro-storage errors, as on the sync path."""
    return cast(F, mapped(method, locate=_native_location))


def _as_mounted(entries: list[EntryInfo], base: str, path: str) -> list[EntryInfo]:
    """A listing of the backend's folder ``path`` with paths as the node's own mount
    names them (``base``: the node's path; they differ under a relative mount)."""
    if base == path:
        return entries
    return [replace(e, path=f"{base}/{e.name}" if base else e.name) for e in entries]


class NativeFile:
    """One file of an async-capable fsspec backend, driven on the running loop."""

    def __init__(self, location: Location, backend: FsspecBackend, path: str) -> None:
        self.location = location  # as the node names it (its own mount, maybe relative)
        self.backend = backend  # the fsspec backend underneath, and the path there
        self.path = path
        self.full = backend.full_path(path)

    async def fs(self) -> Any:
        return await loop_fs(self.backend.fs)

    @_mapped
    async def info(self) -> EntryInfo:
        afs = await self.fs()
        return self.backend.parse_info(await afs._info(self.full), self.location.path)

    @_mapped
    async def exists(self) -> bool:
        afs = await self.fs()
        try:  # not _exists(): it answers False when the server cannot be reached
            await afs._info(self.full)
        except OSError as exc:
            if classify(exc) == "not_found":
                return False
            raise
        return True

    @_mapped
    async def read_bytes(self) -> bytes:
        afs = await self.fs()
        try:
            return bytes(await afs._cat_file(self.full, **self.backend.cat_options))
        except (FileNotFoundError, IsADirectoryError):
            if await afs._isdir(self.full):
                raise IsADirectoryError(f"Is a directory: {self.location.fullpath}") from None
            raise

    @_mapped
    async def read_range(self, start: int, end: int) -> bytes:
        afs = await self.fs()
        return bytes(await afs._cat_file(self.full, start=start, end=end))

    def check_write_allowed(self) -> None:
        self.location.backend.check_write_allowed()  # a relative mount asks its parent

    @property
    def writes_natively(self) -> bool:
        """Whether :meth:`write_bytes` may run on the loop (else: the thread edge)."""
        return self.backend.pipes_natively()

    @_mapped
    async def write_bytes(self, data: bytes) -> None:
        """The backend's own write (:meth:`FsspecBackend.write_bytes_async`): its
        Content-Type, object parameters and checks; only when :attr:`writes_natively`."""
        self.check_write_allowed()
        self.location.backend.refuse_root_write(self.location.path)
        await self.backend.write_bytes_async(await self.fs(), self.path, data)

    @_mapped
    async def list_detail(self) -> list[EntryInfo]:
        if not self.backend.lists_natively():
            # a backend with its own listing (HTTP): its sync one, in a thread
            from .thread_edge import run_in_thread  # asyncer: only the async API needs it

            entries = await run_in_thread(self.backend.list_detail, self.path)
        else:
            afs = await self.fs()
            entries = self.backend.parse_listing(self.path, await afs._ls(self.full, detail=True))
        return _as_mounted(entries, self.location.path, self.path)

    @_mapped
    async def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Stream the content: one streamed GET where the fs can, else ranged blocks."""
        afs = await self.fs()
        try:
            fh = await afs.open_async(self.full, "rb")
        except (NotImplementedError, ValueError):
            fh = None
        if fh is not None:
            try:
                while chunk := await fh.read(chunk_size):
                    yield bytes(chunk)
            finally:
                await fh.close()
            return
        async for chunk in self._ranged_blocks(afs, chunk_size):
            yield chunk

    async def _ranged_blocks(self, afs: Any, chunk_size: int) -> AsyncIterator[bytes]:
        """Ranged GETs of :data:`STREAM_BLOCK` (gcsfs, adlfs: no streamed GET). A file
        shorter than one block is that one request; the size is asked (once) only when
        the first block comes back full."""
        block = max(chunk_size, STREAM_BLOCK)
        start, size = 0, None
        while size is None or start < size:
            end = start + block if size is None else min(start + block, size)
            try:
                data = await afs._cat_file(self.full, start=start, end=end)
            except (FileNotFoundError, IsADirectoryError):
                if start == 0 and await afs._isdir(self.full):
                    raise IsADirectoryError(f"Is a directory: {self.location.fullpath}") from None
                raise
            except Exception:
                # an empty object: a server may refuse any range of it (416)
                if start == 0 and (await afs._info(self.full)).get("size") == 0:
                    return
                raise
            for offset in range(0, len(data), chunk_size):
                yield bytes(data[offset : offset + chunk_size])
            if len(data) < end - start:
                return  # a short block: the end of the object
            start += len(data)
            if size is None:
                size = int((await afs._info(self.full))["size"])


class OwnAsyncFile(NativeFile):
    """One file of a backend with coroutines of its own (``own_async``: S3 with
    ``client: obstore``): no per-loop fsspec instance; the same checks and mapping."""

    async def fs(self) -> Any:
        return None  # (write_bytes_async of such a backend ignores it)

    def _shown(self, entry: EntryInfo) -> EntryInfo:
        base = self.location.path  # under a relative mount: as the node's mount names it
        return entry if base == entry.path else replace(entry, path=base)

    @_mapped
    async def info(self) -> EntryInfo:
        backend: Any = self.backend
        return self._shown(await backend.info_async(self.path))

    @_mapped
    async def exists(self) -> bool:
        backend: Any = self.backend
        found: bool = await backend.exists_async(self.path)
        return found

    @_mapped
    async def read_bytes(self) -> bytes:
        backend: Any = self.backend
        try:
            data: bytes = await backend.read_bytes_async(self.path)
        except IsADirectoryError:
            raise IsADirectoryError(f"Is a directory: {self.location.fullpath}") from None
        return data

    @_mapped
    async def read_range(self, start: int, end: int) -> bytes:
        backend: Any = self.backend
        data: bytes = await backend.read_range_async(self.path, start, end)
        return data

    @_mapped
    async def list_detail(self) -> list[EntryInfo]:
        backend: Any = self.backend
        entries: list[EntryInfo] = await backend.list_detail_async(self.path)
        return _as_mounted(entries, self.location.path, self.path)

    @_mapped
    async def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        backend: Any = self.backend
        async for chunk in backend.iter_bytes_async(self.path, chunk_size):
            yield chunk


# ---------------------------------------------------------------------- per-loop instances
_LOOPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
    weakref.WeakKeyDictionary()
)


class _LoopState:
    """The async filesystems opened on one loop, and the task that closes them with it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.instances: dict[int, tuple[Any, asyncio.Future[Any]]] = {}
        self.keeper = loop.create_task(self._keep(), name="genro-storage: close async fs")

    async def _keep(self) -> None:
        # asyncio.run() (and uvicorn, anyio...) cancel leftover tasks before closing the
        # loop: that is our cue to close the sessions while the loop still runs.
        try:
            await asyncio.Event().wait()
        finally:
            await self.close()

    async def close(self) -> None:
        instances, self.instances = self.instances, {}
        for _, future in instances.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                with contextlib.suppress(Exception):
                    await _close_fs(future.result())


async def loop_fs(fs: Any) -> Any:
    """The ``asynchronous=True`` twin of ``fs`` for the running loop (built once).

    Also the native edge of ``genro://``'s async face (``integrations/_fsspec_async``).
    """
    loop = asyncio.get_running_loop()
    state = _LOOPS.get(loop)
    if state is None:
        state = _LOOPS[loop] = _LoopState(loop)
    found = state.instances.get(id(fs))
    if found is not None and found[0] is fs:
        return await asyncio.shield(found[1])
    future: asyncio.Future[Any] = loop.create_future()
    state.instances[id(fs)] = (fs, future)
    try:
        # constructors may read credentials: a worker thread (asyncio's own, so the
        # async fsspec face needs no asyncer)
        afs = await asyncio.to_thread(_build_async_fs, fs)
        await _open_session(afs)
    except BaseException as exc:
        state.instances.pop(id(fs), None)
        future.set_exception(exc)
        future.exception()  # retrieved: waiters get it, nobody else is warned
        raise
    future.set_result(afs)
    return afs


def _build_async_fs(fs: Any) -> Any:
    kwargs = {k: v for k, v in fs.storage_options.items() if k not in ("asynchronous", "loop")}
    # The sync instance keeps serving the thread edge; two listing caches would disagree
    # after a write through the other one, so the async twin keeps none.
    kwargs["use_listings_cache"] = False
    if type(fs).__module__.startswith("s3fs"):  # a mount's own session, or a new one
        kwargs["session"] = _warm_botocore(kwargs.get("session"))
    afs = type(fs)(*fs.storage_args, asynchronous=True, skip_instance_cache=True, **kwargs)
    if "retries" in vars(fs):  # the mount's attempts, set after construction (S3: s3fs'
        afs.retries = fs.retries  # own retry loop), else the twin would keep s3fs' 5
    return afs


def _warm_botocore(session: Any) -> Any:
    """``session`` (a new aiobotocore session when None) with S3's service data parsed.

    Creating the S3 client parses several large JSON files synchronously; done on the
    loop it would block it for ~50-100 ms (the mounts' sessions load them lazily too).
    Here it runs in the worker thread that builds the twin instead; the session's data
    loader keeps them for the client.
    """
    if session is None:
        from aiobotocore.session import AioSession

        session = AioSession()
    loader = session.get_component("data_loader")
    for type_name in ("service-2", "endpoint-rule-set-1"):
        with contextlib.suppress(Exception):  # called as the client calls it: the
            loader.load_service_model("s3", type_name, api_version=None)  # cache key
    for name in ("endpoints", "partitions", "_retry", "sdk-default-configuration"):
        with contextlib.suppress(Exception):
            loader.load_data(name)
    with contextlib.suppress(Exception):
        session._get_internal_component("endpoint_resolver")
    return session


async def _open_session(afs: Any) -> None:
    opener = getattr(afs, "set_session", None) or getattr(afs, "_set_session", None)
    if opener is not None:
        result = opener()
        if inspect.isawaitable(result):
            await result


async def _close_fs(afs: Any) -> None:
    """Close the network sessions of an async filesystem (s3fs, http, gcsfs, adlfs)."""
    client = getattr(afs, "_s3", None)
    if client is not None:
        await client.close()
        afs._s3 = None
    session = getattr(afs, "_session", None)
    if session is not None and hasattr(session, "close"):
        result = session.close()
        if inspect.isawaitable(result):
            await result
    service = getattr(afs, "service_client", None)
    if service is not None and hasattr(service, "close"):
        result = service.close()
        if inspect.isawaitable(result):
            await result
        _detach_finalizers(afs)


def _detach_finalizers(afs: Any) -> None:
    """Drop the ``weakref.finalize`` hooks adlfs registers to close its clients later.

    On an ``asynchronous=True`` instance they call fsspec's ``sync(None, ...)`` when the
    instance is collected or at exit, which raises "Loop is not running" and prints a
    traceback. We have just closed those clients on their own loop, so the hooks are
    moot. (Finding them needs CPython's ``finalize._registry``; ``detach()`` is public.)
    """
    registry = getattr(weakref.finalize, "_registry", None)
    if not isinstance(registry, dict):
        return
    for hook, info in list(registry.items()):
        with contextlib.suppress(Exception):
            if info.weakref() is afs:
                hook.detach()


async def close_native() -> None:
    """Close every async filesystem opened on the running loop (they reopen on demand)."""
    loop = asyncio.get_running_loop()
    state = _LOOPS.pop(loop, None)
    if state is None:
        return
    state.keeper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await state.keeper
