"""Reading the bytes a :class:`~genro_storage.engine.serve.prepare.Prepared` plan sends.

Only the needed bytes are read, never the whole file: a local file is opened once and read
from each part's offset; a remote node is read with ranged reads (``node.read_range``: an
HTTP ``Range`` GET on S3, GCS and Azure) in windows that grow from 256 KiB to 4 MiB, so a
1 KiB range costs one small request and a long download a few large ones. A file that
shrank since the stat raises ``OSError``: the server then drops the connection, which is
how HTTP says "the body was cut short" once the headers are out.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Union, overload

from ...backends.base import EntryInfo
from ...fileio import CHUNK_SIZE
from .servable import Servable

if TYPE_CHECKING:
    from ...http.response import ResponsePlan
    from .prepare import Prepared

__all__ = [
    "ChunkSequence",
    "PartReader",
    "StaleStat",
    "iter_body",
    "read_all",
    "read_body",
]

_FIRST_WINDOW = 256 * 1024
_MAX_WINDOW = 4 * 1024 * 1024


class PartReader:
    """Reads byte ranges of one node; :meth:`close` releases the file handle."""

    def __init__(self, node: Servable, os_path: str | None) -> None:
        self._node = node
        self._os_path = os_path
        self._handle: IO[bytes] | None = None

    def _file(self) -> IO[bytes] | None:
        """A seekable handle for local files and versioned snapshots, else None."""
        if self._handle is None:
            if self._os_path is not None:
                self._handle = open(self._os_path, "rb")  # noqa: SIM115 - closed in close()
            elif self._node.version is not None:
                self._handle = self._node.open("rb")
        return self._handle

    def chunks(self, start: int, end: int, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The bytes ``[start, end)`` in chunks of ``chunk_size`` (the last may be shorter)."""
        handle = self._file()
        if handle is not None:
            handle.seek(start)
            while start < end:
                data = handle.read(min(chunk_size, end - start))
                if not data:
                    raise OSError(f"{self._node.fullpath} shrank while being served")
                start += len(data)
                yield data
            return
        window = _FIRST_WINDOW
        while start < end:
            # whole chunks per window, so chunk boundaries match ChunkSequence's indexing
            stop = min(start + max(window // chunk_size, 1) * chunk_size, end)
            data = self._node.read_range(start, stop)
            if len(data) != stop - start:
                raise OSError(f"{self._node.fullpath} shrank while being served")
            for offset in range(0, len(data), chunk_size):
                yield data[offset : offset + chunk_size]
            start, window = stop, min(window * 2, _MAX_WINDOW)

    def read(self, start: int, end: int) -> bytes:
        """The bytes ``[start, end)`` at once (for small reads)."""
        return b"".join(self.chunks(start, end, max(end - start, 1)))

    def close(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            handle.close()


def iter_body(prepared: Prepared, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Every chunk of the body: each part's prefix and bytes, then the trailer.

    A generator: closing it (WSGI servers call ``close()``) closes the file.
    """
    plan = prepared.plan
    if prepared.body is not None or plan.body or not plan.parts:
        body = plan.body or prepared.body
        if body:
            yield body
        return
    assert prepared.node is not None
    reader = PartReader(prepared.node, prepared.os_path)
    try:
        for part in plan.parts:
            if part.prefix:
                yield part.prefix
            yield from reader.chunks(part.start, part.end, chunk_size)
        if plan.trailer:
            yield plan.trailer
    finally:
        reader.close()


def read_all(prepared: Prepared) -> bytes:
    """The whole body in one bytes object: only for bodies known to be small."""
    assert prepared.node is not None
    return read_body(prepared.plan, prepared.node, prepared.os_path)


def read_body(
    plan: ResponsePlan, node: Servable, os_path: str | None, expect: EntryInfo | None = None
) -> bytes:
    """:func:`read_all` of ``plan``'s parts of ``node`` (or its local file ``os_path``).

    ``expect``: the stat the plan was made from; a local file opened with another size or
    modification time raises :class:`StaleStat` (an ``OSError``).
    """
    if os_path is not None and len(plan.parts) == 1 and not plan.trailer:
        part = plan.parts[0]
        return _read_local(os_path, part.start, part.end, expect)
    reader = PartReader(node, os_path)
    try:
        pieces = []
        for part in plan.parts:
            pieces.append(part.prefix)
            pieces.append(reader.read(part.start, part.end))
        pieces.append(plan.trailer)
        return b"".join(pieces)
    finally:
        reader.close()


class StaleStat(OSError):
    """The file changed since the stat its response was planned from."""


def _read_local(path: str, start: int, end: int, expect: EntryInfo | None = None) -> bytes:
    """``[start, end)`` of a local file with raw descriptor calls (no buffered file object:
    this is the whole body of most small responses)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        if expect is not None:
            st = os.fstat(fd)
            if st.st_size != expect.size or st.st_mtime != expect.mtime:
                raise StaleStat(f"{path} changed since it was stat'ed")
        if start:
            os.lseek(fd, start, os.SEEK_SET)
        pieces = []
        remaining = end - start
        while remaining > 0:
            data = os.read(fd, remaining)
            if not data:
                raise OSError(f"{path} shrank while being served")
            pieces.append(data)
            remaining -= len(data)
        return b"".join(pieces)
    finally:
        os.close(fd)


Segment = Union[bytes, tuple[int, int]]


class ChunkSequence(Sequence[bytes]):
    """The body of a 200/206 as a lazy sequence of chunks, for ``StorageNode.serve()``.

    genro-storage 0.4.2 returned ``list[bytes]`` of 64 KiB chunks. This keeps what callers
    could do with that list (``len()``, indexing, iterating, ``b"".join(...)``, comparing
    with a list) without holding the file: iteration streams, indexing reads one chunk.
    It is also a proper WSGI iterable (``close()`` releases the file).
    """

    def __init__(self, prepared: Prepared, chunk_size: int = CHUNK_SIZE) -> None:
        self._prepared = prepared
        self._chunk = chunk_size
        self._segments: list[Segment] = []
        self._starts: list[int] = []  # index of the first chunk of each segment
        count = 0
        plan = prepared.plan
        for part in plan.parts:
            if part.prefix:
                count = self._add(part.prefix, count, 1)
            if part.end > part.start:
                chunks = -(-(part.end - part.start) // chunk_size)
                count = self._add((part.start, part.end), count, chunks)
        if plan.trailer:
            count = self._add(plan.trailer, count, 1)
        self._len = count
        self._reader: PartReader | None = None

    def _add(self, segment: Segment, count: int, chunks: int) -> int:
        self._segments.append(segment)
        self._starts.append(count)
        return count + chunks

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("chunk index out of range")
        position = bisect.bisect_right(self._starts, index) - 1
        segment = self._segments[position]
        if isinstance(segment, bytes):
            return segment
        start = segment[0] + (index - self._starts[position]) * self._chunk
        if self._reader is None:
            assert self._prepared.node is not None
            self._reader = PartReader(self._prepared.node, self._prepared.os_path)
        return self._reader.read(start, min(start + self._chunk, segment[1]))

    def __iter__(self) -> Iterator[bytes]:
        return iter_body(self._prepared, self._chunk)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, ChunkSequence)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<ChunkSequence {self._len} chunks of {self._prepared.node}>"

    def close(self) -> None:
        """Close the file handle opened by indexing (iteration closes its own)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __del__(self) -> None:
        self.close()
