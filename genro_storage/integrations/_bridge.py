"""Run a WSGI or ASGI responder and hand its result to a framework's response object.

Django and Flask views must return their own response objects, while the serve adapters
(:mod:`genro_storage.serving.wsgi`, :mod:`genro_storage.serving.asgi`) speak WSGI and ASGI.
These two captures sit between them: they record the status line and headers the adapter
sends, and expose its body as an iterator (WSGI) or an async iterator (ASGI). No HTTP
decision is taken here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from ..fileio import CHUNK_SIZE

__all__ = ["Captured", "FileBody", "run_asgi", "run_wsgi"]


@dataclass
class Captured:
    """What a responder sent: ``status`` (int), ``reason``, ``headers`` and the body.

    ``file``/``block_size`` are set when the WSGI responder asked for
    ``wsgi.file_wrapper``: the framework can then pass that file object on to the real
    server's file wrapper (``sendfile``) instead of iterating it in Python.
    """

    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Any = ()
    file: IO[bytes] | None = None
    block_size: int = CHUNK_SIZE


class FileBody:
    """The object our ``wsgi.file_wrapper`` returns: iterates a file in blocks, closes it."""

    def __init__(self, filelike: IO[bytes], block_size: int = CHUNK_SIZE) -> None:
        self.filelike = filelike
        self.block_size = block_size
        # Bound now: frameworks may later replace ``filelike.close`` with their own
        # close (Django does), which would otherwise call back into us.
        self._close = getattr(filelike, "close", None)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.filelike.read(self.block_size):
            yield chunk

    def close(self) -> None:
        if self._close is not None:
            self._close()


def run_wsgi(
    responder: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]],
    environ: Mapping[str, Any],
    *,
    keep_file_wrapper: bool = False,
) -> Captured:
    """Call ``responder(environ, start_response)``; return the status, headers and body.

    By default ``wsgi.file_wrapper`` is replaced by one that records the file (see
    :class:`Captured`), for frameworks with their own hook to reach the server's wrapper
    (Django's ``file_to_stream``). With ``keep_file_wrapper`` the server's wrapper is left
    in place, for frameworks that can return its object as the body (Flask's
    ``direct_passthrough``).
    """
    captured = Captured()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and captured.status:
            raise exc_info[1].with_traceback(exc_info[2])
        code, _, reason = status.partition(" ")
        captured.status, captured.reason = int(code), reason
        captured.headers = list(headers)
        return _no_write

    def file_wrapper(filelike: IO[bytes], block_size: int = CHUNK_SIZE) -> FileBody:
        captured.file, captured.block_size = filelike, block_size
        return FileBody(filelike, block_size)

    env = dict(environ)
    if not keep_file_wrapper:
        env["wsgi.file_wrapper"] = file_wrapper
    captured.body = responder(env, start_response)
    if not captured.status:
        raise RuntimeError("the WSGI responder returned without calling start_response")
    if not isinstance(captured.body, FileBody):
        captured.file = None
    return captured


def _no_write(data: bytes) -> None:
    raise RuntimeError("the serve adapter must not use the legacy write() callable")


_END = object()


async def run_asgi(
    responder: Callable[[dict[str, Any], Any, Any], Awaitable[None]],
    scope: Mapping[str, Any],
    max_chunks: int = 4,
) -> Captured:
    """Start ``responder(scope, receive, send)`` as a task on the running loop.

    Returns once the response has started; ``body`` is then an async iterator over the
    body chunks. At most ``max_chunks`` chunks wait in memory: the responder is paused
    until the framework sends them on (back-pressure). Closing the iterator early (client
    gone) cancels the responder.
    """
    captured = Captured()
    started = asyncio.Event()
    finished = asyncio.Event()
    chunks: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_chunks)

    async def send(message: Mapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            captured.status = int(message["status"])
            captured.headers = [
                (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", ())
            ]
            started.set()
        elif kind == "http.response.body":
            body = bytes(message.get("body", b""))
            if body:
                await chunks.put(body)
            if not message.get("more_body", False):
                await chunks.put(_END)

    async def receive() -> dict[str, Any]:
        await finished.wait()
        return {"type": "http.disconnect"}

    # Without the zero-copy extensions the adapter sends the bytes itself, through us.
    inner_scope = {k: v for k, v in scope.items() if k != "extensions"}
    task = asyncio.ensure_future(responder(inner_scope, receive, send))
    start_wait = asyncio.ensure_future(started.wait())
    await asyncio.wait({task, start_wait}, return_when=asyncio.FIRST_COMPLETED)
    if not started.is_set():
        start_wait.cancel()
        task.result()  # re-raises the responder's error
        raise RuntimeError("the ASGI responder finished without starting a response")

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                getter = asyncio.ensure_future(chunks.get())
                await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    if chunks.empty():
                        task.result()  # error -> raise; else the body ended silently
                        return
                    item = chunks.get_nowait()
                else:
                    item = getter.result()
                if item is _END:
                    return
                yield item
        finally:
            finished.set()
            if not task.done():
                task.cancel()

    captured.body = body()
    return captured
