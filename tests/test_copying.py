"""copy_to / move_to on the embedded backends: simple and tracked copies, skips, filters."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import genro_storage.engine.copying as copying
from genro_storage import SkipStrategy, StorageManager
from genro_storage.backends import fsspec as fsspec_backend
from genro_storage.engine.skipping import _PartHasher, multipart_etag_matches
from genro_storage.errors import CopyError

PAIRS = [("home", "mem"), ("mem", "home"), ("home", "home"), ("mem", "mem")]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}-to-{p[1]}")
def pair(request: pytest.FixtureRequest, storage: StorageManager) -> tuple[str, str]:
    return request.param


def make_tree(storage: StorageManager, where: str) -> None:
    for rel, text in {
        "a.py": "a",
        "b.txt": "bb",
        "sub/c.py": "ccc",
        "sub/deep/d.txt": "dddd",
        "__pycache__/x.pyc": "x",
    }.items():
        storage.node(f"{where}/{rel}").write(text)


def tree(storage: StorageManager, where: str) -> dict[str, str]:
    root = storage.node(where)
    out = {}
    for node, entry in root.walk():
        if not entry.is_dir:
            out[entry.path[len(root.path or "") :].lstrip("/")] = node.read()
    return out


def test_copy_file_returns_dest_object(storage: StorageManager, pair: tuple[str, str]) -> None:
    src_mount, dst_mount = pair
    src = storage.node(f"{src_mount}:s/f.txt")
    src.write("content")
    dest = storage.node(f"{dst_mount}:d/g.txt")
    assert src.copy_to(dest) is dest
    assert dest.read() == "content" and src.exists


def test_copy_to_string_destination(storage: StorageManager) -> None:
    storage.node("home:f.txt").write("s")
    result = storage.node("home:f.txt").copy_to("mem:g.txt")
    assert result.fullpath == "mem:g.txt" and result.read() == "s"


def test_copy_missing_source(storage: StorageManager) -> None:
    with pytest.raises(FileNotFoundError, match="Source not found: home:ghost"):
        storage.node("home:ghost").copy_to("mem:x")


def test_copy_tree_merges_into_existing_dest(
    storage: StorageManager, pair: tuple[str, str]
) -> None:
    src_mount, dst_mount = pair
    make_tree(storage, f"{src_mount}:src")
    storage.node(f"{dst_mount}:dst/existing.txt").write("keep")
    storage.node(f"{src_mount}:src").copy_to(storage.node(f"{dst_mount}:dst"))
    copied = tree(storage, f"{dst_mount}:dst")
    assert copied["existing.txt"] == "keep"
    assert copied["sub/deep/d.txt"] == "dddd" and copied["a.py"] == "a"


def test_copy_empty_directory(storage: StorageManager, pair: tuple[str, str]) -> None:
    src_mount, dst_mount = pair
    storage.node(f"{src_mount}:empty").mkdir()
    storage.node(f"{src_mount}:empty").copy_to(f"{dst_mount}:empty-copy")
    assert storage.node(f"{dst_mount}:empty-copy").isdir


def test_file_onto_existing_directory_lands_inside(storage: StorageManager) -> None:
    storage.node("home:f.txt").write("x")
    storage.node("mem:dir").mkdir()
    storage.node("home:f.txt").copy_to("mem:dir")
    assert storage.node("mem:dir/f.txt").read() == "x"


def test_include_exclude_filter_and_reasons(storage: StorageManager) -> None:
    make_tree(storage, "home:src")
    skipped: list[tuple[str, str]] = []
    storage.node("home:src").copy_to(
        "mem:out",
        include=["*.py", "*.txt"],
        exclude="__pycache__/*",
        filter=lambda node, rel: not rel.endswith("b.txt"),
        on_skip=lambda node, reason: skipped.append((node.basename, reason)),
    )
    assert sorted(tree(storage, "mem:out")) == ["a.py", "sub/c.py", "sub/deep/d.txt"]
    reasons = dict(skipped)
    assert reasons["b.txt"] == "filtered by custom function"
    assert reasons["x.pyc"] == "not matching include patterns"


def test_exclude_reason_names_the_pattern(storage: StorageManager) -> None:
    make_tree(storage, "home:src")
    skipped: dict[str, str] = {}
    storage.node("home:src").copy_to(
        "mem:o", exclude=["*.txt"], on_skip=lambda n, r: skipped.__setitem__(n.basename, r)
    )
    assert skipped["b.txt"] == "matching exclude pattern '*.txt'"
    assert storage.node("mem:o/sub/deep").isdir  # directories are mirrored even when emptied


def test_filter_error_skips_the_file(storage: StorageManager) -> None:
    storage.node("home:src/a.txt").write("a")

    def bad(node: object, rel: str) -> bool:
        raise RuntimeError("boom")

    reasons: list[str] = []
    storage.node("home:src").copy_to("mem:o", filter=bad, on_skip=lambda n, r: reasons.append(r))
    assert reasons == ["filter error: boom"]


def test_progress_counts_every_kept_file_in_order(storage: StorageManager) -> None:
    make_tree(storage, "home:src")
    calls: list[tuple[int, int]] = []
    storage.node("home:src").copy_to("mem:o", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, 5) for i in range(1, 6)]


@pytest.mark.parametrize(
    ("skip", "change", "expect_copied", "reason_part"),
    [
        ("exists", "zzzz", False, "destination exists"),
        ("size", "zzzz", False, "same size (4 bytes)"),
        ("size", "zzzzz", True, None),
        ("hash", "zzzz", True, None),
        ("hash", "dddd", False, "same content (MD5: "),
        (SkipStrategy.NEVER, "dddd", True, None),
    ],
)
def test_skip_strategies(
    storage: StorageManager, skip: object, change: str, expect_copied: bool, reason_part: str | None
) -> None:
    storage.node("home:src/d.txt").write("dddd")
    storage.node("mem:dst/d.txt").write(change)
    copied, skipped = [], []
    storage.node("home:src").copy_to(
        "mem:dst",
        skip=skip,  # type: ignore[arg-type]
        on_file=lambda n: copied.append(n.basename),
        on_skip=lambda n, r: skipped.append(r),
    )
    assert (copied == ["d.txt"]) is expect_copied
    if reason_part:
        assert reason_part in skipped[0]
    assert storage.node("mem:dst/d.txt").read() == ("dddd" if expect_copied else change)


def test_skip_custom_requires_function(storage: StorageManager) -> None:
    storage.node("home:f").write("x")
    with pytest.raises(ValueError, match="requires skip_fn"):
        storage.node("home:f").copy_to("mem:f", skip="custom")


def test_skip_custom_called_only_when_dest_exists(storage: StorageManager) -> None:
    storage.node("home:src/a").write("a")
    storage.node("home:src/b").write("b")
    storage.node("mem:dst/a").write("old")
    seen: list[str] = []

    def decide(src: object, dest: object) -> bool:
        seen.append(str(dest))
        return True

    skipped: list[str] = []
    storage.node("home:src").copy_to(
        "mem:dst", skip="custom", skip_fn=decide, on_skip=lambda n, r: skipped.append(r)
    )
    assert seen == ["mem:dst/a"]
    assert skipped == ["custom function returned True"]
    assert storage.node("mem:dst/b").read() == "b"


def test_unknown_skip_value_is_refused(storage: StorageManager) -> None:
    storage.node("home:f").write("x")
    with pytest.raises(ValueError, match="Unknown skip strategy"):
        storage.node("home:f").copy_to("mem:f", skip="sometimes")


def test_single_file_tracked_copy_skips_and_reports(storage: StorageManager) -> None:
    storage.node("home:f.txt").write("x")
    storage.node("mem:f.txt").write("x")
    progress, reasons = [], []
    storage.node("home:f.txt").copy_to(
        "mem:f.txt",
        skip="hash",
        progress=lambda *a: progress.append(a),
        on_skip=lambda n, r: reasons.append(r),
    )
    assert progress == [] and reasons[0].startswith("same content")


def test_failed_files_do_not_abort_the_others(storage: StorageManager) -> None:
    for name in ("a", "b", "c"):
        storage.node(f"home:src/{name}.txt").write(name)
    # a directory where a file should go makes that one file fail
    storage.node("home:dst/b.txt/blocker").write("x")
    with pytest.raises(CopyError) as info:
        storage.node("home:src").copy_to("home:dst", on_file=lambda n: None)
    assert [path for path, _ in info.value.failures] == ["home:src/b.txt"]
    assert "home:src/b.txt" in str(info.value)
    assert storage.node("home:dst/a.txt").read() == "a"
    assert storage.node("home:dst/c.txt").read() == "c"


def test_move_file_mutates_node_in_place(storage: StorageManager) -> None:
    node = storage.node("home:m.txt")
    node.write("move me")
    same = node.move_to("mem:moved/m.txt")
    assert same is node and node.fullpath == "mem:moved/m.txt"
    assert node.read() == "move me" and not storage.node("home:m.txt").exists


def test_move_tree(storage: StorageManager) -> None:
    make_tree(storage, "mem:t")
    storage.node("mem:t").move_to("home:t2")
    assert not storage.node("mem:t").exists
    assert tree(storage, "home:t2")["sub/c.py"] == "ccc"


def test_copy_into_base64_keeps_data(storage: StorageManager) -> None:
    storage.node("home:img.bin").write_bytes(b"\x89PNG")
    target = storage.node("data:")
    storage.node("home:img.bin").copy_to(target)
    assert target.read_bytes() == b"\x89PNG" and target.path == "iVBORw=="


def test_copy_from_base64(storage: StorageManager) -> None:
    storage.node("data:aGk=").copy_to("mem:from64.txt")
    assert storage.node("mem:from64.txt").read() == "hi"


# ---------------------------------------------------------------------- the concurrent engine


def make_flat(storage: StorageManager, where: str, count: int, size: int = 10) -> None:
    for i in range(count):
        storage.node(f"{where}/f{i:03d}.bin").write_bytes(bytes([i % 256]) * size)


def test_tree_copy_runs_files_concurrently_up_to_max_workers(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_flat(storage, "home:src", 24)
    lock, active, peak = threading.Lock(), [0], [0]
    real = copying._transfer

    def slow_transfer(src: object, dest: object) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        real(src, dest)  # type: ignore[arg-type]
        with lock:
            active[0] -= 1

    monkeypatch.setattr(copying, "_transfer", slow_transfer)
    storage.node("home:src").copy_to("mem:dst", max_workers=4)
    assert peak[0] == 4
    assert len(tree(storage, "mem:dst")) == 24


def _record_transfer_threads(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The names of the threads the engine's ``_transfer`` runs on, from now on."""
    threads: set[str] = set()
    real = copying._transfer
    monkeypatch.setattr(
        copying,
        "_transfer",
        lambda s, d: (threads.add(threading.current_thread().name), real(s, d)),
    )
    return threads


