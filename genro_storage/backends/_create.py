"""Create a local file that must not exist yet, atomically (Django's ``O_EXCL`` reservation).

The content goes to a hidden temporary sibling (short, fixed-length name: any target name
the filesystem accepts stays writable), then a hard link publishes it under the target
name: ``link()`` fails when the name exists, so of two writers exactly one wins and the
other gets ``FileExistsError``, and nobody ever sees a partial file. Where hard links are
not supported, the name is reserved with ``O_CREAT | O_EXCL`` (as Django's
FileSystemStorage does) and the content renamed over the reservation.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

__all__ = ["create_new"]


def create_new(target: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``target``; ``FileExistsError`` when ``target`` exists."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _new_temp(target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        try:
            os.link(temp, target)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this filesystem: reserve, then replace
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _new_temp(folder: Path) -> tuple[int, str]:
    """A new hidden ``.<8 hex>.new`` file in ``folder``, created 0666 less the umask by
    ``open(2)`` (the mode the published file keeps; the umask is never read: setting it
    and back is not thread-safe)."""
    for _ in range(16):
        temp = os.path.join(folder, f".{secrets.token_hex(4)}.new")
        try:
            return os.open(temp, _FLAGS, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_FLAGS |= getattr(os, "O_BINARY", 0)
