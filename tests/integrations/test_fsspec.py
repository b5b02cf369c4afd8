"""``genro://``: the methods of ``AbstractFileSystem`` that pandas and pyarrow callers use.

Each runs on a local mount, a memory mount, and a memory mount through the backend API
(``direct=False``, what a mount without an fsspec filesystem gets); signing and stored
hashes on S3 (moto).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import pickle
import urllib.request
from pathlib import Path
from typing import Any

import fsspec
import pytest

from genro_storage import StorageManager
from genro_storage.errors import StoragePermissionError
from genro_storage.integrations.fsspec import GenroFileSystem, register
from tests.remote import add_remote_mount

register()  # a source tree may not have the entry point installed; see the entry point test

CSV = b"name,qty\nbolt,3\nnut,7\n"


@pytest.fixture(params=["local", "memory", "backend-api"])
def fs(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    manager = StorageManager(env=False)
    if request.param == "local":
        manager.configure([{"name": "data", "type": "local", "path": str(tmp_path)}])
    else:
        base = f"/fsspec-{tmp_path.name}"
        manager.configure([{"name": "data", "type": "memory", "base_path": base}])
    manager.configure([{"name": "ro", "path": "data:shared", "permissions": "readonly"}])
    fs = GenroFileSystem(manager=manager, direct=request.param != "backend-api")
    fs.pipe("data/shared/parts.csv", CSV)
    fs.pipe("data/shared/deep/a.csv", CSV)
    fs.pipe("data/notes.txt", b"0123456789")
    return fs


def test_root_lists_mounts_as_directories(fs: GenroFileSystem) -> None:
    assert fs.ls("", detail=False) == ["data", "ro"]
    assert fs.info("genro://")["type"] == "directory"
    assert fs.ls("genro://", detail=True)[0] == {"name": "data", "size": 0, "type": "directory"}


def test_info_of_file_and_directory(fs: GenroFileSystem) -> None:
    info = fs.info("genro://data/shared/parts.csv")
    assert (info["name"], info["size"], info["type"]) == ("data/shared/parts.csv", len(CSV), "file")
    assert fs.info("data/shared")["type"] == "directory"
    assert fs.info("ro/deep/a.csv")["name"] == "ro/deep/a.csv"
    with pytest.raises(FileNotFoundError):
        fs.info("data/missing.csv")


def test_unknown_mount_is_a_clear_file_not_found(fs: GenroFileSystem) -> None:
    with pytest.raises(FileNotFoundError, match="Mount point 'nope' not found"):
        fs.info("genro://nope/x.csv")
    assert not fs.exists("genro://nope/x.csv")


def test_ls_with_detail_names_children_under_the_mount(fs: GenroFileSystem) -> None:
    listed = {e["name"]: e for e in fs.ls("genro://data/shared", detail=True)}
    assert set(listed) == {"data/shared/parts.csv", "data/shared/deep"}
    assert listed["data/shared/deep"]["type"] == "directory"
    assert listed["data/shared/parts.csv"]["size"] == len(CSV)
    assert sorted(fs.ls("ro", detail=False)) == ["ro/deep", "ro/parts.csv"]


def test_find_and_glob(fs: GenroFileSystem) -> None:
    assert fs.find("data/shared") == ["data/shared/deep/a.csv", "data/shared/parts.csv"]
    assert fs.find("data", maxdepth=1) == ["data/notes.txt"]
    assert "data/shared/deep" in fs.find("data", withdirs=True)
    assert fs.glob("genro://data/**/*.csv") == ["data/shared/deep/a.csv", "data/shared/parts.csv"]
    assert fs.glob("data/shared/*.csv") == ["data/shared/parts.csv"]
    assert fs.glob("ro/*.csv") == ["ro/parts.csv"]
    assert fs.du("data/shared") == 2 * len(CSV)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, b"0123456789"),
        (2, 5, b"234"),
        (7, None, b"789"),
        (-3, None, b"789"),
        (None, 4, b"0123"),
        (2, -2, b"234567"),
        (8, 100, b"89"),
    ],
)
def test_cat_file_with_ranges(fs: GenroFileSystem, start: Any, end: Any, expected: bytes) -> None:
    assert fs.cat_file("genro://data/notes.txt", start=start, end=end) == expected


def test_open_with_block_size_reads_and_seeks(fs: GenroFileSystem) -> None:
    with fs.open("data/notes.txt", "rb", block_size=4) as fh:
        assert fh.read(3) == b"012"
        fh.seek(6)
        assert fh.read() == b"6789"
        assert fh.size == 10
    with fs.open("data/shared/parts.csv", "r", encoding="ascii", newline="") as fh:
        assert fh.readline() == "name,qty\n"


def test_open_for_writing_publishes_on_close(fs: GenroFileSystem) -> None:
    with fs.open("data/out/new.txt", "w", encoding="latin-1") as fh:
        fh.write("café")
    assert fs.cat("data/out/new.txt") == "café".encode("latin-1")
    with pytest.raises(FileExistsError):
        fs.open("data/out/new.txt", "xb")


def test_pipe_put_get_copy_move_remove(fs: GenroFileSystem, tmp_path: Path) -> None:
    fs.pipe({"data/p/1.bin": b"one", "data/p/2.bin": b"two"})
    local = tmp_path / "local-in.bin"
    local.write_bytes(b"from disk")
    fs.put(str(local), "data/p/3.bin")
    fs.get("data/p/3.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == b"from disk"
    fs.copy("data/p/1.bin", "data/q/1.bin")
    fs.mv("data/p/2.bin", "data/q/2.bin")
    assert fs.cat(["data/q/1.bin", "data/q/2.bin"]) == {
        "data/q/1.bin": b"one",
        "data/q/2.bin": b"two",
    }
    assert not fs.exists("data/p/2.bin")
    fs.rm("data/q", recursive=True)
    assert not fs.exists("data/q/1.bin")
    with pytest.raises(PermissionError, match="mount root"):
        fs.rm("data", recursive=True)


def test_mkdir_and_makedirs(fs: GenroFileSystem) -> None:
    fs.makedirs("data/a/b/c", exist_ok=True)
    assert fs.isdir("data/a/b/c")
    fs.makedirs("data/a/b/c", exist_ok=True)
    with pytest.raises(FileExistsError):
        fs.makedirs("data/a/b/c")
    fs.mkdir("data/a/b/d")
    assert fs.ls("data/a/b", detail=False) == ["data/a/b/c", "data/a/b/d"]


def test_readonly_mount_refuses_every_write(fs: GenroFileSystem, tmp_path: Path) -> None:
    local = tmp_path / "x.bin"
    local.write_bytes(b"x")
    for attempt in (
        lambda: fs.pipe("ro/new.csv", b"x"),
        lambda: fs.open("ro/new.csv", "wb"),
        lambda: fs.put(str(local), "ro/new.csv"),
        lambda: fs.copy("data/notes.txt", "ro/notes.txt"),
        lambda: fs.rm("ro/parts.csv"),
        lambda: fs.touch("ro/t.txt"),
    ):
        with pytest.raises(StoragePermissionError, match="'ro'"):
            attempt()
    assert fs.cat("ro/parts.csv") == CSV


def test_checksum_and_ukey_change_with_the_content(fs: GenroFileSystem) -> None:
    before = (fs.checksum("data/notes.txt"), fs.ukey("data/notes.txt"))
    assert before == (fs.checksum("data/notes.txt"), fs.ukey("data/notes.txt"))
    fs.pipe("data/notes.txt", b"changed, and longer")
    assert fs.checksum("data/notes.txt") != before[0]
    assert fs.ukey("data/notes.txt") != before[1]


def test_modified_is_an_aware_datetime(fs: GenroFileSystem) -> None:
    when = fs.modified("data/notes.txt")
    assert when.tzinfo is not None
    assert abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) < 120


def test_sign_is_refused_with_the_mount_named_where_it_cannot(fs: GenroFileSystem) -> None:
    with pytest.raises(NotImplementedError, match="mount 'data'"):
        fs.sign("data/notes.txt")


def test_pickles_with_the_mount_configuration_not_the_manager(fs: GenroFileSystem) -> None:
    clone = pickle.loads(pickle.dumps(fs))
    assert clone.manager is not fs.manager
    assert clone.manager.get_mount_names() == ["data", "ro"]
    assert clone.manager.mount_configs() == fs.manager.mount_configs()
    assert clone.cat("ro/parts.csv") == CSV


def test_storage_options_config_as_list_and_as_file(tmp_path: Path) -> None:
    mounts = [{"name": "cfg", "type": "local", "path": str(tmp_path)}]
    (tmp_path / "a.txt").write_text("A")
    fs1 = fsspec.filesystem("genro", config=mounts)
    assert fs1.cat("cfg/a.txt") == b"A"
    config = tmp_path / "mounts.json"
    config.write_text(json.dumps(mounts))
    with fsspec.open("genro://cfg/a.txt", "rt", config=str(config)) as fh:
        assert fh.read() == "A"


def test_manager_fs_is_one_filesystem_per_manager(tmp_path: Path) -> None:
    first, second = StorageManager(env=False), StorageManager(env=False)
    first.configure([{"name": "m", "type": "local", "path": str(tmp_path)}])
    second.configure([{"name": "m", "type": "memory", "base_path": f"/other-{tmp_path.name}"}])
    assert first.fs is first.fs
    assert first.fs is not second.fs  # same repr, different mounts: never shared by cache
    first.fs.pipe("m/x", b"disk")
    assert not second.fs.exists("m/x")


def test_default_manager_reads_genro_storage_config(tmp_path: Path) -> None:
    """A subprocess: the default manager is process-wide and built once."""
    import subprocess
    import sys

    (tmp_path / "hello.txt").write_text("from env")
    config = tmp_path / "app.yaml"
    config.write_text(f"mounts:\n  - name: envmount\n    type: local\n    path: {tmp_path}\n")
    code = (
        "import fsspec, genro_storage\n"
        "from genro_storage.integrations.fsspec import register; register()\n"
        "print(genro_storage.StorageManager().get_mount_names())\n"
        "print(fsspec.open('genro://envmount/hello.txt', 'rt').open().read())\n"
    )
    env = {**__import__("os").environ, "GENRO_STORAGE_CONFIG": str(config)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["['envmount']", "from env"]


def test_missing_genro_storage_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENRO_STORAGE_CONFIG", "/nonexistent/mounts.yaml")
    with pytest.raises(ValueError, match=r"GENRO_STORAGE_CONFIG.*mounts\.yaml"):
        StorageManager()
    assert StorageManager(env=False).get_mount_names() == []


def test_entry_point_registers_the_genro_protocol() -> None:
    eps = importlib.metadata.entry_points(group="fsspec.specs")
    values = {ep.name: ep.value for ep in eps}
    assert values.get("genro") == "genro_storage.integrations.fsspec:GenroFileSystem"


@pytest.mark.services
def test_s3_mount_signs_urls_and_keys_on_the_etag() -> None:
    manager = StorageManager(env=False)
    add_remote_mount(manager, "s3", "bucket")
    fs = manager.fs
    fs.pipe("bucket/report.csv", CSV)
    url = fs.sign("genro://bucket/report.csv", expiration=60)
    with urllib.request.urlopen(url) as response:
        assert response.read() == CSV
    assert fs.ukey("bucket/report.csv").startswith("ETag:")
    assert fs.info("bucket/report.csv")["size"] == len(CSV)
    assert fs.cat_file("bucket/report.csv", start=5, end=8) == CSV[5:8]
    with fs.open("bucket/report.csv", block_size=5 * 2**20, cache_type="readahead") as fh:
        assert fh.read() == CSV
    assert isinstance(fs.modified("bucket/report.csv"), dt.datetime)
    manager.close()


def test_genro_storage_logger_debug_per_request_info_per_copy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager = StorageManager(env=False)
    manager.configure([{"name": "logmem", "type": "memory", "base_path": "/log-test"}])
    node = manager.node("logmem:a/x.txt")
    with caplog.at_level("DEBUG", logger="genro_storage"):
        node.write_text("x")
        node.read_text()
        node.copy_to("logmem:b/x.txt")
    debug = [r.getMessage() for r in caplog.records if r.levelname == "DEBUG"]
    info = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert any("mount 'logmem' (memory): write_bytes 'a/x.txt'" in m for m in debug)
    assert any("read_bytes 'a/x.txt'" in m for m in debug)
    assert info == ["copied logmem:a/x.txt -> logmem:b/x.txt"]
    with caplog.at_level("DEBUG", logger="genro_storage"), pytest.raises(FileNotFoundError):
        manager.node("logmem:missing.txt").read_bytes()
    assert "failed after" in caplog.records[-1].getMessage()


def test_a_node_is_taken_for_its_mount_path(fs: GenroFileSystem) -> None:
    node = fs.manager.node("data:shared/parts.csv")
    assert fs.cat_file(node) == CSV
    assert fs.info(node)["name"] == "data/shared/parts.csv"


def test_created_where_the_mount_keeps_it(fs: GenroFileSystem) -> None:
    if not fs.direct:  # the backend API keeps no creation time
        with pytest.raises(NotImplementedError, match="mount 'data'"):
            fs.created("data/notes.txt")
        return
    when = fs.created("data/notes.txt")
    assert isinstance(when, dt.datetime)
    assert abs(when.timestamp() - fs.modified("data/notes.txt").timestamp()) < 120


@pytest.mark.services
def test_s3_mount_logs_each_http_request(caplog: pytest.LogCaptureFixture) -> None:
    manager = StorageManager(env=False)
    add_remote_mount(manager, "s3", "logged")
    node = manager.node("logged:x.txt")
    with caplog.at_level("DEBUG", logger="genro_storage"):
        node.write_text("x")
        assert node.read_text() == "x"
    requests = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("mount 'logged' (s3): ")
    ]
    assert any(" PutObject PUT http" in m for m in requests)
    assert any(" GetObject GET http" in m for m in requests)
    manager.close()


@pytest.mark.services
def test_pickled_s3_filesystem_carries_configuration_not_connections() -> None:
    manager = StorageManager(env=False)
    add_remote_mount(manager, "s3", "lake")
    fs = manager.fs
    fs.pipe("lake/a.txt", b"a")  # the mount's s3fs client now exists
    payload = pickle.dumps(fs)
    assert b"S3FileSystem" not in payload and b"aiobotocore" not in payload
    assert b"lake" in payload and len(payload) < 4096
    clone = pickle.loads(payload)
    assert clone.cat("lake/a.txt") == b"a"
    manager.close()


def test_async_manager_exposes_the_same_filesystem() -> None:
    from genro_storage import AsyncStorageManager

    manager = StorageManager(env=False)
    manager.configure([{"name": "am", "type": "memory", "base_path": "/async-fs"}])
    assert AsyncStorageManager(manager).fs is manager.fs


def test_no_mounts_at_all_says_how_to_configure_them() -> None:
    empty = GenroFileSystem(manager=StorageManager(env=False))
    with pytest.raises(FileNotFoundError, match=r"GENRO_STORAGE_CONFIG.*storage_options"):
        empty.cat("genro://data/x.csv")


def test_genro_storage_logger_debug_per_retry(caplog: pytest.LogCaptureFixture) -> None:
    from genro_storage.backends._retry import retrying

    calls = []
    with caplog.at_level("DEBUG", logger="genro_storage"):
        for attempt in retrying(3):
            with attempt:
                calls.append(1)
                if len(calls) < 3:
                    raise ConnectionResetError("peer reset")
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retry ")]
    assert len(calls) == 3 and len(retries) == 2
    assert retries[0].startswith("retry 1 after ConnectionResetError: peer reset")


@pytest.mark.parametrize("bad", ["data/../etc/passwd", "data/a/../../x", "data/a\x00b", "ro/.."])
def test_paths_leaving_a_mount_are_refused(fs: GenroFileSystem, bad: str) -> None:
    with pytest.raises(ValueError):
        fs.cat_file(bad)


def _s3_request_kinds(caplog: pytest.LogCaptureFixture, mount: str) -> list[str]:
    """The S3 operation of each HTTP request mount ``mount`` sent (its DEBUG log line)."""
    head = f"mount '{mount}' (s3): "
    out = []
    for record in caplog.records:
        message = record.getMessage()
        if message.startswith(head) and message[len(head) : len(head) + 1].isupper():
            out.append(message[len(head) :].split()[0])
    return out


@pytest.mark.services
def test_s3_glob_copy_and_get_list_the_tree_once(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    manager = StorageManager(env=False)
    add_remote_mount(manager, "s3", "snap")
    fs = manager.fs
    for i in range(6):
        fs.pipe(f"snap/src/sub/f{i}.csv", b"%d" % i)
    fs.pipe("snap/src/top.csv", b"top")
    with caplog.at_level("DEBUG", logger="genro_storage"):
        fs.copy("snap/src/sub/*.csv", "snap/dst/")
        copied = _s3_request_kinds(caplog, "snap")
        caplog.clear()
        fs.get("snap/src/", str(tmp_path / "down"), recursive=True)
        got = _s3_request_kinds(caplog, "snap")
        caplog.clear()
        # the destination lies inside the listed tree: the listing is taken again after
        # the first write, so the copy sees its own files
        fs.copy("snap/src/sub/", "snap/src/again", recursive=True)
    assert fs.find("snap/dst") == [f"snap/dst/f{i}.csv" for i in range(6)]
    assert copied.count("CopyObject") == 6
    # one listing of the tree answers glob, isdir and exists (was one request per file)
    assert copied.count("ListObjectsV2") <= 2, copied
    assert sorted(p.name for p in (tmp_path / "down").rglob("*.csv")) == sorted(
        [f"f{i}.csv" for i in range(6)] + ["top.csv"]
    )
    assert got.count("GetObject") == 7 and got.count("ListObjectsV2") <= 2, got
    assert fs.cat("snap/src/again/f5.csv") == b"5"
    assert sorted(fs.find("snap/src/again")) == [f"snap/src/again/f{i}.csv" for i in range(6)]
    manager.close()
