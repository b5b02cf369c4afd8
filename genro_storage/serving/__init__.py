"""The blocking half of serving: stat and variants (``source``), bodies (``body``),
directory listings (``listing``), the stat cache, the WSGI/ASGI adapters (``wsgi``,
``asgi``) and the file-server app (``app``, ``routes``, ``wsgi_app``, ``asgi_app``).

The HTTP decisions themselves are pure and live in :mod:`genro_storage.http`.
"""
