"""The console's JSON API (documented in docs/console.md).

==========================  ======  ===================================================
endpoint                    method  what
==========================  ======  ===================================================
``session``                 GET     mounts, CSRF token, whether auth is on
``mounts``                  GET     each mount: type, capabilities, writable, versioning
``list``                    GET     one page of a folder: ``mount, path, cursor, limit``
``stat``                    GET     one entry: ``mount, path``
``versions``                GET     a file's versions: ``mount, path``
``upload``                  PUT     the raw request body, streamed to ``mount:path``
                                    (``overwrite=1`` replaces an existing file)
``mkdir``                   POST    ``{mount, path}``
``delete``                  POST    ``{mount, path}``
``move``                    POST    ``{mount, path, to_mount, to_path}`` (rename, move)
``copy``                    POST    ``{mount, path, to_mount, to_path, mode, delete}``:
                                    starts a job (``mode``: copy or sync)
``jobs/<id>``               GET     a job's progress (files and bytes)
``jobs/<id>/events``        GET     the same, as server-sent events until it ends
``share``                   POST    ``{mount, path, expires_in}``: signed and presigned
``restore``                 POST    ``{mount, path, version_id}``
==========================  ======  ===================================================
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread

from ..http.disposition import content_disposition
from ..node import StorageNode
from ..serving.asgi import run_sync
from ._http import HTTPError, Request, read_json, send_json
from .form_upload import ClientGone, receive_form

if TYPE_CHECKING:
    from .app import ConsoleApp

__all__ = ["handle", "send_version"]

DEFAULT_PAGE = 200


def _str(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise HTTPError(400, f"{name!r} must be a string")
    return value


async def handle(app: ConsoleApp, request: Request, route: str) -> None:
    """Answer ``/api/<route>``."""
    method = request.method
    actions = app.actions
    send = request.send
    if method == "GET":
        if route == "session":
            data = {
                "mounts": await run_sync(actions.mounts),
                "auth": app.auth.enabled,
            }
            await send_json(send, data, headers=app.csrf_cookie(request))
        elif route == "mounts":
            await send_json(send, await run_sync(actions.mounts))
        elif route == "list":
            limit = int(request.arg("limit") or DEFAULT_PAGE)
            page = await run_sync(
                actions.list_folder, request.need("mount"), request.arg("path", ""),
                request.arg("cursor"), limit,
            )  # fmt: skip
            await send_json(send, page)
        elif route == "stat":
            found = await run_sync(actions.stat, request.need("mount"), request.need("path"))
            await send_json(send, found)
        elif route == "versions":
            versions = await run_sync(actions.versions, request.need("mount"), request.need("path"))
            await send_json(send, {"versions": versions})
        elif route.startswith("jobs/"):
            await job(app, request, route[len("jobs/") :])
        else:
            raise HTTPError(404, f"no API endpoint {route!r}")
        return
    if route == "upload" and method in ("PUT", "POST"):
        await (upload(app, request) if method == "PUT" else upload_form(app, request))
        return
    if method != "POST":
        raise HTTPError(405, "Method Not Allowed")
    data = await read_json(request)
    if route == "mkdir":
        result = await run_sync(actions.mkdir, _str(data, "mount"), _str(data, "path"))
    elif route == "delete":
        result = await run_sync(actions.delete, _str(data, "mount"), _str(data, "path"))
    elif route == "move":
        result = await run_sync(
            actions.move, _str(data, "mount"), _str(data, "path"),
            _str(data, "to_mount"), _str(data, "to_path"),
        )  # fmt: skip
    elif route == "copy":
        result = await run_sync(start_copy, app, data)
    elif route == "share":
        expires_in = data.get("expires_in", 3600)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int):
            raise HTTPError(400, "'expires_in' must be an integer (seconds)")
        result = await run_sync(actions.share, _str(data, "mount"), _str(data, "path"), expires_in)
    elif route == "restore":
        result = await run_sync(
            actions.restore, _str(data, "mount"), _str(data, "path"), _str(data, "version_id")
        )
    else:
        raise HTTPError(404, f"no API endpoint {route!r}")
    await send_json(send, result)


def start_copy(app: ConsoleApp, data: dict[str, Any]) -> dict[str, Any]:
    actions = app.actions
    mode = data.get("mode", "copy")
    if mode not in ("copy", "sync"):
        raise HTTPError(400, "'mode' must be 'copy' or 'sync'")
    to_mount = _str(data, "to_mount")
    actions.require_write(to_mount, delete=bool(data.get("delete")))
    src = actions.node(_str(data, "mount"), _str(data, "path"))
    dest = actions.node(to_mount, _str(data, "to_path"))
    if not src.exists:
        raise HTTPError(404, f"{src.fullpath} does not exist")
    inside = not src.path or f"{dest.path}/".startswith(f"{src.path}/")
    if src.mount_name == dest.mount_name and inside:
        raise HTTPError(400, "cannot copy a folder into itself")
    return app.jobs.start(src, dest, mode, delete=bool(data.get("delete"))).as_dict()


async def job(app: ConsoleApp, request: Request, rest: str) -> None:
    job_id, _, tail = rest.partition("/")
    found = app.jobs.get(job_id)
    if found is None:
        raise HTTPError(404, f"no job {job_id!r}")
    if not tail:
        await send_json(request.send, found.as_dict())
        return
    if tail != "events":
        raise HTTPError(404, "Not Found")
    send = request.send
    headers = [
        (b"content-type", b"text/event-stream"),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    while True:  # one event per change, at most every 100 ms, until the job ends
        found.changed.clear()
        state = found.as_dict()
        event = f"data: {json.dumps(state)}\n\n".encode()
        await send({"type": "http.response.body", "body": event, "more_body": True})
        if state["state"] != "running":  # the state sent: a job ending after the
            break  # snapshot gets one more event, the one that says it ended
        with anyio.move_on_after(0.5):
            while not found.changed.is_set():
                await anyio.sleep(0.1)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def upload(app: ConsoleApp, request: Request) -> None:
    """Stream the request body into ``mount:path`` (never held in memory).

    The body is read message by message from a worker thread
    (``anyio.from_thread.run(receive)``) and written with ``StorageNode.open('wb')``:
    a temp file renamed on success (local), parts sent as they fill (S3). A client that
    disconnects leaves nothing behind.
    """
    actions = app.actions
    mount, path = request.need("mount"), request.need("path")
    overwrite = request.arg("overwrite") == "1"
    await run_sync(actions.require_write, mount)
    node = await run_sync(actions.node, mount, path)
    if not node.path:
        raise HTTPError(400, "an upload needs a file name")
    if not overwrite and await run_sync(lambda: node.exists):
        raise HTTPError(409, f"{node.fullpath} already exists (overwrite=1 replaces it)")
    receive = request.receive

    async def next_message() -> dict[str, Any]:
        return dict(await receive())

    def write() -> int:
        written = 0
        with node.open("wb") as out:
            while True:
                message = anyio.from_thread.run(next_message)
                if message["type"] == "http.disconnect":
                    raise ClientGone(node.fullpath)
                body = message.get("body", b"")
                if body:
                    out.write(body)
                    written += len(body)
                if not message.get("more_body"):
                    return written

    try:
        written = await run_sync(write)
    except ClientGone:
        return
    entry = await run_sync(actions.stat, mount, node.path)
    await send_json(request.send, {"written": written, "entry": entry}, 201)


async def upload_form(app: ConsoleApp, request: Request) -> None:
    """``multipart/form-data`` into the folder ``path`` (see :mod:`.form_upload`)."""
    actions = app.actions
    mount = request.need("mount")
    await run_sync(actions.require_write, mount)
    target = await run_sync(actions.node, mount, request.arg("path", "") or "")
    folder = target.path or ""
    receive = request.receive

    async def next_message() -> dict[str, Any]:
        return dict(await receive())

    try:
        saved = await run_sync(
            receive_form, actions, mount, folder, request.arg("overwrite") == "1",
            request.headers.get("content-type", ""), next_message, anyio.from_thread.run,
        )  # fmt: skip
    except ClientGone:
        return
    await send_json(request.send, {"files": saved}, 201)


async def send_version(
    app: ConsoleApp, request: Request, mount: str, node: StorageNode, version_id: str
) -> None:
    """Stream one version of a file as an attachment (sizes come from the version list)."""
    versions = await run_sync(app.actions.versions, mount, node.path or "")
    match = [v for v in versions if v["version_id"] == version_id]
    if not match:
        raise HTTPError(404, f"{node.fullpath} has no version {version_id!r}")
    backend = app.actions.backend(mount)
    handle = await run_sync(backend.open_version, node.path or "", version_id, "rb")
    send = request.send
    try:
        headers = [
            (b"content-type", node.mimetype.encode("latin-1")),
            (b"content-length", str(match[0]["size"]).encode()),
            (b"content-disposition", content_disposition("attachment", node.basename).encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        while chunk := await run_sync(handle.read, 256 * 1024):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await run_sync(handle.close)
