"""Storage backends. ``FsspecBackend`` lives in :mod:`genro_storage.backends.fsspec`."""

from .base import EntryInfo, StorageBackend
from .base64 import Base64Backend
from .local import LocalStorage
from .registry import register_backend
from .relative import RelativeMountBackend

__all__ = [
    "Base64Backend",
    "EntryInfo",
    "LocalStorage",
    "RelativeMountBackend",
    "StorageBackend",
    "register_backend",
]
