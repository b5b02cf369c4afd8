"""Many small transfers as coroutines on a client's own event loop.

s3fs, gcsfs and adlfs run every request on one event loop (fsspec's I/O thread). The
copy engine's worker threads each hop into that loop and back for every file: two thread
switches per file, and with 16 workers the loop thread spends its time waking them (GIL
hand-offs). A :class:`LoopStarter` hands each file's copy as a coroutine straight to the
loop instead, at most ``concurrency`` at a time, and gives back one
``concurrent.futures.Future`` per file, settled by the coroutine itself. The calling
thread does the cheap synchronous part of each file first (permission checks, a local
temp file), so the loop only waits on the network.

Per file the loop is woken only when it is idle (files handed over in a burst share one
wake-up), a file waits for its slot in a plain queue (no task until it runs), and its
future is settled where the copy ends (no done-callback hop, no second future).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:  # imported where used: a local-only command never loads asyncio
    import asyncio

__all__ = ["CopyStarter", "LoopStarter", "Rescue"]

#: ``rescue(error)``: called on the loop when a copy failed; a future of another attempt
#: (the engine's worker thread, with its retries) that the file's future then follows, or
#: None to report ``error``.
Rescue = Callable[[BaseException], Optional["Future[Any]"]]
#: ``start(src_path, dest_path, size, rescue)``: one file's copy begun on the client's
#: event loop (a future resolving to None or raising the copy's error), or None when this
#: file must take the thread route (``copy_file``). ``size``: the source's size from the
#: listing, when known.
CopyStarter = Callable[[str, str, Optional[int], Optional[Rescue]], Optional["Future[Any]"]]
#: ``prepare(src_path, dest_path, size)`` runs on the calling thread: the coroutine
#: function that copies the file, or None to leave the file to the thread route.
Prepare = Callable[[str, str, Optional[int]], "Callable[[], Awaitable[None]] | None"]

_Job = tuple[Callable[[], Awaitable[None]], "Future[Any]", Optional[Rescue]]


class LoopStarter:
    """A :data:`CopyStarter` running each prepared copy on ``loop``, ``concurrency`` at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, concurrency: int, prepare: Prepare):
        self.loop = loop
        self.concurrency = max(1, concurrency)
        self.prepare = prepare
        self._lock = threading.Lock()
        self._incoming: deque[_Job] = deque()  # handed over, not yet seen by the loop
        self._wake_pending = False
        self._waiting: deque[_Job] = deque()  # on the loop: for a free slot
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()  # asyncio keeps weak references only

    def __call__(
        self,
        src_path: str,
        dest_path: str,
        size: int | None = None,
        rescue: Rescue | None = None,
    ) -> Future[Any] | None:
        job = self.prepare(src_path, dest_path, size)
        if job is None:
            return None
        future: Future[Any] = Future()
        with self._lock:
            self._incoming.append((job, future, rescue))
            wake, self._wake_pending = not self._wake_pending, True
        if wake:
            self.loop.call_soon_threadsafe(self._take)
        return future

    # ------------------------------------------------------------------ on the loop
    def _take(self) -> None:
        with self._lock:
            self._wake_pending = False
            self._waiting.extend(self._incoming)
            self._incoming.clear()
        self._start_waiting()

    def _start_waiting(self) -> None:
        while self._waiting and self._running < self.concurrency:
            self._running += 1
            task = self.loop.create_task(self._run(*self._waiting.popleft()))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(
        self, job: Callable[[], Awaitable[None]], future: Future[Any], rescue: Rescue | None
    ) -> None:
        try:
            await job()
        except BaseException as exc:  # the loop shutting down (CancelledError) too
            again = rescue(exc) if rescue is not None else None
            if again is None:
                _settle(future, exc)
            else:
                again.add_done_callback(lambda done: _follow(done, future))
        else:
            _settle(future, None)
        finally:
            self._running -= 1
            self._start_waiting()


def _settle(future: Future[Any], error: BaseException | None) -> None:
    if future.done():  # cancelled by its owner meanwhile
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _follow(source: Future[Any], target: Future[Any]) -> None:
    """``target`` takes ``source``'s outcome (a rescued file's second attempt)."""
    if target.done():
        return
    error = source.exception()
    if error is None:
        target.set_result(source.result())
    else:
        target.set_exception(error)
