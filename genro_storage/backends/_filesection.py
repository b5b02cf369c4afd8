"""A slice of a local file as a request body, read as it is sent.

A multipart upload of a large local file sends each part from its own
:class:`FileSection`: the HTTP client and the request signer read the slice in small
pieces (and seek back to its start to send it again on a retry), so memory stays at a
few small buffers per part in flight, never a whole part.
"""

from __future__ import annotations

import io
import os

__all__ = ["FileSection", "PositionedReader"]


class PositionedReader(io.RawIOBase):
    """A readable, seekable raw stream of ``_length`` bytes, at position ``_pos``."""

    _pos: int
    _length: int

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _seek_target(self, offset: int, whence: int) -> int:
        """The position ``seek(offset, whence)`` asks for (``io``'s rules)."""
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._pos + offset
        elif whence == io.SEEK_END:
            position = self._length + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        return position


class FileSection(PositionedReader):
    """``length`` bytes of the file ``path`` from ``offset``; positions are relative to
    the section (``seek(0)`` is its first byte, reading stops at its end)."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self._start = offset
        self._length = length
        self._pos = 0

    def __len__(self) -> int:
        return self._length

    @property
    def remaining(self) -> int:
        """Bytes left from the current position to the section's end."""
        return max(0, self._length - self._pos)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = self._seek_target(offset, whence)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        left = self.remaining
        wanted = left if size is None or size < 0 else min(size, left)
        if wanted <= 0:
            return b""
        data = os.pread(self._fd, wanted, self._start + self._pos)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
