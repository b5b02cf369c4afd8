"""Deprecated import path (0.5 layout): import from :mod:`genro_storage.http.signing`."""

from typing import Any

from ._moved import moved

_MOVED = ("EXPIRES_PARAM", "SIGNATURE_PARAM", "canonical_path", "sign_path", "verify")
__all__: list[str] = []


def __getattr__(name: str) -> Any:
    return moved(__name__, name, "genro_storage.http.signing", _MOVED)
