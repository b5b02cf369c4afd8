"""Where a ``genro://`` path lives, and the fsspec dicts ``info``/``ls``/``find`` answer.

Shared by the sync face (:mod:`.fsspec`) and the async face (:mod:`._fsspec_async`) of
:class:`~genro_storage.integrations.fsspec.GenroFileSystem`: both resolve a path to a
:class:`Target` and shape the mount filesystem's answers the same way.
"""

from __future__ import annotations

from typing import Any

from fsspec.implementations.local import LocalFileSystem

from ..backends.base import EntryInfo, StorageBackend
from ..backends.fsspec import FsspecBackend
from ..backends.local import LocalStorage

__all__ = ["Target", "directory", "entry_dict", "find_entries", "ls_entries", "renamed"]

_LOCAL = LocalFileSystem(auto_mkdir=True)


class Target:
    """A genro path resolved: its mount backend, and the fsspec filesystem path if any.

    ``driver`` is the backend under any relative mounts (where the I/O happens) and
    ``inner`` the path inside it; ``fs``/``full`` are the driver's fsspec filesystem and
    path when reads may go straight to it (the fast path).
    """

    __slots__ = ("backend", "driver", "fs", "full", "inner", "mount", "rel")

    def __init__(self, mount: str, rel: str, backend: StorageBackend, direct: bool) -> None:
        self.mount, self.rel, self.backend = mount, rel, backend
        driver, inner = backend.resolve(rel)
        self.driver, self.inner = driver, inner
        self.fs: Any = None
        self.full = ""
        if not direct:
            return
        if isinstance(driver, LocalStorage):
            # the backend's containment check (no symlink out of the mount), then the OS
            self.fs, self.full = _LOCAL, driver.os_path(inner)
        elif isinstance(driver, FsspecBackend):
            self.fs, self.full = driver.fs, driver.full_path(inner)

    @property
    def name(self) -> str:
        return f"{self.mount}/{self.rel}" if self.rel else self.mount

    @property
    def native(self) -> bool:
        """Whether the async face may await the mount driver's own coroutines (s3fs,
        gcsfs, adlfs, http): an async fsspec filesystem on the fast path."""
        return (
            self.fs is not None
            and isinstance(self.driver, FsspecBackend)
            and self.driver.native_async
            and bool(getattr(self.fs, "async_impl", False))
        )


def entry_dict(name: str, entry: EntryInfo) -> dict[str, Any]:
    """A backend entry as an fsspec info dict named ``name``."""
    info: dict[str, Any] = {
        "name": name,
        "size": entry.size,
        "type": "directory" if entry.is_dir else "file",
    }
    if entry.mtime is not None:
        info["mtime"] = entry.mtime
    if entry.etag:
        info["ETag"] = entry.etag
    if entry.md5:
        info["md5"] = entry.md5
    return info


def directory(name: str) -> dict[str, Any]:
    return {"name": name, "size": 0, "type": "directory"}


def renamed(info: dict[str, Any], name: str) -> dict[str, Any]:
    out = dict(info)
    out["name"] = name
    return out


def ls_entries(target: Target, infos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mount filesystem's ``ls(detail=True)`` of ``target`` under genro names."""
    fs = target.fs
    own = fs._strip_protocol(target.full).rstrip("/")
    out = []
    for info in infos:
        name = fs._strip_protocol(info["name"]).rstrip("/")
        if name == own:
            if info.get("type") != "directory":  # ls of a file: the file itself
                return [renamed(info, target.name)]
            continue
        out.append(renamed(info, f"{target.name}/{name.rsplit('/', 1)[-1]}"))
    return out


def whole_listing(target: Target, maxdepth: int | None) -> bool:
    """Object stores: one recursive listing (1,000 keys a request) filtered by depth here
    costs fewer requests than the driver's directory-by-directory walk."""
    return target.driver.implicit_dirs and maxdepth is not None and maxdepth > 1


def find_entries(
    target: Target,
    found: dict[str, Any],
    maxdepth: int | None,
    detail: bool,
    whole: bool | None = None,
) -> Any:
    """The mount filesystem's ``find(detail=True)`` of ``target`` under genro names, sorted.

    ``whole``: ``found`` is the whole tree (entries deeper than ``maxdepth`` left out here).
    """
    fs = target.fs
    if whole is None:
        whole = whole_listing(target, maxdepth)
    own = fs._strip_protocol(target.full).rstrip("/")
    out: dict[str, Any] = {}
    for name, info in found.items():
        stripped = fs._strip_protocol(name).rstrip("/")
        if stripped == own:
            rel_name = target.name
        elif stripped.startswith(own + "/") or not own:
            inner = stripped[len(own) :].strip("/")
            if whole and maxdepth is not None and inner.count("/") >= maxdepth:
                continue
            rel_name = f"{target.name}/{inner}"
        else:
            continue
        out[rel_name] = renamed(info, rel_name)
    names = sorted(out)
    return {n: out[n] for n in names} if detail else names
