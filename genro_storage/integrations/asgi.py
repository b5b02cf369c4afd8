"""Deprecated import path (0.5 layout): import from :mod:`genro_storage.serving.asgi_app`."""

from typing import Any

from ..serving._moved import moved

_MOVED = ("ASGIApp", "create_app")
__all__: list[str] = []


def __getattr__(name: str) -> Any:
    return moved(__name__, name, "genro_storage.serving.asgi_app", _MOVED)
