"""Start ``genro-storage console`` for real (uvicorn on a socket) on local or S3 mounts."""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from genro_storage import StorageManager
from genro_storage.console.seed import sample_pdf, sample_png, sample_wav
from tests import _http
from tests.integrations import servers
from tests.remote import make_bucket, s3_client
from tests.services import require_services

SECRET = "console-test-secret-0123456789abcdef"


@dataclass
class Console:
    """A running console: its URL, the mounts it shows, a manager on the same mounts."""

    url: str
    mounts: list[dict[str, Any]]
    storage: StorageManager
    main: str  # the mount the test works on
    env: dict[str, str]

    @contextlib.contextmanager
    def client(self, **kwargs: Any) -> Iterator[httpx.Client]:
        """An httpx client holding the CSRF cookie, sending the header on every request."""
        with _http.client(base_url=self.url, timeout=30, **kwargs) as client:
            token = client.get("/").cookies.get("genro_csrf")
            assert token, "the page sets the CSRF cookie"
            client.headers["X-CSRF-Token"] = token
            yield client


def mounts_for(kind: str, tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """``local``: a folder; ``s3``: a fresh versioned moto bucket. Both with a memory
    mount to copy to and a read-only view of the main mount's ``docs`` folder."""
    env: dict[str, str] = {}
    if kind == "local":
        root = tmp_path / "local"
        root.mkdir()
        main: dict[str, Any] = {"name": "main", "type": "local", "path": str(root)}
    else:
        env = require_services("s3")
        bucket = make_bucket(env, "console")
        s3_client(env).put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        main = {
            "name": "main",
            "type": "s3",
            "bucket": bucket,
            "endpoint_url": env["SVC_S3_ENDPOINT"],
            "key": env["SVC_S3_KEY"],
            "secret": env["SVC_S3_SECRET"],
        }
    mounts = [
        main,
        {"name": "scratch", "type": "memory", "base_path": f"console-{uuid.uuid4().hex}"},
        {"name": "library", "type": "relative", "path": "main:docs", "permissions": "readonly"},
    ]
    return mounts, env


def seed(storage: StorageManager) -> None:
    """Files worth previewing, a folder, and a read-only document."""
    storage.node("main:docs/readme.md").write_text("# Read me\n\nKept read-only.\n")
    storage.node("main:media/gradient.png").write_bytes(sample_png())
    storage.node("main:media/hello.pdf").write_bytes(sample_pdf())
    storage.node("main:media/chime.wav").write_bytes(sample_wav())
    storage.node("main:notes.txt").write_text("first line\nsecond line\n")
    storage.node("main:code/app.py").write_text("print('hello from the console')\n")


@contextlib.contextmanager
def running_console(
    kind: str, tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[Console]:
    """Configure and seed the mounts, start the console on them, stop it afterwards."""
    mounts, services = mounts_for(kind, tmp_path)
    config = tmp_path / "console.yaml"
    config.write_text(yaml.safe_dump(mounts), encoding="utf-8")
    storage = StorageManager()
    storage.configure(str(config))
    seed(storage)
    port = servers.free_port()
    argv = [
        sys.executable, "-m", "genro_storage.console", "--config", str(config),
        "--port", str(port), *extra,
    ]  # fmt: skip
    log = tmp_path / "console.log"
    with servers.running(
        argv, port, env={"GENRO_CONSOLE_SECRET": SECRET, **(env or {})}, log=log
    ) as url:
        yield Console(url, mounts, storage, "main", services)
    storage.close()


@contextlib.contextmanager
def running_default(tmp_path: Path) -> Iterator[str]:
    """The console as the README's first command starts it: no configuration at all."""
    root = tmp_path / "default"
    root.mkdir(exist_ok=True)
    port = servers.free_port()
    argv = [sys.executable, "-m", "genro_storage.console", "--port", str(port), "--root", str(root)]
    log = tmp_path / "default.log"
    with servers.running(argv, port, env={"GENRO_CONSOLE_SECRET": SECRET}, log=log) as url:
        yield url
