"""The WSGI adapter: ``StorageNode.serve()``'s 0.4.2 contract, streaming, ranged reads."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.engine.serve.body import ChunkSequence, PartReader
from genro_storage.http.delivery import Delivery
from genro_storage.http.options import ServeOptions
from genro_storage.serving.wsgi import serve_node
from tests.integrations._site import FILES

MIB = 1024 * 1024


class Recorder:
    """A ``start_response`` that remembers what it was given (and how often)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]]]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]]) -> None:
        self.calls.append((status, headers))

    @property
    def status(self) -> str:
        assert len(self.calls) == 1, "start_response must be called exactly once"
        return self.calls[0][0]

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.calls[0][1])


def environ(method: str = "GET", **headers: str) -> dict[str, Any]:
    env = {"REQUEST_METHOD": method, "wsgi.input": io.BytesIO()}
    env.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    return env


def body_of(result: Iterable[bytes]) -> bytes:
    try:
        return b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()


# -- StorageNode.serve(): genro-storage 0.4.2's contract ---------------------------------------


@pytest.mark.parametrize("mount", ["local", "mem"])
def test_serve_200_has_the_0_4_2_headers(site: StorageManager, mount: str) -> None:
    node = site.node(f"{mount}:hello.txt")
    start = Recorder()
    result = node.serve(environ(), start)
    assert start.status == "200 OK"
    assert start.headers["ETag"] == f'"{node.mtime}-{node.size}"'
    assert start.headers["Content-Type"] == "text/plain"  # 0.4.2: the mimetype, no charset
    assert start.headers["Content-Length"] == str(len(FILES["hello.txt"]))
    assert "Content-Disposition" not in start.headers
    assert "Cache-Control" not in start.headers
    assert list(result) == [FILES["hello.txt"]]


def test_serve_download_and_cache_headers(site: StorageManager) -> None:
    start = Recorder()
    site.node("local:hello.txt").serve(environ(), start, download=True, cache_max_age=120)
    assert start.headers["Content-Disposition"] == 'attachment; filename="hello.txt"'
    assert start.headers["Cache-Control"] == "max-age=120"
    start = Recorder()
    site.node("local:hello.txt").serve(environ(), start, download_name="r\u00e9sum\u00e9.txt")
    disposition = start.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9.txt" in disposition


def test_serve_missing_is_404_not_found_list(site: StorageManager) -> None:
    start = Recorder()
    assert site.node("local:nope.txt").serve(environ(), start) == [b"Not Found"]
    assert start.status == "404 Not Found"
    assert start.headers["Content-Type"] == "text/plain"


@pytest.mark.parametrize("quoted", [True, False], ids=["quoted", "unquoted_like_0_4_2"])
def test_serve_304_returns_one_empty_chunk(site: StorageManager, quoted: bool) -> None:
    node = site.node("local:hello.txt")
    tag = f"{node.mtime}-{node.size}"
    start = Recorder()
    result = node.serve(environ(if_none_match=f'"{tag}"' if quoted else tag), start)
    assert (start.status, result) == ("304 Not Modified", [b""])
    assert start.headers["ETag"] == f'"{tag}"'


def test_serve_understands_weak_if_none_match(site: StorageManager) -> None:
    node = site.node("local:hello.txt")
    start = Recorder()
    node.serve(environ(if_none_match=f'W/"{node.mtime}-{node.size}"'), start)
    assert start.status == "304 Not Modified"


def test_serve_empty_file_is_an_empty_list(site: StorageManager) -> None:
    start = Recorder()
    assert site.node("local:empty.txt").serve(environ(), start) == []
    assert start.headers["Content-Length"] == "0"


@pytest.mark.parametrize("mount", ["local", "mem"])
def test_serve_1mib_file_gives_many_64kib_chunks(site: StorageManager, mount: str) -> None:
    data = os.urandom(MIB)
    site.node(f"{mount}:one.bin").write_bytes(data)
    result = site.node(f"{mount}:one.bin").serve(environ(), Recorder())
    assert isinstance(result, ChunkSequence)
    assert len(result) == 16 and len(result[0]) == 64 * 1024
    assert result[3] == data[3 * 65536 : 4 * 65536] and result[-1] == data[-65536:]
    assert b"".join(result) == data
    assert result == list(result)  # compares like 0.4.2's list
    result.close()


def test_serve_body_is_lazy(site: StorageManager, monkeypatch: pytest.MonkeyPatch) -> None:
    site.node("mem:lazy.bin").write_bytes(os.urandom(MIB))
    backend = site.get_backend("mem")
    reads: list[tuple[int, int]] = []
    original = backend.read_range

    def counting(path: str, start: int, end: int) -> bytes:
        reads.append((start, end))
        return original(path, start, end)

    monkeypatch.setattr(backend, "read_range", counting)
    monkeypatch.setattr(backend, "read_bytes", lambda *a: pytest.fail("whole file read"))
    result = site.node("mem:lazy.bin").serve(environ(), Recorder())
    assert len(result) == 16 and reads == []
    assert len(result[5]) == 65536 and reads == [(5 * 65536, 6 * 65536)]


def test_serve_head_sends_headers_only(site: StorageManager) -> None:
    start = Recorder()
    assert site.node("local:data.bin").serve(environ("HEAD"), start) == []
    assert start.headers["Content-Length"] == str(len(FILES["data.bin"]))


