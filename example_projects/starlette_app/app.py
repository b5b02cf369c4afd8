"""Example FastAPI (Starlette) app: upload, list, download and delete files on a mount.

Run it (from the repository root)::

    uvicorn --app-dir example_projects/starlette_app app:app --host 127.0.0.1 --port 8000

The mount ``files`` is a local folder, ``data/`` beside this file, unless
``GENRO_STORAGE_CONFIG`` names a YAML file defining a mount called ``files`` (for instance
``../s3.example.yaml``): the same app then keeps its files on S3.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from fastapi import Depends, FastAPI, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.routing import Mount

from genro_storage import StorageManager
from genro_storage.integrations.starlette import StarletteStorage, get_manager, save_upload

HERE = Path(__file__).resolve().parent


def default_mounts() -> list[dict[str, str]]:
    (HERE / "data").mkdir(exist_ok=True)
    return [{"name": "files", "type": "local", "path": str(HERE / "data")}]


storage = StarletteStorage(
    os.environ.get("GENRO_STORAGE_CONFIG") or default_mounts(),
    serve={"files": {"download": True}},
)
app = FastAPI(routes=[Mount("/files", app=storage, name="files")])
storage.install(app)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>genro-storage · FastAPI</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; }}
    li {{ display: flex; gap: 1rem; align-items: center; padding: .25rem 0; }}
    .size {{ color: #666; font-variant-numeric: tabular-nums; }}
  </style>
</head>
<body>
  <h1>Files on mount <code>files</code></h1>
  <form id="upload" method="post" action="/upload" enctype="multipart/form-data">
    <input type="file" name="file" required>
    <button type="submit">Upload</button>
  </form>
  <ul id="files">
{items}
  </ul>
</body>
</html>
"""

ITEM = """    <li data-name="{name}">
      <a class="download" href="{url}" download>{name}</a>
      <span class="size">{size} bytes</span>
      <form class="delete" method="post" action="/delete">
        <input type="hidden" name="name" value="{name}">
        <button type="submit">Delete</button>
      </form>
    </li>"""


@app.get("/", response_class=HTMLResponse)
def index(request: Request, manager: StorageManager = Depends(get_manager)) -> str:
    try:  # an empty S3 prefix lists as []; a missing bucket raises
        children = manager.node("files:").children()
    except FileNotFoundError as exc:  # the mount's bucket/folder is gone: 503
        raise HTTPException(503, f"Storage unavailable: mount 'files': {exc}") from None
    nodes = sorted((n for n in children if n.isfile), key=lambda n: n.basename)
    items = [
        ITEM.format(name=escape(n.basename), url=escape(storage.url_for(request, n)), size=n.size)
        for n in nodes
    ]
    return PAGE.format(items="\n".join(items) or '    <li class="empty">No files yet.</li>')


@app.post("/upload")
async def upload(
    file: UploadFile, manager: StorageManager = Depends(get_manager)
) -> RedirectResponse:
    if not file.filename:
        raise HTTPException(400, "no file")
    try:
        await save_upload(file, manager.node("files:"))
    except FileNotFoundError as exc:  # the mount's bucket/folder is gone: 503, never 500
        raise HTTPException(503, f"Storage unavailable: mount 'files': {exc}") from None
    return RedirectResponse("/", status_code=303)


@app.post("/delete")
def delete(
    name: str = Form(...), manager: StorageManager = Depends(get_manager)
) -> RedirectResponse:
    if not name or "/" in name or not name.strip("."):  # ".", "..": not a file
        raise HTTPException(400, "bad name")
    try:  # a refused name ("..", ".", NUL...) is the client's error: 400, never 500
        manager.node("files:", name).delete()
    except (ValueError, PermissionError):
        raise HTTPException(400, "bad name") from None
    return RedirectResponse("/", status_code=303)
