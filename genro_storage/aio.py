"""The async API: :class:`AsyncStorageManager` and :class:`AsyncStorageNode`.

Both wrap the sync objects and add no storage logic of their own. Each awaitable takes
one of two edges:

- **native**: a mount over an async fsspec filesystem (S3, GCS, Azure, HTTP) runs the
  filesystem's own coroutines on the running asyncio loop, with no thread
  (``engine/aio_native.py``);
- **thread**: everything else runs the sync node's method in a worker thread
  (``asyncer.asyncify``), so the event loop never waits on disk or network.

Path properties and ``mimetype`` stay sync (no I/O). Requires the ``async`` extra
(``pip install 'genro-storage[async]'``); importing this module without asyncer raises
ImportError.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Union

from .errors import missing_extra

try:
    import anyio
    import anyio.from_thread

    from .engine.thread_edge import run_in_thread  # asyncer's asyncify
except ImportError as _exc:  # name the extra that fixes it
    raise missing_extra(_exc, "async", "genro_storage.aio (the async API)") from _exc

from .backends.base import EntryInfo, entry_mtime
from .engine.aio_native import (
    NATIVE_WRITE_LIMIT,
    NativeFile,
    close_native,
    connect_off_loop,
    native_file,
)
from .fileio import CHUNK_SIZE, guess_mimetype, md5_hex_async
from .manager import StorageManager
from .node import (
    StorageNode,
    check_read_mode,
    decode_payload,
    encode_payload,
    entry_size,
)

if TYPE_CHECKING:
    from .capabilities import BackendCapabilities
    from .engine.copying import CopyReport

__all__ = ["AsyncFile", "AsyncStorageManager", "AsyncStorageNode", "run_in_thread"]

Chunks = Union[AsyncIterable[bytes], Iterable[bytes]]


async def _native(node: StorageNode) -> NativeFile | None:
    """The native async handle on ``node``; snapshots and virtual nodes take the thread.
    A mount's driver not created yet is created in a worker thread first."""
    if node.version is not None or node.mount_name is None:
        return None
    location = node.location
    await connect_off_loop(location)
    return native_file(location)


