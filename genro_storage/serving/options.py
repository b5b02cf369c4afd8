"""Deprecated import path (0.5 layout): import from :mod:`genro_storage.http.options`."""

from typing import Any

from ._moved import moved

_MOVED = "ServeOptions"
__all__: list[str] = []


def __getattr__(name: str) -> Any:
    return moved(__name__, name, "genro_storage.http.options", _MOVED)
