"""What a backend can do. Callers ask these flags instead of checking backend classes."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

__all__ = ["OBJECT_STORE", "READ_ONLY", "BackendCapabilities"]

_LABELS = (
    ("versioning", "versioning"),
    ("metadata", "metadata"),
    ("presigned_urls", "presigned URLs"),
    ("copy_optimization", "server-side copy"),
    ("hash_on_metadata", "fast hashing"),
    ("symbolic_links", "symbolic links"),
    ("readonly", "read-only"),
    ("temporary", "temporary storage"),
)


@dataclass(frozen=True)
class BackendCapabilities:
    """Feature flags of a storage backend (all booleans, keyword-constructible)."""

    read: bool = True
    write: bool = True
    delete: bool = True
    mkdir: bool = True
    list_dir: bool = True
    versioning: bool = False
    version_listing: bool = False
    version_access: bool = False
    metadata: bool = False
    presigned_urls: bool = False
    public_urls: bool = False
    atomic_operations: bool = True
    symbolic_links: bool = False
    copy_optimization: bool = False
    hash_on_metadata: bool = False
    append_mode: bool = True
    seek_support: bool = True
    readonly: bool = False
    temporary: bool = False

    def __str__(self) -> str:
        labels = [label for name, label in _LABELS if getattr(self, name)]
        return ", ".join(labels) if labels else "basic file operations"

    def evolve(self, **changes: bool) -> BackendCapabilities:
        """A copy with some flags changed."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: What every read-only backend (archives, git, GitHub, HTTP) starts from.
READ_ONLY = BackendCapabilities(
    write=False,
    delete=False,
    mkdir=False,
    atomic_operations=False,
    append_mode=False,
    readonly=True,
)

#: What the object stores (S3, GCS, Azure) share: user metadata, signed and public URLs,
#: server-side copies and a stored content MD5.
OBJECT_STORE = BackendCapabilities(
    metadata=True,
    presigned_urls=True,
    public_urls=True,
    copy_optimization=True,
    hash_on_metadata=True,
)
