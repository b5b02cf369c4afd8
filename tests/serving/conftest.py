"""Fixtures for the adapter tests: a manager with local, memory and S3 (moto) mounts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from tests.integrations._site import FILES, build_storage, upload_s3, write_tree
from tests.services import require_services


@pytest.fixture
def site(tmp_path: Path) -> StorageManager:
    """``local`` and ``mem`` mounts holding the test site's files."""
    root = tmp_path / "site"
    root.mkdir()
    write_tree(root)
    storage = StorageManager()
    storage.configure(
        [
            {"name": "local", "type": "local", "path": str(root)},
            {"name": "mem", "type": "memory", "base_path": f"serve-{uuid.uuid4().hex}"},
        ]
    )
    for name, data in FILES.items():
        storage.node(f"mem:{name}").write_bytes(data)
    return storage


@pytest.fixture(scope="module")
def s3_storage() -> StorageManager:
    """An ``s3`` mount on a fresh moto bucket holding the site's files."""
    env = require_services("s3")
    mount = {
        "name": "s3",
        "type": "s3",
        "bucket": upload_s3(env),
        "endpoint_url": env["SVC_S3_ENDPOINT"],
        "key": env["SVC_S3_KEY"],
        "secret": env["SVC_S3_SECRET"],
    }
    return build_storage({"mounts": [mount]})


@pytest.fixture
def fetched(s3_storage: StorageManager, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every byte range the S3 mount fetches: ``(start, end, bytes received)``."""
    fs = s3_storage.get_backend("s3").fs  # type: ignore[attr-defined]
    calls: list[Any] = []
    original = fs.cat_file

    def cat_file(path: str, start: int | None = None, end: int | None = None, **kw: Any) -> bytes:
        data = original(path, start=start, end=end, **kw)
        calls.append((start, end, len(data)))
        return data

    def no_open(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("serving must not open (and read ahead) a remote object")

    monkeypatch.setattr(fs, "cat_file", cat_file)
    monkeypatch.setattr(fs, "open", no_open)
    yield calls
