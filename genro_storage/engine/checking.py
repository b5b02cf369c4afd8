"""Compare two trees file by file, as ``rclone check`` does: ``genro-storage check``.

Each side is listed once. Files on both sides are compared by size, then by MD5 where
both sides have one without moving their bytes over a network: the MD5 an object store
keeps (S3 ETag, GCS ``md5Hash``, Azure ``content_md5``), or one computed on local disk or
in memory (local MD5s are cached by path, size, mtime and inode). Anywhere else (SFTP,
SMB, WebDAV, HTTP...) equal sizes count as a match and the file is reported among the
hashes that could not be checked. Comparisons run on ``checkers`` threads.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..backends.base import EntryInfo
from .copying import _run
from .location import Location
from .skipping import same_content, stored_md5

__all__ = ["CheckReport", "check", "has_hash"]

_MULTIPART_ETAG = re.compile(r"^[0-9a-f]{32}-\d+$")


@dataclass
class CheckReport:
    """What :func:`check` found; paths are relative to the compared folders."""

    matched: list[str] = field(default_factory=list)
    differ: list[tuple[str, str]] = field(default_factory=list)  # (path, "sizes differ"...)
    missing_on_dest: list[str] = field(default_factory=list)
    missing_on_src: list[str] = field(default_factory=list)
    unhashed: list[str] = field(default_factory=list)  # same size, no hash on one side
    errors: list[tuple[str, Exception]] = field(default_factory=list)

    @property
    def differences(self) -> int:
        """Files that differ, are missing on one side, or could not be compared."""
        return (
            len(self.differ)
            + len(self.missing_on_dest)
            + len(self.missing_on_src)
            + len(self.errors)
        )

    @property
    def ok(self) -> bool:
        return self.differences == 0


def has_hash(location: Location) -> bool:
    """Whether ``location``'s backend gives an MD5 without a download: stored by the
    service, or computed from local disk or memory."""
    backend = location.backend
    caps = backend.capabilities
    if caps.hash_on_metadata or caps.temporary:
        return True
    return backend.os_path(location.path) is not None


def check(
    src: Location,
    dest: Location,
    *,
    one_way: bool = False,
    size_only: bool = False,
    checkers: int = 8,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> CheckReport:
    """Compare the files of ``src`` and ``dest`` (two folders, or two files).

    ``one_way`` ignores files only ``dest`` has; ``size_only`` never hashes;
    ``include``/``exclude`` are the copy engine's fnmatch patterns on the relative path
    (a file must match an ``include`` pattern, when there are any, and no ``exclude``
    pattern; on either side). A missing ``src`` raises ``FileNotFoundError``; a missing
    ``dest`` folder counts as empty.
    """
    try:
        src_entry = src.backend.info(src.path)
    except FileNotFoundError:
        raise FileNotFoundError(f"Source not found: {src.fullpath}") from None
    report = CheckReport()
    if src_entry.is_dir:
        src_files = _files(src)
        dest_files = _files(dest)
    else:
        src_files = {src.basename: src_entry}
        dest_entry = _entry_or_none(dest)
        dest_files = {src.basename: dest_entry} if dest_entry and not dest_entry.is_dir else {}
    pairs: list[tuple[str, EntryInfo, EntryInfo]] = []
    for rel in sorted(set(src_files) | set(dest_files)):
        if not _kept(rel, include, exclude):
            continue
        if rel not in dest_files:
            report.missing_on_dest.append(rel)
        elif rel not in src_files:
            if not one_way:
                report.missing_on_src.append(rel)
        else:
            pairs.append((rel, src_files[rel], dest_files[rel]))

    def compare(pair: tuple[str, EntryInfo, EntryInfo]) -> str | None:
        """None when the files match, "unhashed" for a size-only match, else the reason."""
        _, src_file, dest_file = pair
        if src_file.size != dest_file.size:
            return "sizes differ"
        if size_only:
            return None
        left, right = src.at(src_file.path), dest.at(dest_file.path)
        if not (has_hash(left) and has_hash(right)):
            return "unhashed"
        if _multipart_only(left, src_file) and _multipart_only(right, dest_file):
            # two multipart ETags: equal means equal, different proves nothing
            return None if src_file.etag == dest_file.etag else "unhashed"
        return None if same_content(left, src_file, right, dest_file) else "md5 differ"

    for (rel, _, _), outcome in _run(compare, pairs, max(1, checkers)):
        if isinstance(outcome, Exception):
            report.errors.append((rel, outcome))
        elif outcome is None:
            report.matched.append(rel)
        elif outcome == "unhashed":
            report.matched.append(rel)
            report.unhashed.append(rel)
        else:
            report.differ.append((rel, outcome))
    return report


def _kept(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not any(fnmatch.fnmatch(rel, p) for p in include):
        return False
    return not any(fnmatch.fnmatch(rel, p) for p in exclude)


def _files(root: Location) -> dict[str, EntryInfo]:
    """The files below ``root`` by relative path (one recursive listing); none if absent."""
    base = root.path
    try:
        entry = root.backend.info(root.path)
    except FileNotFoundError:
        return {}
    if not entry.is_dir:
        raise NotADirectoryError(f"{root.fullpath}: not a directory")
    found = {}
    for item in root.backend.walk_files(root.path):
        if not item.is_dir:
            rel = item.path[len(base) :].lstrip("/") if base else item.path
            found[rel] = item
    return found


def _entry_or_none(location: Location) -> EntryInfo | None:
    return location.backend.info_or_none(location.path)


def _multipart_only(location: Location, entry: EntryInfo) -> bool:
    etag = (entry.etag or "").strip('"').lower()
    return bool(_MULTIPART_ETAG.match(etag)) and stored_md5(location, entry) is None
