"""A place the engine works on: a mount's backend and a path inside it.

The engine (copy/sync, skip rules, tools, the native async edge) never sees a
:class:`~genro_storage.node.StorageNode`: the facade hands it :class:`Location` values and
gets them back, and it turns them into nodes only where users see them (callbacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..backends.base import StorageBackend
from ..paths import join

__all__ = ["Location", "Mounts", "Present"]


@dataclass(frozen=True, init=False)
class Location:
    """``mount:path`` resolved to its backend (``path`` is ``''`` at the mount root)."""

    mount: str
    backend: StorageBackend
    path: str

    def __init__(self, mount: str, backend: StorageBackend, path: str) -> None:
        # set once, in the instance dict (see EntryInfo: a frozen dataclass's generated
        # __init__ costs twice as much, and every node operation of the engine makes one)
        self.__dict__.update(mount=mount, backend=backend, path=path)

    @property
    def fullpath(self) -> str:
        return f"{self.mount}:{self.path}"

    @property
    def basename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def child(self, relative: str) -> Location:
        """The location ``relative`` below this one (checked: ``..`` is refused)."""
        return Location(self.mount, self.backend, join(self.path, relative))

    def at(self, path: str) -> Location:
        """Another path of the same mount, taken as given (a backend listing's path)."""
        return Location(self.mount, self.backend, path)

    def __str__(self) -> str:
        return self.fullpath


class Present(Protocol):
    """Turns a location into what user callbacks receive (the facade's node)."""

    def __call__(self, location: Location) -> Any: ...


class Mounts(Protocol):
    """What the engine needs of the manager to ship copies to an executor's workers:
    its mount configuration, and ``locate()`` on the worker's own manager."""

    def mount_configs(self) -> list[dict[str, Any]]: ...

    def locate(self, fullpath: str) -> Location: ...
