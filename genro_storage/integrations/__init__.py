"""Framework-facing pieces: mountable apps and framework integrations.

``genro_storage.integrations.wsgi`` (:class:`WSGIApp`) and
``genro_storage.integrations.asgi`` (:class:`ASGIApp`) serve mounts under URL prefixes;
they are plain callables you can mount in any WSGI/ASGI stack. Nothing here holds HTTP
logic of its own: the serve core and its adapters (``genro_storage.serving``) decide.
"""
