"""An application factory using the Flask extension, for the test client and gunicorn.

``create_app(root)`` serves a local mount at ``root`` (gunicorn: ``GENRO_TEST_ROOT``):
``/files/public/...`` openly, ``/files/private/...`` with signed links, plus an upload
endpoint using ``save_upload`` and a ``/link`` endpoint returning ``url_for`` results.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, abort, request

from genro_storage.integrations.flask import GenroStorage, save_upload

storage = GenroStorage()


def create_app(root: str | None = None, **config: Any) -> Flask:
    base = Path(root or os.environ["GENRO_TEST_ROOT"])
    (base / "public").mkdir(parents=True, exist_ok=True)
    (base / "private").mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="flask-tests",
        GENRO_STORAGE_MOUNTS=[
            {"name": "public", "type": "local", "path": str(base / "public")},
            {"name": "private", "type": "local", "path": str(base / "private")},
            {"name": "unserved", "type": "memory", "base_path": f"flask-{os.getpid()}"},
        ],
        GENRO_STORAGE_SERVE={"public": {"cache_max_age": 60}, "private": {"private": True}},
    )
    app.config.update(config)
    storage.init_app(app)

    @app.post("/upload/<mount>")
    def upload(mount: str) -> dict[str, Any]:
        file = request.files.get("file")
        if file is None:
            abort(400)
        node = save_upload(file, storage.node(f"{mount}:"))
        return {"fullpath": node.fullpath, "url": storage.url_for(node), "size": node.size}

    @app.get("/link/<mount>/<path:path>")
    def link(mount: str, path: str) -> dict[str, str]:
        return {"url": storage.url_for(f"{mount}:{path}")}

    return app
