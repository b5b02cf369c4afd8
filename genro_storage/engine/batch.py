"""The copy engine's side of the backends' batch route (``StorageBackend.copy_starter``).

A tree copy between an object store and a local disk (or inside one account) can run each
file as a coroutine on the client's event loop instead of on a worker thread that hops
into that loop and back. Here each file is decided first (the skip rule, from the
listings: cheap) on the calling thread, then started on the loop; a file the backend
declines, or whose copy fails with a transient error (reset, 5xx, SlowDown...), is handed
to the usual worker-thread ``work`` (retries with backoff, errors naming both ends).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from ..backends._batch import CopyStarter, Rescue
from ..backends._retry import is_transient

__all__ = ["Start", "batch_start", "submit_batched"]

#: ``start(item, rescue)``: the batch route of one item (see :func:`batch_start`)
Start = Callable[[Any, Rescue], "Future[Any] | None"]


def batch_start(starter: CopyStarter, decide: Callable[[Any], str | None]) -> Start:
    """``start(item, rescue)`` for :func:`submit_batched`: a future of the item's skip
    reason (None: copied), or None when the backend leaves the item to a worker thread."""

    def start(item: Any, rescue: Rescue) -> Future[Any] | None:
        reason = decide(item)
        if reason is not None:
            done: Future[Any] = Future()
            done.set_result(reason)
            return done
        return starter(item.src.path, item.dest.path, item.entry.size, rescue)

    return start


def submit_batched(
    start: Start,
    pool: Executor,
    work: Callable[[Any], Any],
    item: Any,
) -> Future[Any]:
    """``item`` run by ``start``, else (declined, or failed transiently) by ``work`` on
    ``pool``; the returned future settles with the outcome either way (one future per
    file: the backend's, which follows the worker's second attempt when there is one)."""

    def rescue(error: BaseException) -> Future[Any] | None:
        if not is_transient(error):
            return None
        try:
            return pool.submit(work, item)  # a fresh attempt, with the engine's retries
        except RuntimeError:  # the pool is shut down: the run was aborted
            return None

    try:
        first = start(item, rescue)
    except Exception as exc:  # the synchronous part (a permission check...) refused it
        failed: Future[Any] = Future()
        failed.set_exception(exc)
        return failed
    if first is None:
        return pool.submit(work, item)
    return first
