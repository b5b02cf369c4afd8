"""The ASGI adapter: server extensions, streaming, disconnects, and a loop that never blocks."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.http.options import ServeOptions
from genro_storage.serving.asgi import STREAM_CHUNK, serve_node
from tests.integrations._site import FILES

MIB = 1024 * 1024


class Exchange:
    """One ASGI request: the scope, a receive that never disconnects, the sent messages."""

    def __init__(self, method: str = "GET", extensions: Any = None, **headers: str) -> None:
        self.scope: dict[str, Any] = {
            "type": "http",
            "method": method,
            "path": "/",
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
        }
        if extensions is not None:
            self.scope["extensions"] = extensions
        self.sent: list[dict[str, Any]] = []
        self.disconnect_after: int | None = None

    async def receive(self) -> dict[str, Any]:
        while self.disconnect_after is None or len(self.sent) < self.disconnect_after:
            await asyncio.sleep(0.001)
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        await asyncio.sleep(0)

    def run(self, node: Any, **kwargs: Any) -> Exchange:
        asyncio.run(serve_node(node, self.scope, self.receive, self.send, **kwargs))
        return self

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.sent[0]["headers"]}

    @property
    def types(self) -> list[str]:
        return [m["type"] for m in self.sent]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


PATHSEND = {"http.response.pathsend": {}}
ZEROCOPY = {"http.response.zerocopysend": {}}


def test_pathsend_for_a_whole_local_file(site: StorageManager) -> None:
    node = site.node("local:big.bin")
    ex = Exchange(extensions=PATHSEND).run(node)
    assert ex.types == ["http.response.start", "http.response.pathsend"]
    assert ex.sent[1]["path"] == node.os_path
    assert ex.headers["content-length"] == str(len(FILES["big.bin"]))


def test_pathsend_is_not_used_for_ranges(site: StorageManager) -> None:
    ex = Exchange(extensions=PATHSEND, range="bytes=100000-299999").run(site.node("local:big.bin"))
    assert ex.status == 206 and "http.response.pathsend" not in ex.types
    assert ex.body == FILES["big.bin"][100000:300000]


def test_pathsend_is_not_used_for_remote_files(site: StorageManager) -> None:
    ex = Exchange(extensions=PATHSEND).run(site.node("mem:big.bin"))
    assert "http.response.pathsend" not in ex.types and ex.body == FILES["big.bin"]


def test_zerocopysend_for_a_local_range(site: StorageManager) -> None:
    ex = Exchange(extensions=ZEROCOPY, range="bytes=100000-299999").run(site.node("local:big.bin"))
    assert ex.types == ["http.response.start", "http.response.zerocopysend"]
    message = ex.sent[1]
    assert (message["offset"], message["count"], message["more_body"]) == (100000, 200000, False)
    assert message["file"].closed  # closed once the server has sent it


def test_without_extensions_the_body_streams_in_chunks(site: StorageManager) -> None:
    ex = Exchange().run(site.node("local:big.bin"))
    assert ex.status == 200 and ex.body == FILES["big.bin"]
    bodies = ex.sent[1:]
    assert all(m["more_body"] for m in bodies[:-1]) and bodies[-1]["more_body"] is False
    assert max(len(m["body"]) for m in bodies) <= STREAM_CHUNK < len(FILES["big.bin"])


def test_small_bodies_go_in_one_message(site: StorageManager) -> None:
    ex = Exchange().run(site.node("local:hello.txt"))
    assert ex.types == ["http.response.start", "http.response.body"]
    assert ex.sent[1] == {
        "type": "http.response.body",
        "body": FILES["hello.txt"],
        "more_body": False,
    }


def test_head_sends_headers_and_an_empty_body(site: StorageManager) -> None:
    ex = Exchange("HEAD").run(site.node("local:big.bin"))
    assert ex.body == b"" and ex.headers["content-length"] == str(len(FILES["big.bin"]))


def test_multirange_is_multipart(site: StorageManager) -> None:
    ex = Exchange(range="bytes=0-0,-1").run(site.node("mem:data.bin"))
    assert ex.status == 206 and ex.headers["content-type"].startswith("multipart/byteranges")
    assert int(ex.headers["content-length"]) == len(ex.body)


def test_missing_file_is_404(site: StorageManager) -> None:
    ex = Exchange().run(site.node("local:nope"))
    assert (ex.status, ex.body) == (404, b"Not Found")


def test_405_for_post(site: StorageManager) -> None:
    ex = Exchange("POST").run(site.node("local:hello.txt"))
    assert ex.status == 405 and ex.headers["allow"] == "GET, HEAD"


def test_client_disconnect_stops_the_stream(site: StorageManager) -> None:
    site.node("mem:huge.bin").write_bytes(os.urandom(16 * MIB))
    ex = Exchange()
    ex.disconnect_after = 4  # start + three chunks
    ex.run(site.node("mem:huge.bin"))
    assert len(ex.body) < 4 * MIB


def test_blocking_calls_never_block_the_loop(
    site: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = site.get_backend("mem")
    slow_info = backend.info

    def info(path: str) -> Any:
        time.sleep(0.3)  # a slow remote stat
        return slow_info(path)

    monkeypatch.setattr(backend, "info", info)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def main() -> None:
        ex = Exchange()
        task = asyncio.ensure_future(ticker())
        await serve_node(site.node("mem:hello.txt"), ex.scope, ex.receive, ex.send)
        task.cancel()
        assert ex.body == FILES["hello.txt"]

    asyncio.run(main())
    assert ticks >= 15  # the loop kept running while the stat slept in a worker thread


def test_s3_range_is_a_ranged_read(s3_storage: StorageManager, fetched: list[Any]) -> None:
    ex = Exchange(range="bytes=-1").run(s3_storage.node("s3:data.bin"), options=ServeOptions())
    assert ex.body == FILES["data.bin"][-1:]
    size = len(FILES["data.bin"])
    assert fetched == [(size - 1, size, 1)]
