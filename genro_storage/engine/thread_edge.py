"""The thread edge of the async API: a blocking call run in a worker thread.

Everything the native edge (``aio_native``) cannot run on the event loop goes here. Needs
the optional ``asyncer`` package (``pip install genro-storage[async]``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from asyncer import asyncify

__all__ = ["run_in_thread"]

T = TypeVar("T")


async def run_in_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The thread edge: run a blocking call in a worker thread (asyncer/anyio)."""
    return await asyncify(functools.partial(func, *args, **kwargs))()
