"""Change notification for kept answers: Linux ``inotify``, read when a request comes.

A kept answer (:mod:`genro_storage.serving.hot`) is checked with stats on every request,
so that an edit shows in the next answer. Where the kernel can say it instead, this
module does: :meth:`Watcher.watch` puts ``inotify`` watches on every directory from ``/``
down to a file, on the file itself and on its ``.br``/``.gz`` siblings, and returns a
:class:`Token` that stays ``valid`` until one of them reports a change that concerns
the file (a write, a ``chmod``/``touch``/new hard link, a rename, a removal, a sibling
that comes or goes, a directory on the way renamed or removed).

No thread: the kernel queues a notification before the system call that caused it
returns, so :meth:`Watcher.catch_up`, called by each request before it trusts a token,
asks how many bytes are queued (one ``ioctl(FIONREAD)``, cheaper than the two stats it
replaces) and reads and applies them first when there are any. It asks at most once per
freshness window (``window_ns``, :data:`FRESHNESS_NS` = 1 ms by default): a call skips
the ``ioctl`` only when a check that started less than the window before it completed.
A change completed at least one window before a request starts therefore shows in its
answer; with a window of 0, a change completed before the request, as with stats.
Watches are added before the file is stat'ed for its answer, so a change made while the
answer is being decided is reported too.

Used only where notification is complete: Linux, on file systems whose changes all pass
through this kernel (ext2/3/4, xfs, btrfs, tmpfs, f2fs, zfs, overlayfs...; not NFS, SMB,
FUSE or 9p/virtiofs, where another machine may write), for mount roots that are not
symlinks. ``GENRO_STORAGE_WATCH=0`` turns it off (every kept answer is stat'ed again, as
before). One ``inotify`` instance per process, made on first use; a forked child (a
gunicorn worker) makes its own and drops what it inherited. The queue overflowing, or the
per-user watch limit being reached, makes answers fall back to stats, never go stale.

Not seen by ``inotify`` (nor by this module): writes through a shared ``mmap``; a file
system mounted over a directory on the way after the answer was kept. Such sites set
``GENRO_STORAGE_WATCH=0``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import sys
import termios
import threading
import time
import weakref
from collections.abc import Iterable

__all__ = ["FRESHNESS_NS", "Token", "Watcher", "watcher"]

FRESHNESS_NS = 1_000_000
"""The default freshness window (1 ms): a change completed at least this long before a
request starts shows in its answer (see :meth:`Watcher.catch_up`)."""
_monotonic_ns = time.monotonic_ns
_READ_SIZE = 65536
_LARGEST_EVENT = 16 + 256  # struct inotify_event and a NAME_MAX name (NUL padded)

# <sys/inotify.h>
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x1000000
IN_DONT_FOLLOW = 0x2000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = 0o2000000

IN_MASK_ADD = 0x20000000
_SELF = IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF
# a file's own watch sees its writes, whatever name it is written through
_FILE_MASK = IN_MODIFY | IN_CLOSE_WRITE | _SELF | IN_DONT_FOLLOW
# a directory's, names that come and go; not the writes to the files in it, which the
# files' own watches see (a busy /tmp above a mount would queue one event per write)
_DIR_MASK = (
    IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | _SELF
    | IN_ONLYDIR | IN_DONT_FOLLOW | IN_MASK_ADD
)  # fmt: skip
# a directory above the mount root: names only, not attribute changes. A directory's watch
# also reports the attribute changes of every file in it (the kernel has no filter by
# name): a gunicorn worker's heartbeat (a utime of a file in /tmp, several per request)
# would queue an event for every check of every file served from below /tmp
_ABOVE_ROOT_MASK = _DIR_MASK & ~IN_ATTRIB
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then the name, NUL padded)

# statfs(2) f_type of file systems whose every change passes through this kernel
LOCAL_FILE_SYSTEMS = frozenset({
    0xEF53,  # ext2/3/4
    0x58465342,  # xfs
    0x9123683E,  # btrfs
    0x01021994,  # tmpfs
    0x858458F6,  # ramfs
    0xF2F52010,  # f2fs
    0x2FC12FC1,  # zfs
    0x794C7630,  # overlayfs
    0xCA451A4E,  # bcachefs
    0x3153464A,  # jfs
    0x52654973,  # reiserfs
})  # fmt: skip
MAX_WATCHES = 8192
"""Watches one process keeps at most (the kernel's limit is per user, for all processes)."""


class Token:
    """Valid until a change to the watched file, its siblings or its directories shows."""

    __slots__ = ("__weakref__", "valid", "watcher")

    def __init__(self, watcher: Watcher) -> None:
        self.valid = True
        self.watcher = watcher


class _Libc:
    """The libc functions of inotify and statfs, through ctypes (the standard library
    has none)."""

    def __init__(self) -> None:
        # the process's own symbols, libc's among them: find_library() would run ldconfig
        libc = ctypes.CDLL(None, use_errno=True)
        self.init1 = libc.inotify_init1
        self.init1.argtypes = (ctypes.c_int,)
        self.add_watch = libc.inotify_add_watch
        self.add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        self.rm_watch = libc.inotify_rm_watch
        self.rm_watch.argtypes = (ctypes.c_int, ctypes.c_int)
        self.statfs = libc.statfs
        self.statfs.argtypes = (ctypes.c_char_p, ctypes.c_void_p)
        # the two calls of a request's check keep the GIL (PyDLL): neither can block (the
        # descriptor is non-blocking), and releasing the GIL in a busy threaded server
        # hands it to another thread, whose turn this request's thread then waits for
        # ioctl: no argtypes nor errno (ctypes objects passed; FIONREAD on a live
        # inotify descriptor cannot fail): as cheap as fcntl.ioctl, which releases the GIL
        self.ioctl = ctypes.PyDLL(None).ioctl
        self.read = ctypes.PyDLL(None, use_errno=True).read
        self.read.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
        self.read.restype = ctypes.c_ssize_t

    def fs_type(self, path: str) -> int | None:
        buf = ctypes.create_string_buffer(512)  # struct statfs is 120 bytes on 64-bit
        if self.statfs(os.fsencode(path), buf) != 0:
            return None
        # f_type is the first field (a long, or an int on 32-bit: little end first)
        return ctypes.c_long.from_buffer(buf).value & 0xFFFFFFFF


class Watcher:
    """One ``inotify`` instance and the tokens its watches guard (see the module doc)."""

    def __init__(self, libc: _Libc, fd: int) -> None:
        self._libc = libc
        self._fd = fd
        self._lock = threading.Lock()
        self._closed = False
        self._queued = ctypes.c_int(0)  # FIONREAD's answer: the bytes queued
        # the ioctl's arguments, made once
        self._ioctl_args = (ctypes.c_int(fd), ctypes.c_ulong(termios.FIONREAD))
        self._queued_ref = ctypes.byref(self._queued)
        self._ioctl = libc.ioctl
        self._buffer = ctypes.create_string_buffer(_READ_SIZE)  # read under the lock
        #: ``time.monotonic_ns()`` at which the last completed check started: a caller
        #: may skip :meth:`catch_up` itself while less than its window has passed since
        self.checked_at = -(1 << 62)
        # wd -> name (None: any event of the watch) -> the tokens to invalidate
        self._tokens: dict[int, dict[str | None, weakref.WeakSet[Token]]] = {}
        self._local: dict[str, bool] = {}  # directory -> on a local file system

    # ------------------------------------------------------------------ requests
    def catch_up(self, window_ns: int = 0) -> None:
        """Apply every notification queued so far (one ``ioctl`` when there is none), or
        nothing when a check that started less than ``window_ns`` nanoseconds ago has
        completed: a change completed ``window_ns`` before this call is applied then.

        A request calls this before it trusts a token. The lock is looked at after the
        queue: a queue found empty because another thread is reading it is waited for.
        The time of a check is taken before its ``ioctl`` and published after the queue
        was applied, so a skipped call relies only on a check that saw every change
        completed before it started.
        """
        start = _monotonic_ns()
        if start - self.checked_at < window_ns:
            return
        # the GIL is held from the ioctl to the test of its answer: no other thread's
        # check writes the shared answer in between (a queue read meanwhile is under the
        # lock, and its reader holds the lock until it applied what it read)
        self._ioctl(*self._ioctl_args, self._queued_ref)
        if self._queued.value or self._lock.locked():
            self._drain()
        self.checked_at = start  # an older start written late only skips fewer checks

    def _drain(self) -> None:
        """Read and apply the queue: one ``read`` takes every event queued when the
        caller's ``ioctl`` counted them (a read returns whole events, oldest first, as
        many as fit); events queued later are read now or by a later check."""
        with self._lock:
            if self._closed:
                return
            buffer = self._buffer
            while True:
                size = self._libc.read(self._fd, buffer, _READ_SIZE)
                if size <= 0:  # EAGAIN: another thread read the queue, now applied
                    if size < 0 and ctypes.get_errno() not in (errno.EAGAIN, errno.EINTR):
                        self._invalidate_all()  # cannot happen on a live instance
                    return
                self._apply(ctypes.string_at(buffer, size))
                if size <= _READ_SIZE - _LARGEST_EVENT:  # the queue did fit: all read
                    return

    def _apply(self, data: bytes) -> None:
        offset, size = 0, len(data)
        while offset < size:
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            offset += _EVENT.size
            name = None
            if length:
                raw = data[offset : offset + length].rstrip(b"\0")
                name = os.fsdecode(raw) if raw else None
                offset += length
            if mask & IN_Q_OVERFLOW:
                self._invalidate_all()
                continue
            by_name = self._tokens.get(wd)
            if by_name is None:
                continue
            if name is None or mask & IN_IGNORED:  # the watched inode itself
                for tokens in by_name.values():
                    _invalidate(tokens)
                by_name.clear()
            else:
                for key in (name, None):
                    if key in by_name:
                        _invalidate(by_name.pop(key))
            if mask & IN_IGNORED:  # the watch is gone (its inode was removed)
                self._forget(wd)

    def _invalidate_all(self) -> None:
        for by_name in self._tokens.values():
            for tokens in by_name.values():
                _invalidate(tokens)
            by_name.clear()

    def _forget(self, wd: int) -> None:
        self._tokens.pop(wd, None)

    # ------------------------------------------------------------------ watches
    def watch(
        self, os_path: str, siblings: Iterable[str] = (), root: str | None = None
    ) -> Token | None:
        """A token for the regular file ``os_path`` (an absolute real path, no symlink on
        the way) and its ``siblings`` (paths in the same directory, present or not); None
        when it cannot be watched completely (then the caller checks with stats).

        ``root``: the directory the file is served from (a mount's root, an ancestor of
        ``os_path``); the directories above it are watched for names that come and go,
        not for a ``chmod``/``chown`` of their own (the root and the directories below it
        are). Stat the file only after this returns: a change from then on is reported.
        """
        with self._lock:
            if self._closed:
                return None
            if len(self._tokens) >= MAX_WATCHES:
                self._sweep()
                if len(self._tokens) >= MAX_WATCHES:
                    return None
            token = Token(self)
            folder, name = os.path.split(os_path)
            segments = [s for s in folder.split("/") if s]
            chain = ["/", *("/" + "/".join(segments[: i + 1]) for i in range(len(segments)))]
            above = (root.rstrip("/") or "/") if root is not None else "/"
            if above != "/" and not os_path.startswith(above + "/"):
                above = "/"  # not an ancestor: every directory is watched whole
            # top down: a directory renamed after its parent is watched is reported
            for path, child in zip(chain, [*segments, name], strict=True):
                mask = _ABOVE_ROOT_MASK if len(path) < len(above) else _DIR_MASK
                if not self._add(token, path, mask, child):
                    token.valid = False
                    return None
            for sibling in siblings:
                if not self._add(token, folder, _DIR_MASK, os.path.basename(sibling)):
                    token.valid = False
                    return None
            for path in (os_path, *siblings):
                if not self._add(token, path, _FILE_MASK, None) and (
                    path == os_path or ctypes.get_errno() != errno.ENOENT
                ):
                    token.valid = False
                    return None
            return token

    def _add(self, token: Token, path: str, mask: int, child: str | None) -> bool:
        """Watch ``path`` (again: the kernel gives an inode watched already its own wd)
        and file ``token`` under the event name ``child`` (None: any event)."""
        if mask != _FILE_MASK and not self._on_local_fs(path):
            return False
        wd = self._libc.add_watch(self._fd, os.fsencode(path), mask)
        if wd < 0:  # ENOSPC (the user's limit), ENOENT (gone meanwhile), ENOTDIR...
            return False
        self._tokens.setdefault(wd, {}).setdefault(child, weakref.WeakSet()).add(token)
        return True

    def _on_local_fs(self, folder: str) -> bool:
        found = self._local.get(folder)
        if found is None:
            found = self._libc.fs_type(folder) in LOCAL_FILE_SYSTEMS
            self._local[folder] = found
        return found

    def _sweep(self) -> None:
        """Remove the watches no live token needs any more."""
        for wd, by_name in list(self._tokens.items()):
            if not any(by_name.values()):
                self._libc.rm_watch(self._fd, wd)
                self._forget(wd)

    def close(self) -> None:
        """Invalidate every token and close the instance."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        self._closed = True
        self._invalidate_all()
        self._tokens.clear()
        try:
            os.close(self._fd)
        except OSError:
            pass

    def __len__(self) -> int:
        """The number of watches held."""
        return len(self._tokens)


def _invalidate(tokens: weakref.WeakSet[Token]) -> None:
    for token in list(tokens):
        token.valid = False
    tokens.clear()


_current: Watcher | None = None
_failed = False
_create_lock = threading.Lock()


def watcher() -> Watcher | None:
    """This process's :class:`Watcher`, made on first use; None where there is none
    (not Linux, ``GENRO_STORAGE_WATCH=0``, ``inotify`` refused)."""
    global _current, _failed
    if _current is not None or _failed:
        return _current
    with _create_lock:
        if _current is not None or _failed:
            return _current
        if not sys.platform.startswith("linux") or os.environ.get(
            "GENRO_STORAGE_WATCH", "1"
        ).strip().lower() in ("0", "false", "no", "off"):
            _failed = True
            return None
        try:
            libc = _Libc()
            fd = libc.init1(IN_NONBLOCK | IN_CLOEXEC)
        except (OSError, AttributeError):  # no libc inotify
            fd = -1
        if fd < 0:
            err = ctypes.get_errno()
            _failed = err not in (errno.EMFILE, errno.ENFILE)  # a full table may clear
            return None
        _current = Watcher(libc, fd)
        return _current


def reset() -> None:
    """Forget this process's watcher (its tokens turn invalid); the next call of
    :func:`watcher` makes a new one. Run in a forked child, and by tests."""
    global _current, _failed
    old, _current, _failed = _current, None, False
    if old is not None:
        old._close()  # the lock may be held by a thread of the parent: not taken


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=reset)