def test_max_workers_one_copies_serially(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_flat(storage, "home:src", 5)
    threads = _record_transfer_threads(monkeypatch)
    storage.node("home:src").copy_to("mem:dst", max_workers=1)
    assert threads == {threading.current_thread().name}


def test_a_backend_can_cap_the_concurrency(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_flat(storage, "mem:src", 5)
    monkeypatch.setattr(storage.get_backend("mem"), "max_concurrency", 1, raising=False)
    threads = _record_transfer_threads(monkeypatch)
    storage.node("mem:src").copy_to("home:dst", max_workers=8)
    assert threads == {threading.current_thread().name}


def test_progress_and_callbacks_stay_in_walk_order_under_concurrency(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_flat(storage, "home:src", 30)
    real = copying._transfer

    def jittery(src: object, dest: object) -> None:
        time.sleep(0.001 * (hash(str(src)) % 7))
        real(src, dest)  # type: ignore[arg-type]

    monkeypatch.setattr(copying, "_transfer", jittery)
    events: list[object] = []
    caller = threading.current_thread()
    storage.node("home:src").copy_to(
        "mem:dst",
        max_workers=8,
        on_file=lambda n: events.append(("file", n.basename, threading.current_thread())),
        progress=lambda d, t: events.append((d, t)),
    )
    files = [e[1] for e in events if isinstance(e, tuple) and e[0] == "file"]
    walk_order = [n.basename for n, e in storage.node("home:src").walk() if not e.is_dir]
    assert files == walk_order
    assert [e for e in events if isinstance(e[0], int)] == [(i, 30) for i in range(1, 31)]
    assert all(e[2] is caller for e in events if e[0] == "file")


def test_progress_bytes_reports_cumulative_bytes(storage: StorageManager) -> None:
    for i, size in enumerate((10, 200, 3000)):
        storage.node(f"home:src/f{i}").write_bytes(b"x" * size)
    calls: list[tuple[int, int]] = []
    storage.node("home:src").copy_to(
        "mem:dst", progress_bytes=lambda done, total: calls.append((done, total))
    )
    assert [total for _, total in calls] == [3210] * 3
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (3210, 3210)


def test_on_error_raise_aborts_at_the_first_failure(storage: StorageManager) -> None:
    for name in ("a", "b", "c"):
        storage.node(f"home:src/{name}.txt").write(name)
    first, *rest = [n.basename for n, e in storage.node("home:src").walk()]
    storage.node(f"home:dst/{first}/blocker").write("x")  # the first file cannot be written
    with pytest.raises(OSError):
        storage.node("home:src").copy_to("home:dst", on_error="raise", max_workers=1)
    assert not any(storage.node(f"home:dst/{name}").exists for name in rest)


def test_on_error_callable_gets_source_and_exception_and_nothing_is_raised(
    storage: StorageManager,
) -> None:
    for name in ("a", "b"):
        storage.node(f"home:src/{name}.txt").write(name)
    storage.node("home:dst/b.txt/blocker").write("x")
    seen: list[tuple[str, type]] = []
    storage.node("home:src").copy_to(
        "home:dst", on_error=lambda src, exc: seen.append((src.fullpath, type(exc)))
    )
    assert [path for path, _ in seen] == ["home:src/b.txt"]
    assert issubclass(seen[0][1], OSError)


@pytest.mark.parametrize(("option", "value"), [("on_error", "ignore"), ("max_workers", 0)])
def test_bad_engine_options_are_refused(
    storage: StorageManager, option: str, value: object
) -> None:
    storage.node("home:src/a").write("a")
    with pytest.raises(ValueError, match=option):
        storage.node("home:src").copy_to("mem:dst", **{option: value})


def test_rerun_with_skip_hash_copies_only_missing_or_changed(storage: StorageManager) -> None:
    make_tree(storage, "home:src")
    storage.node("home:src").copy_to("mem:dst")
    storage.node("home:src/sub/c.py").write("changed")
    storage.node("mem:dst/b.txt").delete()
    copied: list[str] = []
    storage.node("home:src").copy_to(
        "mem:dst", skip="hash", on_file=lambda n: copied.append(n.path or "")
    )
    assert sorted(copied) == ["src/b.txt", "src/sub/c.py"]
    assert tree(storage, "mem:dst") == tree(storage, "home:src")


def test_skip_decisions_use_one_destination_listing_not_a_stat_per_file(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_flat(storage, "home:src", 20)
    storage.node("home:src").copy_to("mem:dst")
    backend = storage.get_backend("mem")
    calls = {"info": 0, "walk_files": 0}
    for name in calls:
        real = getattr(backend, name)

        def counting(*a: object, _real: object = real, _name: str = name) -> object:
            calls[_name] += 1
            return _real(*a)  # type: ignore[operator]

        monkeypatch.setattr(backend, name, counting)
    storage.node("home:src").copy_to("mem:dst", skip="size")
    assert calls == {"info": 0, "walk_files": 1}


def test_same_backend_copy_is_server_side(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_flat(storage, "mem:src", 5)
    backend = storage.get_backend("mem")
    copies: list[str] = []
    real_copy = backend._copy_object  # type: ignore[attr-defined]
    monkeypatch.setattr(
        backend, "_copy_object", lambda a, d, b: (copies.append(b), real_copy(a, d, b))
    )
    for name in ("write_stream", "write_bytes", "read_bytes", "open"):
        monkeypatch.setattr(backend, name, lambda *a: pytest.fail("streamed instead of copying"))
    storage.node("mem:src").copy_to("mem:dst")
    assert len(copies) == 5
    monkeypatch.undo()
    assert storage.node("mem:dst/f004.bin").read_bytes() == bytes([4]) * 10


def test_local_to_local_copy_keeps_modification_times(storage: StorageManager, home: Path) -> None:
    storage.node("home:src/a.txt").write("a")
    import os

    os.utime(home / "src/a.txt", (1_000_000_000, 1_000_000_000))
    storage.node("home:src").copy_to("home:dst", max_workers=2)
    assert (home / "dst/a.txt").stat().st_mtime == 1_000_000_000


class _Boom(RuntimeError):
    pass


def _dying_stream(size: int) -> Iterator[bytes]:
    """A stream (an upload, a download) that breaks after its first chunk."""
    yield b"n" * min(size, 65536)
    raise _Boom("source vanished mid-copy")


@pytest.mark.parametrize("dest", ["home:dst/big.bin", "mem:dst/big.bin"])
@pytest.mark.parametrize("spool", [True, False], ids=["spooled", "streamed"])
def test_interrupted_stream_leaves_no_partial_file(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch, dest: str, spool: bool
) -> None:
    if not spool:  # force the large-stream route (temp + rename) on the memory backend
        monkeypatch.setattr(fsspec_backend, "SPOOL_LIMIT", 1000)
    storage.node(dest).write_bytes(b"old content")
    with pytest.raises(_Boom):
        storage.node(dest).write_stream(_dying_stream(300_000))
    assert storage.node(dest).read_bytes() == b"old content"
    leftovers = [n.basename for n in storage.node(dest).parent.children()]
    assert leftovers == ["big.bin"]


def test_interrupted_copy_keeps_the_old_destination(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.node("mem:src/big.bin").write_bytes(b"n" * 300_000)
    backend = storage.get_backend("mem")
    monkeypatch.setattr(backend, "iter_bytes", lambda path, chunk_size=0: _dying_stream(10**6))
    storage.node("home:dst/big.bin").write_bytes(b"old content")
    with pytest.raises(_Boom):
        storage.node("mem:src/big.bin").copy_to("home:dst/big.bin")
    assert storage.node("home:dst/big.bin").read_bytes() == b"old content"
    assert [n.basename for n in storage.node("home:dst").children()] == ["big.bin"]


def test_interrupted_tree_copy_then_rerun_completes(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_flat(storage, "home:src", 6)
    real = copying._transfer
    monkeypatch.setattr(
        copying,
        "_transfer",
        lambda s, d: (
            (_ for _ in ()).throw(_Boom("cut")) if s.basename == "f003.bin" else real(s, d)
        ),
    )
    with pytest.raises(CopyError):
        storage.node("home:src").copy_to("mem:dst")
    assert not storage.node("mem:dst/f003.bin").exists
    monkeypatch.setattr(copying, "_transfer", real)
    copied: list[str] = []
    storage.node("home:src").copy_to(
        "mem:dst", skip="hash", on_file=lambda n: copied.append(n.basename)
    )
    assert copied == ["f003.bin"]


# ---------------------------------------------------------------------- sync_to
def test_sync_copies_changes_and_deletes_extraneous_files(storage: StorageManager) -> None:
    make_tree(storage, "home:src")
    storage.node("home:src").copy_to("mem:dst")
    storage.node("mem:dst/stale.txt").write("old")
    storage.node("home:src/a.py").write("a2")
    deleted: list[str] = []
    report = storage.node("home:src").sync_to(
        "mem:dst", delete=True, on_delete=lambda n: deleted.append(n.basename)
    )
    assert report.copied == ["a.py"] and report.deleted == ["stale.txt"] and report.ok
    assert deleted == ["stale.txt"]
    assert len(report.skipped) == 4
    assert tree(storage, "mem:dst") == tree(storage, "home:src")
    assert "copied 1" in str(report)


def test_sync_without_delete_keeps_extraneous_files(storage: StorageManager) -> None:
    storage.node("home:src/a").write("a")
    storage.node("mem:dst/extra").write("x")
    report = storage.node("home:src").sync_to("mem:dst")
    assert report.deleted == [] and storage.node("mem:dst/extra").exists


def test_sync_dry_run_changes_nothing(storage: StorageManager) -> None:
    storage.node("home:src/new.txt").write("n")
    storage.node("home:src/same.txt").write("s")
    storage.node("mem:dst/same.txt").write("s")
    storage.node("mem:dst/stale.txt").write("x")
    report = storage.node("home:src").sync_to("mem:dst", delete=True, dry_run=True)
    assert report.dry_run and report.copied == ["new.txt"] and report.deleted == ["stale.txt"]
    assert report.skipped[0][0] == "same.txt"
    assert not storage.node("mem:dst/new.txt").exists and storage.node("mem:dst/stale.txt").exists
    assert str(report).startswith("would copy 1")


def test_sync_delete_leaves_excluded_files_alone(storage: StorageManager) -> None:
    storage.node("home:src/a.txt").write("a")
    storage.node("mem:dst/keep.log").write("mine")
    storage.node("mem:dst/drop.txt").write("x")
    report = storage.node("home:src").sync_to("mem:dst", delete=True, exclude="*.log")
    assert report.deleted == ["drop.txt"] and storage.node("mem:dst/keep.log").exists


def test_sync_does_not_delete_when_a_copy_failed(storage: StorageManager) -> None:
    storage.node("home:src/a.txt").write("a")
    storage.node("home:dst/a.txt/blocker").write("x")
    storage.node("home:dst/stale.txt").write("x")
    report = storage.node("home:src").sync_to("home:dst", delete=True)
    assert [path for path, _ in report.failed] == ["a.txt"] and not report.ok
    assert report.deleted == [] and storage.node("home:dst/stale.txt").exists


def test_sync_of_a_single_file(storage: StorageManager) -> None:
    storage.node("home:f.txt").write("x")
    first = storage.node("home:f.txt").sync_to("mem:f.txt")
    second = storage.node("home:f.txt").sync_to("mem:f.txt")
    assert first.copied == ["f.txt"] and second.skipped[0][1].startswith("same content")


# ---------------------------------------------------------------------- multipart ETags
def _etag(data: bytes, part: int) -> str:
    hasher = _PartHasher(part)
    for i in range(0, len(data), 777):  # odd chunking must not matter
        hasher.update(data[i : i + 777])
    return hasher.etag()


def test_part_hasher_matches_the_s3_multipart_etag_formula() -> None:
    import hashlib

    data = bytes(range(256)) * 100  # 25,600 bytes
    parts = [data[i : i + 10_000] for i in range(0, len(data), 10_000)]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert _etag(data, 10_000) == f"{expected}-3"


def test_multipart_etag_is_matched_without_knowing_the_part_size(storage: StorageManager) -> None:
    data = b"z" * (11 * 1024 * 1024)  # 5 MiB parts -> 3 parts
    storage.node("home:big.bin").write_bytes(data)
    etag = _etag(data, 5 * 1024 * 1024)
    assert etag.endswith("-3")
    node = storage.node("home:big.bin").location
    assert multipart_etag_matches(node, len(data), etag)
    assert not multipart_etag_matches(node, len(data), etag.replace("-3", "-4"))
    assert not multipart_etag_matches(node, len(data), "0" * 32 + "-3")


# ---------------------------------------------------------------------- real S3 (moto server)
@pytest.fixture
def s3(storage: StorageManager) -> dict[str, object]:
    from tests.remote import add_remote_mount

    return add_remote_mount(storage, "s3", "s3")


def _local_tree(storage: StorageManager, count: int = 30) -> None:
    for i in range(count):
        storage.node(f"home:src/d{i % 3}/f{i:03d}.bin").write_bytes(b"%03d" % i * 100)


@pytest.mark.services
def test_s3_copy_is_one_put_per_file_and_skip_hash_rerun_only_lists(
    storage: StorageManager, s3: dict[str, object]
) -> None:
    from tests.remote import S3Requests

    _local_tree(storage)
    with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as first:
        storage.node("home:src").copy_to("s3:tree")
    assert first.summary().count("PUT object") == 30
    assert len(first.requests) <= 31  # the PUTs, at most one listing
    copied: list[str] = []
    with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as rerun:
        storage.node("home:src").copy_to(
            "s3:tree", skip="hash", on_file=lambda n: copied.append(n.basename)
        )
    assert copied == []
    assert rerun.summary() == ["GET list"]  # one page of listing, no HEAD, no download
    assert rerun.versioning_probes <= 1  # the mount's capabilities, asked once
    with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as by_size:
        storage.node("home:src").copy_to("s3:tree", skip="size")
    assert by_size.summary() == ["GET list"]
    assert by_size.versioning_probes == 0


@pytest.mark.services
def test_s3_rerun_copies_only_the_changed_file(
    storage: StorageManager, s3: dict[str, object]
) -> None:
    _local_tree(storage, 6)
    storage.node("home:src").copy_to("s3:tree")
    storage.node("home:src/d1/f004.bin").write_bytes(b"X" * 300)  # same size, new content
    copied: list[str] = []
    storage.node("home:src").copy_to(
        "s3:tree", skip="hash", on_file=lambda n: copied.append(n.basename)
    )
    assert copied == ["f004.bin"]
    assert storage.node("s3:tree/d1/f004.bin").read_bytes() == b"X" * 300


@pytest.mark.services
def test_s3_same_account_copy_is_server_side(
    storage: StorageManager, s3: dict[str, object]
) -> None:
    from tests.remote import S3Requests

    _local_tree(storage, 5)
    storage.node("home:src").copy_to("s3:a")
    with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as rec:
        storage.node("s3:a").copy_to("s3:b")
    kinds = rec.summary()
    assert kinds.count("PUT object copy") == 5
    assert "GET object" not in kinds and "PUT object" not in kinds
    assert storage.node("s3:b/d1/f001.bin").read_bytes() == b"001" * 100


@pytest.mark.services
def test_s3_large_upload_is_multipart_and_rerun_matches_its_etag(
    storage: StorageManager, s3: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import s3fs.core

    from tests.remote import S3Requests

    monkeypatch.setattr(s3fs.core, "calculate_chunksize", lambda size, chunksize=None: 5 << 20)
    backend = storage.get_backend("s3")  # parts above 5 MiB (default: one PUT to 200 MiB)
    monkeypatch.setattr(
        backend, "network", dataclasses.replace(backend.network, multipart_threshold=5 << 20)
    )
    storage.node("home:src/big.bin").write_bytes(bytes(range(256)) * (48 * 1024))  # 12 MiB
    with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as upload:
        storage.node("home:src").copy_to("s3:big")
    assert upload.summary().count("PUT object") == 3  # three parts, sent concurrently
    assert (storage.node("s3:big/big.bin").stat().etag or "").endswith("-3")
    with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as rerun:
        report = storage.node("home:src").sync_to("s3:big")
    assert report.copied == [] and rerun.summary() == ["GET list"]


@pytest.mark.services
@pytest.mark.parametrize("spool_limit", [None, 1000], ids=["one-put", "deferred-multipart"])
def test_s3_interrupted_stream_leaves_no_object(
    storage: StorageManager,
    s3: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
    spool_limit: int | None,
) -> None:
    if spool_limit:
        monkeypatch.setattr(fsspec_backend, "SPOOL_LIMIT", spool_limit)
    with pytest.raises(_Boom):
        storage.node("s3:up/part.bin").write_stream(_dying_stream(300_000))
    assert not storage.node("s3:up/part.bin").exists
    fs = s3["fs"]
    assert fs.list_multipart_uploads(s3["bucket"]) == []  # type: ignore[attr-defined]
    storage.node("s3:up/part.bin").write_stream([b"a" * 70_000, b"b" * 70_000])
    assert storage.node("s3:up/part.bin").read_bytes() == b"a" * 70_000 + b"b" * 70_000


@pytest.mark.services
@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_object_store_skip_hash_rerun_reads_nothing_remote(
    storage: StorageManager, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.remote import add_remote_mount

    add_remote_mount(storage, kind, "os")
    _local_tree(storage, 12)
    storage.node("home:src").copy_to("os:tree")
    remote = storage.get_backend("os")
    for name in ("iter_bytes", "read_bytes", "open", "info"):  # listing only from here on
        monkeypatch.setattr(remote, name, lambda *a, _n=name, **k: pytest.fail(f"{_n} called"))
    report = storage.node("home:src").sync_to("os:tree")
    assert report.copied == [] and len(report.skipped) == 12
    assert {reason[:19] for _, reason in report.skipped} == {"same content (MD5: "}


def test_missing_source_is_reported_before_bad_options(storage: StorageManager) -> None:
    with pytest.raises(FileNotFoundError, match="Source not found"):
        storage.node("home:ghost").copy_to("mem:x", skip="custom")


def test_a_tree_is_never_copied_into_itself(tmp_path: Path) -> None:
    import os

    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "f.txt").write_text("f")
    os.symlink(".", tmp_path / "selflink")
    storage = StorageManager()
    storage.configure([{"name": "h", "type": "local", "path": str(tmp_path)}])
    for src, dest in (("h:d", "h:d/copy"), ("h:", "h:backup"), ("h:selflink", "h:backup")):
        with pytest.raises(ValueError, match="into itself"):
            storage.node(src).copy_to(dest)
        with pytest.raises(ValueError, match="into itself"):
            storage.node(src).sync_to(dest)
    assert sorted(os.listdir(tmp_path)) == ["d", "selflink"]


# ---------------------------------------------------------------------- streaming plans
def test_a_tree_is_copied_while_it_is_listed(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No plan is built first: the first file is copied before the listing is done."""
    make_flat(storage, "home:src", 20)
    events: list[str] = []
    backend = storage.get_backend("home")
    real_walk, real = backend.walk_files, copying._transfer

    def walk(path: str):  # type: ignore[no-untyped-def]
        for entry in real_walk(path):
            events.append(f"listed {entry.name}")
            yield entry
        events.append("listing done")

    monkeypatch.setattr(backend, "walk_files", walk)
    monkeypatch.setattr(
        copying, "_transfer", lambda s, d: (events.append(f"copied {s.basename}"), real(s, d))[1]
    )
    for workers in (1, 4):
        events.clear()
        storage.node("home:src").copy_to(f"mem:dst{workers}", max_workers=workers)
        first = next(i for i, e in enumerate(events) if e.startswith("copied"))
        assert first < events.index("listing done")
        # a bounded window: at most a few files per worker listed ahead of the copies
        assert sum(1 for e in events[:first] if e.startswith("listed")) <= workers * 4 + 2
        assert len(tree(storage, f"mem:dst{workers}")) == 20


def test_sync_delete_from_a_streamed_listing(storage: StorageManager) -> None:
    """Deletions come from what the walk left of the destination listing."""
    make_flat(storage, "home:src", 30)
    storage.node("home:src").copy_to("mem:dst")
    for name in ("f005.bin", "f017.bin"):
        storage.node(f"home:src/{name}").delete()
    storage.node("mem:dst/extra/deep.txt").write("x")
    storage.node("mem:dst/keep.log").write("x")
    report = storage.node("home:src").sync_to("mem:dst", delete=True, skip="size", exclude="*.log")
    assert sorted(report.deleted) == ["extra/deep.txt", "f005.bin", "f017.bin"]
    assert len(report.skipped) == 28 and not report.copied
    assert storage.node("mem:dst/keep.log").exists


def test_progress_still_knows_the_total_from_the_first_call(storage: StorageManager) -> None:
    make_flat(storage, "home:src", 12)
    calls: list[tuple[int, int]] = []
    storage.node("home:src").copy_to("mem:dst", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, 12) for i in range(1, 13)]


def test_executor_copies_stream_through_a_window(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    home = str(storage.get_backend("home").base_path)
    storage.configure([{"name": "shared", "type": "local", "path": home}])
    make_flat(storage, "shared:src", 25)
    monkeypatch.setattr(copying, "EXECUTOR_WINDOW", 3)
    with ThreadPoolExecutor(2) as pool:
        report = storage.node("shared:src").sync_to("shared:dst", executor=pool, max_workers=1)
    assert len(report.copied) == 25
    assert len(tree(storage, "shared:dst")) == 25


def test_a_single_file_copy_stats_its_destination_once(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.node("home:a.txt").write("hello")
    storage.node("home:out/a.txt").write("hellO")
    backend = storage.get_backend("home")
    asked: list[str] = []
    for name in ("info", "info_or_none"):  # (the engine asks the latter of a destination)
        real = getattr(backend, name)
        monkeypatch.setattr(backend, name, lambda p, real=real: (asked.append(p), real(p))[1])
    for skip in ("never", "size"):
        asked.clear()
        storage.node("home:a.txt").copy_to("home:out/a.txt", skip=skip, on_file=lambda n: None)
        assert asked.count("out/a.txt") == 1, skip
    assert storage.node("home:out/a.txt").read() == "hello"


def test_memory_to_memory_trees_copy_serially_unless_told(
    storage: StorageManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing waits between two memory mounts: one thread by default, max_workers obeyed."""
    make_flat(storage, "mem:src", 12)
    threads = _record_transfer_threads(monkeypatch)
    storage.node("mem:src").copy_to("mem:serial")
    assert threads == {threading.current_thread().name}
    threads.clear()
    storage.node("mem:src").copy_to("home:threaded")  # a local disk: a pool by default
    assert threads and threading.current_thread().name not in threads
    threads.clear()
    storage.node("mem:src").copy_to("mem:told", max_workers=3)
    assert threading.current_thread().name not in threads
    assert len(tree(storage, "mem:serial")) == len(tree(storage, "mem:told")) == 12
