"""``genro-storage console``: the web console (see :mod:`genro_storage.console`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ..console.options import add_arguments
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


def cmd_console(session: Session, args: argparse.Namespace) -> int:
    from ..console.server import build_app, run

    storage = session.load() if session.config else None
    return run(build_app(storage, args), args)
