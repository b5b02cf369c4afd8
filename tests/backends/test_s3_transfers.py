"""S3 transfers on a real S3 API (moto server): the requests each copy route sends.

moto's request recorder counts what reaches the server; the once-per-mount bucket
versioning probe is not part of a copy and must not be sent by one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from bench.netproxy import NetProxy
from genro_storage import AsyncStorageManager, StorageManager
from genro_storage.backends.s3 import S3Backend
from genro_storage.errors import StoragePermissionError
from tests._procs import free_port
from tests.backends.conftest import unique
from tests.remote import S3Requests, s3_client
from tests.services import require_services

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return require_services("s3")


@pytest.fixture(scope="module")
def client(env: dict[str, str]) -> Any:
    return s3_client(env)


def _mount(
    env: dict[str, str], name: str, bucket: str, prefix: str, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": "s3",
        "bucket": bucket,
        "prefix": prefix,
        "key": env["SVC_S3_KEY"],
        "secret": env["SVC_S3_SECRET"],
        "endpoint_url": env["SVC_S3_ENDPOINT"],
        **extra,
    }


@pytest.fixture(scope="module")
def buckets(client: Any) -> tuple[str, str]:
    first, second = unique("genro-xfer"), unique("genro-xfer")
    client.create_bucket(Bucket=first)
    client.create_bucket(Bucket=second)
    return first, second


@pytest.fixture(scope="module")
def storage(env: dict[str, str], buckets: tuple[str, str]) -> StorageManager:
    """``a`` and ``b``: two prefixes of one bucket; ``c``: another bucket; ``other``:
    the bucket of ``a`` under other credentials (moto accepts any key)."""
    first, second = buckets
    manager = StorageManager()
    manager.configure(
        [
            _mount(env, "a", first, "pa"),
            _mount(env, "b", first, "pb"),
            _mount(env, "c", second, ""),
            {**_mount(env, "other", first, "po"), "key": "another", "secret": "another"},
        ]
    )
    return manager


def _summary(recorder: S3Requests) -> list[str]:
    return [f"{r['method']} {r['url'].split('?')[0].rsplit('/', 1)[-1]}" for r in recorder.requests]


@pytest.mark.parametrize("dest_mount", ["a", "b", "c"])
def test_a_server_side_copy_is_one_head_and_one_copy_object(
    storage: StorageManager,
    client: Any,
    env: dict[str, str],
    buckets: tuple[str, str],
    dest_mount: str,
) -> None:
    name = unique("f")
    src = storage.node(f"a:{name}.json")
    src.write_bytes(b'{"k": 1}')
    src.set_metadata({"origin": "test"})
    dest = storage.node(f"{dest_mount}:copies/{name}.json")

    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        src.copy_to(dest)

    # the source's stat (HEAD) and CopyObject: no listing, no second HEAD, no GET
    assert _summary(recorder) == [f"HEAD {name}.json", f"PUT {name}.json"]
    assert any(k.lower() == "x-amz-copy-source" for k in recorder.requests[1]["headers"])
    assert dest.read_bytes() == b'{"k": 1}'
    assert dest.get_metadata() == {"origin": "test"}  # S3 copies metadata and headers
    assert dest.mimetype == "application/json"


def test_a_tree_copy_between_prefixes_sends_no_get(
    storage: StorageManager, env: dict[str, str], buckets: tuple[str, str]
) -> None:
    base = unique("t")
    for i in range(5):
        storage.node(f"a:{base}/d{i % 2}/f{i}.txt").write_text(f"file {i}")

    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        storage.node(f"a:{base}").copy_to(f"b:{base}")

    methods = [r["method"] for r in recorder.requests]
    assert methods.count("PUT") == 5
    assert all(
        any(k.lower() == "x-amz-copy-source" for k in r["headers"])
        for r in recorder.requests
        if r["method"] == "PUT"
    )
    # GETs are listings only (the source's stat, its walk): no object is downloaded
    assert all("list-type=2" in r["url"] for r in recorder.requests if r["method"] == "GET")
    assert storage.node(f"b:{base}/d1/f3.txt").read_text() == "file 3"


def test_other_credentials_stream_the_bytes(
    storage: StorageManager, env: dict[str, str], buckets: tuple[str, str]
) -> None:
    """Another account cannot be assumed to read the source: the bytes go through us."""
    name = unique("f")
    storage.node(f"a:{name}.txt").write_text("streamed")

    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        storage.node(f"a:{name}.txt").copy_to(f"other:{name}.txt")

    methods = [r["method"] for r in recorder.requests]
    assert "GET" in methods
    assert not any(
        any(k.lower() == "x-amz-copy-source" for k in r["headers"]) for r in recorder.requests
    )
    assert storage.node(f"other:{name}.txt").read_text() == "streamed"


# ---------------------------------------------------------------- the batch route
@pytest.fixture
def local(tmp_path: Path, env: dict[str, str], buckets: tuple[str, str]) -> StorageManager:
    """``disk`` on ``tmp_path``, ``s3`` on a fresh prefix, ``ro`` the same prefix readonly."""
    prefix = unique("p")
    manager = StorageManager()
    manager.configure(
        [
            {"name": "disk", "type": "local", "path": str(tmp_path)},
            {**_mount(env, "s3", buckets[0], prefix), "multipart_threshold": 5 * 1024 * 1024},
            {**_mount(env, "ro", buckets[0], prefix), "permissions": "readonly"},
            _mount(env, "whole", buckets[0], prefix),  # the default multipart_threshold
        ]
    )
    return manager


def _tree(root: Path, files: int) -> dict[str, bytes]:
    made = {}
    for i in range(files):
        rel = f"d{i % 3}/f{i:03d}.bin"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        data = os.urandom(100 + i)
        (root / rel).write_bytes(data)
        made[rel] = data
    return made


def _copy_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("genro-copy")]


def test_a_tree_goes_up_and_down_without_a_thread_per_file(
    local: StorageManager, tmp_path: Path
) -> None:
    """Local <-> S3 trees run as coroutines on the client's loop: no copy worker threads,
    every byte intact, no temp file left, an existing local file replaced."""
    made = _tree(tmp_path / "src", 40)
    seen_threads: list[str] = []

    def progress(done: int, total: int) -> None:
        seen_threads.extend(_copy_threads())

    local.node("disk:src").copy_to("s3:tree", progress=progress)
    (tmp_path / "back/d1").mkdir(parents=True)
    (tmp_path / "back/d1/f001.bin").write_bytes(b"old content")
    local.node("s3:tree").copy_to("disk:back", progress=progress)

    assert seen_threads == []
    back = {
        str(p.relative_to(tmp_path / "back")): p.read_bytes()
        for p in (tmp_path / "back").rglob("*")
        if p.is_file()
    }
    assert back == made  # and nothing else: no .tmp sibling left behind
    assert local.node("s3:tree/d2/f038.bin").read_bytes() == made["d2/f038.bin"]


def test_the_batch_route_honours_skip_rules(local: StorageManager, tmp_path: Path) -> None:
    made = _tree(tmp_path / "src", 12)
    local.node("disk:src").copy_to("s3:skip")
    (tmp_path / "src/d0/f000.bin").write_bytes(b"a different size")

    report = local.node("disk:src").sync_to("s3:skip", skip="size")

    assert report.copied == ["d0/f000.bin"]
    assert len(report.skipped) == len(made) - 1
    assert local.node("s3:skip/d0/f000.bin").read_bytes() == b"a different size"
    report = local.node("s3:skip").sync_to("disk:src", skip="exists")
    assert report.copied == [] and len(report.skipped) == len(made)


def test_a_file_that_cannot_land_fails_alone(local: StorageManager, tmp_path: Path) -> None:
    """A local destination that is a directory refuses its file; the others arrive."""
    _tree(tmp_path / "src", 9)
    local.node("disk:src").copy_to("s3:some")
    (tmp_path / "dest/d1/f004.bin").mkdir(parents=True)  # a directory where a file goes

    report = local.node("s3:some").sync_to("disk:dest", skip="never")

    assert [rel for rel, _ in report.failed] == ["d1/f004.bin"]
    assert "directory" in str(report.failed[0][1])
    assert len(report.copied) == 8
    assert sorted(p.name for p in (tmp_path / "dest").rglob("*.tmp")) == []


def test_a_readonly_destination_refuses_before_any_request(
    local: StorageManager, tmp_path: Path, env: dict[str, str], buckets: tuple[str, str]
) -> None:
    _tree(tmp_path / "src", 5)
    with (
        S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder,
        pytest.raises(StoragePermissionError, match="'ro'"),
    ):
        local.node("disk:src").sync_to("ro:x", skip="never")
    assert recorder.requests == []


# ---------------------------------------------------------------- connection pool
def test_concurrent_async_reads_are_not_held_to_a_small_pool(
    env: dict[str, str], buckets: tuple[str, str]
) -> None:
    """60 reads gathered at once each get a connection (botocore's pool was 20, so 40
    waited for one: a round trip each on a server that closes connections, as moto does)."""
    import asyncio

    port = int(env["SVC_S3_ENDPOINT"].rsplit(":", 1)[1])
    with NetProxy(port, rtt=0.05, port=free_port()) as proxy:
        manager = StorageManager()
        prefix = unique("pool")
        manager.configure(
            [{**_mount(env, "s3", buckets[0], prefix), "endpoint_url": proxy.endpoint}]
        )
        for i in range(60):
            manager.node(f"s3:{i}.bin").write_bytes(bytes([i]) * 1024)

        async def read_all() -> list[bytes]:
            amanager = AsyncStorageManager(manager)
            try:
                await amanager.node("s3:0.bin").read_bytes()  # the session
                proxy.peak_connections = proxy.open_connections
                nodes = [amanager.node(f"s3:{i}.bin") for i in range(60)]
                return list(await asyncio.gather(*(n.read_bytes() for n in nodes)))
            finally:
                await amanager.aclose()

        datas = asyncio.run(read_all())
    assert datas == [bytes([i]) * 1024 for i in range(60)]
    assert proxy.peak_connections > 40


def test_a_small_file_tree_keeps_many_files_in_flight(
    env: dict[str, str], buckets: tuple[str, str], tmp_path: Path
) -> None:
    """Up and down, a tree of small files has more files in flight than the 16 copy
    threads (``S3Backend.batch_in_flight``: coroutines, no thread each); an explicit
    ``max_workers`` is obeyed."""
    made = _tree(tmp_path / "src", 120)
    port = int(env["SVC_S3_ENDPOINT"].rsplit(":", 1)[1])
    with NetProxy(port, rtt=0.1, port=free_port()) as proxy:
        manager = StorageManager()
        manager.configure(
            [
                {"name": "disk", "type": "local", "path": str(tmp_path)},
                {**_mount(env, "s3", buckets[0], unique("fly")), "endpoint_url": proxy.endpoint},
            ]
        )
        manager.node("s3:warm.bin").write_bytes(b"x")  # the client, outside the figures
        peaks = []
        for src, dest, options in (
            ("disk:src", "s3:up", {}),
            ("s3:up", "disk:down", {}),
            ("disk:src", "s3:few", {"max_workers": 8}),
        ):
            proxy.peak_connections = proxy.open_connections
            manager.node(src).copy_to(dest, **options)
            peaks.append(proxy.peak_connections)
        manager.close()
    assert _files(tmp_path / "down") == made
    assert peaks[0] > 24 and peaks[1] > 24, peaks
    # 8 (+ connections the proxy is still closing as the next ones open: moto closes
    # each one; on a loaded machine 15 were seen), well under the default's > 24
    assert peaks[2] <= 20, peaks


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_plain_http_endpoint_loads_no_certificates(env: dict[str, str]) -> None:
    """No TLS on an ``http://`` endpoint: botocore is told not to load the CA bundle
    (~70 ms of CPU per fresh process); ``https://``, a proxy or the mount's own
    ``client_kwargs`` keep botocore's verification."""
    from genro_storage.backends.s3 import create

    def verify(config: dict[str, Any]) -> Any:
        fs = create({"bucket": "b", **config}, "m").fs
        return fs.client_kwargs.get("verify", "default")

    assert verify({"endpoint_url": "http://127.0.0.1:9"}) is False
    assert verify({"endpoint_url": "https://s3.example.com"}) == "default"
    assert verify({}) == "default"
    mine = {"endpoint_url": "http://127.0.0.1:9", "client_kwargs": {"verify": "/ca.pem"}}
    assert verify(mine) == "/ca.pem"
    proxied = {"endpoint_url": "http://127.0.0.1:9", "config_kwargs": {"proxies": {"http": "x"}}}
    assert verify(proxied) == "default"


