"""Shared helpers of the per-service backend tests (real servers from services.env).

Every test here talks to a real server started by ``scripts/services-start.sh`` and goes
through the public API: ``StorageManager().configure([...])`` and ``manager.node()``.
"""

from __future__ import annotations

import gc
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def unique(prefix: str = "t") -> str:
    """A short name no other test (or earlier run on the same servers) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def closed_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unraisable(own_garbage: None) -> Iterator[Callable[[], list[str]]]:
    """Catch exceptions raised in finalizers (``__del__``) during the test.

    Yields a function that garbage-collects and returns what was caught, as strings. A
    driver handle left open after a failed upload retries the upload when it is
    collected; the error then escapes as an "Exception ignored in ..." message.
    """
    seen: list[str] = []
    previous = sys.unraisablehook

    def hook(info: Any) -> None:
        seen.append(f"{info.exc_type.__name__}: {info.exc_value} (in {info.object!r})")

    def collected() -> list[str]:
        gc.collect()
        return list(seen)

    sys.unraisablehook = hook
    try:
        yield collected
    finally:
        sys.unraisablehook = previous