class AsyncStorageManager:
    """Async twin of :class:`StorageManager`: configuration and ``node()`` stay sync.

    >>> storage = AsyncStorageManager()
    >>> storage.configure([{"name": "mem", "type": "memory"}])
    >>> storage.node("mem:a.txt")
    AsyncStorageNode('mem:a.txt')
    """

    def __init__(self, storage: StorageManager | None = None) -> None:
        self._storage = storage if storage is not None else StorageManager()

    @property
    def storage(self) -> StorageManager:
        """The sync manager underneath (shared mounts)."""
        return self._storage

    def configure(self, source: Any) -> None:
        self._storage.configure(source)

    def add_mount(self, config: dict[str, Any]) -> None:
        self._storage.configure([config])

    def remove_mount(self, name: str) -> None:
        self._storage.remove_mount(name)

    def has_mount(self, name: str) -> bool:
        return self._storage.has_mount(name)

    def get_mount_names(self) -> list[str]:
        return self._storage.get_mount_names()

    @property
    def fs(self) -> Any:
        """The mounts as an fsspec filesystem (``genro://``), see :attr:`StorageManager.fs`."""
        return self._storage.fs

    def node(self, mount_or_path: str | None = None, *path_parts: str) -> AsyncStorageNode:
        """An async node for ``'mount:path'`` (same forms as ``StorageManager.node``)."""
        return AsyncStorageNode(self._storage.node(mount_or_path, *path_parts))

    async def aclose(self) -> None:
        """Close the network sessions opened on this event loop (reopened on demand)."""
        await close_native()

    async def __aenter__(self) -> AsyncStorageManager:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncStorageNode:
    """Async twin of :class:`StorageNode`: I/O is awaitable, path properties stay sync."""

    def __init__(self, sync_node: StorageNode) -> None:
        self._node = sync_node

    # ------------------------------------------------------------------ identity (sync)
    @property
    def sync_node(self) -> StorageNode:
        """The wrapped sync node."""
        return self._node

    @property
    def fullpath(self) -> str:
        return self._node.fullpath

    @property
    def path(self) -> str | None:
        return self._node.path

    @property
    def mount_name(self) -> str | None:
        return self._node.mount_name

    @property
    def basename(self) -> str:
        return self._node.basename

    name = basename

    @property
    def stem(self) -> str:
        return self._node.stem

    @property
    def suffix(self) -> str:
        return self._node.suffix

    @property
    def ext(self) -> str:
        return self._node.ext

    @property
    def mimetype(self) -> str:
        return guess_mimetype(self._node.basename)

    @property
    def capabilities(self) -> BackendCapabilities:
        return self._node.capabilities

    @property
    def parent(self) -> AsyncStorageNode:
        return AsyncStorageNode(self._node.parent)

    def child(self, *parts: str) -> AsyncStorageNode:
        return AsyncStorageNode(self._node.child(*parts))

    def __truediv__(self, name: str) -> AsyncStorageNode:
        return self.child(name)

    def __repr__(self) -> str:
        return f"AsyncStorageNode('{self.fullpath}')"

    def __str__(self) -> str:
        return self.fullpath

    # ------------------------------------------------------------------ state
    async def stat(self) -> EntryInfo:
        """Size, mtime, etag, md5 and is_dir in one call (``FileNotFoundError`` if missing)."""
        native = await _native(self._node)
        if native is not None:
            return await native.info()
        return await run_in_thread(self._node.stat)

    async def exists(self) -> bool:
        native = await _native(self._node)
        if native is not None:
            return await native.exists()
        return await run_in_thread(lambda: self._node.exists)

    async def isfile(self) -> bool:
        try:
            return not (await self.stat()).is_dir
        except FileNotFoundError:
            return False

    async def isdir(self) -> bool:
        try:
            return (await self.stat()).is_dir
        except FileNotFoundError:
            return False

    async def size(self) -> int:
        return entry_size(await self.stat(), self.fullpath)

    async def mtime(self) -> float:
        return entry_mtime(await self.stat())

    async def md5hash(self) -> str:
        """MD5 hex of the content: the stored MD5 (S3 ETag...) when there is one, else streamed."""
        native = await _native(self._node)
        if native is None:
            return await run_in_thread(lambda: self._node.md5hash)
        entry = await native.info()
        if entry.is_dir:
            raise ValueError(f"Cannot compute hash of directory: {self.fullpath}")
        stored = native.backend.stored_md5(entry)
        return stored.lower() if stored else await md5_hex_async(native.iter_bytes())

    # ------------------------------------------------------------------ reading
    async def read(self, mode: str = "r", encoding: str = "utf-8") -> str | bytes:
        """The whole content: ``'r'`` decoded text, ``'rb'`` bytes."""
        check_read_mode(mode)
        return decode_payload(await self.read_bytes(), mode, encoding)

    async def read_bytes(self) -> bytes:
        native = await _native(self._node)
        if native is not None:
            return await native.read_bytes()
        return await run_in_thread(self._node.read_bytes)

    async def read_text(self, encoding: str = "utf-8") -> str:
        return (await self.read_bytes()).decode(encoding)

    async def read_range(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` with a ranged read."""
        native = await _native(self._node)
        if native is not None:
            return await native.read_range(start, end)
        return await run_in_thread(self._node.read_range, start, end)

    async def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """``async for chunk in node.iter_bytes()``: stream without holding the file."""
        native = await _native(self._node)
        if native is not None:
            async for chunk in native.iter_bytes(chunk_size):
                yield chunk
            return
        chunks = self._node.iter_bytes(chunk_size)
        try:
            while (chunk := await run_in_thread(next, chunks, None)) is not None:
                yield chunk
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                await run_in_thread(close)

    # ------------------------------------------------------------------ writing
    async def write(
        self,
        data: str | bytes,
        mode: str = "w",
        encoding: str = "utf-8",
        skip_if_unchanged: bool = False,
    ) -> bool:
        """Write the whole content; returns False when skipped as unchanged."""
        payload = encode_payload(data, mode, encoding)
        native = await _native(self._node)
        if (
            native is None
            or not native.writes_natively
            or skip_if_unchanged
            or len(payload) > NATIVE_WRITE_LIMIT
        ):
            return await run_in_thread(self._node._write_payload, payload, skip_if_unchanged)
        await native.write_bytes(payload)
        return True

    async def write_bytes(self, data: bytes, skip_if_unchanged: bool = False) -> bool:
        return await self.write(data, "wb", skip_if_unchanged=skip_if_unchanged)

    async def write_text(
        self, text: str, encoding: str = "utf-8", skip_if_unchanged: bool = False
    ) -> bool:
        return await self.write(text, "w", encoding=encoding, skip_if_unchanged=skip_if_unchanged)

    async def write_stream(self, chunks: Chunks) -> None:
        """Write an async (or sync) iterable of byte chunks without buffering it all.

        Atomic like the sync ``write_stream``: if ``chunks`` raises, the destination keeps
        its old content. On object stores a stream of up to 1 MiB goes out natively as one
        PUT; a longer one is uploaded from a worker thread as it arrives.
        """
        if not isinstance(chunks, AsyncIterable):
            await run_in_thread(self._node.write_stream, chunks)
            return
        source = chunks.__aiter__()
        head: list[bytes] = []
        native = await _native(self._node)
        if native is not None and native.writes_natively:
            native.check_write_allowed()
            size = 0
            async for chunk in source:
                head.append(bytes(chunk))
                size += len(chunk)
                if size > NATIVE_WRITE_LIMIT:
                    break
            else:
                await native.write_bytes(b"".join(head))
                return
        await run_in_thread(self._node.write_stream, _pull(head, source))

    def open(self, mode: str = "rb", encoding: str = "utf-8") -> AsyncFile:
        """``async with node.open('rb'|'r'|'wb'|'w') as f``: streaming reads or atomic writes."""
        if mode not in ("r", "rb", "w", "wb"):
            raise ValueError(f"Invalid mode {mode!r}: use 'r', 'rb', 'w' or 'wb'")
        return AsyncFile(self, mode, encoding)

    open_async = open

    # ------------------------------------------------------------------ tree operations
    async def delete(self) -> None:
        await run_in_thread(self._node.delete)

    async def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        await run_in_thread(self._node.mkdir, parents=parents, exist_ok=exist_ok)

    @property
    def uri(self) -> str:
        """``genro://mount/path`` (see :attr:`StorageNode.uri`)."""
        return self._node.uri

    async def is_file(self) -> bool:
        """pathlib's spelling of :meth:`isfile`."""
        return await self.isfile()

    async def is_dir(self) -> bool:
        """pathlib's spelling of :meth:`isdir`."""
        return await self.isdir()

    async def glob(self, pattern: str) -> list[AsyncStorageNode]:
        """Nodes below this directory matching ``pattern`` (see :meth:`StorageNode.glob`)."""
        found = await run_in_thread(lambda: list(self._node.glob(pattern)))
        return [AsyncStorageNode(n) for n in found]

    async def rglob(self, pattern: str) -> list[AsyncStorageNode]:
        return await self.glob(f"**/{pattern}")

    async def children(self) -> list[AsyncStorageNode]:
        """One node per directory entry."""
        native = await _native(self._node)
        if native is not None:
            entries = await native.list_detail()
            return [self.child(entry.name) for entry in entries]
        return [AsyncStorageNode(n) for n in await run_in_thread(self._node.children)]

    async def copy_to(self, target: AsyncStorageNode | StorageNode | str, **kwargs: Any) -> None:
        """Copy to ``target`` with the sync engine in a worker thread (callbacks run there)."""
        await run_in_thread(self._node.copy_to, _unwrap(target), **kwargs)

    async def sync_to(
        self, target: AsyncStorageNode | StorageNode | str, **kwargs: Any
    ) -> CopyReport:
        """``StorageNode.sync_to`` in a worker thread; returns its report."""
        return await run_in_thread(self._node.sync_to, _unwrap(target), **kwargs)

    async def move_to(self, target: AsyncStorageNode | StorageNode | str) -> None:
        """Move to ``target``; this node (and the wrapped sync node) then point there."""
        await run_in_thread(self._node.move_to, _unwrap(target))

    # ------------------------------------------------------------------ the rest, in a thread
    async def get_metadata(self) -> dict[str, str]:
        return await run_in_thread(self._node.get_metadata)

    async def set_metadata(self, metadata: dict[str, str]) -> None:
        await run_in_thread(self._node.set_metadata, metadata)

    async def url(self, expires_in: int = 3600, **kwargs: Any) -> str | None:
        return await run_in_thread(self._node.url, expires_in, **kwargs)

    async def to_base64(self, mime: str | None = None, include_uri: bool = True) -> str:
        return await run_in_thread(self._node.to_base64, mime, include_uri)

    async def fill_from_url(self, url: str, timeout: int = 30) -> None:
        await run_in_thread(self._node.fill_from_url, url, timeout)

    async def zip(self) -> bytes:
        return await run_in_thread(self._node.zip)


def _unwrap(target: AsyncStorageNode | StorageNode | str) -> StorageNode | str:
    return target._node if isinstance(target, AsyncStorageNode) else target


def _pull(head: list[bytes], source: AsyncIterator[bytes]) -> Iterator[bytes]:
    """A sync iterator over ``head`` then ``source``, for a worker thread: each chunk of
    the async source is awaited on the event loop."""
    yield from head

    async def step() -> bytes:
        return await source.__anext__()

    while True:
        try:
            chunk: bytes = anyio.from_thread.run(step)
        except StopAsyncIteration:
            return
        yield bytes(chunk)


class _Aborted(Exception):
    """The ``async with`` block of a writer raised: the write must not be committed."""


class AsyncFile:
    """A streaming file of an async node; get it from :meth:`AsyncStorageNode.open`.

    Read modes: ``await f.read(n=-1)`` and ``async for chunk in f``. Write modes:
    ``await f.write(data)``; the content appears when the block exits normally, and
    never partially (an exception inside the block discards it).
    """

    def __init__(self, node: AsyncStorageNode, mode: str, encoding: str = "utf-8") -> None:
        self.node = node
        self.mode = mode
        self.encoding = encoding
        self._text = "b" not in mode
        self._reading = "r" in mode
        self._chunks: AsyncIterator[bytes] | None = None
        self._buffer = b""
        self._eof = False
        self._decoder = codecs.getincrementaldecoder(encoding)() if self._text else None
        self._failed = False
        self._closed = False

    async def __aenter__(self) -> AsyncFile:
        if self._reading:
            self._chunks = self.node.iter_bytes().__aiter__()
            return self
        self._send, receive = anyio.create_memory_object_stream[bytes](4)
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._consume, receive)
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self._failed = True
        await self.close(exc_type, exc, tb)

    async def close(self, *exc_info: Any) -> None:
        """Finish: release the read stream, or commit (or discard) the write."""
        if self._closed:
            return
        self._closed = True
        if self._reading:
            if self._chunks is not None:
                await self._chunks.aclose()  # type: ignore[attr-defined]
            return
        await self._send.aclose()
        try:  # the writer finishes on its own: it commits, or discards when _failed is set
            await self._group.__aexit__(None, None, None)
        except BaseException as group:  # surface the writer's own error, not a group
            inner = getattr(group, "exceptions", None)
            if inner:
                raise inner[0] from None
            raise

    # ------------------------------------------------------------------ writing
    async def _consume(self, receive: Any) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            async with receive:
                async for chunk in receive:
                    yield chunk
            if self._failed:
                raise _Aborted

        try:
            await self.node.write_stream(chunks())
        except _Aborted:
            pass
        finally:
            receive.close()  # also when the upload failed before reading anything

    async def write(self, data: str | bytes) -> int:
        """Queue ``data`` for the upload (bytes in ``'wb'``, str in ``'w'``)."""
        if self._reading:
            raise ValueError("File not open for writing")
        if not hasattr(self, "_send") or self._closed:
            raise ValueError("Write outside the 'async with node.open(...)' block")
        payload = encode_payload(data, "w" if self._text else "wb", self.encoding)
        await self._send.send(payload)
        return len(data)

    # ------------------------------------------------------------------ reading
    async def _next_chunk(self) -> bytes:
        if self._chunks is None:
            raise ValueError("File not open for reading (use it in 'async with')")
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            self._eof = True
            return b""

    async def read(self, size: int = -1) -> str | bytes:
        """Up to ``size`` bytes (decoded in text mode); everything left when negative."""
        if not self._reading:
            raise ValueError("File not open for reading")
        if size is None or size < 0:
            parts = [self._buffer]
            self._buffer = b""
            while not self._eof:
                parts.append(await self._next_chunk())
            return self._decode(b"".join(parts), final=True)
        while len(self._buffer) < size and not self._eof:
            self._buffer += await self._next_chunk()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return self._decode(data, final=self._eof and not self._buffer)

    def _decode(self, data: bytes, final: bool) -> str | bytes:
        if self._decoder is None:
            return data
        return self._decoder.decode(data, final)

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str | bytes]:
        if self._buffer:
            data, self._buffer = self._buffer, b""
            yield self._decode(data, final=False)
        while not self._eof:
            chunk = await self._next_chunk()
            if chunk or self._decoder is not None:
                text = self._decode(chunk, final=self._eof)
                if text:
                    yield text