# ---------------------------------------------------------------- 100-continue
def test_small_uploads_do_not_wait_for_100_continue(
    local: StorageManager, tmp_path: Path, env: dict[str, str], buckets: tuple[str, str]
) -> None:
    """botocore asks every PutObject to wait for ``100 Continue`` (a round trip before the
    body); small bodies go at once."""
    _tree(tmp_path / "src", 4)
    (tmp_path / "big.bin").write_bytes(os.urandom(11 * 1024 * 1024))  # 3 parts of 5 MiB
    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        local.node("disk:src").copy_to("s3:expect")
        local.node("disk:src/d0/f000.bin").copy_to("s3:expect/single.bin")
        local.node("s3:expect/one.txt").write_text("one")
        local.node("disk:big.bin").copy_to("s3:expect/big.bin")

    def expects(request: dict[str, Any]) -> bool:
        return any(k.lower() == "expect" for k in request["headers"])

    small = [r for r in recorder.requests if r["method"] == "PUT" and "partNumber" not in r["url"]]
    parts = [r for r in recorder.requests if r["method"] == "PUT" and "partNumber" in r["url"]]
    assert len(small) == 6 and not any(expects(r) for r in small)
    assert len(parts) == 3  # (moto's recorder sometimes keeps no headers of a part)
    assert (
        local.node("s3:expect/single.bin").read_bytes()
        == (tmp_path / "src/d0/f000.bin").read_bytes()
    )
    assert local.node("s3:expect/big.bin").md5hash == local.node("disk:big.bin").md5hash


