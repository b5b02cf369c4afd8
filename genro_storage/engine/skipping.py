"""Skip decisions of the copy engine, from the stats that the listings already hold.

``skip='size'`` needs nothing but the two listings. ``skip='hash'`` compares stored MD5s
(S3 single-part ETags, GCS ``md5Hash``, Azure ``content_md5``) and reads content only for
a side that has none; a multipart S3 ETag (``<md5 of part md5s>-<parts>``) is matched by
hashing the other side's parts, so even those objects are never downloaded.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable

from ..backends.base import EntryInfo
from ..fileio import CHUNK_SIZE
from .location import Location

__all__ = ["SKIPS", "multipart_etag_matches", "skip_reason"]

SKIPS = ("never", "exists", "size", "mtime", "hash", "custom")

#: Float rounding between stores: times this close are the same time.
MTIME_SLACK = 0.001

_MULTIPART = re.compile(r"^([0-9a-f]{32})-(\d+)$")
_MIB = 1024 * 1024
# Part sizes of the common uploaders: s3fs (50 MiB), boto3/aws-cli (8 MiB), rclone (5/16 MiB)...
_PART_SIZES = (5, 8, 15, 16, 32, 50, 64, 100, 128, 256, 512)


def skip_reason(
    src: Location,
    src_entry: EntryInfo,
    dest: Location,
    dest_entry: EntryInfo | None,
    skip: str,
    skip_fn: Callable[..., bool] | None,
) -> str | None:
    """Why to leave ``dest`` alone (the ``on_skip`` reason), or None to copy.

    Only an existing destination file can be skipped; an error while comparing means copy.
    """
    if dest_entry is None or dest_entry.is_dir or skip == "never":
        return None
    try:
        if skip == "exists":
            return "destination exists"
        if skip == "size":
            if src_entry.size == dest_entry.size:
                return f"same size ({src_entry.size} bytes)"
            return None
        if skip == "mtime":
            return _same_size_not_older(src_entry, dest_entry)
        if skip == "hash":
            digest = same_content(src, src_entry, dest, dest_entry)
            return f"same content (MD5: {digest[:8]}...)" if digest else None
        if skip == "custom" and skip_fn is not None and skip_fn(src, dest):
            return "custom function returned True"
    except Exception:
        return None
    return None


def _same_size_not_older(src: EntryInfo, dest: EntryInfo) -> str | None:
    """``skip='mtime'``: same size, and the destination is not older than the source.

    From the listings alone. A copy keeps the source's time where the destination can
    (local disks; object stores read it back from the ``mtime`` metadata the upload
    stored, where their listings carry metadata: GCS, Azure); elsewhere the destination
    was written after the source's last change (S3 listings show the upload time). A
    source changed since its copy is newer than the destination, so it is copied again.
    """
    if src.size != dest.size or src.mtime is None or dest.mtime is None:
        return None
    if abs(dest.mtime - src.mtime) <= MTIME_SLACK:
        return "same size and modification time"
    if dest.mtime > src.mtime:
        return "same size, destination newer"
    return None


def stored_md5(location: Location, entry: EntryInfo) -> str | None:
    """The MD5 a listing carries, when the backend vouches that it is the content's MD5."""
    if entry.md5 and location.backend.capabilities.hash_on_metadata:
        return entry.md5.lower()
    return None


def same_content(
    src: Location, src_entry: EntryInfo, dest: Location, dest_entry: EntryInfo
) -> str | None:
    """The shared digest when both sides hold the same bytes, else None."""
    if src_entry.size != dest_entry.size:
        return None  # different sizes cannot hash the same: nothing to read
    src_md5, dest_md5 = stored_md5(src, src_entry), stored_md5(dest, dest_entry)
    src_tag, dest_tag = _multipart(src, src_entry), _multipart(dest, dest_entry)
    if src_tag and dest_tag:  # same multipart ETag: same parts, same bytes
        return src_tag if src_tag == dest_tag else None
    if dest_tag and not dest_md5:
        return dest_tag if multipart_etag_matches(src, src_entry.size, dest_tag) else None
    if src_tag and not src_md5:
        return src_tag if multipart_etag_matches(dest, dest_entry.size, src_tag) else None
    src_md5 = src_md5 or _content_md5(src)
    dest_md5 = dest_md5 or _content_md5(dest)
    return src_md5 if src_md5 == dest_md5 else None


def _content_md5(location: Location) -> str:
    """The MD5 of the content: stored by the service (one HEAD, only where a listing can
    lack it), else computed (local mounts cache it by path, size, mtime and inode, so
    no second stat is made there)."""
    backend = location.backend
    if backend.capabilities.hash_on_metadata:  # a listing without it, a HEAD with it
        stored = backend.get_hash(location.path)
        if stored:
            return stored.lower()
    return backend.compute_md5(location.path).lower()


def _multipart(location: Location, entry: EntryInfo) -> str | None:
    etag = (entry.etag or "").strip('"').lower()
    if _MULTIPART.match(etag) and location.backend.capabilities.hash_on_metadata:
        return etag
    return None


def multipart_etag_matches(location: Location, size: int, etag: str) -> bool:
    """Whether ``location``'s content uploaded in parts of some usual size gives ``etag``.

    One pass over the content feeds every candidate part size at once.
    """
    match = _MULTIPART.match(etag)
    if not match:
        return False
    parts = int(match.group(2))
    candidates = {mib * _MIB for mib in _PART_SIZES}
    candidates.add(math.ceil(size / parts / _MIB) * _MIB)  # whole MiB, the usual choice
    candidates.add(math.ceil(size / 10_000))  # s3fs on huge files
    sizes = sorted(c for c in candidates if c > 0 and math.ceil(size / c) == parts)
    if not sizes:
        return False
    hashers = [_PartHasher(part) for part in sizes]
    for chunk in location.backend.iter_bytes(location.path, CHUNK_SIZE * 16):
        for hasher in hashers:
            hasher.update(chunk)
    return any(hasher.etag() == etag for hasher in hashers)


class _PartHasher:
    """MD5 of each ``part_size`` slice, then the S3 multipart ETag of the whole."""

    def __init__(self, part_size: int) -> None:
        self.part_size = part_size
        self.digests: list[bytes] = []
        self.current = hashlib.md5()
        self.filled = 0

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self.part_size - self.filled)
            self.current.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == self.part_size:
                self.digests.append(self.current.digest())
                self.current, self.filled = hashlib.md5(), 0

    def etag(self) -> str:
        digests = self.digests + ([self.current.digest()] if self.filled else [])
        return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"
