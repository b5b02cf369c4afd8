"""Fixtures of the conformance suite: one mount per backend, fresh for each test.

``storage_mount`` (writable backends) gives a manager with two mounts: ``m``, the backend
under test rooted in an empty place, and ``local``, a local directory for cross-backend
copies. ``tree_mount`` (every backend) gives a mount holding the read fixture under
``tree/``; it is built once per backend and session.
"""

from __future__ import annotations

import contextlib
import shutil
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from tests.conformance.data import BIG_NAME, TREE, big_chunks, big_chunks_ready
from tests.conformance.targets import ALL, WRITABLE, Target, read_only_config, writable_config

#: streaming 50 MiB may hold at most this much Python memory at its peak
FLAT_LIMIT = 20 * 1024 * 1024
# Writes to object stores hold one upload part (S3's minimum is 5 MiB) a few times over:
# the driver's buffer, the part body, the copy botocore signs and checksums, and with
# `upload_file` two parts in flight. Loading the 50 MiB test file whole would cost more
# than 50 MiB (146 MiB measured with s3fs's default single PUT), so this still fails then.
WRITE_FLAT_LIMIT = 40 * 1024 * 1024


@dataclass
class Mount:
    """A configured mount of the backend under test."""

    manager: StorageManager
    target: Target
    name: str = "m"

    def node(self, path: str = "") -> Any:
        return self.manager.node(f"{self.name}:{path}")

    def local(self, path: str = "") -> Any:
        return self.manager.node(f"local:{path}")

    def deviation(self, key: str) -> str | None:
        return self.target.deviation(key)


# Opening the bz2 archive decompresses its 50 MiB member to index it (~10 s): not in the
# fast tier (the other tar compressions run there, through the same code).
_SLOW_TARGETS = {"tar.bz2"}


def _mark(target: Target) -> Any:
    marks = [pytest.mark.services] if target.service else []
    if target.name in _SLOW_TARGETS:
        marks.append(pytest.mark.slow)
    return pytest.param(target, id=target.name, marks=marks)


def _manager(config: dict[str, Any], tmp: Path) -> StorageManager:
    (tmp / "local").mkdir(exist_ok=True)
    config = dict(config)
    make_root = config.pop("_mkdir", False)
    manager = StorageManager()
    manager.configure(
        [{"name": "m", **config}, {"name": "local", "type": "local", "path": str(tmp / "local")}]
    )
    if make_root:
        manager.node("m:").mkdir(parents=True, exist_ok=True)
    return manager


@pytest.fixture(params=[_mark(t) for t in WRITABLE])
def storage_mount(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Mount]:
    target: Target = request.param
    env = target.env()
    manager = _manager(writable_config(target, env, tmp_path), tmp_path)
    yield Mount(manager, target)
    with contextlib.suppress(Exception):
        for child in manager.node("m:").children():  # a mount root itself is never deleted
            child.delete()
    manager.close()


_trees: dict[str, dict[str, Any]] = {}


def _tree_config(target: Target, tmp_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if target.name in _trees:
        return _trees[target.name]
    env = target.env()
    tmp = tmp_factory.mktemp(f"tree-{target.name}")
    if target.writable:
        config = writable_config(target, env, tmp)
        manager = _manager(config, tmp)
        for rel, data in TREE.items():
            manager.node(f"m:tree/{rel}").write_bytes(data)
        manager.node(f"m:tree/{BIG_NAME}").write_stream(big_chunks())
        config.pop("_mkdir", None)
        manager.close()
    else:
        config = read_only_config(target, env, tmp)
    _trees[target.name] = config
    return config


_tree_managers: dict[str, tuple[StorageManager, Path]] = {}


@pytest.fixture(scope="session", autouse=True)
def _close_tree_managers() -> Iterator[None]:
    yield
    for manager, _ in _tree_managers.values():
        manager.close()
    _tree_managers.clear()


@pytest.fixture(params=[_mark(t) for t in ALL])
def tree_mount(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Mount]:
    """The read fixture's mount, opened once per backend (the read contract only reads
    it: an archive backend indexes its file once, not once per test), with an empty
    ``local`` mount for each test. Under pytest-xdist, one worker runs all of a backend's
    tests (``tests/_xdist.py`` GROUPS), so each fixture is built once per run."""
    target: Target = request.param
    if target.name not in _tree_managers:
        tmp = tmp_path_factory.mktemp(f"tree-mount-{target.name}")
        config = _tree_config(target, tmp_path_factory)
        _tree_managers[target.name] = (_manager(config, tmp), tmp / "local")
    manager, local = _tree_managers[target.name]
    shutil.rmtree(local)
    local.mkdir()
    yield Mount(manager, target)


@contextlib.contextmanager
def peak_memory() -> Iterator[dict[str, int]]:
    """Measure the peak of Python allocations (all threads) inside the block."""
    result: dict[str, int] = {}
    big_chunks_ready()  # the test data is built before the measure, not inside it
    tracemalloc.start()
    try:
        yield result
    finally:
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
