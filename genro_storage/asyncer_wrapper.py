"""0.4.2's import path of the async API: ``from genro_storage.asyncer_wrapper import ...``.

Importing it raises ImportError when the optional ``asyncer`` package is missing
(``pip install 'genro-storage[async]'``).
"""

from __future__ import annotations

from .aio import AsyncStorageManager, AsyncStorageNode

__all__ = ["AsyncStorageManager", "AsyncStorageNode"]
