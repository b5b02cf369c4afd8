"""Example Flask app: upload, list, download and delete files on a genro-storage mount.

Run it (from the repository root)::

    gunicorn --chdir example_projects/flask_app app:app --bind 127.0.0.1:8000

The mount ``files`` is a local folder, ``data/`` beside this file, unless
``GENRO_STORAGE_CONFIG`` names a YAML file defining a mount called ``files`` (for instance
``../s3.example.yaml``): the same app then keeps its files on S3.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from flask import Flask, abort, redirect, render_template_string, request, url_for

from genro_storage.integrations.flask import GenroStorage, save_upload

HERE = Path(__file__).resolve().parent
storage = GenroStorage()

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>genro-storage · Flask</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; }
    li { display: flex; gap: 1rem; align-items: center; padding: .25rem 0; }
    .size { color: #666; font-variant-numeric: tabular-nums; }
  </style>
</head>
<body>
  <h1>Files on mount <code>files</code></h1>
  <form id="upload" method="post" action="{{ url_for('upload') }}" enctype="multipart/form-data">
    <input type="file" name="file" required>
    <button type="submit">Upload</button>
  </form>
  <ul id="files">
    {% for node in files %}
    <li data-name="{{ node.basename }}">
      <a class="download" href="{{ genro_storage_url(node) }}" download>{{ node.basename }}</a>
      <span class="size">{{ node.size }} bytes</span>
      <form class="delete" method="post" action="{{ url_for('delete') }}">
        <input type="hidden" name="name" value="{{ node.basename }}">
        <button type="submit">Delete</button>
      </form>
    </li>
    {% else %}
    <li class="empty">No files yet.</li>
    {% endfor %}
  </ul>
</body>
</html>
"""


def default_mounts() -> list[dict[str, str]]:
    (HERE / "data").mkdir(exist_ok=True)
    return [{"name": "files", "type": "local", "path": str(HERE / "data")}]


def unavailable(exc: BaseException) -> tuple[str, int]:
    """A 503 page naming the mount and the library's error (e.g. a missing bucket)."""
    return f"<h1>Storage unavailable</h1><p>Mount 'files': {escape(str(exc))}</p>\n", 503


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["GENRO_STORAGE_MOUNTS"] = os.environ.get("GENRO_STORAGE_CONFIG") or default_mounts()
    app.config["GENRO_STORAGE_SERVE"] = {"files": {"download": True}}
    storage.init_app(app)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        try:  # an empty S3 prefix lists as []; a missing bucket raises
            nodes = storage.node("files:").children()
        except FileNotFoundError as exc:  # the mount's bucket/folder is gone: 503
            return unavailable(exc)
        files = sorted((n for n in nodes if n.isfile), key=lambda n: n.basename)
        return render_template_string(PAGE, files=files)

    @app.post("/upload")
    def upload():  # type: ignore[no-untyped-def]
        file = request.files.get("file")
        if file is None or not file.filename:
            abort(400)
        try:
            save_upload(file, storage.node("files:"))
        except FileNotFoundError as exc:  # the mount's bucket/folder is gone: 503, never 500
            return unavailable(exc)
        return redirect(url_for("index"), code=303)

    @app.post("/delete")
    def delete():  # type: ignore[no-untyped-def]
        name = request.form.get("name", "")
        if not name or "/" in name or not name.strip("."):  # ".", "..": not a file
            abort(400)
        try:  # a refused name ("..", ".", NUL...) is the client's error: 400, never 500
            storage.node("files:", name).delete()
        except (ValueError, PermissionError):
            abort(400)
        return redirect(url_for("index"), code=303)

    return app


app = create_app()
