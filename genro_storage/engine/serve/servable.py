"""What serving reads of a file: the :class:`Servable` protocol.

The serving engine (``prepare``, ``body``) never imports the facade: it takes any object
with these members. :class:`~genro_storage.node.StorageNode` has them all (mypy checks it
where the adapters and ``StorageNode.serve()`` pass nodes in).
"""

from __future__ import annotations

from typing import IO, Any, Protocol

from ...backends.base import EntryInfo
from ..location import Location

__all__ = ["Servable"]


class Servable(Protocol):
    """A file as serving sees it: its name, its stat, its bytes, its neighbours."""

    @property
    def path(self) -> str | None:
        """The path inside the mount (``''`` at the root)."""

    @property
    def mount_name(self) -> str | None:
        """The mount (None: a virtual node, which has no backend)."""

    @property
    def basename(self) -> str: ...

    @property
    def fullpath(self) -> str:
        """``mount:path``, for error messages."""

    @property
    def version(self) -> int | str | None:
        """The version of a snapshot node (its bytes are read with :meth:`open`)."""

    @property
    def mimetype(self) -> str:
        """The media type; when it is the name's guess, the finer name rules of
        :func:`~genro_storage.http.encoding.media_type_of` apply (``.svgz``, ``.gz``)."""

    @property
    def location(self) -> Location:
        """The mount's backend and the path (a local file is stat'ed through it)."""

    @property
    def parent(self) -> Servable: ...

    def child(self, *parts: str) -> Servable: ...

    def stat(self) -> EntryInfo: ...

    def read_range(self, start: int, end: int) -> bytes: ...

    def open(self, mode: str = "r") -> IO[Any]: ...

    def url(self, expires_in: int = 3600) -> str | None: ...
