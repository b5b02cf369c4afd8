"""Open a local path only if no symbolic link is on its way: Linux ``openat2``.

The local backend keeps a symlink from leading an operation out of its mount. Its
general check (``paths.resolve_within``) takes one ``lstat`` per path segment; here the
kernel does the same walk in one system call: ``openat2(AT_FDCWD, path, how)`` with
``RESOLVE_NO_SYMLINKS`` fails with ``ELOOP`` as soon as any component (the last one
included) is a symlink, and otherwise opens exactly the file the joined path names. The
caller then works on the descriptor (``fstat``, ``unlinkat`` relative to a directory
descriptor), so nothing can be swapped between the check and the use.

A path with a link on its way, or any other failure than "missing", goes back to the
general check, which follows links that stay inside the mount as before. Where
``openat2`` does not exist (not Linux, a kernel before 5.6, a seccomp filter answering
``ENOSYS`` or ``EPERM``, an architecture whose number is not known here),
:data:`AVAILABLE` is False and the callers keep the ``lstat`` walk.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import sys

__all__ = ["AVAILABLE", "open_no_links"]

RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04  # (implies RESOLVE_NO_MAGICLINKS)
#: openat2 has one number on the architectures whose table was unified (Linux 5.6)
_SYSCALL_NUMBERS = {"x86_64": 437, "aarch64": 437, "arm64": 437, "riscv64": 437, "ppc64le": 437}
_AT_FDCWD = -100


class _OpenHow(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    ]


def _load() -> tuple[object, ctypes.c_long] | None:
    """The libc ``syscall`` function and openat2's number, or None where unusable.

    The function has no ``argtypes``: each call passes values that are already of the
    C types ``syscall`` reads (``long`` number and descriptor, ``size_t`` size, made
    once, the path's bytes, the ``open_how`` pointer), so ctypes converts nothing per
    call (with ``argtypes`` the conversions were a quarter of the call's time).
    """
    if not sys.platform.startswith("linux"):
        return None
    number = _SYSCALL_NUMBERS.get(platform.machine())
    if number is None or not hasattr(os, "O_PATH"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc["syscall"]  # (a function object of its own: no argtypes set on it)
    except (OSError, AttributeError):
        return None
    call.restype = ctypes.c_long
    return call, ctypes.c_long(number)


_LOADED = _load()
_HOW_SIZE = ctypes.c_size_t(ctypes.sizeof(_OpenHow))
_FROM_CWD = ctypes.c_long(_AT_FDCWD)  # (the path is absolute: the descriptor is unused)
_HOWS: dict[int, object] = {}
_ENCODING, _ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()


def open_no_links(path: str, flags: int) -> int:
    """A descriptor of ``path`` (absolute) opened with ``flags``, or ``-errno``.

    ``-ELOOP`` means a symlink is on the way (the caller takes its general route);
    ``-ENOENT`` that a component is missing, and since resolution stops at the first
    link, no link came before it. No exception is raised for either: a missing file is
    the common answer of an existence check, and an exception costs microseconds.
    """
    if _LOADED is None:
        return -errno.ENOSYS
    if "\x00" in path:  # C would read up to it: a shorter path. The general route refuses
        return -errno.EINVAL
    call, number = _LOADED
    how = _HOWS.get(flags)
    if how is None:  # (a handful of flag sets: each struct is made once, then only read)
        how = _HOWS[flags] = ctypes.byref(_OpenHow(flags | os.O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS))
    encoded = path.encode(_ENCODING, _ERRORS)  # (os.fsencode's work, without its call)
    fd: int = call(number, _FROM_CWD, encoded, how, _HOW_SIZE)  # type: ignore[operator]
    if fd < 0:
        return -(ctypes.get_errno() or errno.EIO)
    return fd


def _works() -> bool:
    """Whether the kernel answers openat2 (a probe of ``/``, closed at once)."""
    if _LOADED is None:
        return False
    fd = open_no_links("/", os.O_PATH | os.O_DIRECTORY)
    if fd < 0:
        return False
    os.close(fd)
    return True


#: True where :func:`open_no_links` is served by the kernel
AVAILABLE = _works()
