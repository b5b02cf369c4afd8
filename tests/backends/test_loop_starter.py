"""``LoopStarter``: the batch route's hand-over of file copies to a client's event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from genro_storage.backends._batch import LoopStarter


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(5)
    running.close()


def test_at_most_concurrency_copies_run_at_once(loop: asyncio.AbstractEventLoop) -> None:
    running = peak = 0
    done: list[str] = []

    def prepare(src: str, dest: str, size: int | None) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.005)
            running -= 1
            done.append(src)

        return job

    starter = LoopStarter(loop, 3, prepare)
    futures = [starter(f"f{i}", f"g{i}", 10, None) for i in range(20)]
    assert all(f is not None for f in futures)
    assert [f.result(timeout=10) for f in futures if f is not None] == [None] * 20
    assert peak == 3 and sorted(done) == sorted(f"f{i}" for i in range(20))


def test_a_declined_file_returns_none(loop: asyncio.AbstractEventLoop) -> None:
    starter = LoopStarter(loop, 2, lambda src, dest, size: None)
    assert starter("a", "b", None, None) is None


def _failing(src: str, dest: str, size: int | None) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        raise ConnectionResetError(f"reset while copying {src}")

    return job


def test_a_rescued_file_follows_the_second_attempt(loop: asyncio.AbstractEventLoop) -> None:
    seen: list[BaseException] = []
    with ThreadPoolExecutor(1) as pool:

        def rescue(error: BaseException) -> Future[Any]:
            seen.append(error)
            return pool.submit(lambda: "second attempt")

        future = LoopStarter(loop, 2, _failing)("a", "b", None, rescue)
        assert future is not None
        assert future.result(timeout=10) == "second attempt"
    assert [str(e) for e in seen] == ["reset while copying a"]


def test_an_unrescued_failure_is_the_files_outcome(loop: asyncio.AbstractEventLoop) -> None:
    future = LoopStarter(loop, 2, _failing)("a", "b", None, lambda error: None)
    assert future is not None
    with pytest.raises(ConnectionResetError, match="copying a"):
        future.result(timeout=10)
    future = LoopStarter(loop, 2, _failing)("c", "d", None, None)
    assert future is not None
    assert isinstance(future.exception(timeout=10), ConnectionResetError)
