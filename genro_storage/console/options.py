"""The console's command-line options (no heavy import: the CLI parser loads this)."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--host --port --token --user --password --root --access-log`` to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000; 0 = any free)")
    parser.add_argument("--token", help="require this token (or $GENRO_CONSOLE_TOKEN)")
    parser.add_argument("--user", help="basic auth user (or $GENRO_CONSOLE_USER)")
    parser.add_argument("--password", help="basic auth password (or $GENRO_CONSOLE_PASSWORD)")
    parser.add_argument(
        "--root", help="folder of the default local mount (default: a new temporary folder)"
    )
    parser.add_argument("--access-log", action="store_true", help="log each request")
