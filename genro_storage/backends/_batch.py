"""Many small transfers as coroutines on a client's own event loop.

s3fs, gcsfs and adlfs run every request on one event loop (fsspec's I/O thread). The
copy engine's worker threads each hop into that loop and back for every file: two thread
switches per file, and with 16 workers the loop thread spends its time waking them (GIL
hand-offs). A :class:`LoopStarter` submits each file's copy as a coroutine straight to
the loop instead, at most ``concurrency`` at a time, and hands back a
``concurrent.futures.Future`` per file. The calling thread does the cheap synchronous
part of each file first (permission checks, a local temp file), so the loop only waits
on the network.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: a local-only command never loads asyncio
    import asyncio

__all__ = ["CopyStarter", "LoopStarter"]

#: ``start(src_path, dest_path)``: one file's copy begun on the client's event loop (a
#: future resolving to None or raising the copy's error), or None when this file must take
#: the thread route (``copy_file``).
CopyStarter = Callable[[str, str], "Future[None] | None"]
#: ``prepare(src_path, dest_path)`` runs on the calling thread: the coroutine function
#: that copies the file, or None to leave the file to the thread route.
Prepare = Callable[[str, str], "Callable[[], Awaitable[None]] | None"]


class LoopStarter:
    """A :data:`CopyStarter` running each prepared copy on ``loop``, ``concurrency`` at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, concurrency: int, prepare: Prepare):
        self.loop = loop
        self.concurrency = max(1, concurrency)
        self.prepare = prepare
        self._slots: asyncio.Semaphore | None = None  # made on the loop, at first use

    def __call__(self, src_path: str, dest_path: str) -> Future[None] | None:
        import asyncio

        job = self.prepare(src_path, dest_path)
        if job is None:
            return None
        return asyncio.run_coroutine_threadsafe(self._bounded(job), self.loop)

    async def _bounded(self, job: Callable[[], Awaitable[None]]) -> None:
        import asyncio

        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            await job()
