"""A local git repository at a ref (branch, tag or commit), read-only, through pygit2.

Built on fsspec's ``git`` filesystem (which holds the pygit2 repository), with its own
tree lookup: fsspec's splits paths at ``:`` and ``@``, so names containing them would be
misread. Modification times are the ref's commit time (git stores none per file).

Versions are real: :meth:`GitBackend.get_versions` lists the commits, reachable from the
ref, that changed the file (oldest first); ``open(version=...)`` reads it at any of them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

from ..capabilities import READ_ONLY
from ..errors import StorageNotFoundError
from ..fileio import is_write_mode
from .base import CHUNK_SIZE, EntryInfo, text_wrapper
from .fsspec import FsspecBackend

__all__ = ["GitBackend", "create"]


class GitBackend(FsspecBackend):
    """The tree of ``ref`` in the repository at ``path``."""

    default_capabilities = READ_ONLY.evolve(
        versioning=True, version_listing=True, version_access=True
    )
    max_concurrency = 1  # one pygit2 repository object, not meant for parallel use

    def __init__(self, fs: Any, mount_name: str) -> None:
        super().__init__(fs, "", "git", mount_name)

    # ------------------------------------------------------------------ lookup
    def _commit(self, ref: str | None = None) -> Any:
        import pygit2

        name = ref or self.fs.ref
        try:
            commit, _ = self.fs.repo.resolve_refish(name)
        except (KeyError, ValueError, pygit2.GitError) as exc:
            raise StorageNotFoundError(f"{self.describe()}: no ref or commit {name!r}") from exc
        return commit

    def _object(self, path: str, commit: Any = None) -> Any:
        obj = (commit or self._commit()).tree
        for part in path.split("/") if path else []:
            if obj.type_str != "tree" or part not in obj:
                raise FileNotFoundError(f"{self.describe()}: '{path}' not found")
            obj = obj[part]
        return obj

    def _stat(self, path: str, obj: Any, when: float) -> EntryInfo:
        is_dir = obj.type_str == "tree"
        return EntryInfo(path, is_dir, 0 if is_dir else obj.size, when, str(obj.id))

    # ------------------------------------------------------------------ reads
    def info(self, path: str) -> EntryInfo:
        commit = self._commit()
        return self._stat(path, self._object(path, commit), float(commit.commit_time))

    def list_detail(self, path: str) -> list[EntryInfo]:
        commit = self._commit()
        tree = self._object(path, commit)
        if tree.type_str != "tree":
            raise ValueError(f"Not a directory: {path!r}")
        prefix = f"{path}/" if path else ""
        when = float(commit.commit_time)
        return [self._stat(prefix + str(obj.name), obj, when) for obj in tree]

    def walk_files(self, path: str) -> Iterator[EntryInfo]:
        for entry in self.list_detail(path):
            yield entry
            if entry.is_dir:
                yield from self.walk_files(entry.path)

    def _blob(self, path: str, commit: Any = None) -> Any:
        obj = self._object(path, commit)
        if obj.type_str != "blob":
            raise IsADirectoryError(f"Is a directory: {path!r}")
        return obj

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if is_write_mode(mode):
            self.check_write_allowed()
        raw = io.BytesIO(self._blob(path).data)
        return text_wrapper(raw, mode)

    def read_bytes(self, path: str) -> bytes:
        return bytes(self._blob(path).data)

    def read_range(self, path: str, start: int, end: int) -> bytes:
        return bytes(memoryview(self._blob(path).data)[start:end])

    def iter_bytes(self, path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        # libgit2 inflates a blob whole (one zlib stream); we hand it out in chunks
        data = memoryview(self._blob(path).data)
        for start in range(0, len(data), chunk_size):
            yield bytes(data[start : start + chunk_size])

    # ------------------------------------------------------------------ versions
    def get_versions(self, path: str) -> list[dict[str, Any]]:
        """Commits reachable from the ref that changed ``path``, oldest first."""
        import pygit2

        head = self._commit()
        current = self._blob_id(path, head)
        found: list[dict[str, Any]] = []
        walker = self.fs.repo.walk(head.id, pygit2.enums.SortMode.TOPOLOGICAL)
        for commit in walker:
            blob_id = self._blob_id(path, commit)
            if blob_id is None:
                continue
            parents = commit.parents
            if parents and self._blob_id(path, parents[0]) == blob_id:
                continue
            blob = self.fs.repo[blob_id]
            found.append(
                {
                    "version_id": str(commit.id),
                    "is_latest": False,
                    "last_modified": datetime.fromtimestamp(commit.commit_time, timezone.utc),
                    "size": blob.size,
                    "etag": str(blob_id),
                }
            )
        found.reverse()
        if found and current is not None and found[-1]["etag"] == str(current):
            found[-1]["is_latest"] = True
        return found

    def _blob_id(self, path: str, commit: Any) -> Any:
        try:
            obj = self._object(path, commit)
        except FileNotFoundError:
            return None
        return obj.id if obj.type_str == "blob" else None

    def open_version(self, path: str, version_id: str, mode: str = "rb") -> IO[Any]:
        raw = io.BytesIO(self._blob(path, self._commit(version_id)).data)
        return text_wrapper(raw, mode)


def create(config: dict[str, Any], mount_name: str) -> GitBackend:
    import pygit2
    from fsspec.implementations.git import GitFileSystem

    location = str(config.get("fo") or config["path"])
    try:
        repo = pygit2.Repository(location)
    except pygit2.GitError as exc:
        raise StorageNotFoundError(
            f"mount '{mount_name}' (git): no git repository at {location!r} ({exc})"
        ) from exc
    ref = config.get("ref") or repo.head.shorthand
    fs = GitFileSystem(path=location, ref=ref, skip_instance_cache=True)
    backend = GitBackend(fs, mount_name)
    backend.info("")  # an unknown ref fails at configure()
    return backend
