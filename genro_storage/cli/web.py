"""Commands that hand files to the web: ``url`` (presigned, public or signed app URLs)
and ``serve`` (the WSGI file server of ``genro_storage.serving.wsgi_app``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ..errors import StorageNotFoundError
from ._resolve import Session, Unsupported

__all__ = ["SECRET_ENV", "register"]

SECRET_ENV = "GENRO_STORAGE_SECRET"


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's sub-commands to the parser."""
    p = add("url", "a shareable URL: presigned (S3/GCS/Azure), public (HTTP) or signed (--signed)")
    p.add_argument("target", metavar="TARGET")
    p.add_argument(
        "--expires", type=int, default=3600, metavar="SECONDS", help="validity (default 3600)"
    )
    p.add_argument(
        "--signed",
        action="store_true",
        help="a signed, expiring link to the file served by 'genro-storage serve --secret'",
    )
    p.add_argument("--secret", help=f"HMAC secret for --signed (default: ${SECRET_ENV})")
    p.add_argument(
        "--base-url", default="", metavar="URL", help="prefix for --signed links (the server's URL)"
    )
    p.set_defaults(run=cmd_url)

    p = add("serve", "serve the configured mounts over HTTP (GET/HEAD /<mount>/<path>)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000, 0 = any free)")
    p.add_argument(
        "--mount", action="append", dest="mounts", metavar="NAME", help="serve only these mounts"
    )
    p.add_argument(
        "--secret", help=f"serve privately: only signed URLs (see 'url --signed'); ${SECRET_ENV}"
    )
    p.add_argument("--index", action="store_true", help="directory listings (HTML and JSON)")
    p.add_argument("--access-log", action="store_true", help="log each request on stderr")
    p.set_defaults(run=cmd_serve)


def _secret(args: argparse.Namespace) -> str | None:
    return args.secret or os.environ.get(SECRET_ENV) or None


def _routes(session: Session, mounts: list[str], secret: str | None, index: bool) -> dict[str, Any]:
    """``serve`` routes: the config file's ``serve:`` section, else ``/<mount>`` each."""
    if session.serve is not None and not mounts and not secret and not index:
        return session.serve
    names = session.mount_names()
    for name in mounts:
        if name not in names:
            available = ", ".join(names) or "none configured"
            raise StorageNotFoundError(f"unknown mount '{name}'; available mounts: {available}")
    routes: dict[str, Any] = {}
    for name in mounts or names:
        spec: dict[str, Any] = {"mount": name, "index": index}
        if secret:
            spec.update(private=True, secret=secret)
        routes[f"/{name}"] = spec
    return routes


def cmd_url(session: Session, args: argparse.Namespace) -> int:
    if args.expires <= 0:
        raise ValueError("--expires must be a positive number of seconds")
    target = session.target(args.target)
    node = target.node
    if args.signed:
        secret = _secret(args)
        if not secret:
            raise ValueError(f"--signed needs --secret or ${SECRET_ENV}")
        from ..serving.app import FileServer

        server = FileServer(
            session.manager, _routes(session, [node.mount_name or ""], secret, False)
        )
        path = quote(f"/{node.mount_name}/{node.path or ''}")
        print(args.base_url.rstrip("/") + server.sign(path, args.expires))
        return 0
    url = node.url(expires_in=args.expires)
    if not url:
        backend = session.manager.get_backend(node.mount_name or "")
        raise Unsupported(
            f"{target.shown}: mount '{node.mount_name}' ({backend.protocol}) cannot make URLs "
            "(presigned URLs need S3, GCS or Azure, public URLs HTTP; see url --signed)"
        )
    print(url)
    return 0


def _make_server(host: str, port: int, app: Any, access_log: bool) -> Any:
    """A threaded wsgiref server (imported here: other commands never load it)."""
    import socketserver
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = WSGIRequestHandler if access_log else QuietHandler
    return make_server(host, port, app, server_class=ThreadingServer, handler_class=handler)


def cmd_serve(session: Session, args: argparse.Namespace) -> int:
    from ..serving.wsgi_app import WSGIApp

    session.load()
    routes = _routes(session, args.mounts or [], _secret(args), args.index)
    if not routes:
        raise Unsupported(
            "nothing to serve: configure mounts with --config or $GENRO_STORAGE_CONFIG"
        )
    app = WSGIApp(session.manager, serve=routes)
    server = _make_server(args.host, args.port, app, args.access_log)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    names = ", ".join(route.mount for route in app.routes)
    print(f"Serving {names} at {base}/ (Ctrl-C stops)", flush=True)
    for route in sorted(app.routes, key=lambda r: r.prefix):
        private = " (signed URLs only)" if route.private else ""
        print(f"  {route.mount}: {base}{route.prefix}/{private}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
