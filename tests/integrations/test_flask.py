"""The Flask extension with Flask's test client and under gunicorn."""

from __future__ import annotations

import io
import re
import tracemalloc
from pathlib import Path

import pytest

pytest.importorskip("flask")

from flask import Flask, render_template_string, url_for
from werkzeug.datastructures import FileStorage

from genro_storage import StorageManager
from genro_storage.errors import StorageConfigError
from genro_storage.integrations.flask import GenroStorage, StorageState, save_upload
from tests import _http
from tests.integrations import servers
from tests.integrations.apps.flask_factory import create_app

PAYLOAD = bytes(range(256)) * 512  # 128 KiB


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(str(tmp_path))


@pytest.fixture
def public(tmp_path: Path) -> Path:
    return tmp_path / "public"


# ---------------------------------------------------------------- extension wiring
def test_state_lives_in_app_extensions(app: Flask) -> None:
    state = app.extensions["genro_storage"]
    assert isinstance(state, StorageState)
    assert state.manager.get_mount_names() == ["public", "private", "unserved"]


def test_one_extension_serves_several_apps(tmp_path: Path) -> None:
    first = create_app(str(tmp_path / "a"))
    second = create_app(str(tmp_path / "b"))
    (tmp_path / "a/public/x.txt").write_text("from a")
    (tmp_path / "b/public/x.txt").write_text("from b")
    assert first.test_client().get("/files/public/x.txt").data == b"from a"
    assert second.test_client().get("/files/public/x.txt").data == b"from b"


def test_extension_outside_an_app_context_says_so() -> None:
    storage = GenroStorage()
    with Flask(__name__).app_context(), pytest.raises(RuntimeError, match="init_app"):
        storage.manager  # noqa: B018


def test_an_existing_manager_can_be_passed(tmp_path: Path) -> None:
    manager = StorageManager()
    manager.configure([{"name": "m", "type": "local", "path": str(tmp_path)}])
    app = Flask(__name__)
    app.config["GENRO_STORAGE_SERVE"] = ["m"]
    GenroStorage(app, manager=manager)
    (tmp_path / "f.txt").write_text("hi")
    assert app.test_client().get("/files/m/f.txt").data == b"hi"


def test_missing_mounts_config_is_an_error() -> None:
    with pytest.raises(StorageConfigError, match="GENRO_STORAGE_MOUNTS"):
        GenroStorage(Flask(__name__))


@pytest.mark.parametrize(
    "serve",
    [{"public": {"colour": "red"}}, {"nosuchmount": {}}, {"public": {"private": True}}],
)
def test_bad_serve_config_is_an_error(tmp_path: Path, serve: dict) -> None:
    with pytest.raises(StorageConfigError):
        create_app(str(tmp_path), GENRO_STORAGE_SERVE=serve, SECRET_KEY=None)


def test_mounts_from_a_yaml_file(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("yaml")
    config = tmp_path / "mounts.yaml"
    config.write_text(f"- name: y\n  type: local\n  path: {root}\n", encoding="utf-8")
    app = Flask(__name__)
    app.config.update(GENRO_STORAGE_MOUNTS=str(config), GENRO_STORAGE_SERVE="y")
    GenroStorage(app)
    assert app.test_client().get("/files/y/a.txt").data == b"yaml"


def test_url_prefix_is_configurable(tmp_path: Path) -> None:
    app = create_app(str(tmp_path), GENRO_STORAGE_URL_PREFIX="/media")
    (tmp_path / "public/p.txt").write_text("p")
    client = app.test_client()
    assert client.get("/media/public/p.txt").data == b"p"
    assert client.get("/files/public/p.txt").status_code == 404


def test_no_blueprint_when_the_prefix_is_none(tmp_path: Path) -> None:
    app = create_app(str(tmp_path), GENRO_STORAGE_URL_PREFIX=None)
    assert "genro_storage" not in app.blueprints


# ---------------------------------------------------------------- serving
def test_serve_etag_range_304_and_head(app: Flask, public: Path) -> None:
    (public / "data.bin").write_bytes(PAYLOAD)
    client = app.test_client()
    first = client.get("/files/public/data.bin")
    assert first.status_code == 200
    assert first.data == PAYLOAD
    assert first.headers["Cache-Control"] == "max-age=60"
    assert first.headers["Content-Type"] == "application/octet-stream"
    etag = first.headers["ETag"]
    assert client.get("/files/public/data.bin", headers={"If-None-Match": etag}).status_code == 304
    partial = client.get("/files/public/data.bin", headers={"Range": "bytes=10-19"})
    assert partial.status_code == 206
    assert partial.data == PAYLOAD[10:20]
    assert partial.headers["Content-Range"] == f"bytes 10-19/{len(PAYLOAD)}"
    head = client.head("/files/public/data.bin")
    assert head.headers["Content-Length"] == str(len(PAYLOAD))
    assert head.data == b""


def test_whole_local_file_reaches_the_servers_file_wrapper(app: Flask, public: Path) -> None:
    from werkzeug.test import EnvironBuilder

    class ServerWrapper:  # stands for gunicorn's FileWrapper, which it sendfile()s
        def __init__(self, filelike, block_size: int = 8192) -> None:
            self.filelike = filelike

        def __iter__(self):
            return iter(lambda: self.filelike.read(8192), b"")

        def close(self) -> None:
            self.filelike.close()

    (public / "data.bin").write_bytes(PAYLOAD)
    environ = EnvironBuilder(path="/files/public/data.bin").get_environ()
    environ["wsgi.file_wrapper"] = ServerWrapper
    result = app(environ, lambda status, headers, exc_info=None: None)
    try:
        assert isinstance(result, ServerWrapper)
        assert b"".join(result) == PAYLOAD
    finally:
        result.close()


def test_text_gets_a_charset(app: Flask, public: Path) -> None:
    (public / "n.txt").write_text("note")
    response = app.test_client().get("/files/public/n.txt")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/files/unserved/x.txt",
        "/files/nosuch/x.txt",
        "/files/public/missing.txt",
        "/files/public/%2e%2e/private/s.txt",
        "/files/public/..%2fprivate/s.txt",
        "/files/public/a%5c..%5cb",
    ],
)
def test_refusals_are_404(app: Flask, tmp_path: Path, path: str) -> None:
    (tmp_path / "private/s.txt").write_text("secret")
    assert app.test_client().get(path).status_code == 404


