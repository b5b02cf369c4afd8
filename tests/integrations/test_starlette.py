"""The Starlette / FastAPI integration with TestClient, httpx's ASGI transport and uvicorn."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("fastapi")

import httpx
from starlette.applications import Starlette
from starlette.config import Config
from starlette.datastructures import Headers, UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Router
from starlette.testclient import TestClient

from genro_storage import StorageManager
from genro_storage.errors import StorageConfigError
from genro_storage.integrations.starlette import StarletteStorage, get_manager, save_upload
from tests import _http
from tests.integrations import servers
from tests.integrations.apps.starlette_factory import create_app

PAYLOAD = bytes(range(256)) * 512  # 128 KiB


def mounts(root: Path) -> list[dict]:
    for name in ("public", "private"):
        (root / name).mkdir(parents=True, exist_ok=True)
    return [
        {"name": "public", "type": "local", "path": str(root / "public")},
        {"name": "private", "type": "local", "path": str(root / "private")},
        {"name": "unserved", "type": "memory"},
    ]


@pytest.fixture
def storage(tmp_path: Path) -> StarletteStorage:
    return StarletteStorage(
        mounts(tmp_path),
        serve={"public": {"cache_max_age": 60}, "private": {"private": True}},
        signing_secret="starlette-tests",
    )


@pytest.fixture
def client(storage: StarletteStorage) -> TestClient:
    return TestClient(create_app(storage))


# ---------------------------------------------------------------- serving
def test_mounted_app_serves_with_etag_range_304_and_head(client, tmp_path: Path) -> None:
    (tmp_path / "public/data.bin").write_bytes(PAYLOAD)
    first = client.get("/files/public/data.bin")
    assert first.status_code == 200
    assert first.content == PAYLOAD
    assert first.headers["cache-control"] == "max-age=60"
    etag = first.headers["etag"]
    assert client.get("/files/public/data.bin", headers={"If-None-Match": etag}).status_code == 304
    partial = client.get("/files/public/data.bin", headers={"Range": "bytes=-16"})
    assert partial.status_code == 206
    assert partial.content == PAYLOAD[-16:]
    head = client.head("/files/public/data.bin")
    assert head.headers["content-length"] == str(len(PAYLOAD))
    assert head.content == b""


def test_other_methods_get_405_from_the_serve_core(client, tmp_path: Path) -> None:
    (tmp_path / "public/a.txt").write_text("a")
    response = client.delete("/files/public/a.txt")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/files/unserved/x",
        "/files/public/missing.txt",
        "/files/public/%2e%2e/private/s.txt",
        "/files/public/a%5cb",
    ],
)
def test_refusals_are_404(client, tmp_path: Path, path: str) -> None:
    (tmp_path / "private/s.txt").write_text("s")
    assert client.get(path).status_code == 404


def test_routes_in_a_router_and_at_the_root(storage: StarletteStorage, tmp_path: Path) -> None:
    (tmp_path / "public/r.txt").write_text("routed")
    nested = Starlette(routes=[Mount("/media", routes=storage.routes)])
    assert TestClient(nested).get("/media/public/r.txt").text == "routed"
    at_root = Starlette(routes=storage.routes)
    assert TestClient(at_root).get("/public/r.txt").text == "routed"
    assert isinstance(storage.router, Router)
    assert TestClient(storage.router).get("/public/r.txt").text == "routed"


def test_private_mount_needs_a_signed_link(client, tmp_path: Path) -> None:
    (tmp_path / "private/s.txt").write_text("secret")
    response = client.post("/upload/private", files={"file": ("up lé.txt", b"uploaded")})
    url = response.json()["url"]
    assert re.fullmatch(
        r"http://testserver/files/private/up%20l%C3%A9\.txt\?expires=\d+&signature=[\w-]+", url
    )
    assert client.get(url).content == b"uploaded"
    assert client.get(url.split("?")[0]).status_code == 403


def test_url_for_through_a_named_mount(storage: StarletteStorage) -> None:
    app = Starlette(routes=[Mount("/files", app=storage, name="files")])

    async def endpoint(request: Request) -> PlainTextResponse:
        links = [storage.url_for(request, "public:a b/c.txt")]
        links.append(str(request.url_for("files:genro_storage", mount="public", path="x")))
        return PlainTextResponse("\n".join(links))

    app.router.add_route("/links", endpoint)
    assert TestClient(app).get("/links").text.splitlines() == [
        "http://testserver/files/public/a%20b/c.txt",
        "http://testserver/files/public/x",
    ]


async def test_asgi_transport_streams(storage: StarletteStorage, tmp_path: Path) -> None:
    (tmp_path / "public/big.bin").write_bytes(PAYLOAD * 16)
    transport = httpx.ASGITransport(app=Starlette(routes=[Mount("/files", app=storage)]))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/files/public/big.bin")
    assert response.content == PAYLOAD * 16


test_asgi_transport_streams = pytest.mark.anyio(test_asgi_transport_streams)


# ---------------------------------------------------------------- configuration
def test_from_config_with_a_yaml_path_and_names(tmp_path: Path) -> None:
    config_file = tmp_path / "mounts.yaml"
    config_file.write_text(json.dumps(mounts(tmp_path)), encoding="utf-8")
    (tmp_path / "public/c.txt").write_text("configured")
    storage = StarletteStorage.from_config(
        Config(environ={"GENRO_STORAGE_MOUNTS": str(config_file), "GENRO_STORAGE_SERVE": "public"})
    )
    client = TestClient(Starlette(routes=[Mount("/f", app=storage)]))
    assert client.get("/f/public/c.txt").text == "configured"
    assert client.get("/f/private/c.txt").status_code == 404


def test_from_config_with_inline_json(tmp_path: Path) -> None:
    environ = {
        "GENRO_STORAGE_MOUNTS": json.dumps(mounts(tmp_path)),
        "GENRO_STORAGE_SERVE": json.dumps({"private": {"private": True}}),
        "GENRO_STORAGE_SIGNING_SECRET": "s3cret",
        "GENRO_STORAGE_URL_EXPIRE": "60",
    }
    storage = StarletteStorage.from_config(Config(environ=environ))
    assert storage.url_expire == 60
    assert storage.server.routes[0].private


def test_from_config_reads_an_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"GENRO_STORAGE_MOUNTS='{json.dumps(mounts(tmp_path))}'\nGENRO_STORAGE_SERVE=public\n"
    )
    storage = StarletteStorage.from_config(Config(env_file, environ={}))
    assert storage.manager.get_mount_names() == ["public", "private", "unserved"]


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"GENRO_STORAGE_MOUNTS": "[not json"},
        {"GENRO_STORAGE_MOUNTS": "[]", "GENRO_STORAGE_SERVE": "nosuchmount"},
        {
            "GENRO_STORAGE_MOUNTS": '[{"name": "m", "type": "memory"}]',
            "GENRO_STORAGE_SERVE": '{"m": {"private": true}}',
        },
    ],
)
def test_bad_config_raises(environ: dict) -> None:
    with pytest.raises(StorageConfigError):
        StarletteStorage.from_config(Config(environ=environ))


# ---------------------------------------------------------------- FastAPI and uploads
def test_fastapi_dependencies_give_the_manager(client) -> None:
    assert client.get("/mounts").json() == ["public", "private", "unserved"]


def test_async_manager_dependency_and_async_nodes(client, tmp_path: Path) -> None:
    response = client.post("/aupload/public", files={"file": ("a.txt", b"async")})
    assert response.json() == {"fullpath": "public:a.txt", "exists": True}
    assert (tmp_path / "public/a.txt").read_bytes() == b"async"


def test_get_manager_without_install_says_so(storage: StarletteStorage) -> None:
    from fastapi import Depends, FastAPI

    app = FastAPI()

    @app.get("/m")
    def m(manager: StorageManager = Depends(get_manager)) -> list[str]:
        return manager.get_mount_names()

    with pytest.raises(RuntimeError, match="install"):
        TestClient(app).get("/m")


def test_upload_with_save_upload(client, tmp_path: Path) -> None:
    response = client.post(
        "/upload/public", files={"file": ("..\\..\\evil name.bin", PAYLOAD, "x/y")}
    )
    assert response.status_code == 200, response.text
    assert response.json()["fullpath"] == "public:evil name.bin"
    assert (tmp_path / "public/evil name.bin").read_bytes() == PAYLOAD


class _Generated(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.left)
        buffer[:n] = b"\xa5" * n
        self.left -= n
        return n

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0


async def test_save_upload_streams_without_holding_the_file(tmp_path: Path) -> None:
    manager = StorageManager()
    manager.configure([{"name": "m", "type": "local", "path": str(tmp_path)}])
    size = 64 * 1024 * 1024
    upload = UploadFile(_Generated(size), filename="big.bin", headers=Headers())  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        node = await save_upload(upload, manager.node("m:"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert node.fullpath == "m:big.bin"
    assert (tmp_path / "big.bin").stat().st_size == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while saving {size}"


test_save_upload_streams_without_holding_the_file = pytest.mark.anyio(
    test_save_upload_streams_without_holding_the_file
)


# ---------------------------------------------------------------- uvicorn
def test_under_uvicorn(tmp_path: Path) -> None:
    port = servers.free_port()
    config = tmp_path / "mounts.json"
    config.write_text(json.dumps(mounts(tmp_path)), encoding="utf-8")
    (tmp_path / "public/data.bin").write_bytes(PAYLOAD * 8)
    env = {
        "GENRO_STORAGE_MOUNTS": str(config),
        "GENRO_STORAGE_SERVE": '{"public": {}, "private": {"private": true}}',
        "GENRO_STORAGE_SIGNING_SECRET": "uvicorn-tests",
    }
    argv = servers.uvicorn(
        "tests.integrations.apps.starlette_factory:create_app", port, "--factory"
    )
    with (
        servers.running(argv, port, env=env, log=tmp_path / "uvicorn.log") as base,
        _http.client(base_url=base, timeout=10) as client,
    ):
        whole = client.get("/files/public/data.bin")
        assert whole.content == PAYLOAD * 8
        etag = whole.headers["etag"]
        cached = client.get("/files/public/data.bin", headers={"If-None-Match": etag})
        assert cached.status_code == 304
        part = client.get("/files/public/data.bin", headers={"Range": "bytes=0-99,200-299"})
        assert part.status_code == 206
        assert part.headers["content-type"].startswith("multipart/byteranges")
        uploaded = client.post("/upload/private", files={"file": ("u.txt", b"via uvicorn")})
        signed = uploaded.json()["url"]
        assert client.get(signed).content == b"via uvicorn"
        assert client.get(signed.split("?")[0]).status_code == 403
