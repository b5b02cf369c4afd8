"""An S3 mount whose hot requests go through obstore (``client: obstore``).

botocore spends about 1 ms of CPU per request (80-92 % of this client's CPU on small
objects, ``docs/performance.md``); obstore (Rust ``object_store``) 0.24-0.36 ms. With
``client: obstore`` these go through one :class:`obstore.store.S3Store` built from the
mount's own settings (:mod:`._obstore`):

- reads: ``read_bytes``, ``read_range``, ``open('rb')`` (a buffered reader fetching
  ``read_block_size`` ranges), downloads to a local file (one streaming GET, or
  ``download_concurrency`` ranged GETs above ``multipart_threshold``, with ``If-Match``);
- metadata: ``info``/``exists`` (HEAD, then a one-page listing for a "directory"),
  ``list_detail`` (children), ``walk_files``;
- writes: ``write_bytes`` and small streams (one PUT; obstore's multipart above
  ``multipart_threshold``), ``open('wb')`` and long streams (obstore's multipart writer,
  ``part_size`` parts, aborted on error), uploads of local files up to ``part_size``
  and above ``multipart_threshold`` (``mtime`` metadata kept),
  ``save_stream(exclusive=True)`` up to 8 MiB (``If-None-Match: *``);
- deletes of a file, the HEAD of a folder delete; server-side copies inside one bucket
  (``CopyObject``);
- the copy engine's batch route and the async API's reads and writes (obstore's async
  functions, on the event loop that runs them).

Everything else stays on the mount's botocore client (s3fs), unchanged: versions,
metadata get/set, presigned and public URLs, ``list_page``, multipart cleanup, the
listing and batches of a folder delete (folder markers too), copies between buckets,
exclusive streams over 8 MiB, local files between ``part_size`` and
``multipart_threshold`` (one PUT streamed from the file: obstore would hold the body in
memory), and keys ``object_store`` cannot address (empty or ``.``/``..`` segments).
Each obstore request of the async functions goes through :func:`._obstore.settled`
(clean interpreter exits, see there).
"""

from __future__ import annotations

import asyncio
import io
import os
import pathlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import IO, Any

from fsspec.asyn import sync

from ..errors import StorageNotFoundError
from ..paths import is_root
from . import _obstore
from ._obstore import settled, settled_iter
from ._publish import PublishOnClose
from .base import EntryInfo, text_wrapper
from .fsspec import FsspecBackend, LocalSource, read_local
from .s3 import S3Backend

__all__ = ["ObstoreS3Backend"]


