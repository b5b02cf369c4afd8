"""``StaticFilesASGI``: kept static answers sent before Django's ASGI handler (opt-in).

Under ASGI every request through Django costs its handler's work: a fresh
``ThreadSensitiveContext``, the ``request_started``/``request_finished`` signals (whose
``django.db`` receivers run in a worker thread: two threads started per request), the
request object and the middleware chain. For a static file that is most of the cost::

    # asgi.py
    from django.core.asgi import get_asgi_application
    from genro_storage.integrations.django.asgi import StaticFilesASGI

    application = StaticFilesASGI(get_asgi_application())

With :class:`~.middleware.StaticFilesMiddleware` in ``MIDDLEWARE``, a GET or HEAD under
``STATIC_URL`` that the middleware's table already answers (see :mod:`.middleware`: a
name of the manifest, or one asked for before with the same headers) is sent from the
event loop by the serve core's ASGI adapter, without entering Django; everything else
goes to Django, where the middleware decides it and keeps the answer, in the same table.

The trade-off, as with whitenoise's WSGI wrapper: those responses skip Django's signals
and the other middleware (``SecurityMiddleware``'s headers, CORS...). Without the
middleware in ``MIDDLEWARE`` (or with a storage it does not serve) every request goes to
Django unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from genro_storage.serving import asgi as asgi_adapter

from .middleware import StaticFilesMiddleware, active_middleware

__all__ = ["StaticFilesASGI"]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class StaticFilesASGI:
    """Wrap Django's ASGI application (see the module doc)."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    @property
    def middleware(self) -> StaticFilesMiddleware | None:
        """The middleware whose table answers (the one Django's handler built last)."""
        return active_middleware()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            middleware = active_middleware()
            if middleware is not None and middleware.hot is not None:
                if middleware.manifest_due <= time.monotonic():
                    await asgi_adapter.run_sync(middleware.refresh)
                prepared = middleware.kept_for_scope(scope)
                if prepared is not None:
                    await asgi_adapter.send_prepared(prepared, scope, receive, send)
                    return
        await self.application(scope, receive, send)
