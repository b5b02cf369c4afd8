"""The blocking half of serving a file: from a node to a decided response and its bytes.

``prepare`` stats the file once (plus its ``.br``/``.gz`` siblings), describes it and lets
the pure core (:mod:`genro_storage.http`) decide; ``body`` reads the bytes the decision
sends; ``statcache`` keeps stats for a route's ``cache_stat``. They work on anything that
answers :class:`~genro_storage.engine.serve.servable.Servable` (a
:class:`~genro_storage.node.StorageNode` does), so ``StorageNode.serve()`` and the
WSGI/ASGI adapters above (:mod:`genro_storage.serving`) share them, importing downward.
"""
