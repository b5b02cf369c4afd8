"""Every write to an object store records a Content-Type, and the mount's object parameters.

Checked from outside, as a browser would see it: each object is fetched with its presigned
URL (S3 on moto, Azure on Azurite) or from the emulator's download endpoint (fake-gcs; the
anonymous test mount cannot sign), and the response's headers are asserted.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.errors import StorageConfigError
from tests import _http
from tests.conformance.targets import BY_NAME, writable_config

KINDS = ("s3", "gcs", "azure")
PARAMS = {
    "cache_control": "public, max-age=60",
    "content_disposition": "attachment",
    "metadata": {"owner": "site"},
}


class Remote:
    def __init__(self, kind: str, manager: StorageManager, config: dict[str, Any], env: Any):
        self.kind, self.manager, self.config, self.env = kind, manager, config, env

    def fetch(self, path: str) -> dict[str, str]:
        """The headers a client gets for ``m:path`` (lower-cased names), plus GCS fields."""
        if self.kind == "gcs":
            key = f"{self.config['prefix']}/{path}"
            base = self.env["SVC_GCS_ENDPOINT"].rstrip("/")
            obj = f"{base}/storage/v1/b/{self.config['bucket']}/o/{urllib.parse.quote(key, '')}"
            media = _http.get(f"{obj}?alt=media", timeout=30)
            assert media.status_code == 200, media.text
            info = json.loads(_http.get(obj, timeout=30).text)
            headers = {k.lower(): v for k, v in media.headers.items()}
            headers.setdefault("cache-control", info.get("cacheControl", ""))
            headers["content-disposition"] = info.get("contentDisposition", "")
            for name, value in (info.get("metadata") or {}).items():
                headers[f"meta-{name}"] = value
            return headers
        url = self.manager.node(f"m:{path}").url(expires_in=300)
        assert url
        reply = _http.get(url, timeout=30)
        assert reply.status_code == 200, reply.text
        headers = {k.lower(): v for k, v in reply.headers.items()}
        for name, value in reply.headers.items():
            for prefix in ("x-amz-meta-", "x-ms-meta-"):
                if name.lower().startswith(prefix):
                    headers[f"meta-{name.lower()[len(prefix) :]}"] = value
        return headers


def _remote(kind: str, tmp_path: Path, **options: Any) -> Iterator[Remote]:
    target = BY_NAME[kind]
    env = target.env()
    config = writable_config(target, env, tmp_path)
    (tmp_path / "local").mkdir(exist_ok=True)
    manager = StorageManager()
    manager.configure(
        [
            {"name": "m", **config, **options},
            {"name": "local", "type": "local", "path": str(tmp_path / "local")},
        ]
    )
    yield Remote(kind, manager, config, env)
    manager.close()


@pytest.fixture(params=KINDS)
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Remote]:
    yield from _remote(request.param, tmp_path)


@pytest.fixture(params=KINDS)
def with_params(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Remote]:
    yield from _remote(request.param, tmp_path, object_parameters=PARAMS)


def content_type(headers: dict[str, str]) -> str:
    return headers["content-type"].split(";")[0].strip()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("site/style.css", "text/css"),
        ("app.js", "text/javascript"),
        ("logo.png", "image/png"),
        ("page.html", "text/html"),
        ("data.unknownext", "application/octet-stream"),
        ("bundle.css.gz", "application/gzip"),
    ],
)
def test_write_bytes_sets_the_type_from_the_name(remote: Remote, name: str, expected: str) -> None:
    remote.manager.node(f"m:{name}").write_bytes(b"body")
    assert content_type(remote.fetch(name)) == expected


def test_open_for_writing_sets_the_type(remote: Remote) -> None:
    with remote.manager.node("m:written.css").open("wb") as fh:
        fh.write(b"body { color: red }")
    assert content_type(remote.fetch("written.css")) == "text/css"


def test_a_long_stream_sets_the_type(remote: Remote) -> None:
    chunk = b"x" * (1024 * 1024)
    remote.manager.node("m:big.js").write_stream(chunk for _ in range(9))  # multipart upload
    headers = remote.fetch("big.js")
    assert content_type(headers) == "text/javascript"
    assert int(headers["content-length"]) == 9 * len(chunk)


def test_copy_from_a_local_mount_sets_the_type(remote: Remote) -> None:
    remote.manager.node("local:pic.png").write_bytes(b"\x89PNG fake")
    remote.manager.node("local:pic.png").copy_to(remote.manager.node("m:copied/pic.png"))
    assert content_type(remote.fetch("copied/pic.png")) == "image/png"


def test_an_uploads_own_type_wins(remote: Remote) -> None:
    backend = remote.manager.get_backend("m")
    backend.save_stream("upload.bin", iter([b"data"]), content_type="image/webp")
    assert content_type(remote.fetch("upload.bin")) == "image/webp"


def test_exclusive_save_refuses_an_existing_object(remote: Remote) -> None:
    backend = remote.manager.get_backend("m")
    backend.save_stream("once.txt", iter([b"first"]), exclusive=True)
    with pytest.raises(FileExistsError):
        backend.save_stream("once.txt", iter([b"second"]), exclusive=True)
    assert remote.manager.node("m:once.txt").read_bytes() == b"first"


def test_exclusive_long_stream_refuses_an_existing_object(remote: Remote) -> None:
    if remote.kind == "gcs":
        pytest.skip(
            "fake-gcs ignores ifGenerationMatch=0 on resumable uploads (GCS honours it; "
            "gcsfs sends it): the small-object path above is checked instead"
        )
    backend = remote.manager.get_backend("m")
    remote.manager.node("m:big.bin").write_bytes(b"kept")
    chunk = b"y" * (1024 * 1024)
    with pytest.raises(FileExistsError):
        backend.save_stream("big.bin", (chunk for _ in range(9)), exclusive=True)
    assert remote.manager.node("m:big.bin").read_bytes() == b"kept"


def test_object_parameters_apply_to_every_object(with_params: Remote) -> None:
    with_params.manager.node("m:report.pdf").write_bytes(b"%PDF")
    headers = with_params.fetch("report.pdf")
    assert content_type(headers) == "application/pdf"
    assert headers["cache-control"] == "public, max-age=60"
    assert headers["content-disposition"] == "attachment"
    assert headers["meta-owner"] == "site"


def test_async_writes_record_the_same_headers(with_params: Remote) -> None:
    """The async API sends small writes natively on the event loop (no worker thread):
    the object gets the same Content-Type and object parameters as a sync write, through
    the node, its short async streams and the genro:// filesystem's async face."""
    from genro_storage.aio import AsyncStorageManager
    from genro_storage.integrations.fsspec import GenroFileSystem

    async def chunks() -> Any:
        yield b"body { color: red }"

    async def write() -> None:
        nodes = AsyncStorageManager(with_params.manager)
        await nodes.node("m:a/report.pdf").write_bytes(b"%PDF")
        await nodes.node("m:a/style.css").write_stream(chunks())
        genro = GenroFileSystem(with_params.manager, asynchronous=True, skip_instance_cache=True)
        await genro._pipe_file("m/a/page.html", b"<p>")

    asyncio.run(write())
    for name, expected in (("report.pdf", "application/pdf"), ("style.css", "text/css"),
                           ("page.html", "text/html")):  # fmt: skip
        headers = with_params.fetch(f"a/{name}")
        assert content_type(headers) == expected, (name, headers)
        assert headers["cache-control"] == "public, max-age=60", (name, headers)
        assert headers["meta-owner"] == "site", (name, headers)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("max-age=1", "must be a dict"),
        ({"expires": "soon"}, "unknown object_parameters key 'expires'"),
        ({"cache_control": 60}, "must be a string"),
        ({"metadata": {"n": 1}}, "dict of str to str"),
    ],
)
def test_bad_object_parameters_name_the_mount(value: Any, message: str) -> None:
    manager = StorageManager()
    with pytest.raises(StorageConfigError, match=message) as caught:
        manager.configure(
            [{"name": "bad", "type": "s3", "bucket": "b", "object_parameters": value}]
        )
        manager.get_backend("bad")
    assert "'bad'" in str(caught.value)


