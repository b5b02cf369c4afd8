"""Local filesystem backend: the OS directly (stat, rename, sendfile-friendly paths)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import stat
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Union

from ..capabilities import BackendCapabilities
from ..errors import (
    StorageConfigError,
    StorageIsADirectoryError,
    StorageNotFoundError,
)
from ..fileio import is_write_mode, md5_hex
from ..paths import canonical, resolve_within
from . import _nolinks
from ._create import create_new
from ._errors import debug_logging, log_calls, logged_as, unwrapped
from ._publish import (
    LocalReceipt,
    copy_local_file,
    copy_open_file,
    open_local_writer,
    receive_local,
    write_local_bytes,
)
from .base import EntryInfo, StorageBackend
from .relative import writable_target

__all__ = ["LocalStorage"]

PathSource = Union[str, "os.PathLike[str]", Callable[[], Any]]


#: what ``Path.exists()`` takes for "no such file" (a dangling link, a link loop...)
_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})

#: the kernel walks a path and refuses any symlink on it in one call (``_nolinks``)
_NO_LINKS = _nolinks.AVAILABLE
_O_PATH = getattr(os, "O_PATH", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
#: a copy's source: O_NONBLOCK so that opening a FIFO never waits for a writer (it is
#: then found not to be a regular file and left to the general route)
_QUICK_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def _plain_relative(path: str) -> bool:
    """A mount path the kernel can walk as it is: no empty, ``.`` or ``..`` segment."""
    if not path or canonical(path) != path:
        return False
    return ".." not in path or ".." not in path.split("/")


#: MD5s of local files by (path, size, mtime_ns, inode, device), least recently used first
_HASHES: OrderedDict[tuple[str, int, int, int, int], str] = OrderedDict()
_HASHES_KEPT = 100_000
_HASH_LOCK = threading.Lock()


def _entry(path: str, st: os.stat_result) -> EntryInfo:
    is_dir = stat.S_ISDIR(st.st_mode)
    return EntryInfo(path, is_dir, 0 if is_dir else st.st_size, st.st_mtime)


class LocalStorage(StorageBackend):
    """A directory on local disk. ``path`` may be a zero-argument callable (per-user roots)."""

    protocol = "local"

    def __init__(self, path: PathSource, mount_name: str = "") -> None:
        self.mount_name = mount_name
        self._resolved: str | None = None
        if callable(path):
            self._source: PathSource = path
            return
        root = Path(path)
        if not root.is_absolute():
            raise ValueError(f"Local storage path must be absolute, got {str(path)!r}")
        if not root.exists():
            raise FileNotFoundError(f"Local storage path does not exist: {str(path)!r}")
        if not root.is_dir():
            raise ValueError(f"Local storage path is not a directory: {str(path)!r}")
        self._source = root
        resolved = os.path.realpath(root)
        # A root reached through no symlink is resolved once; a symlinked root (a deploy's
        # ``current -> releases/N``) is resolved on every access, so a swap is followed.
        self._resolved = resolved if resolved == os.path.abspath(root) else None

    @property
    def base_path(self) -> Path:
        """The mount root, resolved now (callable roots are called each time)."""
        return Path(self._root())

    def _root(self) -> str:
        """The real path of the mount root (resolved once when no symlink leads to it)."""
        if self._resolved is not None:
            return self._resolved
        source = self._source
        value = source() if callable(source) else source
        if not isinstance(value, (str, os.PathLike)):
            raise StorageConfigError(
                f"path callable of mount '{self.mount_name}' returned {type(value).__name__}"
            )
        return os.path.realpath(value)

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities(symbolic_links=sys.platform != "win32", copy_optimization=True)

    def _full(self, path: str) -> Path:
        return Path(resolve_within(self._root(), path)[0])

    def os_path(self, path: str) -> str:
        root = self._root()
        if _NO_LINKS and _plain_relative(path):
            full = f"{'' if root == '/' else root}/{path}"
            fd = _nolinks.open_no_links(full, _O_PATH)
            if fd >= 0:
                os.close(fd)
                return full  # no link on the way: the real path is the joined one
            if fd == -errno.ENOENT:
                return full  # (as resolve_within: nothing below a missing folder is a link)
        return resolve_within(root, path)[0]

    def local_root(self) -> str | None:
        """The resolved root, unless it is reached through a symlink (resolved per access)."""
        return self._resolved

    def local_stat(self, path: str) -> tuple[str, os.stat_result]:
        """``(os_path(path), its stat)`` with as few system calls as the path allows.

        Under a root reached through no symlink, a file with no symlink on its way costs one
        ``lstat`` per path segment and nothing else. Raises like ``os.stat`` (and
        :class:`PathTraversalError` for a symlink leading out of the mount).
        """
        root = self._root()
        if _NO_LINKS and _plain_relative(path):
            full = f"{'' if root == '/' else root}/{path}"
            found = self._stat_no_links(full)
            if found is not None:
                if isinstance(found, int):
                    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), full)
                return full, found
        resolved, walked = resolve_within(root, path)
        return resolved, walked if walked is not None else os.stat(resolved)

    @staticmethod
    def _stat_no_links(full: str) -> os.stat_result | int | None:
        """The stat of ``full`` when no symlink is on its way; ``-ENOENT`` when a
        component is missing (no link before it); None: take the general route (a link
        somewhere, or any other failure, which the general route reports)."""
        fd = _nolinks.open_no_links(full, _O_PATH)
        if fd < 0:
            return fd if fd == -errno.ENOENT else None
        try:
            return os.fstat(fd)
        finally:
            os.close(fd)

    def info_or_none(self, path: str) -> EntryInfo | None:
        """:meth:`info`, None when missing (no exception raised for a missing file)."""
        root = self._root()
        if _NO_LINKS and _plain_relative(path):
            found = self._stat_no_links(f"{'' if root == '/' else root}/{path}")
            if isinstance(found, int):
                return None
            if found is not None:
                return _entry(path, found)
        try:
            return self.info(path)
        except FileNotFoundError:
            return None

    # ------------------------------------------------------------------ primitives
    def _missing(self, path: str, exc: OSError) -> StorageNotFoundError:
        """A missing file, named as the other backends name it: mount and path."""
        shown = f"'{path}'" if path else "the mount root"
        error = StorageNotFoundError(f"{self.describe()}: {shown} not found (no such file)")
        error.errno = errno.ENOENT  # (no filename: it would replace the message)
        return error

    def info(self, path: str) -> EntryInfo:
        try:
            st = self.local_stat(path)[1]
        except FileNotFoundError as exc:
            raise self._missing(path, exc) from None
        return _entry(path, st)

    def compute_md5(self, path: str) -> str:
        """The file's MD5, computed once per (file, size, mtime, inode): a re-run of
        ``skip='hash'`` or ``md5hash`` on an unchanged file does not read it again."""
        os_path, st = self.local_stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"Is a directory: {path!r}")
        key = (os_path, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        with _HASH_LOCK:
            found = _HASHES.get(key)
            if found is not None:
                _HASHES.move_to_end(key)
                return found
        with open(os_path, "rb") as fh:
            digest = md5_hex(iter(lambda: fh.read(1024 * 1024), b""))
        with _HASH_LOCK:
            _HASHES[key] = digest
            while len(_HASHES) > _HASHES_KEPT:
                _HASHES.popitem(last=False)
        return digest

    def exists(self, path: str) -> bool:
        """One pass over the path (the containment walk's ``lstat`` is the answer), not a
        second ``stat`` after it. A link leading out of the mount still raises."""
        if _NO_LINKS and _plain_relative(path):
            root = self._root()
            found = self._stat_no_links(f"{'' if root == '/' else root}/{path}")
            if found is not None:
                return not isinstance(found, int)
        try:
            self.local_stat(path)
        except OSError as exc:
            if exc.errno in _MISSING_ERRNOS:
                return False
            raise
        return True

    def is_file(self, path: str) -> bool:
        return self._full(path).is_file()

    def is_dir(self, path: str) -> bool:
        return self._full(path).is_dir()

    def _writable_file(self, path: str) -> str:
        """The real path a file write of ``path`` replaces, its parent created.

        Refused before any byte is written when it is the mount root (in any spelling,
        also through a symlink) or an existing directory, so the temporary sibling is
        always inside the mount. The common case (an existing parent reached through no
        symlink, the target absent or a regular file) costs one ``lstat`` per segment.
        """
        self.refuse_root_write(path)
        root = self._root()
        parent_rel, _, name = path.rpartition("/")
        if os.name == "posix" and name not in ("", ".", ".."):
            parent, found = resolve_within(root, parent_rel) if parent_rel else (root, None)
            if not parent_rel or (found is not None and stat.S_ISDIR(found.st_mode)):
                target = f"{'' if parent == '/' else parent}/{name}"
                try:
                    st = os.lstat(target)
                except FileNotFoundError:
                    st = None
                    # a new file: its parent exists (a relative mount's root may not yet)
                    if parent_rel or os.path.isdir(root):
                        return target
                except OSError:
                    st = None  # (a name too long...): the general path says why
                if st is not None and stat.S_ISREG(st.st_mode):
                    return target
        full = self._full(path)
        if str(full) == root or full.is_dir():
            raise StorageIsADirectoryError(
                f"{self.describe()}: {path!r} is a directory, a file cannot be written onto it"
            )
        full.parent.mkdir(parents=True, exist_ok=True)
        return str(full)

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if is_write_mode(mode):
            if mode.replace("t", "") in ("w", "wb"):
                return open_local_writer(self._writable_file(path), mode)
            full = self._writable_file(path)
        else:
            full = self.os_path(path)
        try:
            if "b" in mode:
                return open(full, mode)
            return open(full, mode, encoding="utf-8")
        except FileNotFoundError as exc:
            raise self._missing(path, exc) from None

    def list_dir(self, path: str) -> list[str]:
        full = self._full(path)
        if not full.exists():
            raise self._missing(path, FileNotFoundError(errno.ENOENT, "", str(full)))
        if not full.is_dir():
            raise ValueError(f"Not a directory: {path!r}")
        return os.listdir(full)

    def list_detail(self, path: str) -> list[EntryInfo]:
        full = self._full(path)
        prefix = f"{path}/" if path else ""
        out = []
        with os.scandir(full) as it:
            for entry in it:
                try:
                    st = entry.stat()
                except OSError:  # a dangling link, a link loop (ELOOP): nothing to list
                    continue
                is_dir = entry.is_dir()
                out.append(
                    EntryInfo(
                        path=prefix + entry.name,
                        is_dir=is_dir,
                        size=0 if is_dir else st.st_size,
                        mtime=st.st_mtime,
                    )
                )
        return out

    def walk_files(self, path: str) -> Iterator[EntryInfo]:
        """Every entry below ``path``; a symlinked directory is listed, not descended into.

        Following links would loop forever on a link to an ancestor (``ln -s . self``).
        """
        base = str(self._full(path))
        for entry in self.list_detail(path):
            yield entry
            if entry.is_dir and not os.path.islink(os.path.join(base, entry.name)):
                yield from self.walk_files(entry.path)

    @unwrapped  # (not behind log_calls' wrapper: ``_delete`` is the logged route)
    def delete(self, path: str, recursive: bool = False) -> None:
        """Remove a file, a link (only the link, as ``rm`` does) or a directory tree.

        The mount root is refused in any spelling; the last segment of ``path`` is not
        followed when it is a symlink, and a recursive delete never descends through a
        link (``shutil.rmtree`` removes links, it does not follow them).

        A plain path (never the mount root) is first unlinked by name in its folder,
        opened through no symlink (:meth:`_unlink_no_links`); anything else, and every
        call while DEBUG logging is on, takes :meth:`_delete` (logged as ``delete``).
        """
        if _NO_LINKS and _plain_relative(path) and not debug_logging():
            parent_rel, _, name = path.rpartition("/")
            if self._unlink_no_links(self._root(), parent_rel, name):
                return  # one file or link, or nothing there
            self._delete(path, recursive, by_name=False)  # (a folder: tried by name)
            return
        self._delete(path, recursive)

    @logged_as("delete")
    def _delete(self, path: str, recursive: bool = False, by_name: bool = True) -> None:
        """:meth:`delete`'s whole route (``by_name=False``: the unlink by name was tried)."""
        self.refuse_root_delete(path)
        root = self._root()
        if by_name and _NO_LINKS and _plain_relative(path):
            parent_rel, _, name = path.rpartition("/")
            if self._unlink_no_links(root, parent_rel, name):
                return
        parent_rel, _, name = canonical(path).rpartition("/")
        parent = resolve_within(root, parent_rel)[0]
        target = os.path.join(parent, name)
        if target == root or not target.startswith(os.path.join(root, "")):
            self.refuse_root_delete("")
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(st.st_mode):  # a file or a symlink (to anything): unlink it
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
        elif recursive:
            shutil.rmtree(target)
        elif os.listdir(target):
            raise ValueError(f"Directory not empty: {path!r} (use recursive=True)")
        else:
            os.rmdir(target)

    @staticmethod
    def _unlink_no_links(root: str, parent_rel: str, name: str) -> bool:
        """Remove file (or link) ``name`` of folder ``parent_rel``, reached through no
        symlink: the folder is opened by the kernel's walk and ``name`` unlinked
        relative to it (nothing can be swapped in between). True when done, also when
        nothing was there; False when the general route must decide (a directory, a link
        on the way, another failure)."""
        base = "" if root == "/" else root
        folder = f"{base}/{parent_rel}" if parent_rel else root
        fd = _nolinks.open_no_links(folder, _O_PATH | _O_DIRECTORY)
        if fd < 0:
            return fd == -errno.ENOENT  # no folder, so nothing to delete (no link before)
        try:
            os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            return True
        except OSError:  # a directory (EISDIR, EPERM): removed by the general route
            return False
        finally:
            os.close(fd)
        return True

    def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        self._full(path).mkdir(parents=parents, exist_ok=exist_ok)

    # ------------------------------------------------------------------ faster paths
    def read_bytes(self, path: str) -> bytes:
        if _NO_LINKS and _plain_relative(path):  # the file the kernel checked is the one read
            root = self._root()
            full = f"{'' if root == '/' else root}/{path}"
            fd = _nolinks.open_no_links(full, os.O_RDONLY)
            if fd >= 0:
                try:
                    fh = io.FileIO(fd, "rb", closefd=True)
                except IsADirectoryError:
                    os.close(fd)  # (FileIO leaves a descriptor it was given open on failure)
                    raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), full) from None
                except BaseException:
                    os.close(fd)
                    raise
                with fh:
                    return fh.readall()
            if fd == -errno.ENOENT:
                raise self._missing(path, FileNotFoundError(errno.ENOENT, "", full))
        try:
            return self._full(path).read_bytes()
        except FileNotFoundError as exc:
            raise self._missing(path, exc) from None

    def write_bytes(self, path: str, data: bytes) -> None:
        """Atomically (temp file + rename). A plain path whose folder is reached through
        no symlink and whose name is a regular file or nothing is written relative to
        that folder, opened once (``openat2``): 7-8 system calls where the path route
        (an ``lstat`` per segment, Python's file object, the umask read twice, ``chmod``
        and ``rename`` by path) made 14. Anything else: the path route."""
        if _NO_LINKS and os.name == "posix" and _plain_relative(path):
            root = self._root()
            parent_rel, _, name = path.rpartition("/")
            base = "" if root == "/" else root
            dir_fd = _nolinks.open_no_links(
                f"{base}/{parent_rel}" if parent_rel else root, _O_PATH | _O_DIRECTORY
            )
            if dir_fd >= 0:
                try:
                    usable = True
                    try:
                        found: os.stat_result | None = os.stat(
                            name, dir_fd=dir_fd, follow_symlinks=False
                        )
                    except FileNotFoundError:
                        found = None
                    except OSError:  # (a name too long...): the path route says why
                        found, usable = None, False
                    if usable and (found is None or stat.S_ISREG(found.st_mode)):
                        mode = None if found is None else stat.S_IMODE(found.st_mode)
                        write_local_bytes(name, data, dir_fd, mode)
                        return
                finally:
                    os.close(dir_fd)
        with open_local_writer(self._writable_file(path)) as fh:
            fh.write(data)

    def write_stream(self, path: str, chunks: Any) -> None:
        with open_local_writer(self._writable_file(path)) as fh:
            for chunk in chunks:
                fh.write(chunk)

    def save_stream(
        self, path: str, chunks: Any, *, exclusive: bool = False, content_type: str | None = None
    ) -> None:
        if exclusive:
            create_new(self._full(path), chunks)
        else:
            self.write_stream(path, chunks)

    def copy_file(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        """One file (the engine's per-file route, trees included): the one-step copy by
        descriptors (:meth:`quick_copy`) when both ends allow it, else the general one."""
        if self.quick_copy(src_path, dest_backend, dest_path):
            return None
        return super().copy_file(src_path, dest_backend, dest_path)

    def copy(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> str | None:
        if isinstance(dest_backend, LocalStorage) and self._full(src_path).is_dir():
            # links are copied as links: following one would read outside the mount
            shutil.copytree(
                self._full(src_path),
                dest_backend._full(dest_path),
                symlinks=True,
                dirs_exist_ok=True,
            )
            return None
        return super().copy(src_path, dest_backend, dest_path)

    def quick_copy(self, src_path: str, dest_backend: StorageBackend, dest_path: str) -> bool:
        """A regular file onto a local path that is a regular file or nothing, both
        reached through no symlink, in one step (``copy_to`` without options).

        The source is opened once by the kernel's no-link walk (``openat2``) and that
        descriptor answers "a regular file" (``fstat``) and gives the bytes; the
        destination's folder is opened the same way and the temp file is created in it,
        checked against (``fstatat``: nothing, or a regular file) and renamed over the
        name relative to it (:func:`~._publish.copy_open_file`: times, mode and extended
        attributes kept; a failure leaves the old content and no temp file). Nothing
        can be swapped between the checks and the use. 13 system calls where the
        engine's general route made 19. Anything else (a folder, a link, a missing
        source or destination folder, DEBUG logging on): False, nothing done.
        """
        target = writable_target(dest_backend, dest_path)  # (through relative mounts)
        if target is None:
            return False
        dest_backend, dest_path = target
        if (
            not _NO_LINKS
            or not isinstance(dest_backend, LocalStorage)
            or not _plain_relative(src_path)
            or not _plain_relative(dest_path)
            or debug_logging()
        ):
            return False
        root, dest_root = self._root(), dest_backend._root()
        fd_in = _nolinks.open_no_links(
            f"{'' if root == '/' else root}/{src_path}", _QUICK_READ_FLAGS
        )
        if fd_in < 0:
            return False  # missing, or a link on the way: the general route says which
        try:
            st = os.fstat(fd_in)
            if not stat.S_ISREG(st.st_mode):
                return False
            parent_rel, _, name = dest_path.rpartition("/")
            base = "" if dest_root == "/" else dest_root
            folder = f"{base}/{parent_rel}" if parent_rel else dest_root
            dir_fd = _nolinks.open_no_links(folder, _O_PATH | _O_DIRECTORY)
            if dir_fd < 0:
                return False  # no folder yet (parents are made there), or a link
            try:
                try:
                    found = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                except FileNotFoundError:
                    pass
                except OSError:
                    return False  # (a name too long...): the general route says why
                else:
                    if not stat.S_ISREG(found.st_mode):
                        return False  # a folder (the file lands inside), a link...
                dest_backend.check_write_allowed()
                copy_open_file(fd_in, st, name, dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            os.close(fd_in)
        return True

    def upload_file(self, os_path: str, path: str) -> None:
        """Copy a local file here: temp file + rename, keeping the source's times, mode and
        extended attributes (:func:`~._publish.copy_local_file`)."""
        copy_local_file(os_path, self._writable_file(path))

    def begin_receive(self, path: str) -> LocalReceipt:
        """A temp sibling of ``path`` (checked like every write), published by rename."""
        return LocalReceipt(self._writable_file(path))

    def receive_file(self, path: str, fill: Callable[[str], None]) -> None:
        """``fill`` writes a temp file beside the target, renamed into place on success."""
        receive_local(self._writable_file(path), fill)

    @contextlib.contextmanager
    def local_path(self, path: str, mode: str = "r") -> Iterator[str]:
        full = self._full(path)
        if mode in ("w", "rw"):
            full.parent.mkdir(parents=True, exist_ok=True)
        yield str(full)

    def cleanup(
        self, path: str = "", older_than: float = 3600.0, dry_run: bool = False
    ) -> list[str]:
        """Remove stray ``.<name>.<12 hex>.tmp`` files older than ``older_than`` seconds.

        They are left by a process killed mid-write (``kill -9``, power loss): the target
        kept its old content, the temporary sibling stayed. Links are not followed.
        """
        from ._publish import LOCAL_TEMP_SUFFIX, is_temp_name

        cutoff = time.time() - older_than
        top = str(self._full(path))
        root = self._root()
        found = []
        for folder, _dirs, files in os.walk(top, followlinks=False):
            for name in files:
                if not is_temp_name(name, LOCAL_TEMP_SUFFIX):
                    continue
                full = os.path.join(folder, name)
                try:
                    st = os.lstat(full)
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(st.st_mode) or st.st_mtime > cutoff:
                    continue
                found.append(os.path.relpath(full, root).replace(os.sep, "/"))
                if not dry_run:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(full)
        return sorted(found)

    def scoped(self, prefix: str) -> LocalStorage:
        """A local mount rooted at ``prefix`` (a relative mount's own root).

        Its containment is checked against that root: a symlink under ``prefix`` that
        points elsewhere in this mount is refused like one pointing out of the disk.
        The root is resolved on each access (and must stay inside this mount).
        """
        return LocalStorage(lambda: resolve_within(self._root(), prefix)[0], self.mount_name)


#: one DEBUG line per operation on the ``genro_storage`` logger, as remote mounts log
#: (``mount 'NAME' (local): read_bytes 'a.txt' 0.1 ms``); errors stay the OS's own
log_calls(
    LocalStorage,
    (
        "info",
        "exists",
        "is_file",
        "is_dir",
        "open",
        "list_dir",
        "list_detail",
        "delete",  # (``unwrapped``: its logged route is ``_delete``)
        "mkdir",
        "read_bytes",
        "read_range",
        "write_bytes",
        "write_stream",
        "save_stream",
        "copy",
        "copy_file",
        "server_side_copy",
        "upload_file",
        "download_file",
        "compute_md5",
        "cleanup",
    ),
)


def create(config: dict[str, Any], mount_name: str) -> LocalStorage:
    return LocalStorage(config["path"], mount_name)
