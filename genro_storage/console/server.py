"""``genro-storage console``: the console under uvicorn on the configured mounts.

With ``--config FILE`` (or ``$GENRO_STORAGE_CONFIG``) it shows those mounts; without, the
embedded default (:func:`genro_storage.console.seed.default_storage`: a local folder, a
memory mount and a read-only view, seeded with samples).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import tempfile
from typing import Any

from ..manager import StorageManager
from .app import ConsoleApp
from .auth import Auth, check_bind
from .seed import default_storage

__all__ = ["SECRET_ENV", "build_app", "load_storage", "run"]

SECRET_ENV = "GENRO_CONSOLE_SECRET"


def load_storage(path: str) -> StorageManager:
    """The mounts of a config file: a mounts list, or ``{mounts: [...], serve: {...}}``."""
    from ..serving.routes import load_app_config

    mounts, _ = load_app_config(path)
    storage = StorageManager()
    storage.configure(mounts)
    return storage


def build_app(storage: StorageManager | None, args: argparse.Namespace) -> ConsoleApp:
    """The app for the parsed options; ``storage`` None means the embedded default."""
    auth = Auth.from_env(args.token, args.user, args.password)
    check_bind(args.host, auth)
    if storage is None:
        root = args.root or tempfile.mkdtemp(prefix="genro-console-")
        storage = default_storage(root)
        print(f"mounts: files (local {root}), scratch (memory), samples (read-only)")
    secret = os.environ.get(SECRET_ENV) or secrets.token_urlsafe(32)
    return ConsoleApp(storage, auth=auth, secret=secret)


def run(app: ConsoleApp, args: argparse.Namespace) -> int:
    """Serve ``app`` with uvicorn until Ctrl-C; prints the URL first."""
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - the console extra brings it
        print("the console needs uvicorn: pip install 'genro-storage[console]'", file=sys.stderr)
        return 1
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    options: dict[str, Any] = {"log_level": "warning", "access_log": bool(args.access_log)}
    config = uvicorn.Config(app, lifespan="off", **options)
    # Listening before the URL is printed: a client that connects at once (a script, a
    # test) waits in the backlog until uvicorn accepts, instead of being refused.
    sock.listen(config.backlog)
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    hint = "/?token=<token>" if app.auth.token else "/"
    print(f"genro-storage console: http://{shown}:{port}{hint}  (Ctrl-C stops it)", flush=True)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles SIGINT itself
        pass
    finally:
        sock.close()
    print("stopped", flush=True)
    return 0
