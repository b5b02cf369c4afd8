"""Kept import path (docs): :class:`ASGIApp` lives in :mod:`genro_storage.serving.asgi_app`."""

from ..serving.asgi_app import ASGIApp, create_app

__all__ = ["ASGIApp", "create_app"]