def test_s3_spelling_of_object_parameters_is_accepted(tmp_path: Path) -> None:
    from genro_storage.backends._objectparams import parse_object_parameters

    params = parse_object_parameters(
        {"CacheControl": "max-age=5", "ContentDisposition": "inline", "Metadata": {"a": "b"}}, "m"
    )
    assert params.headers == {"cache_control": "max-age=5", "content_disposition": "inline"}
    assert params.metadata == {"a": "b"}
    assert params.for_object("x/y.css")["content_type"] == "text/css"


def test_flask_upload_keeps_its_declared_type(remote: Remote) -> None:
    pytest.importorskip("flask")
    import io

    from werkzeug.datastructures import FileStorage

    from genro_storage.integrations.flask import save_upload

    upload = FileStorage(
        io.BytesIO(b"RIFF....WEBP"), filename="photo.bin", content_type="image/webp"
    )
    save_upload(upload, remote.manager.node("m:photo.bin"))
    assert content_type(remote.fetch("photo.bin")) == "image/webp"


def test_a_relative_mount_passes_the_type_on(remote: Remote) -> None:
    remote.manager.configure([{"name": "rel", "path": "m:sub", "permissions": "readwrite"}])
    remote.manager.node("rel:x.bin").write_stream(iter([b"x"]), content_type="font/woff2")
    assert content_type(remote.fetch("sub/x.bin")) == "font/woff2"


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_the_command_line_sets_the_type(remote: Remote, tmp_path: Path, source: str) -> None:
    import os
    import subprocess
    import sys

    import yaml

    root = Path(__file__).resolve().parents[2]
    config = tmp_path / "cli.yaml"
    config.write_text(yaml.safe_dump([{"name": "m", **remote.config}]))
    local = tmp_path / "page.svg"
    local.write_bytes(b"<svg/>")
    args = [str(local) if source == "file" else "-", "m:cli/page.svg"]
    run = subprocess.run(
        [sys.executable, "-m", "genro_storage", "--config", str(config), "put", *args],
        input=b"<svg/>" if source == "stdin" else None,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert content_type(remote.fetch("cli/page.svg")) == "image/svg+xml"


def test_a_tree_copy_sets_type_and_parameters_of_every_object(
    with_params: Remote, tmp_path: Path
) -> None:
    """Trees take the batch route (each file a coroutine on the client's loop): the same
    headers and metadata as a single write."""
    tree = tmp_path / "local/tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.css").write_bytes(b"body {}")
    (tree / "sub/b.pdf").write_bytes(b"%PDF")
    with_params.manager.node("local:tree").copy_to("m:tree")
    for name, expected in (("tree/a.css", "text/css"), ("tree/sub/b.pdf", "application/pdf")):
        headers = with_params.fetch(name)
        assert content_type(headers) == expected
        assert headers["cache-control"] == "public, max-age=60"
        assert headers["content-disposition"] == "attachment"
        assert headers["meta-owner"] == "site"
