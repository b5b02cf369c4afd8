"""``skip='mtime'``: size + modification time from the listings alone (rclone's default).

A local tree is synced onto each kind of destination, against the real servers (moto S3,
fake-gcs, Azurite): the first run copies everything, an unchanged re-run transfers
nothing and sends no per-file request (no HEAD, no GET: counted in the request logs of
botocore, gcsfs and the Azure SDK), and a file changed in place with the same size and a
newer modification time is copied again.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends.fsspec import MTIME_METADATA

NAMES = [f"f{i:02d}.bin" for i in range(6)] + ["sub/g.bin", "sub/deep/h.bin"]
KINDS = ["local", "memory", "s3", "gcs", "azure"]
# the loggers that write one line per HTTP request of each driver
REQUEST_LOGGERS = {
    "s3": "genro_storage",
    "gcs": "gcsfs",
    "azure": "azure.core.pipeline.policies.http_logging_policy",
}


@pytest.fixture(params=KINDS)
def dest(request: pytest.FixtureRequest, storage: StorageManager, tmp_path: Path) -> str:
    kind = request.param
    if kind in ("s3", "gcs", "azure"):
        from tests.remote import add_remote_mount

        add_remote_mount(storage, kind, "dst")
    elif kind == "local":
        (tmp_path / "dst").mkdir()
        storage.add_mount({"name": "dst", "type": "local", "path": str(tmp_path / "dst")})
    else:
        storage.add_mount({"name": "dst", "type": "memory", "base_path": f"m{os.getpid()}"})
    return kind


def make_source(home: Path) -> Path:
    src = home / "src"
    past = time.time() - 3600  # an hour old: distinct from any upload time
    for name in NAMES:
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode() * 10)
        os.utime(path, (past, past))
    return src


def file_requests(records: list[logging.LogRecord], names: list[str]) -> list[str]:
    """Request log lines that name one of the files (a HEAD, GET or PUT of it)."""
    found = []
    for record in records:
        text = record.getMessage()
        if not re.search(r"(request|url|head|get|put|post|list)", text, re.I):
            continue
        if any(name.rsplit("/", 1)[-1] in text for name in names):
            found.append(text)
    return found


def test_unchanged_rerun_transfers_nothing_and_asks_nothing_per_file(
    storage: StorageManager,
    home: Path,
    dest: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src = make_source(home)
    first = storage.node("home:src").sync_to("dst:tree", skip="mtime")
    assert sorted(first.copied) == sorted(NAMES)

    # nothing below the mounts may stat a file: count every stat the backends are asked
    asked: list[str] = []
    for mount in ("home", "dst"):
        backend = storage.get_backend(mount)
        for method in ("info", "exists", "is_file", "is_dir", "get_hash", "compute_md5"):
            real = getattr(backend, method)
            monkeypatch.setattr(
                backend, method, lambda p, *a, _r=real, **k: (asked.append(p), _r(p, *a, **k))[1]
            )
    logger = REQUEST_LOGGERS.get(dest)
    if logger:
        caplog.set_level(logging.DEBUG, logger=logger)
    report = storage.node("home:src").sync_to("dst:tree", skip="mtime")
    assert report.copied == []
    assert sorted(rel for rel, _ in report.skipped) == sorted(NAMES)
    assert {reason for _, reason in report.skipped} <= {
        "same size and modification time",
        "same size, destination newer",
    }
    assert [p for p in asked if p.endswith(".bin")] == []  # only the two roots are stat'ed
    if logger:
        requests = [r for r in caplog.records if r.name.startswith(logger)]
        assert requests, f"no request was logged by {logger}: the count proves nothing"
        assert file_requests(requests, NAMES) == []

    # a file changed in place: same size, newer modification time -> copied again
    changed = src / "sub" / "g.bin"
    changed.write_bytes(changed.read_bytes().upper())
    later = time.time() + 5
    os.utime(changed, (later, later))
    again = storage.node("home:src").sync_to("dst:tree", skip="mtime")
    assert again.copied == ["sub/g.bin"]
    assert storage.node("dst:tree/sub/g.bin").read_bytes() == changed.read_bytes()


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_an_upload_records_the_files_mtime_as_metadata(
    storage: StorageManager, home: Path, kind: str
) -> None:
    from tests.remote import add_remote_mount

    add_remote_mount(storage, kind, "obj")
    path = home / "a.txt"
    path.write_text("hello")
    os.utime(path, (1_700_000_000.25, 1_700_000_000.25))
    storage.node("home:a.txt").copy_to("obj:a.txt")
    stored = storage.node("obj:a.txt").get_metadata()[MTIME_METADATA]
    assert float(stored) == pytest.approx(1_700_000_000.25)
    if kind in ("gcs", "azure"):  # their listings and stats carry it: the copy's mtime
        assert storage.node("obj:a.txt").mtime == pytest.approx(1_700_000_000.25)
        (entry,) = [e for n, e in storage.node("obj:").walk() if e.name == "a.txt"]
        assert entry.mtime == pytest.approx(1_700_000_000.25)


def test_mtime_skip_rule_on_entries() -> None:
    from genro_storage.backends.base import EntryInfo
    from genro_storage.engine.skipping import _same_size_not_older

    def entry(size: int, mtime: float | None) -> EntryInfo:
        return EntryInfo("x", False, size, mtime)

    assert _same_size_not_older(entry(3, 100.0), entry(3, 100.0004)) == (
        "same size and modification time"
    )
    assert _same_size_not_older(entry(3, 100.0), entry(3, 160.0)) == "same size, destination newer"
    assert _same_size_not_older(entry(3, 100.0), entry(3, 99.0)) is None  # source changed
    assert _same_size_not_older(entry(3, 100.0), entry(4, 100.0)) is None  # size differs
    assert _same_size_not_older(entry(3, None), entry(3, 100.0)) is None  # no time: copy


def test_mtime_is_a_skip_strategy(storage: StorageManager) -> None:
    from genro_storage import SkipStrategy

    storage.node("mem:a.txt").write("x")
    storage.node("mem:a.txt").copy_to("mem:b.txt")
    skipped: list[str] = []
    storage.node("mem:a.txt").copy_to(
        "mem:b.txt", skip=SkipStrategy.MTIME, on_skip=lambda n, r: skipped.append(r)
    )
    assert skipped == ["same size, destination newer"] or skipped == [
        "same size and modification time"
    ]
