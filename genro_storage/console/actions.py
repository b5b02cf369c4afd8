"""What the console does to mounts: blocking calls on the node API, JSON-ready answers.

Every path from a request goes through :func:`genro_storage.paths.from_url_path` (the
library's containment: ``..``, backslashes, NUL, drive letters, encoded separators... are
refused) before a node is made. Writes are refused up front on a mount whose
capabilities say it cannot write (read-only mounts), and again by the library itself.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..backends.base import EntryInfo, StorageBackend
from ..errors import PathTraversalError
from ..fileio import guess_mimetype
from ..http.signing import sign_path
from ..manager import StorageManager
from ..node import StorageNode
from ..paths import from_url_path
from ..serving.listing import inside_mount
from ._http import HTTPError

__all__ = ["Actions", "clean_path", "entry_dict"]

MAX_PAGE = 1000
SHARE_MAX_SECONDS = 7 * 24 * 3600


def clean_path(path: str) -> str:
    """A mount-relative path from request text, through the library's containment."""
    try:
        return from_url_path(quote(path, safe="/"))
    except PathTraversalError as exc:
        raise HTTPError(400, f"path refused: {exc}") from None


def clean_name(name: str) -> str:
    """One path segment (a new file or folder name)."""
    cleaned = clean_path(name)
    if not cleaned or "/" in cleaned:
        raise HTTPError(400, f"not a single file or folder name: {name!r}")
    return cleaned


def entry_dict(entry: EntryInfo) -> dict[str, Any]:
    return {
        "name": entry.name,
        "path": entry.path,
        "is_dir": entry.is_dir,
        "size": entry.size,
        "mtime": entry.mtime,
        "type": "" if entry.is_dir else guess_mimetype(entry.name),
    }


class Actions:
    """The console's operations on ``storage`` (blocking; the app runs them in threads)."""

    def __init__(self, storage: StorageManager, secret: str) -> None:
        self.storage = storage
        self.secret = secret

    # ------------------------------------------------------------------ mounts
    def backend(self, mount: str) -> StorageBackend:
        if not self.storage.has_mount(mount):
            raise HTTPError(404, f"no mount named {mount!r}")
        return self.storage.get_backend(mount)

    def node(self, mount: str, path: str) -> StorageNode:
        self.backend(mount)
        return self.storage.node(f"{mount}:{clean_path(path)}")

    def mount_info(self, name: str) -> dict[str, Any]:
        backend = self.backend(name)
        caps = backend.capabilities
        writable = caps.write and not caps.readonly
        return {
            "name": name,
            "type": backend.protocol,
            "capabilities": caps.as_dict(),
            "summary": str(caps),
            "writable": writable,
            "deletable": writable and caps.delete,
            "versioning": caps.version_listing or caps.versioning,
            "presigned": caps.presigned_urls,
            "implicit_dirs": backend.implicit_dirs,
        }

    def mounts(self) -> list[dict[str, Any]]:
        return [self.mount_info(name) for name in self.storage.get_mount_names()]

    def require_write(self, mount: str, delete: bool = False) -> None:
        info = self.mount_info(mount)
        if not info["writable"]:
            raise HTTPError(403, f"mount {mount!r} is read-only")
        if delete and not info["deletable"]:
            raise HTTPError(403, f"mount {mount!r} does not allow deleting")

    # ------------------------------------------------------------------ reading
    def list_folder(self, mount: str, path: str, cursor: str | None, limit: int) -> dict[str, Any]:
        """One page of a folder: ``{entries, next_cursor}`` (one listing request on S3)."""
        backend = self.backend(mount)
        folder = clean_path(path)
        limit = max(1, min(limit, MAX_PAGE))
        entries, following = backend.list_page(folder, cursor or None, limit)
        return {
            "mount": mount,
            "path": folder,
            "entries": [entry_dict(e) for e in inside_mount(backend, entries)],
            "next_cursor": following,
        }

    def stat(self, mount: str, path: str) -> dict[str, Any]:
        return entry_dict(self.node(mount, path).stat())

    def versions(self, mount: str, path: str) -> list[dict[str, Any]]:
        node = self.node(mount, path)
        if not self.mount_info(mount)["versioning"]:
            raise HTTPError(400, f"mount {mount!r} keeps no versions")
        out = []
        for version in node.versions:
            modified = version.get("last_modified")
            if isinstance(modified, datetime):
                modified = modified.timestamp()
            out.append(
                {
                    "version_id": str(version["version_id"]),
                    "is_latest": bool(version.get("is_latest")),
                    "mtime": modified,
                    "size": int(version.get("size") or 0),
                }
            )
        return out

    # ------------------------------------------------------------------ writing
    def mkdir(self, mount: str, path: str) -> dict[str, Any]:
        self.require_write(mount)
        node = self.node(mount, path)
        clean_name(node.basename)
        node.mkdir(parents=True, exist_ok=False)
        return {"path": node.path}

    def delete(self, mount: str, path: str) -> dict[str, Any]:
        self.require_write(mount, delete=True)
        node = self.node(mount, path)
        if not node.path:
            raise HTTPError(400, "refusing to delete the root of a mount")
        if not node.exists:
            raise HTTPError(404, f"{node.fullpath} does not exist")
        node.delete()
        return {"deleted": node.path}

    def move(self, mount: str, path: str, to_mount: str, to_path: str) -> dict[str, Any]:
        """Rename or move (copy + delete across mounts or backends)."""
        self.require_write(mount, delete=True)
        self.require_write(to_mount)
        node = self.node(mount, path)
        target = self.node(to_mount, to_path)
        if not node.path or not target.path:
            raise HTTPError(400, "a mount root cannot be moved or replaced")
        here, there = node.path, target.path
        if not node.exists:
            raise HTTPError(404, f"{node.fullpath} does not exist")
        if target.exists:
            raise HTTPError(409, f"{target.fullpath} already exists")
        if mount == to_mount and (there + "/").startswith(here + "/"):
            raise HTTPError(400, "cannot move a folder inside itself")
        node.move_to(target)
        return {"mount": to_mount, "path": target.path}

    def restore(self, mount: str, path: str, version_id: str) -> dict[str, Any]:
        """Make an old version the current content (a new version on versioned stores)."""
        self.require_write(mount)
        node = self.node(mount, path)
        known = {v["version_id"] for v in self.versions(mount, path)}
        if version_id not in known:
            raise HTTPError(404, f"{node.fullpath} has no version {version_id!r}")
        backend = self.backend(mount)
        with backend.open_version(node.path or "", version_id, "rb") as old:
            node.write_stream(iter(lambda: old.read(1024 * 1024), b""))
        return {"restored": version_id}

    # ------------------------------------------------------------------ links
    def share(self, mount: str, path: str, expires_in: int) -> dict[str, Any]:
        """A signed console link (every mount) and, where the mount has them, a presigned one."""
        if not 60 <= expires_in <= SHARE_MAX_SECONDS:
            raise HTTPError(400, f"expires_in must be 60..{SHARE_MAX_SECONDS} seconds")
        node = self.node(mount, path)
        if not node.isfile:
            raise HTTPError(400, f"{node.fullpath} is not a file")
        expires = int(time.time()) + expires_in
        link = f"/share/{quote(mount)}/{quote(node.path or '')}"
        presigned = None
        if self.mount_info(mount)["presigned"]:
            presigned = node.url(expires_in)
        return {
            "signed": f"{link}?{sign_path(link, self.secret, expires)}",
            "presigned": presigned,
            "expires": expires,
        }
