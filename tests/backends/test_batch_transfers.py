"""Trees between a local disk and an object store, on the batch route (real servers).

A tree copy runs each file as a coroutine on the client's own event loop
(``StorageBackend.copy_starter``): no copy worker thread, every byte intact, no temporary
file left; a file the route does not take (over ``SPOOL_LIMIT`` on GCS and Azure) goes
through the worker threads in the same run. Azure uploads keep the threads (every upload
carries the source mtime as metadata, which adlfs' one-request upload would drop).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends.fsspec import SPOOL_LIMIT
from tests.conformance.targets import BY_NAME, writable_config

pytestmark = pytest.mark.services


@pytest.fixture(params=("s3", "gcs", "azure"))
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageManager]:
    target = BY_NAME[request.param]
    config = writable_config(target, target.env(), tmp_path)
    manager = StorageManager()
    manager.configure(
        [{"name": "far", **config}, {"name": "disk", "type": "local", "path": str(tmp_path)}]
    )
    yield manager
    manager.close()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_tree_goes_up_and_back_on_the_clients_loop(
    storage: StorageManager, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    src = tmp_path / "src"
    for i in range(24):
        path = src / f"d{i % 3}" / f"f{i:02d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(200 + i))
    up: list[str] = []
    down: list[str] = []

    def seen(into: list[str]) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            into.extend(t.name for t in threading.enumerate() if t.name.startswith("genro-copy"))

        return progress

    storage.node("disk:src").copy_to("far:tree", progress=seen(up))
    (tmp_path / "back/d0").mkdir(parents=True)
    (tmp_path / "back/d0/f00.bin").write_bytes(b"replaced")
    storage.node("far:tree").copy_to("disk:back", progress=seen(down))

    # Azure uploads keep the threads: adlfs' one-request upload would drop the metadata
    assert (up != []) == (request.node.callspec.params["storage"] == "azure")
    # downloads keep the worker threads by default (batch_downloads), except on S3
    assert (down != []) == (request.node.callspec.params["storage"] != "s3")
    assert _files(tmp_path / "back") == _files(src)  # nothing else: no temp file left


def test_downloads_on_the_clients_loop_when_enabled(
    storage: StorageManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``batch_downloads``: each file fills a temp sibling from the loop, then renamed."""
    src = tmp_path / "src"
    for i in range(12):
        path = src / f"d{i % 3}" / f"f{i:02d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(300 + i))
    storage.node("disk:src").copy_to("far:tree")
    monkeypatch.setattr(type(storage.get_backend("far")), "batch_downloads", True)
    (tmp_path / "back/d0").mkdir(parents=True)
    (tmp_path / "back/d0/f00.bin").write_bytes(b"replaced")
    down: list[str] = []

    def progress(done: int, total: int) -> None:
        down.extend(t.name for t in threading.enumerate() if t.name.startswith("genro-copy"))

    storage.node("far:tree").copy_to("disk:back", progress=progress)
    assert down == []
    assert _files(tmp_path / "back") == _files(src)  # nothing else: no temp file left


def test_a_big_file_takes_the_threads_in_the_same_run(
    storage: StorageManager, tmp_path: Path
) -> None:
    src = tmp_path / "mixed"
    src.mkdir()
    (src / "small.txt").write_bytes(b"small")
    (src / "big.bin").write_bytes(os.urandom(SPOOL_LIMIT + 1024))
    storage.node("disk:mixed").copy_to("far:mixed")
    storage.node("far:mixed").copy_to("disk:mixed-back")
    assert _files(tmp_path / "mixed-back") == _files(src)
