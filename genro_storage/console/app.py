"""The console's ASGI application: the page, its assets, the JSON API and file responses.

::

    GET  /                          the single-page console (``?token=`` signs in)
    GET  /static/<asset>            its CSS and ES modules (shipped in the package)
    GET  /files/<mount>/<path>      a file through the serve core (ETag, Range, HEAD);
                                    ``?download=1`` as an attachment, ``?version=`` a version
    GET  /share/<mount>/<path>?expires=..&signature=..   a signed link (no sign-in needed)
    GET  /api/...  POST /api/...  PUT /api/upload        the JSON API (docs/console.md)

Blocking work runs in worker threads (:func:`genro_storage.serving.asgi.run_sync`); file
bodies go through the one serve core (:func:`genro_storage.serving.asgi.serve_node`).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from ..errors import CapabilityError, PathTraversalError
from ..http.options import ServeOptions
from ..http.signing import verify
from ..manager import StorageManager
from ..serving.asgi import Receive, Scope, Send, lifespan, run_sync, serve_node
from . import api
from ._http import HTTPError, Request, send_bytes, send_json
from .actions import Actions, clean_path
from .auth import AUTH_COOKIE, CSRF_COOKIE, Auth, cookies, csrf_ok, new_csrf_token
from .jobs import Jobs

__all__ = ["ConsoleApp"]

STATIC = Path(__file__).parent / "static"
_STATIC_MOUNT = "genro-console-static"
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; frame-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# files opened straight from the console's origin run no script (an uploaded HTML or SVG)
FILE_CSP = ("Content-Security-Policy", "sandbox")


class ConsoleApp:
    """The web console over the mounts of ``storage``.

    Args:
        storage: the mounts to show.
        auth: credentials (default: none, loopback only; see :mod:`.auth`).
        secret: the key signing share links (default: random per process).
    """

    def __init__(
        self, storage: StorageManager, auth: Auth | None = None, secret: str | None = None
    ) -> None:
        self.storage = storage
        self.auth = auth or Auth()
        self.actions = Actions(storage, secret or secrets.token_urlsafe(32))
        self.jobs = Jobs()
        self._static = StorageManager()
        self._static.configure([{"name": _STATIC_MOUNT, "type": "local", "path": str(STATIC)}])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the console serves HTTP, not {scope['type']!r}")
        request = Request.from_scope(scope, receive, send)
        try:
            await self.dispatch(request)
        except HTTPError as exc:
            await send_json(send, {"error": exc.message}, exc.status)
        except Exception as exc:
            status, message = error_status(exc)
            await send_json(send, {"error": message}, status)

    async def dispatch(self, request: Request) -> None:
        path = request.path
        if path.startswith("/share/"):
            await self.share(request)
            return
        if path.startswith("/static/"):
            await self.static(request, path[len("/static/") :])
            return
        query_token = request.arg("token") if path == "/" else None
        if not self.auth.allows(request.headers, query_token):
            await self.unauthorized(request)
            return
        if not csrf_ok(request.method, request.headers, request.host):
            raise HTTPError(403, "CSRF check failed: send the X-CSRF-Token header (see docs)")
        if path == "/":
            await self.page(request, query_token)
        elif path.startswith("/files/"):
            await self.file(request, path[len("/files/") :])
        elif path.startswith("/api/"):
            await api.handle(self, request, path[len("/api/") :])
        else:
            raise HTTPError(404, "Not Found")

    # ------------------------------------------------------------------ pages
    def csrf_cookie(self, request: Request) -> list[tuple[str, str]]:
        """Set the CSRF cookie when the browser has none yet."""
        if cookies(request.headers).get(CSRF_COOKIE):
            return []
        token = new_csrf_token()
        return [("Set-Cookie", f"{CSRF_COOKIE}={token}; Path=/; SameSite=Strict")]

    async def page(self, request: Request, query_token: str | None) -> None:
        if request.method not in ("GET", "HEAD"):
            raise HTTPError(405, "Method Not Allowed")
        headers = self.csrf_cookie(request)
        if query_token and self.auth.token:  # signed in with ?token=: keep it, drop the query
            cookie = f"{AUTH_COOKIE}={query_token}; Path=/; HttpOnly; SameSite=Strict"
            await send_bytes(
                request.send, 303, b"", "text/plain",
                [("Location", "/"), ("Set-Cookie", cookie), *headers],
            )  # fmt: skip
            return
        body = (STATIC / "index.html").read_bytes()
        headers += [("Content-Security-Policy", PAGE_CSP), ("X-Frame-Options", "DENY")]
        if request.method == "HEAD":
            body = b""
        await send_bytes(request.send, 200, body, "text/html; charset=utf-8", headers)

    async def unauthorized(self, request: Request) -> None:
        headers = []
        if self.auth.basic:
            headers.append(("WWW-Authenticate", 'Basic realm="genro-storage console"'))
        message = b"Sign in: open /?token=<token>, or use the configured basic auth.\n"
        await send_bytes(request.send, 401, message, "text/plain; charset=utf-8", headers)

    async def static(self, request: Request, name: str) -> None:
        node = await run_sync(self._static_node, name)
        options = ServeOptions(cache_max_age=0)  # revalidated (ETag) on every load
        await serve_node(node, request.scope, request.receive, request.send, options=options)

    def _static_node(self, name: str) -> Any:
        try:
            return self._static.node(f"{_STATIC_MOUNT}:{clean_path(name)}")
        except HTTPError:
            raise HTTPError(404, "Not Found") from None

    # ------------------------------------------------------------------ files
    def _file_node(self, rest: str) -> tuple[str, Any]:
        """``<mount>/<path>`` of a decoded request path (ASGI servers decode it)."""
        mount, _, path = rest.partition("/")
        return mount, self.actions.node(mount, path)

    async def file(self, request: Request, rest: str) -> None:
        mount, node = await run_sync(self._file_node, rest)
        version = request.arg("version")
        download = request.arg("download") == "1"
        if version:
            await api.send_version(self, request, mount, node, version)
            return
        await self.serve(request, node, download)

    async def serve(self, request: Request, node: Any, download: bool) -> None:
        extra = () if node.mimetype == "application/pdf" else (FILE_CSP,)
        options = ServeOptions(download=download, extra_headers=extra)
        await serve_node(node, request.scope, request.receive, request.send, options=options)

    async def share(self, request: Request) -> None:
        if not verify(request.path, request.query_string, self.actions.secret):
            raise HTTPError(403, "this link is invalid or has expired")
        _, node = await run_sync(self._file_node, request.path[len("/share/") :])
        await self.serve(request, node, download=request.arg("download") == "1")


def error_status(exc: BaseException) -> tuple[int, str]:
    """The HTTP status and message for an error raised by the library."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, PathTraversalError):
        return 400, f"path refused: {message}"
    if isinstance(exc, (PermissionError, CapabilityError)):
        return 403, message
    if isinstance(exc, FileNotFoundError):
        return 404, message
    if isinstance(exc, (FileExistsError, IsADirectoryError, NotADirectoryError)):
        return 409, message
    if isinstance(exc, ValueError):
        return 400, message
    return 500, f"{type(exc).__name__}: {message}"
