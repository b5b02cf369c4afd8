"""Commands that hand files to the web: ``url`` (presigned/public URLs) and ``serve``."""

from __future__ import annotations

import argparse
import importlib.util
import socketserver
import sys
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ..errors import PathTraversalError, StorageNotFoundError
from ..manager import StorageManager
from ..paths import from_url_path
from ._resolve import Session, Unsupported

__all__ = ["MountsApp", "register"]


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's sub-commands to the parser."""
    p = add("url", "a shareable URL: presigned (S3/GCS/Azure) or public (HTTP)")
    p.add_argument("target", metavar="TARGET")
    p.add_argument(
        "--expires", type=int, default=3600, metavar="SECONDS", help="validity (default 3600)"
    )
    p.set_defaults(run=cmd_url)

    p = add("serve", "serve the configured mounts over HTTP (GET/HEAD /<mount>/<path>)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000, 0 = any free)")
    p.add_argument(
        "--mount", action="append", dest="mounts", metavar="NAME", help="serve only these mounts"
    )
    p.add_argument("--access-log", action="store_true", help="log each request on stderr")
    p.set_defaults(run=cmd_serve)


def cmd_url(session: Session, args: argparse.Namespace) -> int:
    if args.expires <= 0:
        raise ValueError("--expires must be a positive number of seconds")
    target = session.target(args.target)
    url = target.node.url(expires_in=args.expires)
    if not url:
        backend = session.manager.get_backend(target.node.mount_name or "")
        raise Unsupported(
            f"{target.shown}: mount '{target.node.mount_name}' ({backend.protocol}) "
            "cannot make URLs (presigned URLs need S3, GCS or Azure; public URLs HTTP)"
        )
    print(url)
    return 0


# ---------------------------------------------------------------------- serve
def _serve_core_available() -> bool:
    """True once the serve core (``genro_storage.serving``) is installed."""
    try:
        return importlib.util.find_spec("genro_storage.serving.wsgi") is not None
    except ImportError:
        return False


class MountsApp:
    """A WSGI app: ``GET /<mount>/<path>`` answers with that file of ``manager``.

    Responses come from ``StorageNode.serve`` (the shared serve core: ETag, Range, 304...)
    when it is available; until then a plain 200/404/405 responder streams the file.
    """

    def __init__(self, manager: StorageManager, mounts: Iterable[str]) -> None:
        self.manager = manager
        self.mounts = list(mounts)
        self.use_core = _serve_core_available()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _plain(
                start_response,
                "405 Method Not Allowed",
                "Method Not Allowed",
                method,
                [("Allow", "GET, HEAD")],
            )
        raw = environ.get("PATH_INFO", "") or "/"
        try:
            path = from_url_path(quote(raw.encode("latin-1").decode("utf-8"), safe="/"))
        except (PathTraversalError, UnicodeError):
            return _plain(start_response, "403 Forbidden", "Forbidden", method)
        if not path:
            index = "".join(f"/{name}/\n" for name in self.mounts)
            return _plain(start_response, "200 OK", index, method)
        mount, _, rest = path.partition("/")
        if mount not in self.mounts:
            return _plain(start_response, "404 Not Found", "Not Found", method)
        node = self.manager.node(mount, rest) if rest else self.manager.node(f"{mount}:")
        if self.use_core:
            return node.serve(environ, start_response)
        try:
            entry = node.stat()
        except FileNotFoundError:
            entry = None
        if entry is None or entry.is_dir:
            return _plain(start_response, "404 Not Found", "Not Found", method)
        mime = node.mimetype
        if mime.startswith("text/"):
            mime += "; charset=utf-8"
        headers = [
            ("Content-Type", mime),
            ("Content-Length", str(entry.size)),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if entry.mtime is not None:
            headers.append(("Last-Modified", formatdate(entry.mtime, usegmt=True)))
        start_response("200 OK", headers)
        return [] if method == "HEAD" else node.iter_bytes()


def _plain(
    start_response: Callable[..., Any],
    status: str,
    text: str,
    method: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = text.encode("utf-8")
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status, headers + (extra or []))
    return [] if method == "HEAD" else [body]


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def cmd_serve(session: Session, args: argparse.Namespace) -> int:
    names = session.mount_names()
    wanted = args.mounts or names
    unknown = [m for m in wanted if m not in names]
    if unknown:
        available = ", ".join(names) or "none configured"
        raise StorageNotFoundError(f"unknown mount '{unknown[0]}'; available mounts: {available}")
    if not wanted:
        raise Unsupported(
            "nothing to serve: configure mounts with --config or $GENRO_STORAGE_CONFIG"
        )
    app = MountsApp(session.manager, wanted)
    handler = WSGIRequestHandler if args.access_log else _QuietHandler
    server = make_server(
        args.host, args.port, app, server_class=_ThreadingServer, handler_class=handler
    )
    host, port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving {', '.join(wanted)} at http://{shown}:{port}/ (Ctrl-C stops)", flush=True)
    for name in wanted:
        print(f"  {name}: http://{shown}:{port}/{name}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
