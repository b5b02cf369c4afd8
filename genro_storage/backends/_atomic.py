"""Atomic replacement of local files: write a temp file beside the target, then rename.

A write that raises part-way (or a ``with`` block that exits with an exception) leaves the
previous content untouched and no stray temp file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Any


class AtomicWriter:
    """File-like proxy: writes go to a temp file; ``close()`` renames it over the target."""

    def __init__(self, target: Path, mode: str, encoding: str | None = None) -> None:
        self._target = target
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        self._tmp = tmp
        if "b" in mode:
            self._fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            self._fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=None)
        self._done = False

    @property
    def temp_path(self) -> str:
        """The temporary file renamed over the target by :meth:`close`."""
        return self._tmp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def write(self, data: Any) -> int:
        return self._fh.write(data)

    def writelines(self, lines: Any) -> None:
        self._fh.writelines(lines)

    @property
    def closed(self) -> bool:
        return self._done

    def close(self) -> None:
        """Commit: flush, keep the target's permission bits if it existed, rename into place."""
        if self._done:
            return
        self._done = True
        try:
            # No fsync: atomicity against exceptions needs only the rename; durability
            # across power loss would cost a disk flush per file on bulk copies.
            self._fh.close()
            try:
                os.chmod(self._tmp, self._target.stat().st_mode & 0o7777)
            except FileNotFoundError:
                os.chmod(self._tmp, 0o666 & ~_umask())
            os.replace(self._tmp, self._target)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Abandon the write: the target keeps its old content."""
        self._done = True
        with contextlib.suppress(Exception):
            self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()

    def __del__(self) -> None:
        if not getattr(self, "_done", True):
            self.discard()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