def test_a_file_under_the_multipart_threshold_is_one_streamed_put(
    local: StorageManager, tmp_path: Path, env: dict[str, str], buckets: tuple[str, str]
) -> None:
    """One request (no multipart upload: 3 parts and 2 more calls before), its ETag the
    content's MD5, so a later ``skip='hash'`` compares without hashing parts."""
    import hashlib
    import tracemalloc

    data = os.urandom(11 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    assert not local.node("whole:one/big.bin").exists  # the client is made (service models)
    tracemalloc.start()
    try:
        with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
            local.node("disk:big.bin").copy_to("whole:one/big.bin")
            peak = tracemalloc.get_traced_memory()[1]  # (the recording holds the body)
    finally:
        tracemalloc.stop()
    assert [r["method"] for r in recorder.requests] == ["PUT"]
    assert "uploadId" not in recorder.requests[0]["url"]
    assert peak < 4 * 1024 * 1024  # read from the file as it is sent, never held
    assert local.node("whole:one/big.bin").md5hash == hashlib.md5(data).hexdigest()
    assert local.node("whole:one/big.bin").stat().etag == hashlib.md5(data).hexdigest()


# ---------------------------------------------------------------- downloads
@pytest.mark.parametrize("route", ["batch", "threads"])
def test_a_tree_download_is_one_get_per_file(
    local: StorageManager,
    tmp_path: Path,
    env: dict[str, str],
    buckets: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    route: str,
) -> None:
    """The listing gave each object's size and time: no HEAD and no other request per
    file, a copy and a re-sync with one file changed alike, on the client's loop (the
    default) and on worker threads."""
    monkeypatch.setattr(S3Backend, "batch_downloads", route == "batch")
    made = _tree(tmp_path / "src", 10)
    local.node("disk:src").copy_to("s3:down")
    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        local.node("s3:down").copy_to("disk:back")
    objects = [r for r in recorder.requests if "/down/" in r["url"].split("?")[0]]
    keys = sorted(r["url"].split("?")[0].split("/down/", 1)[-1] for r in objects)
    assert [r["method"] for r in objects] == ["GET"] * len(made)
    assert keys == sorted(made)  # each object once
    agents = {v for r in objects for k, v in r["headers"].items() if k.lower() == "user-agent"}
    assert agents and all(a.startswith("genro-storage ") for a in agents)  # built once
    assert len(recorder.requests) - len(objects) <= 3  # the source's stat and its walk

    (tmp_path / "back/d2/f005.bin").write_bytes(b"changed")
    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        report = local.node("s3:down").sync_to("disk:back", skip="size")
    objects = [r for r in recorder.requests if "/down/" in r["url"].split("?")[0]]
    assert report.copied == ["d2/f005.bin"]
    assert [r["method"] for r in objects] == ["GET"]
    assert (tmp_path / "back/d2/f005.bin").read_bytes() == made["d2/f005.bin"]


# ---------------------------------------------------------------- multipart uploads
def _multipart_summary(recorder: S3Requests) -> list[str]:
    """``create``, ``part``, ``complete``, ``abort``... for each request of an upload."""
    names = []
    for r in recorder.requests:
        url, method = r["url"], r["method"]
        if "uploads" in url.split("?", 1)[-1].split("&") and method == "POST":
            names.append("create")
        elif "partNumber=" in url:
            names.append("part")
        elif "uploadId=" in url:
            names.append({"POST": "complete", "DELETE": "abort"}.get(method, method))
        else:
            names.append(method)
    return names


def test_parts_are_read_from_the_file_as_they_are_sent(
    local: StorageManager, tmp_path: Path, env: dict[str, str], buckets: tuple[str, str]
) -> None:
    """Five parts in flight by default, each read from the file as it goes: memory is a
    few small buffers per part, not 5 x 5 MiB (s3fs' put_file holds whole parts)."""
    import tracemalloc

    assert local.node("s3:x").location.backend.network.part_concurrency == 5  # type: ignore[attr-defined]
    data = os.urandom(26 * 1024 * 1024)  # 6 parts of 5 MiB (the last 1 MiB)
    (tmp_path / "big.bin").write_bytes(data)
    assert not local.node("s3:parts/big.bin").exists  # the client is made (service models)
    tracemalloc.start()
    try:
        with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
            local.node("disk:big.bin").copy_to("s3:parts/big.bin")
            peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _multipart_summary(recorder) == ["create", *["part"] * 6, "complete"]
    assert peak < 12 * 1024 * 1024, peak  # whole parts in flight would be 25 MiB
    back = local.node("s3:parts/big.bin")
    assert back.read_bytes() == data
    assert back.stat().etag.endswith("-6")
    assert back.get_metadata()["mtime"]  # the source's time, as a single PUT keeps it


def test_part_size_and_concurrency_per_call(
    local: StorageManager, tmp_path: Path, env: dict[str, str], buckets: tuple[str, str]
) -> None:
    """``copy_to(part_size=, part_concurrency=)`` for one call; the mount keeps its own."""
    from genro_storage.errors import StorageConfigError

    data = os.urandom(13 * 1024 * 1024)
    (tmp_path / "src/one").mkdir(parents=True)
    (tmp_path / "src/one/big.bin").write_bytes(data)
    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        local.node("disk:src").copy_to("s3:call", part_size=7 * 1024 * 1024, part_concurrency=1)
    assert _multipart_summary(recorder) == ["create", "part", "part", "complete"]
    assert local.node("s3:call/one/big.bin").read_bytes() == data
    network = local.node("s3:x").location.backend.network  # type: ignore[attr-defined]
    assert (network.part_size, network.part_concurrency) == (5 * 1024 * 1024, 5)

    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        report = local.node("disk:src").sync_to("s3:call2", skip="never", part_size=6 * 1024**2)
    assert report.copied == ["one/big.bin"]
    assert _multipart_summary(recorder).count("part") == 3

    with (
        S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder,
        pytest.raises(StorageConfigError, match=r"'s3'.*part_size.*at least 5242880"),
    ):
        local.node("disk:src").copy_to("s3:bad", part_size=1024)
    assert recorder.requests == []
    with pytest.raises(ValueError, match="part_concurrency"):
        local.node("disk:src").copy_to("disk:elsewhere", part_concurrency=0)


def test_a_failed_part_aborts_the_upload(
    local: StorageManager,
    tmp_path: Path,
    client: Any,
    buckets: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A part that cannot be read fails the file and aborts its multipart upload: no
    invisible parts left stored, nothing published."""
    from genro_storage.backends import _filesection

    (tmp_path / "big.bin").write_bytes(os.urandom(16 * 1024 * 1024))
    real_read = _filesection.FileSection.read

    def failing_read(self: Any, size: int | None = -1) -> bytes:
        if self._start >= 10 * 1024 * 1024:  # the third part
            raise OSError("simulated disk read error")
        return real_read(self, size)

    monkeypatch.setattr(_filesection.FileSection, "read", failing_read)
    prefix = local.node("s3:x").location.backend.root.split("/", 1)[1]  # type: ignore[attr-defined]
    with pytest.raises(OSError, match="simulated disk read error"):
        local.node("disk:big.bin").copy_to("s3:aborted/big.bin", part_concurrency=1)
    uploads = client.list_multipart_uploads(Bucket=buckets[0], Prefix=prefix).get("Uploads")
    assert not uploads
    assert not local.node("s3:aborted/big.bin").exists


def test_the_cli_takes_part_options(
    tmp_path: Path, env: dict[str, str], buckets: tuple[str, str]
) -> None:
    from tests.test_cli import CLI

    cli = CLI(tmp_path)
    prefix = unique("cli")
    cli.write_config(
        f"- name: home\n  type: local\n  path: {cli.home}\n"
        f"- name: s3\n  type: s3\n  bucket: {buckets[0]}\n  prefix: {prefix}\n"
        f"  key: {env['SVC_S3_KEY']}\n  secret: {env['SVC_S3_SECRET']}\n"
        f"  endpoint_url: {env['SVC_S3_ENDPOINT']}\n  multipart_threshold: 5242880\n"
    )
    data = os.urandom(13 * 1024 * 1024)
    (cli.home / "big.bin").write_bytes(data)
    with S3Requests(env["SVC_S3_ENDPOINT"], *buckets) as recorder:
        result = cli.run(
            "cp", "home:big.bin", "s3:big.bin", "--part-size", "6M", "--part-concurrency", "2"
        )
    assert result.returncode == 0, result.stderr.decode()
    assert _multipart_summary(recorder).count("part") == 3
    result = cli.run("cp", "home:big.bin", "s3:small-parts.bin", "--part-size", "1M")
    assert result.returncode != 0
    assert "'s3'" in result.stderr.decode() and "part_size" in result.stderr.decode()
