"""Compatibility module: genro-storage 0.4.2 exposed its exceptions here."""

from .errors import (
    StorageConfigError,
    StorageError,
    StorageNotFoundError,
    StoragePermissionError,
)

__all__ = ["StorageConfigError", "StorageError", "StorageNotFoundError", "StoragePermissionError"]