def test_private_mount_needs_a_signed_link(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "private/s.txt").write_text("secret")
    client = app.test_client()
    url = client.get("/link/private/s.txt").json["url"]
    assert re.fullmatch(r"/files/private/s\.txt\?expires=\d+&signature=[\w-]+", url)
    assert client.get(url).data == b"secret"
    assert client.get("/files/private/s.txt").status_code == 403
    assert client.get(url.replace("s.txt", "t.txt")).status_code in (403, 404)


def test_url_for_the_endpoint_and_the_template_global(app: Flask) -> None:
    with app.test_request_context():
        assert url_for("genro_storage.serve", mount="public", path="a b.txt") == (
            "/files/public/a%20b.txt"
        )
        rendered = render_template_string("{{ genro_storage_url('public:dir/x.pdf') }}")
        assert rendered == "/files/public/dir/x.pdf"
        with pytest.raises(ValueError, match="not in GENRO_STORAGE_SERVE"):
            GenroStorage().url_for("unserved:x")


# ---------------------------------------------------------------- uploads
def test_upload_through_the_client_with_save_upload(app: Flask, public: Path) -> None:
    client = app.test_client()
    response = client.post(
        "/upload/public", data={"file": (io.BytesIO(PAYLOAD), "../../my report.pdf")}
    )
    assert response.status_code == 200
    data = response.json
    assert data["fullpath"] == "public:my_report.pdf"  # secure_filename, no traversal
    assert (public / "my_report.pdf").read_bytes() == PAYLOAD
    assert client.get(data["url"]).data == PAYLOAD


def test_save_upload_to_an_explicit_node(tmp_path: Path) -> None:
    manager = StorageManager()
    manager.configure([{"name": "m", "type": "local", "path": str(tmp_path)}])
    upload = FileStorage(io.BytesIO(b"abc"), filename="x.txt")
    node = save_upload(upload, manager.node("m:deep/dir/renamed.txt"))
    assert node.fullpath == "m:deep/dir/renamed.txt"
    assert (tmp_path / "deep/dir/renamed.txt").read_bytes() == b"abc"


class _Generated(io.RawIOBase):
    """``size`` pseudo-random bytes produced on read, never held at once."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.left)
        buffer[:n] = b"\x5a" * n
        self.left -= n
        return n


def test_save_upload_streams_without_holding_the_file(tmp_path: Path) -> None:
    manager = StorageManager()
    manager.configure([{"name": "m", "type": "local", "path": str(tmp_path)}])
    size = 64 * 1024 * 1024
    upload = FileStorage(_Generated(size), filename="big.bin")
    tracemalloc.start()
    try:
        save_upload(upload, manager.node("m:big.bin"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tmp_path / "big.bin").stat().st_size == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while saving {size}"


# ---------------------------------------------------------------- gunicorn
def test_under_gunicorn(tmp_path: Path) -> None:
    port = servers.free_port()
    (tmp_path / "public").mkdir()
    (tmp_path / "public/data.bin").write_bytes(PAYLOAD * 8)
    argv = servers.gunicorn("tests.integrations.apps.flask_factory:create_app()", port)
    with (
        servers.running(
            argv, port, env={"GENRO_TEST_ROOT": str(tmp_path)}, log=tmp_path / "gunicorn.log"
        ) as base,
        _http.client(base_url=base, timeout=10) as client,
    ):
        whole = client.get("/files/public/data.bin")
        assert whole.status_code == 200
        assert whole.content == PAYLOAD * 8  # sendfile through gunicorn's file_wrapper
        etag = whole.headers["etag"]
        assert (
            client.get("/files/public/data.bin", headers={"If-None-Match": etag}).status_code == 304
        )
        part = client.get("/files/public/data.bin", headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.content == (PAYLOAD * 8)[1000:2000]

        uploaded = client.post("/upload/private", files={"file": ("up.txt", b"uploaded!")})
        assert uploaded.status_code == 200
        signed = uploaded.json()["url"]
        assert client.get(signed).content == b"uploaded!"
        assert client.get(signed.split("?")[0]).status_code == 403