class ObstoreS3Backend(S3Backend):
    """An S3 mount reading, listing and writing through obstore (see module docstring)."""

    #: the client of the hot requests (``client`` key)
    client = "obstore"

    def __init__(self, *args: Any, store: _obstore.StoreHolder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holder = store

    @property
    def store(self) -> Any:
        """The mount's obstore ``S3Store`` (built on first use)."""
        return self.holder.store

    # ------------------------------------------------------------------ keys
    def _okey(self, path: str) -> str | None:
        """The object key of ``path`` when obstore can address it (never the root)."""
        if is_root(path):
            return None
        return _obstore.obstore_key(self._key(path))

    def _file_entry(self, path: str, meta: Mapping[str, Any]) -> EntryInfo:
        etag = str(meta.get("e_tag") or "").strip('"') or None
        md5 = etag if etag and len(etag) == 32 and "-" not in etag else None
        modified = meta.get("last_modified")
        return EntryInfo(
            path,
            False,
            int(meta.get("size") or 0),
            modified.timestamp() if modified is not None else None,
            etag,
            md5,
        )

    def _has_children(self, key: str) -> bool:
        """Whether any object lies under ``key/`` (a "directory"): one page of one key."""
        import obstore

        for chunk in obstore.list(self.store, prefix=key, chunk_size=1):
            return bool(chunk)
        return False

    def _lookup(self, path: str, key: str) -> EntryInfo | None:
        """HEAD ``key``; a missing object is a directory when objects lie under it."""
        import obstore

        try:
            return self._file_entry(path, obstore.head(self.store, key))
        except FileNotFoundError:
            if self._has_children(key):
                return EntryInfo(path, True, 0)
            return None

    def translate_error(self, exc: BaseException, path: str) -> BaseException | None:
        if "Unable to locate credentials" in str(exc):  # our credential callback's
            return super().translate_error(exc, path)
        if type(exc).__module__.startswith("obstore") or (
            isinstance(exc, FileNotFoundError) and "Debug source" in str(exc)
        ):
            text = _obstore.short_text(exc)
            if "NoSuchBucket" in str(exc):
                return StorageNotFoundError(
                    f"{self.describe()}: bucket '{self.bucket}' does not exist ({text})"
                )
            if isinstance(exc, FileNotFoundError):
                shown = f"'{path}'" if path else "the mount root"
                return StorageNotFoundError(f"{self.describe()}: {shown} not found ({text})")
            return _obstore.translate(self.describe(), exc, path)
        return super().translate_error(exc, path)

    # ------------------------------------------------------------------ metadata
    def info(self, path: str) -> EntryInfo:
        key = self._okey(path)
        if key is None:
            return super().info(path)
        found = self._lookup(path, key)
        if found is None:
            raise FileNotFoundError(f"{self.describe()}: {path!r} not found")
        return found

    def exists(self, path: str) -> bool:
        key = self._okey(path)
        if key is None:
            return super().exists(path)
        return self._lookup(path, key) is not None

    def _listed(self, path: str) -> tuple[str | None, str | None] | None:
        """``(key, prefix)`` of folder ``path`` for obstore's listing (the mount root:
        no key), or None when obstore cannot address it."""
        key = self._okey(path)
        if key is None and not is_root(path):
            return None
        prefix = key or (self._key(path) or None)
        if prefix is not None and _obstore.obstore_key(prefix) is None:
            return None
        return key, prefix

    def _entries(self, path: str, prefix: str | None, answer: Mapping[str, Any]) -> list[EntryInfo]:
        """The entries of one ``list_with_delimiter`` answer, named under ``path``."""
        base = f"{path}/" if path else ""
        cut = len(prefix) + 1 if prefix else 0
        entries = [EntryInfo(base + name[cut:], True, 0) for name in answer["common_prefixes"]]
        for meta in answer["objects"]:
            name = str(meta["path"])
            if name == prefix:  # the folder's own marker object ("dir/")
                continue
            entries.append(self._file_entry(base + name[cut:], meta))
        entries.sort(key=lambda e: e.name)
        return entries

    def _not_a_folder(self, path: str, found: EntryInfo | None) -> Exception | None:
        """Why an empty listing of ``path`` is an error: missing, or a file."""
        if found is None:
            return FileNotFoundError(f"{self.describe()}: {path!r} not found")
        if not found.is_dir:
            return ValueError(f"Not a directory: {path!r}")
        return None

    def list_detail(self, path: str) -> list[EntryInfo]:
        import obstore

        listed = self._listed(path)
        if listed is None:
            return super().list_detail(path)
        key, prefix = listed
        entries = self._entries(path, prefix, obstore.list_with_delimiter(self.store, prefix))
        if not entries and key is not None:
            error = self._not_a_folder(path, self._lookup(path, key))
            if error is not None:
                raise error
        return entries

    def walk_files(self, path: str) -> Iterator[EntryInfo]:
        import obstore

        key = self._okey(path)
        prefix = key or (self._key(path) or None)
        if (key is None and not is_root(path)) or (
            prefix is not None and _obstore.obstore_key(prefix) is None
        ):
            yield from super().walk_files(path)
            return
        base = f"{path}/" if path else ""
        cut = len(prefix) + 1 if prefix else 0
        files: dict[str, EntryInfo] = {}
        folders: set[str] = set()
        for chunk in obstore.list(self.store, prefix=prefix):
            for meta in chunk:
                name = str(meta["path"])[cut:]
                if not name:  # the folder's own marker object
                    continue
                files[base + name] = self._file_entry(base + name, meta)
                parts = name.split("/")[:-1]
                for depth in range(1, len(parts) + 1):
                    folders.add(base + "/".join(parts[:depth]))
        # a folder marker ("dir/") lists as an empty object named like its folder
        found = {**files, **{name: EntryInfo(name, True, 0) for name in folders}}
        for name in sorted(found):
            yield found[name]

    # ------------------------------------------------------------------ reads
    def read_bytes(self, path: str) -> bytes:
        import obstore

        key = self._okey(path)
        if key is None:
            return super().read_bytes(path)
        try:
            return bytes(obstore.get(self.store, key).bytes())
        except FileNotFoundError:
            if self._has_children(key):
                raise IsADirectoryError(f"Is a directory: {path!r}") from None
            raise

    def read_range(self, path: str, start: int, end: int) -> bytes:
        import obstore

        key = self._okey(path)
        if key is None or start < 0 or end is None or end < 0:
            return super().read_range(path, start, end)
        if end <= start:
            self.info(path)  # not found stays an error
            return b""
        try:
            return bytes(obstore.get_range(self.store, key, start=start, end=end))
        except Exception as exc:
            if "range" not in str(exc).lower() or isinstance(exc, FileNotFoundError):
                raise
        # past the end: what there is (as a plain ranged GET answers)
        size = self.info(path).size
        if start >= size:
            return b""
        return bytes(obstore.get_range(self.store, key, start=start, end=size))

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        key = self._okey(path)
        if key is None or mode not in ("r", "rb", "rt"):
            return super().open(path, mode)
        import obstore

        try:
            reader = obstore.open_reader(
                self.store, key, buffer_size=self.read_block_size or 2 * 1024 * 1024
            )
        except FileNotFoundError:
            if self._has_children(key):
                raise IsADirectoryError(f"{self.describe()}: {path!r} is a directory") from None
            raise
        handle = io.BufferedReader(_Reader(reader, self._full(path)), 256 * 1024)
        return text_wrapper(handle, mode)

    # ------------------------------------------------------------------ writes
    def _pipe(self, full: str, data: bytes, kwargs: dict[str, Any]) -> None:
        import obstore

        key = _obstore.obstore_key(full.split("/", 1)[1] if "/" in full else "")
        if key is None:
            super()._pipe(full, data, kwargs)
            return
        extra = self._put_options(len(data), kwargs)
        obstore.put(self.store, key, data, **extra)

    def _put_options(self, size: int | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        """obstore ``put`` arguments: attributes, ``create`` mode, multipart or not."""
        options: dict[str, Any] = {"attributes": _obstore.attributes_of(kwargs) or None}
        if kwargs.get("mode") == "create":
            options["mode"] = "create"
            return options
        network = self.network
        if size is not None and size <= network.multipart_threshold:
            options["use_multipart"] = False
        else:
            options["use_multipart"] = True
            options["chunk_size"] = network.part_size
            options["max_concurrency"] = network.part_concurrency
        return options

    def pipes_natively(self) -> bool:
        return True  # write_bytes_async below is this mount's own

    async def write_bytes_async(self, afs: Any, path: str, data: bytes) -> None:
        """Coroutine twin of :meth:`write_bytes`, through obstore."""
        import obstore

        self._check_file_write(path)
        full = self._full(path)
        key = self._okey(path)
        if key is None:
            await asyncio.to_thread(self.write_bytes, path, data)
            return
        kwargs = self._put_kwargs(full)
        options = self._put_options(len(data), kwargs)
        await settled(lambda: obstore.put_async(self.store, key, data, **options))
        self._invalidate_full(full)

    def _open_pending(self, full: str) -> PublishOnClose:
        import obstore

        key = _obstore.obstore_key(full.split("/", 1)[1] if "/" in full else "")
        if key is None:
            return super()._open_pending(full)
        writer = obstore.open_writer(
            self.store,
            key,
            attributes=_obstore.attributes_of(self._put_kwargs(full)) or None,
            buffer_size=self.network.part_size,
            max_concurrency=self.network.part_concurrency,
        )

        raw = _Writer(writer)

        def commit() -> None:
            raw.close()
            self._invalidate_full(full)

        return PublishOnClose(raw, commit, raw.abort, full)  # type: ignore[arg-type]

    def delete(self, path: str, recursive: bool = False) -> None:
        import obstore

        key = self._okey(path)
        if key is None:
            super().delete(path, recursive)
            return
        self.check_write_allowed()
        self.refuse_root_delete(path)
        try:
            obstore.head(self.store, key)
        except FileNotFoundError:
            # a folder (or nothing): listed and removed by the botocore client, folder
            # markers ("dir/", which obstore cannot address) too
            self._delete_below(path, self._key(path))
            return
        obstore.delete(self.store, key)  # (one DeleteObjects request)
        self._invalidate(path)

    # ------------------------------------------------------------------ transfers
    async def _upload_async(
        self, os_path: str, full: str, fs: Any = None, local: LocalSource | None = None
    ) -> None:
        """A local file up: through obstore, one PUT up to ``part_size`` and its multipart
        above ``multipart_threshold`` (``part_size`` parts, ``part_concurrency`` in
        flight); in between botocore's single PUT streamed from the file (obstore would
        hold the whole body in memory). The file's ``mtime`` as user metadata."""
        import obstore

        key = _obstore.obstore_key(full.split("/", 1)[1] if "/" in full else "")
        if key is None:
            await super()._upload_async(os_path, full, fs, local)
            return
        local = local or read_local(os_path, 0)
        size = local.stat.st_size
        if local.data is None and size > self.network.part_size:
            if size <= self.network.multipart_threshold:
                # obstore's single PUT holds the whole body in memory: botocore's
                # streams it from the file (flat memory, one request)
                await super()._upload_async(os_path, full, fs, local)
                return
            kwargs = self._upload_kwargs(full, local.stat.st_mtime)
            options = self._put_options(None, kwargs)  # parts: part_size x part_concurrency
            await settled(
                lambda: obstore.put_async(self.store, key, pathlib.Path(os_path), **options)
            )
            return
        kwargs = self._upload_kwargs(full, local.stat.st_mtime)
        body = local.data
        if body is None:
            body = await asyncio.to_thread(pathlib.Path(os_path).read_bytes)
        await settled(
            lambda: obstore.put_async(self.store, key, body, **self._put_options(size, kwargs))
        )

    def _uploads_in_batch(self, os_path: str) -> bool:
        return True  # any size: obstore's multipart runs on the loop too

    async def _download_async(self, full: str, os_path: str, size: int | None = None) -> None:
        """One streaming GET, or ranged GETs in parallel (:class:`RangedDownload`), each
        an obstore request."""
        key = _obstore.obstore_key(full.split("/", 1)[1] if "/" in full else "")
        if key is None or "?" in full:
            await super()._download_async(full, os_path, size)
            return
        await self._ranged_download(_ObstoreGet(self.store, key).get_object, full, os_path).run(
            size
        )

    async def _read_whole_async(self, full: str) -> bytes:
        import obstore

        key = _obstore.obstore_key(full.split("/", 1)[1] if "/" in full else "")
        if key is None:
            return await super()._read_whole_async(full)
        answer = await settled(lambda: obstore.get_async(self.store, key))
        return bytes(await settled(answer.bytes_async))

    async def _copy_object_async(
        self, src_path: str, dest_backend: FsspecBackend, dest_path: str
    ) -> None:
        """``CopyObject`` through obstore when both ends are in this bucket."""
        import obstore

        src = self._okey(src_path)
        dest = dest_backend._okey(dest_path) if isinstance(dest_backend, ObstoreS3Backend) else None
        if (
            src is None
            or dest is None
            or not isinstance(dest_backend, ObstoreS3Backend)
            or dest_backend.bucket != self.bucket
        ):
            await super()._copy_object_async(src_path, dest_backend, dest_path)
            return
        await settled(lambda: obstore.copy_async(self.store, src, dest))

    def server_side_copy(self, src_path: str, dest_path: str) -> bool:
        if not self.capabilities.copy_optimization:
            return False
        self.check_write_allowed()
        sync(self.fs.loop, self._copy_object_async, src_path, self, dest_path)
        self._invalidate(dest_path)
        return True

    def connect(self) -> None:
        super().connect()
        _ = self.store

    @property
    def connected(self) -> bool:
        return self._fs is not None and self.holder.built

    def close(self) -> None:
        super().close()
        self.holder.drop()

    # ------------------------------------------------------------------ async API
    # What ``engine/aio_native`` runs on the caller's event loop (obstore's coroutines:
    # no worker thread, no per-loop client); a key obstore cannot address goes through
    # the sync method in a thread.
    def own_async(self) -> bool:
        return True

    async def _has_children_async(self, key: str) -> bool:
        import obstore

        async for chunk in settled_iter(obstore.list(self.store, prefix=key, chunk_size=1)):
            return bool(chunk)
        return False

    async def _lookup_async(self, path: str, key: str) -> EntryInfo | None:
        import obstore

        try:
            return self._file_entry(
                path, await settled(lambda: obstore.head_async(self.store, key))
            )
        except FileNotFoundError:
            if await self._has_children_async(key):
                return EntryInfo(path, True, 0)
            return None

    async def info_async(self, path: str) -> EntryInfo:
        key = self._okey(path)
        if key is None:
            return await asyncio.to_thread(self.info, path)
        found = await self._lookup_async(path, key)
        if found is None:
            raise FileNotFoundError(f"{self.describe()}: {path!r} not found")
        return found

    async def exists_async(self, path: str) -> bool:
        key = self._okey(path)
        if key is None:
            return await asyncio.to_thread(self.exists, path)
        return await self._lookup_async(path, key) is not None

    async def read_bytes_async(self, path: str) -> bytes:
        import obstore

        key = self._okey(path)
        if key is None:
            return await asyncio.to_thread(self.read_bytes, path)
        try:
            answer = await settled(lambda: obstore.get_async(self.store, key))
            return bytes(await settled(answer.bytes_async))
        except FileNotFoundError:
            if await self._has_children_async(key):
                raise IsADirectoryError(f"Is a directory: {path!r}") from None
            raise

    async def read_range_async(self, path: str, start: int, end: int) -> bytes:
        import obstore

        key = self._okey(path)
        if key is None or start < 0 or end is None or end <= start:
            return await asyncio.to_thread(self.read_range, path, start, end)
        try:
            return bytes(
                await settled(
                    lambda: obstore.get_range_async(self.store, key, start=start, end=end)
                )
            )
        except Exception as exc:
            if "range" not in str(exc).lower() or isinstance(exc, FileNotFoundError):
                raise
        return await asyncio.to_thread(self.read_range, path, start, end)

    async def list_detail_async(self, path: str) -> list[EntryInfo]:
        import obstore

        listed = self._listed(path)
        if listed is None:
            return await asyncio.to_thread(self.list_detail, path)
        key, prefix = listed
        answer = await settled(lambda: obstore.list_with_delimiter_async(self.store, prefix))
        entries = self._entries(path, prefix, answer)
        if not entries and key is not None:
            error = self._not_a_folder(path, await self._lookup_async(path, key))
            if error is not None:
                raise error
        return entries

    async def iter_bytes_async(self, path: str, chunk_size: int) -> AsyncIterator[bytes]:
        """One streamed GET, handed out in ``chunk_size`` pieces."""
        import obstore

        key = self._okey(path)
        if key is None:
            for chunk in await asyncio.to_thread(lambda: list(self.iter_bytes(path, chunk_size))):
                yield chunk
            return
        try:
            answer = await settled(lambda: obstore.get_async(self.store, key))
        except FileNotFoundError:
            if await self._has_children_async(key):
                raise IsADirectoryError(f"Is a directory: {path!r}") from None
            raise
        stream = answer.stream(min_chunk_size=max(chunk_size, 1 << 16))
        async for piece in settled_iter(stream):
            data = bytes(piece)
            for offset in range(0, len(data), chunk_size):
                yield data[offset : offset + chunk_size]


class _Reader(io.RawIOBase):
    """obstore's buffered ``ReadableFile`` as a raw binary file for ``BufferedReader``."""

    def __init__(self, reader: Any, name: str) -> None:
        super().__init__()
        self._reader = reader
        self.name = name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._reader.read(len(view))
        size = len(data)
        view[:size] = memoryview(data).cast("B") if size else b""
        return size

    def readall(self) -> bytes:
        return bytes(self._reader.readall())

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return int(self._reader.seek(offset, whence))

    def tell(self) -> int:
        return int(self._reader.tell())

    @property
    def size(self) -> int:
        return int(self._reader.size)

    def close(self) -> None:
        if not self.closed:
            self._reader.close()
        super().close()


class _Writer:
    """obstore's ``WritableFile`` for :class:`PublishOnClose`: parts go up as they fill;
    a flush after the commit (``IOBase.close`` flushes) does nothing."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self._done = False

    def write(self, data: bytes) -> int:
        return int(self._writer.write(data))

    def flush(self) -> None:
        return None  # parts leave when full: a flush would cut a short part

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._writer.close()

    def abort(self) -> None:
        if not self._done:
            self._done = True
            # leaving the writer's context with an error aborts its multipart upload
            self._writer.__exit__(RuntimeError, RuntimeError("discarded"), None)


class _Body:
    """An obstore ``GetResult`` read as :class:`RangedDownload` reads botocore's body:
    ``await read(n)`` returns at most ``n`` bytes, an empty view at the end."""

    def __init__(self, answer: Any) -> None:
        # chunks of 128 KiB: each is a Python bytes object, a few per stream in flight
        self._stream = answer.stream(min_chunk_size=128 * 1024)
        self._left = memoryview(b"")

    async def read(self, size: int) -> memoryview:
        """Views of obstore's own buffers (no copy into Python objects)."""
        if not self._left:
            try:
                self._left = memoryview(await settled(self._stream.__anext__)).cast("B")
            except StopAsyncIteration:
                return memoryview(b"")
            except Exception as exc:  # the body broke off: a transient failure
                if type(exc).__module__.startswith("obstore"):
                    raise _BodyError(_obstore.short_text(exc)) from exc
                raise
        chunk, self._left = self._left[:size], self._left[size:]
        return chunk

    def close(self) -> None:
        self._left = memoryview(b"")


class _BodyError(ConnectionError):
    """obstore's error reading a body (retried by :class:`RangedDownload`)."""


class _Status(OSError):
    """An obstore request failure with its HTTP status (412: the object changed)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class _ObstoreGet:
    """GetObject through obstore, answered as botocore answers (what
    :class:`RangedDownload` reads: ``Body``, ``ContentLength``, ``ContentRange``, ``ETag``)."""

    def __init__(self, store: Any, key: str) -> None:
        self.store = store
        self.key = key

    async def get_object(self, **kwargs: Any) -> dict[str, Any]:
        import obstore

        options: dict[str, Any] = {}
        wanted = kwargs.get("Range")
        if wanted:
            first, _, last = str(wanted).removeprefix("bytes=").partition("-")
            options["range"] = {"offset": int(first)} if not last else (int(first), int(last) + 1)
        if kwargs.get("IfMatch"):
            options["if_match"] = str(kwargs["IfMatch"])
        try:
            answer: Any = await settled(
                lambda: obstore.get_async(self.store, self.key, options=options or None)  # type: ignore[arg-type]
            )
        except Exception as exc:
            if type(exc).__name__ == "PreconditionError":
                raise _Status(412, _obstore.short_text(exc)) from exc
            raise
        meta = answer.meta
        start, end = answer.range
        total = int(meta["size"])
        result: dict[str, Any] = {
            "Body": _Body(answer),
            "ContentLength": end - start,
            "ETag": meta.get("e_tag"),
        }
        if wanted:
            result["ContentRange"] = f"bytes {start}-{end - 1}/{total}"
        return result
