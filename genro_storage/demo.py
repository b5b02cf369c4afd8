"""The demo file server: the embedded local and memory mounts, served over HTTP.

``python -m genro_storage.demo [--host 127.0.0.1] [--port 8000] [--root DIR]``
(or ``bash scripts/demo.sh``) seeds a local directory and a memory mount, prints the
URL, and serves both with directory listings until Ctrl-C. ``--port 0`` picks a free
port. Core dependencies only: the standard library's ``wsgiref`` with one thread per
request, in front of :class:`genro_storage.serving.wsgi_app.WSGIApp`.
"""

from __future__ import annotations

import argparse
import socketserver
import sys
import tempfile
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from . import StorageManager
from .serving.wsgi_app import WSGIApp

SERVE = {
    "/files": {"mount": "files", "index": True},
    "/scratch": {"mount": "scratch", "index": True},
}


def build_storage(root: str) -> StorageManager:
    """A manager with a local mount on ``root`` and a memory mount, seeded with samples."""
    storage = StorageManager(env=False)
    storage.configure(
        [
            {"name": "files", "type": "local", "path": root},
            {"name": "scratch", "type": "memory", "base_path": "genro-demo"},
        ]
    )
    storage.node("files:hello.txt").write("Hello from genro-storage!\n")
    storage.node("files:docs/readme.md").write("# Demo\n\nServed by genro-storage.\n")
    storage.node("files:data/numbers.csv").write(
        "n,square\n" + "".join(f"{n},{n * n}\n" for n in range(1, 11))
    )
    storage.node("scratch:notes/today.txt").write("kept in memory\n")
    storage.node("files:docs").copy_to("scratch:backup/docs", skip="hash")
    return storage


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one daemon thread per request (a slow download blocks no one)."""

    daemon_threads = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="genro_storage.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000; 0 = any free)")
    parser.add_argument("--root", help="directory for the local mount (default: a temp dir)")
    args = parser.parse_args(argv)
    root = args.root or tempfile.mkdtemp(prefix="genro-demo-")
    storage = build_storage(root)
    app = WSGIApp(storage, serve=SERVE)
    server = make_server(args.host, args.port, app, ThreadingWSGIServer, WSGIRequestHandler)
    host, port = args.host, server.server_port
    print(f"mounts: files (local {root}), scratch (memory)")
    print(f"genro-storage demo file server: http://{host}:{port}/  (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
