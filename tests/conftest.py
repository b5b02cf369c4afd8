"""Shared fixtures: a manager with local, memory and base64 mounts, isolated per test."""

from __future__ import annotations

import gc
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from genro_storage import StorageManager

# No per-example deadline: on the shared machine a 0.2 ms example took 300 ms once (the
# scheduler, not the code), which hypothesis reports as a flaky failure. The fast tier also
# tries fewer generated examples per property (tests that set their own max_examples keep
# it); the full run keeps hypothesis's default of 100.
settings.register_profile("suite", deadline=None)
settings.register_profile("fast", parent=settings.get_profile("suite"), max_examples=20)
settings.load_profile("fast" if os.environ.get("GENRO_FAST") == "1" else "suite")

# slipcover (scripts/test.sh) has read the workers' shared coverage folder when this file
# loads. Children must not see it: a child pytest would write its report there as this
# worker, a child slipcover would merge the folder and remove it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("SLIPCOVER_COVERAGE_DIR", None)


@pytest.fixture
def storage(tmp_path: Path) -> StorageManager:
    """Mounts: ``home`` (local tmp dir), ``mem`` (memory, private base path), ``data`` (base64)."""
    manager = StorageManager()
    (tmp_path / "home").mkdir()
    manager.configure(
        [
            {"name": "home", "type": "local", "path": str(tmp_path / "home")},
            {"name": "mem", "type": "memory", "base_path": f"test-{uuid.uuid4().hex}"},
            {"name": "data", "type": "base64"},
        ]
    )
    return manager


@pytest.fixture
def home(tmp_path: Path, storage: StorageManager) -> Path:
    """The directory behind the ``home`` mount."""
    return tmp_path / "home"


# Tests that start a web server process carry the `server` marker, so that the fast tier
# (`bash scripts/test.sh --fast`) can leave them out: every test whose id names a server
# (parametrised clients and surfaces: gunicorn, uvicorn, nginx...), and the modules and
# tests listed here, whose servers do not show in the id.
_SERVER_WORDS = ("gunicorn", "uvicorn", "granian", "nginx", "chromium")
_SERVER_MODULES = {
    "tests/integrations/test_http_safety.py",
    "tests/integrations/test_nginx_offload.py",
    "tests/integrations/test_example_projects.py",
    "tests/test_demo.py",
    "tests/console/test_api.py",
    "tests/console/test_browser.py",
    "tests/integrations/test_pydata.py",  # a Dask cluster of worker processes
}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection made, about 300,000 objects that live to the end: modules,
    classes, test items. Python's full garbage collections, automatic or a test's own
    ``gc.collect()`` (tests waiting for a finalizer), then skip them. On the remote-error,
    safety and fsspec tests, with the whole suite collected, full collections took 5.3 s
    instead of 21 s, and the process 44 s of CPU instead of 63 (2026-12-07)."""
    gc.collect()
    gc.freeze()


#: tests between two more freezes (:func:`pytest_runtest_logfinish`)
FREEZE_EVERY = 200
_finished = 0


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Freeze again, every :data:`FREEZE_EVERY` tests, what lives on after them: the
    modules, client libraries and session fixtures the tests brought in, which every full
    collection scanned again (in a whole run the workers' full collections took 130 ms
    each, 25 s of CPU in all; about 100 are the tests' own ``gc.collect()``). Objects
    frozen here that become cyclic garbage later (a module fixture's) are freed only by
    their reference counts; a test's own objects are never frozen before it ends."""
    global _finished
    _finished += 1
    if _finished % FREEZE_EVERY == 0:
        gc.collect()
        gc.freeze()


@pytest.fixture
def own_garbage() -> None:
    """For a test whose ``gc.collect()`` runs the finalizers of objects it made: that
    collection then scans only what was made after this fixture (under 1 ms, where a full
    collection of a worker took 50-130 ms). Collects the young generations, then freezes
    everything alive: the old generation's garbage, if any, stays until the worker ends."""
    gc.collect(1)
    gc.freeze()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if module in _SERVER_MODULES or any(w in item.nodeid for w in _SERVER_WORDS):
            item.add_marker(pytest.mark.server)
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the longest tests first (tests/_xdist.py)
        from tests._xdist import order

        items[:] = order(items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``: the groups and order of :mod:`tests._xdist`."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests._xdist import Scheduler

    return Scheduler(config, log)
