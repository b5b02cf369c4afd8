"""Write handles that publish on a clean close and throw the data away on an error.

``with backend.open(path, "wb") as fh: ...`` must never leave a half-written object behind
when the block raises: object stores would otherwise complete the upload with what was
buffered so far (fsspec's file ``__exit__`` always closes, and closing commits). A
:class:`PendingWrite` wraps the driver's file object with two callbacks: ``commit`` runs
on ``close()`` or a clean ``__exit__``; ``discard`` runs when the ``with`` block raises
(or on an explicit :meth:`PendingWrite.discard`).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import IO, Any

__all__ = ["PendingText", "PendingWrite", "discard_buffered"]


class PendingWrite(io.RawIOBase):
    """A binary write handle whose data becomes visible only when it is closed cleanly."""

    def __init__(
        self, raw: IO[bytes], commit: Callable[[], Any], discard: Callable[[], Any]
    ) -> None:
        super().__init__()
        self._raw = raw
        self._commit = commit
        self._discard = discard
        self._failed = False
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(memoryview(data).cast("B"))
        self._raw.write(bytes(data) if not isinstance(data, bytes) else data)
        self._written += size
        return size

    def tell(self) -> int:
        return self._written

    def discard(self) -> None:
        """Drop everything written so far; the destination is left as it was."""
        if self.closed:
            return
        self._failed = True
        try:
            self._discard()
        finally:
            super().close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._failed:
                try:
                    self._commit()
                except BaseException:
                    # A commit that failed (server refused the upload, connection lost)
                    # leaves the driver's handle open; its finalizer would retry the upload
                    # at garbage collection and fail again as "Exception ignored in ...".
                    self._failed = True
                    with contextlib.suppress(Exception):
                        self._discard()
                    raise
        finally:
            super().close()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.discard()
        else:
            self.close()


class PendingText(io.TextIOWrapper):
    """Text mode over a :class:`PendingWrite`, discarding on an error in the ``with`` block."""

    def __init__(self, pending: PendingWrite, encoding: str | None = None) -> None:
        super().__init__(io.BufferedWriter(pending), encoding=encoding or "utf-8")
        self._pending = pending

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self._pending.discard()
        self.close()


def discard_buffered(handle: Any) -> None:
    """Abandon a driver's write handle without publishing what it buffered.

    ``discard()`` aborts what the driver already started (S3 multipart, GCS resumable
    upload, WebDAV spooled upload); marking an fsspec ``AbstractBufferedFile`` closed keeps
    ``close()``/``__del__`` from committing. Azure block blobs need nothing more: staged
    blocks never become visible uncommitted. Handles without ``discard`` are closed.
    """
    from fsspec.spec import AbstractBufferedFile

    discard = getattr(handle, "discard", None)
    if discard is None:
        handle.close()
        return
    try:
        discard()
    finally:
        if isinstance(handle, AbstractBufferedFile):
            handle.buffer = None
            handle.closed = True
