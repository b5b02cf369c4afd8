"""How pytest-xdist shares the suite among its workers (``scripts/test.sh``: ``-n N
--dist loadgroup``; rules in docs/services.md, "Tests in parallel").

xdist's own ``loadgroup`` sends every test on its own, except tests marked
``@pytest.mark.xdist_group(name)``, which one worker runs together. With pytest 9 that
mark does nothing (xdist 3.8 renames the test by setting ``item._nodeid``, which pytest 9
no longer reads), so the groups are declared here, by test id, and
:class:`Scheduler` (installed by ``tests/conftest.py`` for ``--dist loadgroup``) reads
them; the mark is still honoured should xdist's renaming work again.

Two things decide how long a parallel run takes, beyond its CPU:

* **Per-worker fixtures.** A session or module fixture runs once in *every* worker that
  runs one of its tests. :data:`GROUPS` keeps the tests of an expensive one (a 50 MiB
  read fixture uploaded to a server, a bz2 archive indexed) on one worker.
* **The last long test.** A worker that starts a 60 s test when the others are nearly
  done makes the whole run wait. :data:`FIRST` lists the longest tests and groups (ids or
  id prefixes); every worker puts them first in its collection
  (:func:`order`), and the scheduler hands out work in collection order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from xdist.scheduler import LoadScopeScheduling

#: test id pattern -> group name (``re.Match.expand`` template)
GROUPS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), template)
    for p, template in [
        # the read contract's fixture (tree_mount): 50 MiB uploaded, or an archive indexed
        (
            r"tests/conformance/test_read_contract\.py::\w+\[(libarchive-\w+|s3-obstore|[^\]-]+)",
            r"tree-\1",
        ),
        # collectstatic, then gunicorn and uvicorn, per mount kind (module fixtures)
        (r"tests/integrations/test_django_static\.py::\w+\[(?:\w+-)?(local|s3)\]", r"static-\1"),
        # the site's gunicorn, uvicorn and granian (session fixtures of integrations/conftest)
        (
            r"tests/integrations/test_[aw]sgi_app\.py::(?:\w+::)?\w+\[(gunicorn|uvicorn|granian)[-\]]",
            r"app-\1",
        ),
        (r"tests/integrations/test_[aw]sgi_app\.py::test_traversal_attempt_over_(\w+)", r"app-\1"),
        # seven servers, one per surface (module fixture `running`)
        (r"tests/integrations/test_http_safety\.py::", "http-safety"),
        # nginx in front of gunicorn, then of uvicorn (module fixture)
        (r"tests/integrations/test_nginx_offload\.py::", "nginx-offload"),
        # a settled site (2 s wait), then gunicorn, uvicorn and granian (module fixtures)
        (r"tests/integrations/test_kept_answers\.py::\w+\[(gunicorn|uvicorn|granian)\]", "kept"),
        # one console server per mount kind (module fixture)
        (r"tests/console/test_api\.py::\w+\[(local|s3)(-[^\]]*)?\]", r"console-\1"),
        # a Dask cluster of two worker processes (module fixture)
        (
            r"tests/integrations/test_pydata\.py::"
            r"(test_dask_read_csv_on_worker_processes|test_copy_to_executor_is_a_distributed_client)",
            "dask",
        ),
    ]
]

#: the longest tests and groups (test ids, id prefixes, or group names), longest first
#: (measured with --durations: 100, 80, 25 s... on a quiet machine with 4 workers)
FIRST: tuple[str, ...] = (
    "tests/integrations/test_django_42.py::test_integration_passes_on_django_42",
    "tests/integrations/test_django_contract.py::test_contract_passes_on_django_42",
    "tests/integrations/test_django_streaming.py::test_200_mib_saved_and_read_in_chunks",
    "http-safety",
    "tree-sftp",
    "static-s3",
    "tree-tar.bz2",
    "static-local",
    "tests/conformance/test_fuzz_safety.py::test_hostile_path_corpus_escapes_nothing",
    "tests/conformance/test_write_contract.py::test_fifty_mib_",
    "tests/console/test_browser.py::test_every_action_in_headless_chromium",
)

#: tests that mostly wait (retry back-off through the fault proxy, a rate limit), with
#: little CPU: spread over the first part of the run (:func:`order`), one at a time
#: beside the tests that need the CPU. Last in collection order they ended every run with
#: the cores half idle for about 20 s; all together after FIRST, the four workers waited
#: at once and the cores were idle for 8 s (2026-12-08).
WAITING: tuple[str, ...] = (
    "tests/test_retries.py::test_copies_complete_intact_through_",
    "tests/test_retries.py::test_async_re",
    "tests/test_request_log.py::test_retries_are_logged_with_the_mount_named",
    "tests/test_cli_rclone.py::test_bwlimit_",
)

#: the share of the other tests (in collection order) over which WAITING is spread
WAITING_SPAN = 0.6


def group_of(nodeid: str) -> str | None:
    """The group of the test ``nodeid`` (its work unit), or None when it runs alone."""
    tail = nodeid.rpartition("]")[2] if "[" in nodeid else nodeid.rpartition("::")[2]
    if "@" in tail:  # an xdist_group mark, when xdist manages to apply it
        return nodeid.rpartition("@")[2]
    for pattern, template in GROUPS:
        match = pattern.match(nodeid)
        if match:
            return match.expand(template)
    return None


def _index(nodeid: str, prefixes: tuple[str, ...]) -> int | None:
    unit = group_of(nodeid) or nodeid
    for index, prefix in enumerate(prefixes):
        if unit.startswith(prefix):
            return index
    return None


def rank(nodeid: str) -> int:
    """Where ``nodeid``'s work unit comes in :data:`FIRST` (``len(FIRST)``: not listed)."""
    index = _index(nodeid, FIRST)
    return len(FIRST) if index is None else index


def order(items: Sequence[Any]) -> list[Any]:
    """``items`` with the tests of :data:`FIRST` first, in its order; then the others in
    collection order, with the tests of :data:`WAITING` spread evenly over the first
    :data:`WAITING_SPAN` of them."""
    listed, waiting, rest = [], [], []
    for item in items:
        if rank(item.nodeid) < len(FIRST):
            listed.append(item)
        elif _index(item.nodeid, WAITING) is not None:
            waiting.append(item)
        else:
            rest.append(item)
    result = sorted(listed, key=lambda item: rank(item.nodeid))
    waiting.sort(key=lambda item: _index(item.nodeid, WAITING) or 0)
    gap = max(1, int(len(rest) * WAITING_SPAN / (len(waiting) + 1)))
    for position, item in enumerate(rest, start=1):
        result.append(item)
        if waiting and position % gap == 0:
            result.append(waiting.pop(0))
    return result + waiting


class Scheduler(LoadScopeScheduling):
    """``loadgroup`` with the groups of :func:`group_of`, in collection order: a worker
    that runs out of work gets the next test or group in the order of :func:`order`."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        # xdist would otherwise sort work units by their number of tests
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid) or nodeid
