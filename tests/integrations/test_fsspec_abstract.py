"""fsspec's own abstract test suite (shipped in the fsspec wheel) over ``genro://`` mounts.

Every class of ``fsspec.tests.abstract`` the installed fsspec exports (copy, get, put, open,
pipe) runs on a local, a memory and an S3 (moto) mount, and once more on a memory mount
with the fast path off (``direct=False``: what mounts without an fsspec filesystem get).
Deviations are listed in ``DEVIATIONS`` with their reason and run as strict xfails: if
one starts passing, the suite says so.
"""

from __future__ import annotations

import inspect
import os
import posixpath
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fsspec.tests import abstract
from fsspec.tests.abstract.common import GLOB_EDGE_CASES_TESTS

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


#: On S3 the glob edge cases (32 patterns x copy/get/put) run on a sample: they exercise
#: GenroFileSystem's path logic, which the local, memory and backend-API classes run in
#: full, while each case costs a few hundred requests to moto (about a minute in all).
S3_GLOB_SAMPLE = [0, 6, 14, 19, 24, 31]


def _sampled(name: str) -> object:
    """The suite's ``name`` test, parametrized on :data:`S3_GLOB_SAMPLE` only."""
    suite = next(s for s in SUITES if hasattr(s, name))
    original = getattr(suite, name)

    def test(self: object, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)

    test.__signature__ = inspect.signature(original)  # type: ignore[attr-defined]
    test.__name__ = name
    values = [GLOB_EDGE_CASES_TESTS["argvalues"][i] for i in S3_GLOB_SAMPLE]
    return pytest.mark.parametrize(GLOB_EDGE_CASES_TESTS["argnames"], values)(test)


@pytest.mark.services
class TestS3Mount(_GenroFixtures, *SUITES):  # type: ignore[misc]
    kind = "s3"
    if not os.environ.get("GENRO_ABSTRACT_S3_FULL"):  # =1: all 32 patterns (minutes)
        test_copy_glob_edge_cases = _sampled("test_copy_glob_edge_cases")
        test_get_glob_edge_cases = _sampled("test_get_glob_edge_cases")
        test_put_glob_edge_cases = _sampled("test_put_glob_edge_cases")


def test_every_abstract_suite_runs() -> None:
    names = {suite.__name__ for suite in SUITES}
    assert {"AbstractCopyTests", "AbstractGetTests", "AbstractPutTests"} <= names
    assert {"AbstractOpenTests", "AbstractPipeTests"} <= names
