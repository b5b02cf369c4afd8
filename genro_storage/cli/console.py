"""``genro-storage console``: the web console (see :mod:`genro_storage.console`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ._resolve import Session

__all__ = ["register"]


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the ``console`` sub-command."""
    p = add(
        "console",
        "the web console over the configured mounts (default: an embedded local + memory demo)",
    )
    add_arguments(p)
    p.set_defaults(run=cmd_console)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The console's options (the console itself is imported only when it runs)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000; 0 = any free)")
    parser.add_argument("--token", help="require this token (or $GENRO_CONSOLE_TOKEN)")
    parser.add_argument("--user", help="basic auth user (or $GENRO_CONSOLE_USER)")
    parser.add_argument("--password", help="basic auth password (or $GENRO_CONSOLE_PASSWORD)")
    parser.add_argument(
        "--root", help="folder of the default local mount (default: a new temporary folder)"
    )
    parser.add_argument("--access-log", action="store_true", help="log each request")


def cmd_console(session: Session, args: argparse.Namespace) -> int:
    from ..console.server import build_app, run

    storage = session.load() if session.config else None
    return run(build_app(storage, args), args)
