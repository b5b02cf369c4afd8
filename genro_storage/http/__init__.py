"""The serve core: HTTP semantics for serving stored files, with no I/O (sans-I/O).

Given a request's method and headers and a file's metadata (:class:`resource.Resource`),
:func:`core.plan_response` decides the status, the response headers and the byte ranges
to send (a :class:`response.ResponsePlan`). Nothing here opens a file, touches the network
or imports a web framework; :mod:`genro_storage.serving` does the I/O. Import from the
modules (``genro_storage.http.core`` and friends); this package exports nothing.
"""
