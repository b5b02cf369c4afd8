"""fsspec's own abstract test suite (shipped in the fsspec wheel) over ``genro://`` mounts.

Every class of ``fsspec.tests.abstract`` the installed fsspec exports (copy, get, put, open,
pipe) runs in full (136 tests each) on a local, a memory and an S3 (moto) mount, and once
more on a memory mount with the fast path off (``direct=False``: what mounts without an
fsspec filesystem get). On S3 the 32 glob patterns of copy/get/put cost most: a bulk call
lists each tree once (``_fsspec_snapshot``), so the 136 tests send about 7,700 requests
(about 15 s of CPU on each side of the socket). Each class has its own bucket and each
test its own random prefix: any order, any worker.
Deviations are listed in ``DEVIATIONS`` with their reason and run as strict xfails: if
one starts passing, the suite says so.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fsspec.tests import abstract

from genro_storage import StorageManager
from genro_storage.integrations.fsspec import GenroFileSystem
from tests.remote import add_remote_mount

SUITES = [
    getattr(abstract, name)
    for name in dir(abstract)
    if name.startswith("Abstract") and name.endswith("Tests")
]

#: (mount kind, test name) -> why genro:// behaves differently there
DEVIATIONS: dict[tuple[str, str], str] = {}


def _shared_tree(scenario: str) -> Any:
    """A class-scoped fixture for fsspec's source tree ``scenario``, built by fsspec's own
    builder (``AbstractFixtures._<scenario>``) once per test class."""

    @pytest.fixture(scope="class")
    @classmethod  # type: ignore[misc]  # (a classmethod once assigned in the class body)
    def tree(cls: type, fs: GenroFileSystem) -> Iterator[str]:
        build = getattr(cls(), f"_{scenario}")
        source: str = build(fs, posixpath.join, f"data/shared-{uuid.uuid4().hex[:10]}")
        yield source
        fs.rm(source, recursive=True)

    return tree


class _GenroFixtures(abstract.AbstractFixtures):
    kind = ""
    direct = True  # False: every call through the backend API (mounts with no fsspec fs)

    @pytest.fixture(scope="class")
    @classmethod
    def fs(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GenroFileSystem]:
        manager = StorageManager(env=False)
        if cls.kind == "local":
            root = tmp_path_factory.mktemp("genro-abstract")
            manager.configure([{"name": "data", "type": "local", "path": str(root)}])
        elif cls.kind == "memory":
            base = f"/abstract-{uuid.uuid4().hex[:8]}"
            manager.configure([{"name": "data", "type": "memory", "base_path": base}])
        else:
            add_remote_mount(manager, cls.kind, "data")
        yield GenroFileSystem(manager=manager, direct=cls.direct)
        manager.close()

    @pytest.fixture
    def fs_join(self) -> Any:
        return posixpath.join

    @pytest.fixture
    def fs_path(self) -> str:
        return f"data/{uuid.uuid4().hex[:10]}"

    # The four source trees of the copy/get tests are only read: built once per class
    # rather than once per test (as fsspec's own fixtures do), they spare the S3 class
    # about a third of its requests.
    fs_bulk_operations_scenario_0 = _shared_tree("bulk_operations_scenario_0")
    fs_glob_edge_cases_files = _shared_tree("glob_edge_cases_files")
    fs_dir_and_file_with_same_name_prefix = _shared_tree("dir_and_file_with_same_name_prefix")
    fs_10_files_with_hashed_names = _shared_tree("10_files_with_hashed_names")

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        return self.kind != "s3"

    @pytest.fixture(autouse=True)
    def _deviation(self, request: pytest.FixtureRequest) -> None:
        reason = DEVIATIONS.get((self.kind, request.node.originalname))
        if reason:
            request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


class TestLocalMount(_GenroFixtures, *SUITES):  # type: ignore[misc]
    kind = "local"


class TestMemoryMount(_GenroFixtures, *SUITES):  # type: ignore[misc]
    kind = "memory"


class TestMemoryMountThroughBackendAPI(_GenroFixtures, *SUITES):  # type: ignore[misc]
    kind = "memory"
    direct = False


@pytest.mark.services
class TestS3Mount(_GenroFixtures, *SUITES):  # type: ignore[misc]
    kind = "s3"


def test_every_abstract_suite_runs() -> None:
    names = {suite.__name__ for suite in SUITES}
    assert {"AbstractCopyTests", "AbstractGetTests", "AbstractPutTests"} <= names
    assert {"AbstractOpenTests", "AbstractPipeTests"} <= names