def test_serve_honours_range(site: StorageManager) -> None:
    start = Recorder()
    result = site.node("local:data.bin").serve(environ(range="bytes=-1"), start)
    assert start.status == "206 Partial Content"
    assert list(result) == [FILES["data.bin"][-1:]]


def test_serve_sends_last_modified(site: StorageManager) -> None:
    start = Recorder()
    site.node("local:hello.txt").serve(environ(), start)
    assert start.headers["Last-Modified"].endswith(" GMT")


def test_serve_etag_changes_when_the_file_is_rewritten(site: StorageManager) -> None:
    node = site.node("mem:hello.txt")
    first = Recorder()
    node.serve(environ(), first)
    second = Recorder()
    node.serve(environ(), second)
    assert second.headers["ETag"] == first.headers["ETag"]  # stable on memory mounts too
    time.sleep(0.01)
    node.write_bytes(b"new content")
    third = Recorder()
    node.serve(environ(), third)
    assert third.headers["ETag"] != first.headers["ETag"]


def test_serve_directory_is_404(site: StorageManager) -> None:
    start = Recorder()
    assert site.node("local:dir").serve(environ(), start) == [b"Not Found"]


def test_serve_other_methods_like_get_as_0_4_2(site: StorageManager) -> None:
    start = Recorder()
    assert body_of(site.node("local:hello.txt").serve(environ("POST"), start))
    assert start.status == "200 OK"


# -- serve_node with options: the apps' path ---------------------------------------------------


def test_options_path_streams_a_generator_for_remote_nodes(site: StorageManager) -> None:
    start = Recorder()
    result = serve_node(site.node("mem:big.bin"), environ(), start, options=ServeOptions())
    assert not isinstance(result, (list, ChunkSequence))
    assert body_of(result) == FILES["big.bin"]
    assert start.headers["Content-Type"] == "application/octet-stream"


def test_options_path_answers_405(site: StorageManager) -> None:
    start = Recorder()
    body = body_of(
        serve_node(site.node("local:hello.txt"), environ("PUT"), start, options=ServeOptions())
    )
    assert (start.status, body) == ("405 Method Not Allowed", b"Method Not Allowed")


def test_x_sendfile_delivery(site: StorageManager) -> None:
    start = Recorder()
    node = site.node("local:hello.txt")
    result = serve_node(
        node, environ(), start, options=ServeOptions(), delivery=Delivery("x-sendfile")
    )
    assert body_of(result) == b"" and start.headers["X-Sendfile"] == node.os_path


def test_offload_of_a_remote_node_streams(site: StorageManager) -> None:
    start = Recorder()
    delivery = Delivery("x-accel-redirect")
    result = serve_node(
        site.node("mem:hello.txt"), environ(), start, options=ServeOptions(), delivery=delivery
    )
    assert body_of(result) == FILES["hello.txt"] and "X-Accel-Redirect" not in start.headers


# -- reading only what is needed ------------------------------------------------------------------


def test_part_reader_reads_remote_ranges_in_growing_windows(site: StorageManager) -> None:
    reader = PartReader(site.node("mem:big.bin"), None)
    chunks = list(reader.chunks(10, 1_400_010))
    assert b"".join(chunks) == FILES["big.bin"][10:1_400_010]
    assert {len(c) for c in chunks[:-1]} == {65536}


def test_part_reader_raises_when_the_file_shrank(site: StorageManager) -> None:
    node = site.node("local:hello.txt")
    reader = PartReader(node, node.os_path)
    with pytest.raises(OSError, match="shrank"):
        list(reader.chunks(0, 1000))
    reader.close()


def test_s3_range_is_a_ranged_read(s3_storage: StorageManager, fetched: list[Any]) -> None:
    start = Recorder()
    node = s3_storage.node("s3:big.bin")
    result = serve_node(node, environ(range="bytes=700000-700999"), start, options=ServeOptions())
    assert body_of(result) == FILES["big.bin"][700000:701000]
    assert fetched == [(700000, 701000, 1000)]  # one ranged GET of exactly those bytes


def test_s3_multirange_fetches_only_the_ranges(
    s3_storage: StorageManager, fetched: list[Any]
) -> None:
    start = Recorder()
    node = s3_storage.node("s3:big.bin")
    serve_node(node, environ(range="bytes=0-99,1000000-1000099"), start, options=ServeOptions())
    assert sum(received for *_, received in fetched) == 200


def test_s3_download_streams_in_bounded_windows(
    s3_storage: StorageManager, fetched: list[Any]
) -> None:
    result = serve_node(
        s3_storage.node("s3:big.bin"), environ(), Recorder(), options=ServeOptions()
    )
    assert body_of(result) == FILES["big.bin"]
    assert sum(received for *_, received in fetched) == len(FILES["big.bin"])
    assert max(received for *_, received in fetched) <= 4 * MIB
    assert len(fetched) > 1


def test_node_serve_on_s3_is_lazy_and_ranged(
    s3_storage: StorageManager, fetched: list[Any]
) -> None:
    result = s3_storage.node("s3:big.bin").serve(environ(), Recorder())
    assert fetched == []
    assert result[2] == FILES["big.bin"][2 * 65536 : 3 * 65536]
    assert fetched == [(2 * 65536, 3 * 65536, 65536)]
