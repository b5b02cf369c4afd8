"""The serve core: HTTP semantics for serving stored files, with no I/O.

Given a request's method and headers and a file's metadata (:class:`resource.Resource`),
:func:`core.plan_response` decides the status, the response headers and the byte ranges
to send. Nothing here opens a file, touches the network or imports a web framework; the
WSGI and ASGI adapters do the I/O. The package exports nothing yet: import from the
modules (``genro_storage.serving.core`` and friends) until the public surface is curated.
"""
