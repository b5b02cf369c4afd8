"""Framework integrations: Django (``django/``), Flask (``flask``), Starlette (``starlette``).

The mountable file-server apps are :class:`genro_storage.serving.wsgi_app.WSGIApp` and
:class:`genro_storage.serving.asgi_app.ASGIApp` (``integrations.wsgi`` / ``integrations.asgi``
remain as import aliases). Nothing here holds HTTP logic of its own: the serve core
(:mod:`genro_storage.http`) decides and :mod:`genro_storage.serving` does the I/O.
"""
