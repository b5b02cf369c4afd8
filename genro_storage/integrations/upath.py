"""``UPath("genro://MOUNT/path")``: universal_pathlib's path class for the ``genro`` protocol.

Registered through the ``universal_pathlib.implementations`` entry point, so
``upath.UPath("genro://uploads/x")`` is a :class:`GenroPath` (not upath's untested
fallback). All I/O goes through :class:`~genro_storage.integrations.fsspec.GenroFileSystem`.
"""

from __future__ import annotations

from upath.core import UPath

__all__ = ["GenroPath"]


class GenroPath(UPath):
    """A pathlib-style path on a genro mount: ``genro://MOUNT/path/inside``."""

    __slots__ = ()
