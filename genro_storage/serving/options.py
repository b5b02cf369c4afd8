"""Kept import path (docs): :class:`ServeOptions` lives in :mod:`genro_storage.http.options`."""

from ..http.options import ServeOptions

__all__ = ["ServeOptions"]
