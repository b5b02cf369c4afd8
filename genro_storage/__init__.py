"""genro-storage: one pathlib-like API over every place files live, behind named mounts.

>>> from genro_storage import StorageManager
>>> storage = StorageManager()
>>> storage.configure([{"name": "mem", "type": "memory"}])
>>> storage.node("mem:hello.txt").write("hi")
True
"""

from __future__ import annotations

from .errors import (
    StorageConfigError,
    StorageError,
    StorageNotFoundError,
    StoragePermissionError,
)
from .manager import StorageManager
from .node import SkipStrategy, StorageNode

try:  # the async API needs the optional 'asyncer' package (pip install genro-storage[async])
    from .aio import AsyncStorageManager, AsyncStorageNode
except ImportError:  # pragma: no cover - exercised by the no-extras install test
    AsyncStorageManager = None  # type: ignore[assignment,misc]
    AsyncStorageNode = None  # type: ignore[assignment,misc]

__version__ = "0.5.0"

__all__ = [
    "AsyncStorageManager",
    "AsyncStorageNode",
    "SkipStrategy",
    "StorageConfigError",
    "StorageError",
    "StorageManager",
    "StorageNode",
    "StorageNotFoundError",
    "StoragePermissionError",
    "__version__",
]
