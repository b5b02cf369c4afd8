"""Kept import path (docs): :class:`WSGIApp` lives in :mod:`genro_storage.serving.wsgi_app`."""

from ..serving.wsgi_app import WSGIApp, create_app

__all__ = ["WSGIApp", "create_app"]
