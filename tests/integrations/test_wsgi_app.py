"""The WSGI app: every case of ``_cases.py`` in process and under gunicorn, plus mounting."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from genro_storage.serving.wsgi_app import WSGIApp, create_app
from tests.integrations._cases import ATTACKS, FileCases, LocalCases, S3Cases, raw_request
from tests.integrations._site import FILES
from tests.integrations.conftest import Client, make_client


@pytest.fixture(params=["inproc-wsgi", "gunicorn"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    yield from make_client(request.param, request)


class TestFiles(FileCases):
    pass


class TestLocalRoutes(LocalCases):
    pass


class TestS3(S3Cases):
    pass


def call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen.update(status=status, headers=dict(headers))

    body = app({"wsgi.input": io.BytesIO(), "QUERY_STRING": "", **environ}, start_response)
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return seen["status"], seen["headers"], data


@pytest.mark.parametrize("with_raw_uri", [True, False], ids=["raw_uri", "path_info_only"])
@pytest.mark.parametrize("target", ATTACKS.values(), ids=ATTACKS.keys())
def test_traversal_attempt_is_404(wsgi_app: WSGIApp, target: str, with_raw_uri: bool) -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": unquote(target, encoding="latin-1")}
    if with_raw_uri:
        environ["RAW_URI"] = target
    status, _, body = call(wsgi_app, environ)
    assert status == "404 Not Found" and b"SECRET" not in body


@pytest.mark.parametrize("target", ATTACKS.values(), ids=ATTACKS.keys())
def test_traversal_attempt_over_gunicorn(gunicorn_url: str, target: str) -> None:
    status, data = raw_request(urlsplit(gunicorn_url).port or 80, target)
    assert status in (400, 404) and b"SECRET" not in data


def test_file_wrapper_is_used_for_whole_local_files(wsgi_app: WSGIApp) -> None:
    class Wrapper:
        def __init__(self, filelike: Any, block: int) -> None:
            self.filelike, self.block = filelike, block

        def __iter__(self) -> Iterator[bytes]:
            return iter(lambda: self.filelike.read(self.block), b"")

        def close(self) -> None:
            self.filelike.close()

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/plain/big.bin", "wsgi.file_wrapper": Wrapper}
    result = wsgi_app({**environ, "wsgi.input": io.BytesIO()}, lambda s, h: None)
    assert isinstance(result, Wrapper)
    # unbuffered: the server sends it by descriptor (no isatty ioctl, no lseek per open)
    assert isinstance(result.filelike, io.FileIO)
    try:
        assert b"".join(result) == FILES["big.bin"]
    finally:
        result.close()


def test_ranges_never_use_the_file_wrapper(wsgi_app: WSGIApp) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/plain/big.bin",
        "HTTP_RANGE": "bytes=100-199",
        "wsgi.file_wrapper": lambda *a: pytest.fail("file_wrapper used for a range"),
    }
    status, _, body = call(wsgi_app, environ)
    assert status == "206 Partial Content" and body == FILES["big.bin"][100:200]


def test_listing_links_follow_script_name(wsgi_app: WSGIApp) -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/local/dir/", "SCRIPT_NAME": "/static"}
    _, _, body = call(wsgi_app, environ)
    assert b"Index of /static/local/dir/" in body and b"href='nested.txt'" in body


def test_mounts_under_werkzeug_dispatcher(wsgi_app: WSGIApp) -> None:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    def main(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"main"]

    host = DispatcherMiddleware(main, {"/storage": wsgi_app})
    with httpx.Client(transport=httpx.WSGITransport(host), base_url="http://t") as c:
        assert c.get("/storage/local/hello.txt").content == FILES["hello.txt"]
        assert c.get("/other").content == b"main"


def test_create_app_reads_the_config_file(tmp_path: Path, spec: dict[str, Any]) -> None:
    config = tmp_path / "storage.yaml"
    config.write_text(
        f"mounts:\n  - {{name: site, type: local, path: '{spec['root']}'}}\n"
        "serve:\n  /files: {mount: site, cache_max_age: 5}\n"
    )
    with httpx.Client(
        transport=httpx.WSGITransport(create_app(str(config))), base_url="http://t"
    ) as c:
        r = c.get("/files/hello.txt")
    assert r.content == FILES["hello.txt"] and r.headers["cache-control"] == "max-age=5"
