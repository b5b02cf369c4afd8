"""The one publish-on-close writer of every backend.

``with backend.open(path, "wb") as fh: ...`` publishes the new content only when the
handle is closed cleanly. Until then the destination keeps its previous content (or stays
absent); the bytes live in a temporary file beside the target (local disk, SFTP, SMB,
WebDAV) or in an upload the service completes only on commit (S3 multipart, GCS
resumable, Azure blocks, memory).

One rule for every backend:

* ``close()`` or a clean ``with`` exit commits;
* an exception in the ``with`` block, or :meth:`PublishOnClose.discard`, throws the data
  away (temporary file removed, upload aborted);
* a handle that is garbage-collected without being closed is **discarded** and a
  :class:`ResourceWarning` says so (as Python does for an unclosed file): an unfinished
  write never becomes visible by accident.

Temporary names are bounded (:func:`temp_name`): any name the target accepts (up to 255
bytes) stays writable, and the temporary sibling is found by ``cleanup`` by its suffix.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = [
    "LOCAL_TEMP_SUFFIX",
    "LocalReceipt",
    "NAME_MAX",
    "REMOTE_TEMP_SUFFIX",
    "PublishOnClose",
    "PublishText",
    "discard_buffered",
    "is_temp_name",
    "open_local_writer",
    "receive_local",
    "temp_name",
]

NAME_MAX = 255
LOCAL_TEMP_SUFFIX = ".tmp"
REMOTE_TEMP_SUFFIX = ".part"
_RANDOM_HEX = 12


def temp_name(name: str, suffix: str) -> str:
    """A hidden, unique temporary sibling of ``name``, at most :data:`NAME_MAX` bytes.

    ``.<name>.<12 hex><suffix>``, with ``name`` cut (on a character boundary) when the
    whole would be longer than the filesystem allows.
    """
    tag = secrets.token_hex(_RANDOM_HEX // 2)
    room = NAME_MAX - len(f"..{tag}{suffix}".encode())
    head = name.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f".{head}.{tag}{suffix}"


def is_temp_name(name: str, suffix: str) -> bool:
    """Whether ``name`` looks like a :func:`temp_name` with ``suffix`` (for cleanup)."""
    if not (name.startswith(".") and name.endswith(suffix)):
        return False
    core = name[: -len(suffix)]
    tag = core.rsplit(".", 1)[-1]
    return len(tag) == _RANDOM_HEX and all(c in "0123456789abcdef" for c in tag)


class PublishOnClose(io.RawIOBase):
    """A binary write handle whose data becomes visible only when it is closed cleanly.

    ``raw`` receives the bytes; ``commit`` publishes them, ``discard`` throws them away.
    """

    def __init__(
        self,
        raw: IO[bytes],
        commit: Callable[[], Any],
        discard: Callable[[], Any],
        name: str = "",
    ) -> None:
        super().__init__()
        self._raw = raw
        self._commit = commit
        self._discard = discard
        self._failed = False
        self._written = 0
        self._target_name = name

    @property
    def name(self) -> str:
        return self._target_name

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed file")
        size = len(memoryview(data).cast("B")) if not isinstance(data, bytes) else len(data)
        self._raw.write(data if isinstance(data, bytes) else bytes(data))
        self._written += size
        return size

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        if not self.closed:
            with contextlib.suppress(AttributeError, ValueError):
                self._raw.flush()

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

    def __del__(self) -> None:
        # IOBase.__del__ would close(), i.e. publish a write nobody finished: discard.
        if "_discard" not in self.__dict__ or self.closed:
            return  # closed, or an __init__ that failed before anything was started
        with contextlib.suppress(Exception):
            self.discard()
        warnings.warn(
            f"unclosed write handle {self._target_name or ''!s}: discarded, nothing published "
            f"(close it, or use 'with', to publish)",
            ResourceWarning,
            stacklevel=2,
        )


class _Buffer(io.BufferedWriter):
    """A buffer whose finalizer leaves the decision to the :class:`PublishOnClose` below."""

    def __del__(self) -> None:
        return


class PublishText(io.TextIOWrapper):
    """Text mode over a :class:`PublishOnClose`, discarding on an error in the ``with`` block."""

    def __init__(self, pending: PublishOnClose, encoding: str | None = None) -> None:
        super().__init__(_Buffer(pending), encoding=encoding or "utf-8")
        self._pending = pending

    def discard(self) -> None:
        self._pending.discard()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self._pending.discard()
        self.close()

    def __del__(self) -> None:
        # TextIOWrapper.__del__ would flush and close (= publish): the finalizer of the
        # PublishOnClose below discards instead, with its warning.
        return


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
        try:
            handle.close()
        except Exception:
            # the connection is gone (SFTP): mark the handle closed, or its finalizer
            # retries the close at garbage collection ("Exception ignored in ...")
            with contextlib.suppress(Exception):
                handle._closed = True
            raise
        return
    try:
        discard()
    finally:
        if isinstance(handle, AbstractBufferedFile):
            handle.buffer = None
            handle.closed = True


def open_local_writer(target: Path, mode: str = "wb", encoding: str | None = None) -> IO[Any]:
    """A publish-on-close handle on the local file ``target`` (temp sibling + rename).

    The temporary file is created beside ``target`` (so inside the same directory, on the
    same filesystem) with a bounded name; ``commit`` keeps the target's permission bits
    when it existed and renames the temporary file over it.
    """
    tmp = os.path.join(target.parent, temp_name(target.name, LOCAL_TEMP_SUFFIX))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    raw = os.fdopen(fd, "wb")

    def commit() -> None:
        # No fsync: atomicity against exceptions needs only the rename; durability
        # across power loss would cost a disk flush per file on bulk copies.
        raw.close()
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)

    def discard() -> None:
        with contextlib.suppress(Exception):
            raw.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)

    pending = PublishOnClose(raw, commit, discard, str(target))
    if "b" in mode:
        return pending  # type: ignore[return-value]
    return PublishText(pending, encoding)


class LocalReceipt:
    """A bounded temp sibling of a local ``target`` that a download fills, then renamed
    over it (:meth:`publish`) or removed (:meth:`discard`). Creating it, publishing and
    discarding are a few system calls each (fine on an event loop)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = os.path.join(target.parent, temp_name(target.name, LOCAL_TEMP_SUFFIX))
        os.close(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    def publish(self) -> None:
        try:
            os.chmod(self.tmp, stat.S_IMODE(os.stat(self.target).st_mode))
        except FileNotFoundError:
            os.chmod(self.tmp, 0o666 & ~_umask())
        os.replace(self.tmp, self.target)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


def receive_local(target: Path, fill: Callable[[str], Any]) -> None:
    """``fill(temp_path)`` writes a bounded temp sibling of ``target``, renamed over it on
    success and removed on failure (downloads by a client library that wants a path)."""
    receipt = LocalReceipt(target)
    try:
        fill(receipt.tmp)
        receipt.publish()
    except BaseException:
        receipt.discard()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
