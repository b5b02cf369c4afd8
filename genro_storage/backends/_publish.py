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
import errno
import io
import itertools
import os
import secrets
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Union

__all__ = [
    "LOCAL_TEMP_SUFFIX",
    "LocalReceipt",
    "NAME_MAX",
    "copy_local_file",
    "copy_open_file",
    "create_local_temp",
    "write_local_bytes",
    "REMOTE_TEMP_SUFFIX",
    "PublishOnClose",
    "PublishText",
    "discard_buffered",
    "is_temp_name",
    "open_local_writer",
    "process_umask",
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
    return _tagged(name, secrets.token_hex(_RANDOM_HEX // 2), suffix)


#: a local temp name's tag: a random per-process prefix and a counter, so creating one
#: costs no random-number system call; ``O_EXCL`` catches the rare clash (then random)
_TAG_PREFIX = secrets.token_hex(3)
_TAG_COUNTER = itertools.count()


def _new_process_tags() -> None:
    global _TAG_PREFIX, _TAG_COUNTER
    _TAG_PREFIX = secrets.token_hex(3)
    _TAG_COUNTER = itertools.count()


if hasattr(os, "register_at_fork"):  # a forked worker must not repeat its parent's names
    os.register_at_fork(after_in_child=_new_process_tags)

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_CREATE_FLAGS |= getattr(os, "O_BINARY", 0)

LocalTarget = Union[str, "os.PathLike[str]"]


def create_local_temp(
    target: LocalTarget, dir_fd: int | None = None, mode: int = 0o600
) -> tuple[int, str]:
    """A new, empty temp sibling of the local file ``target``: ``(fd, path)``, mode 0600.

    Named as :func:`temp_name` names it (bounded, found by ``cleanup``), created with
    ``O_EXCL``. Its tag is a per-process prefix and a counter; a clash with another
    process's file (``FileExistsError``) retries with random tags. With ``dir_fd``,
    ``target`` is a name in that open folder, and so is the temp file's path. ``mode``
    goes to ``open(2)`` (the process umask applies).
    """
    folder, name = os.path.split(os.fspath(target))
    tag = f"{_TAG_PREFIX}{next(_TAG_COUNTER) & 0xFFFFFF:06x}"
    for _ in range(8):
        tmp = os.path.join(folder, _tagged(name, tag, LOCAL_TEMP_SUFFIX))
        try:
            return os.open(tmp, _CREATE_FLAGS, mode, dir_fd=dir_fd), tmp
        except FileExistsError:
            tag = secrets.token_hex(_RANDOM_HEX // 2)
    raise FileExistsError(errno.EEXIST, "no free temporary name", tmp)


def _tagged(name: str, tag: str, suffix: str) -> str:
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
    ``translate`` turns a driver's exception from a write or the commit into the
    genro-storage one naming the mount (None: raised as it is).
    """

    def __init__(
        self,
        raw: IO[bytes],
        commit: Callable[[], Any],
        discard: Callable[[], Any],
        name: str = "",
        translate: Callable[[BaseException], BaseException | None] | None = None,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._commit = commit
        self._discard = discard
        self._failed = False
        self._written = 0
        self._target_name = name
        self._translate = translate

    @contextlib.contextmanager
    def _driver_errors(self) -> Any:
        try:
            yield
        except Exception as exc:
            new = self._translate(exc) if self._translate is not None else None
            if new is None:
                raise
            raise new from exc

    @property
    def name(self) -> str:
        return self._target_name

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed file")
        size = len(memoryview(data).cast("B")) if not isinstance(data, bytes) else len(data)
        with self._driver_errors():
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
                    with self._driver_errors():
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


def open_local_writer(
    target: LocalTarget, mode: str = "wb", encoding: str | None = None
) -> IO[Any]:
    """A publish-on-close handle on the local file ``target`` (temp sibling + rename).

    The temporary file is created beside ``target`` (so inside the same directory, on the
    same filesystem) with a bounded name; ``commit`` keeps the target's permission bits
    when it existed and renames the temporary file over it.
    """
    target = os.fspath(target)
    private = _exists(target)
    fd, tmp = create_local_temp(target, mode=0o600 if private else 0o666)
    raw = os.fdopen(fd, "wb")

    def commit() -> None:
        # No fsync: atomicity against exceptions needs only the rename; durability
        # across power loss would cost a disk flush per file on bulk copies.
        raw.close()
        _settle_mode(tmp, target, private)
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

    def __init__(self, target: LocalTarget) -> None:
        self.target = Path(target)
        self._private = _exists(target)
        fd, self.tmp = create_local_temp(target, mode=0o600 if self._private else 0o666)
        os.close(fd)

    def publish(self) -> None:
        _settle_mode(self.tmp, self.target, self._private)
        os.replace(self.tmp, self.target)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


def receive_local(target: LocalTarget, fill: Callable[[str], Any]) -> None:
    """``fill(temp_path)`` writes a bounded temp sibling of ``target``, renamed over it on
    success and removed on failure (downloads by a client library that wants a path)."""
    receipt = LocalReceipt(target)
    try:
        fill(receipt.tmp)
        receipt.publish()
    except BaseException:
        receipt.discard()
        raise


def copy_local_file(source: str, target: str) -> None:
    """Copy the local file ``source`` onto ``target`` atomically, as ``cp -p`` would.

    The bytes go to a temp sibling of ``target`` (in the kernel: ``copy_file_range`` where
    the OS has it), then its extended attributes, permission bits and access and
    modification times (nanoseconds), all set on the open descriptor; the temp file is
    renamed over ``target`` last, so a failure at any step leaves ``target`` as it was
    and no temp file behind. About a dozen system calls for a small file. ``target``'s
    folder must exist. A source that is not a regular file is read like a stream.
    """
    fd_in = os.open(source, _READ_FLAGS)
    try:
        copy_open_file(fd_in, os.fstat(fd_in), target)
    finally:
        os.close(fd_in)


def write_local_bytes(name: str, data: bytes, dir_fd: int, replaced: int | None) -> None:
    """Write ``data`` as file ``name`` of the open folder ``dir_fd``, atomically: a temp
    file in that folder, renamed over ``name`` (a failure leaves the old content and no
    temp file). ``replaced``: the permission bits of the file replaced, kept; None for a
    new file, whose temp file is created with 0666 less the umask (what ``open(2)``
    gives a new file; the temp file never has more than the final file). System calls:
    create, write, (``fchmod``,) close, ``renameat``; no umask read, no path walked.
    """
    fd, tmp = create_local_temp(name, dir_fd, 0o600 if replaced is not None else 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if replaced is not None:
                os.fchmod(fd, replaced)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def copy_open_file(
    fd_in: int, st: os.stat_result, target: LocalTarget, dir_fd: int | None = None
) -> None:
    """:func:`copy_local_file` from the open source ``fd_in`` (``st``: its ``fstat``).

    With ``dir_fd`` (POSIX), ``target`` is a name in that open folder: the temp file is
    created, and renamed over ``target``, relative to it (no path walked again).
    """
    fd_out, tmp = create_local_temp(target, dir_fd)
    try:
        try:
            _copy_content(fd_in, fd_out, st.st_size if stat.S_ISREG(st.st_mode) else 0)
            if os.name == "posix":
                _copy_xattrs(fd_in, fd_out)
                os.fchmod(fd_out, stat.S_IMODE(st.st_mode))
                os.utime(fd_out, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fd_out)
        if os.name != "posix":  # no metadata calls on descriptors there
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(tmp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


_COPY_CHUNK = 1024 * 1024
#: errors after which ``copy_file_range`` is not tried again in this process
_NO_COPY_RANGE = {errno.ENOSYS, errno.EPERM}
#: errors that send one file to read/write (another filesystem, a special file)
_COPY_RANGE_DECLINED = {errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBADF}
_copy_range_works = hasattr(os, "copy_file_range")


def _copy_content(fd_in: int, fd_out: int, size: int) -> None:
    """All of ``fd_in`` from its start into ``fd_out`` (``size``: what ``fstat`` said)."""
    global _copy_range_works
    if size and _copy_range_works:
        done = 0
        try:
            while True:
                wanted = max(size - done, 0) + _COPY_CHUNK
                copied = os.copy_file_range(fd_in, fd_out, wanted)
                done += copied
                # a short copy once ``size`` bytes are in is the end of the file: no
                # further call just to read the end (a file still growing is raced anyway)
                if not copied or (done >= size and copied < wanted):
                    return
        except OSError as exc:
            if exc.errno in _NO_COPY_RANGE:
                _copy_range_works = False
            elif exc.errno not in _COPY_RANGE_DECLINED:
                raise
            if done:  # declined part-way (not seen in practice): start over by read/write
                os.lseek(fd_in, 0, os.SEEK_SET)
                os.lseek(fd_out, 0, os.SEEK_SET)
                os.ftruncate(fd_out, 0)
    while True:
        chunk = os.read(fd_in, _COPY_CHUNK)
        if not chunk:
            return
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd_out, view) :]


#: xattr errors ``shutil.copystat`` ignores (no support, no permission for that name)
_XATTR_IGNORED = {errno.EPERM, errno.ENOTSUP, errno.ENODATA, errno.EINVAL, errno.EACCES}


def _copy_xattrs(fd_in: int, fd_out: int) -> None:
    """The extended attributes of ``fd_in`` onto ``fd_out`` (one call when it has none)."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(fd_in)
    except OSError as exc:
        if exc.errno not in _XATTR_IGNORED:
            raise
        return
    for name in names:
        try:
            os.setxattr(fd_out, name, os.getxattr(fd_in, name))
        except OSError as exc:
            if exc.errno not in _XATTR_IGNORED:
                raise


def _exists(target: LocalTarget) -> bool:
    """Whether a file is at ``target`` (a temp file replacing one is created private)."""
    try:
        os.stat(target)
    except FileNotFoundError:
        return False
    return True


def _settle_mode(tmp: str, target: LocalTarget, private: bool) -> None:
    """Give the temp file ``tmp`` the permission bits it publishes with: those of the
    file it replaces when there is one now, else (a new file) 0666 less the umask.

    A temp file for a new file was created with that mode by ``open(2)``, which applies
    the umask itself: the umask is never read. Reading it (``umask(0)`` then back) is
    not thread-safe: a file or folder another thread created in between got no umask
    at all (a 0777 folder under a 16-thread download). Only a temp file created private
    for a file that has gone since needs it (rare), from :func:`process_umask`.
    """
    try:
        os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
    except FileNotFoundError:
        if private:
            os.chmod(tmp, 0o666 & ~process_umask())


def process_umask() -> int:
    """The process umask, read without changing it where the OS tells it
    (``/proc/self/status``, Linux 4.7+); elsewhere by setting and restoring it."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
