"""Serving over HTTP: the WSGI/ASGI adapters (``wsgi``, ``asgi``) and the file-server app
(``app``, ``routes``, ``hot``, ``listing``, mounted as ``wsgi_app.WSGIApp`` /
``asgi_app.ASGIApp``).

The HTTP decisions are pure and live in :mod:`genro_storage.http`; turning a node into a
decided response and reading its bytes (blocking) is :mod:`genro_storage.engine.serve`,
which ``StorageNode.serve()`` shares. Everything here imports those downward.
"""
