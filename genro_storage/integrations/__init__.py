"""Framework integrations: Django (``django/``), Flask (``flask``), Starlette (``starlette``).

The mountable file-server apps are :class:`genro_storage.serving.wsgi_app.WSGIApp` and
:class:`genro_storage.serving.asgi_app.ASGIApp` (``integrations.wsgi`` / ``integrations.asgi``
are deprecated aliases: each name taken from them warns). Nothing here holds HTTP logic of
its own: the serve core (:mod:`genro_storage.http`) decides, :mod:`genro_storage.engine.serve`
reads the file and :mod:`genro_storage.serving` does the WSGI/ASGI I/O.
"""
