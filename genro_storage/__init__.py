"""genro-storage: one pathlib-like API over every place files live, behind named mounts.

>>> from genro_storage import StorageManager
>>> storage = StorageManager()
>>> storage.configure([{"name": "mem", "type": "memory"}])
>>> storage.node("mem:hello.txt").write("hi")
True

The names below load on first use (PEP 562), so that ``genro-storage --version`` and
commands on one mount import only what they need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    StorageConfigError,
    StorageError,
    StorageNotFoundError,
    StoragePermissionError,
)

if TYPE_CHECKING:
    from .aio import AsyncStorageManager, AsyncStorageNode
    from .manager import StorageManager
    from .node import SkipStrategy, StorageNode

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

#: public name -> the module that defines it, imported on first access
_LAZY = {
    "StorageManager": ".manager",
    "StorageNode": ".node",
    "SkipStrategy": ".node",
    "AsyncStorageManager": ".aio",
    "AsyncStorageNode": ".aio",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module_name, __name__), name)
    except ImportError:
        # the async API needs the optional 'asyncer' package (pip install genro-storage[async])
        if module_name != ".aio":
            raise
        value = None  # pragma: no cover - exercised by the no-extras install test
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
