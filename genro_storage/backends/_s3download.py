"""An S3 object into a local file: one streaming GET, or ranged GETs in parallel.

Objects up to ``threshold`` bytes (the mount's ``multipart_threshold``, 200 MiB: rclone's
``--multi-thread-cutoff`` is 250 MiB) come in one GET. Bigger ones are fetched as rclone
and s5cmd fetch them: cut into ``concurrency`` ranges of about equal size (at least
``min_piece`` bytes each), one GET per range streaming straight into its place in the
file (``os.pwrite`` into a file sized beforehand), so memory is a few read buffers per
range in flight, never a range.

- **One object, one version**: every range after the first carries ``If-Match`` with the
  first answer's ETag; an object replaced meanwhile fails the download (412) instead of
  mixing two contents.
- **Resumed, not restarted**: a body that breaks off (reset, timeout, cut short) is asked
  again from the byte where it stopped (``If-Match`` too), with backoff (``_retry``), up
  to ``attempts`` times; botocore already retries a request that failed before its body
  (5xx, SlowDown).
- **The first request also sizes the object** when the caller does not know the size (a
  single-file copy): a plain GET, whose whole answer botocore checks against the
  object's checksum when it has one; an object up to the threshold is done in that one
  request, of a bigger one the first share is read from it and its connection closed
  (s3fs does the same), while the other streams ask for the rest by range.

The caller owns the file's atomicity (it downloads into a temporary file that it
publishes or discards).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..errors import StorageError
from ._retry import async_retrying, http_status

__all__ = ["READ_SIZE", "RangedDownload"]

#: bytes asked of the HTTP client per read: it returns what it holds (the socket gives
#: up to 256 KiB per receive), so a few large writes per MiB, no per-64 KiB loop
READ_SIZE = 1 << 20

GetObject = Callable[..., Awaitable[dict[str, Any]]]


@dataclass
class RangedDownload:
    """One object of one bucket into ``os_path`` (created or truncated).

    ``get_object(**kwargs)`` sends a GetObject (``Bucket``/``Key``/``VersionId`` bound
    by the caller) and returns botocore's answer; ``label`` starts error messages (the
    mount and the path).
    """

    get_object: GetObject
    os_path: str
    label: str
    concurrency: int = 1
    threshold: int = 200 << 20
    min_piece: int = 5 << 20
    attempts: int = 5

    async def run(self, size: int | None = None) -> None:
        """Download; ``size``: the object's size when known (a listing's), else None.

        Objects up to :attr:`threshold` bytes (or any, with :attr:`concurrency` 1) come
        in one GET; bigger ones in :attr:`concurrency` ranges of about equal size, at
        least :attr:`min_piece` bytes each.
        """
        if self.concurrency <= 1 or (size is not None and size <= self.threshold):
            await self._whole()
            return
        cut = False
        if size is not None:  # the first of about equal ranges
            first_end = self._piece(size)
            answer = await self.get_object(Range=f"bytes=0-{first_end - 1}")
            total = _total(answer)
            # a server that ignored the range sent the whole object: that answer is all
            received = min(first_end, total) if answer.get("ContentRange") else total
        else:
            # one plain GET: an object up to the threshold is all in it (and botocore
            # checks the checksum a whole answer carries); of a bigger one the first
            # share is read, and the rest of that body left (its connection closed)
            answer = await self.get_object()
            total = int(answer.get("ContentLength") or 0)
            received = total if total <= self.threshold else self._piece(total)
            cut = received < total
        etag = answer.get("ETag")
        fd = _open_sized(self.os_path, total)  # sized now: ranges land in any order
        try:
            queue = self._plan(received, total)

            async def first() -> None:
                await self._stream(fd, answer, 0, received, etag, cut)
                await worker()

            async def worker() -> None:
                while queue:
                    start, end = queue.pop()
                    await self._range(fd, start, end, etag)

            tasks = [asyncio.ensure_future(first())]
            tasks += [asyncio.ensure_future(worker()) for _ in range(self.concurrency - 1)]
            try:
                await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        finally:
            os.close(fd)

    def _plan(self, received: int, total: int) -> list[tuple[int, int]]:
        """The ranges after the first answer's ``received`` bytes, last to take first
        (``pop()``): every stream should end about together. A first answer of about
        one stream's share (less than ``min_piece`` short of it) leaves the rest to the
        other streams; a shorter one also leaves the rest of its share, taken last (by
        the first stream, once free)."""
        if received >= total:  # the first answer was all of it
            return []
        share = self._piece(total)
        if share - received < self.min_piece:  # (nearly) a share already: no small range
            step = max(self.min_piece, -(-(total - received) // max(1, self.concurrency - 1)))
            ranges = [(start, min(start + step, total)) for start in range(received, total, step)]
            return ranges[::-1]
        ranges = [(start, min(start + share, total)) for start in range(share, total, share)]
        return [(received, share), *ranges[::-1]]

    def _piece(self, total: int) -> int:
        """Bytes per range: ``total`` in ``concurrency`` about equal ranges, at least
        ``min_piece`` each."""
        return max(self.min_piece, -(-total // max(1, self.concurrency)))

    async def _whole(self) -> None:
        """One streaming GET of the whole object (resumed by range if it breaks off)."""
        answer = await self.get_object()
        total = answer.get("ContentLength")
        end = int(total) if total is not None else None
        fd = _open_sized(self.os_path, end)
        try:
            await self._stream(fd, answer, 0, end, answer.get("ETag"))
        finally:
            os.close(fd)

    async def _range(self, fd: int, start: int, end: int, etag: str | None) -> None:
        """Bytes ``start`` to ``end`` (exclusive) of the object into the same place."""
        answer = await self._get_range(start, end, etag)
        await self._stream(fd, answer, start, end, etag)

    async def _get_range(self, start: int, end: int | None, etag: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"Range": f"bytes={start}-{'' if end is None else end - 1}"}
        if etag:
            kwargs["IfMatch"] = etag
        try:
            answer = await self.get_object(**kwargs)
        except OSError as exc:
            if _status(exc) == 412:
                raise StorageError(
                    f"{self.label}: the object changed on the server while it was being "
                    f"downloaded (its ETag is no longer {etag}); nothing was kept"
                ) from exc
            raise
        if not answer.get("ContentRange"):  # the whole object: it would land out of place
            answer["Body"].close()
            raise StorageError(
                f"{self.label}: the server ignored a Range header; set the mount's "
                f"'download_concurrency: 1' for one GET per object"
            )
        return answer

    async def _stream(
        self,
        fd: int,
        answer: dict[str, Any],
        start: int,
        end: int | None,
        etag: str | None,
        cut: bool = False,
    ) -> None:
        """Write ``answer``'s body at ``start``; if it breaks off before ``end`` (None: the
        end of the object), ask for the rest again, up to :attr:`attempts` times.
        ``cut``: the body goes on past ``end``; stop reading there."""
        position = start
        body = answer["Body"]
        async for attempt in async_retrying(self.attempts, label=f"{self.label}: "):
            with attempt:
                if body is None:  # a retry: the rest of this range
                    body = (await self._get_range(position, end, etag))["Body"]
                try:
                    while not cut or position < (end or 0):
                        wanted = min(READ_SIZE, (end or 0) - position) if cut else READ_SIZE
                        chunk = await body.read(wanted)
                        if not chunk:
                            break
                        view = memoryview(chunk)
                        while view:
                            written = os.pwrite(fd, view, position)
                            position += written
                            view = view[written:]
                finally:
                    body.close()
                    body = None
                if end is not None and position < end:
                    raise _ShortBody(f"{self.label}: the body ended at byte {position} of {end}")


class _ShortBody(ConnectionError):
    """A body that ended before its range did (a transient failure: asked again)."""


_BINARY = getattr(os, "O_BINARY", 0)


def _open_sized(os_path: str, size: int | None) -> int:
    """``os_path`` opened for writing and set to ``size`` bytes (None: emptied).

    Sized with ``ftruncate``, never opened with ``O_TRUNC``: on ext4 a file truncated to
    zero and rewritten is flushed when closed (``auto_da_alloc``, the rename-over-a-file
    safety net): ``close()`` then waited 0.15 s per 512 MiB written, on the event loop.
    """
    fd = os.open(os_path, os.O_WRONLY | os.O_CREAT | _BINARY, 0o666)
    try:
        os.ftruncate(fd, size or 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _status(exc: BaseException) -> int | None:
    """The HTTP status along ``exc``'s causes (s3fs raises ``OSError`` from botocore's
    ``ClientError``)."""
    seen: BaseException | None = exc
    while seen is not None:
        status = http_status(seen)
        if status is not None:
            return status
        seen = seen.__cause__ or seen.__context__
    return None


def _total(answer: dict[str, Any]) -> int:
    """The object's size from a ranged answer (``Content-Range: bytes a-b/TOTAL``); a
    server that ignored the range sent the whole object (``Content-Length``)."""
    content_range = str(answer.get("ContentRange") or "")
    if "/" in content_range and not content_range.endswith("*"):
        return int(content_range.rsplit("/", 1)[1])
    return int(answer.get("ContentLength") or 0)
