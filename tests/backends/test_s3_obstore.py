"""An S3 mount with ``client: obstore`` on the real S3 server (moto).

The conformance suite runs the whole read/write/safety contract on such a mount (target
``s3-obstore``), ``tests/test_retries.py`` its transfers through the fault proxy and
``test_s3_download.py`` its ranged downloads; here: which client sends which request
(moto's recorder: obstore's ``User-Agent`` is ``object_store/...``, botocore's names
botocore), what falls back to botocore, the errors, and a clean interpreter exit.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from genro_storage import AsyncStorageManager, StorageManager
from genro_storage.errors import (
    StorageAuthError,
    StorageConfigError,
    StorageConnectionError,
    StorageNotFoundError,
)
from tests.backends.conftest import closed_port, unique
from tests.remote import S3Requests, s3_client
from tests.services import require_services

pytestmark = pytest.mark.services

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return require_services("s3")


@pytest.fixture(scope="module")
def client(env: dict[str, str]) -> Any:
    return s3_client(env)


@pytest.fixture(scope="module")
def bucket(client: Any) -> str:
    name = unique("genro-obs")
    client.create_bucket(Bucket=name)
    return name


def _config(env: dict[str, str], bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "s3",
        "bucket": bucket,
        "prefix": unique("p"),
        "key": env["SVC_S3_KEY"],
        "secret": env["SVC_S3_SECRET"],
        "endpoint_url": env["SVC_S3_ENDPOINT"],
        "client": "obstore",
        **extra,
    }


@pytest.fixture
def storage(env: dict[str, str], bucket: str, tmp_path: Path) -> StorageManager:
    manager = StorageManager()
    manager.configure(
        [
            {"name": "obs", **_config(env, bucket)},
            {"name": "disk", "type": "local", "path": str(tmp_path)},
        ]
    )
    return manager


def _agents(recorder: S3Requests) -> list[str]:
    """``"METHOD client"`` per request: ``obstore`` or ``botocore``."""
    out = []
    for request in recorder.requests:
        agent = {k.lower(): v for k, v in request["headers"].items()}.get("user-agent", "")
        who = "obstore" if agent.startswith("object_store") else "botocore"
        if "botocore" in agent:
            who = "botocore"
        out.append(f"{request['method']} {who}")
    return out


def test_the_hot_requests_go_through_obstore(
    storage: StorageManager, env: dict[str, str], bucket: str, tmp_path: Path
) -> None:
    """Writes, reads, ranges, HEAD, listings, a same-bucket copy, a delete, a tree up
    and down: not one request from botocore."""
    (tmp_path / "tree").mkdir()
    for i in range(5):
        (tmp_path / "tree" / f"f{i}.txt").write_bytes(b"x" * (i + 1))
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
        node = storage.node("obs:a/b.txt")
        node.write_bytes(b"hello world")
        assert node.read_bytes() == b"hello world"
        assert node.read_range(6, 11) == b"world"
        assert node.exists and node.size == 11 and node.isfile
        assert storage.node("obs:a").isdir
        with node.open("rb") as fh:
            assert fh.read() == b"hello world"
        with storage.node("obs:a/w.bin").open("wb") as fh:
            fh.write(b"written")
        assert [c.basename for c in storage.node("obs:a").children()] == ["b.txt", "w.bin"]
        node.copy_to("obs:a/c.txt")
        assert storage.node("obs:a/c.txt").read_bytes() == b"hello world"
        storage.node("obs:a/c.txt").delete()
        assert not storage.node("obs:a/c.txt").exists
        storage.node("disk:tree").copy_to("obs:tree")
        storage.node("obs:tree").copy_to("disk:back")
        walked = [(n.path, e.is_dir) for n, e in storage.node("obs:").walk()]
    agents = _agents(recorder)
    assert agents and all(a.endswith("obstore") for a in agents), agents
    assert sorted(os.listdir(tmp_path / "back")) == [f"f{i}.txt" for i in range(5)]
    files = [f"tree/f{i}.txt" for i in range(5)]
    assert walked == [("a", True), ("a/b.txt", False), ("a/w.bin", False), ("tree", True)] + [
        (f, False) for f in files
    ]


def test_async_reads_and_writes_go_through_obstore(
    storage: StorageManager, env: dict[str, str], bucket: str
) -> None:
    async def run() -> list[bytes]:
        amanager = AsyncStorageManager(storage)
        try:
            nodes = [amanager.node(f"obs:aio/{i}.bin") for i in range(20)]
            await asyncio.gather(*(n.write_bytes(bytes([i]) * 1000) for i, n in enumerate(nodes)))
            async with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
                read = await asyncio.gather(*(n.read_bytes() for n in nodes))
                assert await nodes[0].read_range(10, 20) == b"\x00" * 10
                assert await nodes[3].exists()
                assert (await nodes[3].stat()).size == 1000
                streamed = b"".join([c async for c in nodes[5].iter_bytes(100)])
                assert streamed == b"\x05" * 1000
                listed = await amanager.node("obs:aio").children()
                assert sorted(c.basename for c in listed) == sorted(f"{i}.bin" for i in range(20))
                assert await amanager.node("obs:aio").isdir()
            agents = _agents(recorder)
            assert agents and all(a.endswith("obstore") for a in agents), agents
            return list(read)
        finally:
            await amanager.aclose()

    assert asyncio.run(run()) == [bytes([i]) * 1000 for i in range(20)]


def test_a_large_upload_is_obstores_multipart_and_arrives_intact(
    env: dict[str, str], bucket: str, tmp_path: Path
) -> None:
    """A local file over ``multipart_threshold`` goes up in obstore's parts (memory:
    parts in flight, never the file); ``open('wb')`` too; between ``part_size`` and the
    threshold, botocore's single PUT streamed from the file."""
    data = os.urandom(12 * MiB + 7)
    (tmp_path / "big.bin").write_bytes(data)
    (tmp_path / "mid.bin").write_bytes(data[: 7 * MiB])
    manager = StorageManager()
    manager.configure(
        [
            {"name": "obs", **_config(env, bucket, multipart_threshold=10 * MiB)},
            {"name": "disk", "type": "local", "path": str(tmp_path)},
        ]
    )
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
        manager.node("disk:big.bin").copy_to("obs:big.bin")
        with manager.node("obs:streamed.bin").open("wb") as fh:
            for offset in range(0, len(data), MiB):
                fh.write(data[offset : offset + MiB])
    posts = [r for r in recorder.requests if r["method"] == "POST"]
    assert len(posts) == 4, _agents(recorder)  # create + complete, twice
    assert all(a.endswith("obstore") for a in _agents(recorder)), _agents(recorder)
    assert manager.node("obs:big.bin").read_bytes() == data
    assert manager.node("obs:streamed.bin").read_bytes() == data
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
        manager.node("disk:mid.bin").copy_to("obs:mid.bin")
    assert _agents(recorder) == ["PUT botocore"]
    assert manager.node("obs:mid.bin").read_bytes() == data[: 7 * MiB]


def test_a_failed_write_leaves_nothing(storage: StorageManager, client: Any, bucket: str) -> None:
    with pytest.raises(RuntimeError), storage.node("obs:half.bin").open("wb") as fh:
        fh.write(b"x" * (6 * MiB))  # a part is already up
        raise RuntimeError("the writer fails")
    assert not storage.node("obs:half.bin").exists

    def left() -> list[Any]:  # (only this test writes half.bin in the module's bucket)
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads") or []
        return [u for u in uploads if u["Key"].endswith("/half.bin")]

    deadline = time.monotonic() + 5  # (a part still in flight when the abort was sent)
    while left() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left()


def test_what_obstore_cannot_do_goes_through_botocore(
    env: dict[str, str], client: Any, bucket: str
) -> None:
    """Metadata, presigned URLs, paged listings, folder deletes, copies to another bucket:
    the mount's botocore client, with the same results."""
    other = unique("genro-obs2")
    client.create_bucket(Bucket=other)
    manager = StorageManager()
    config = _config(env, bucket)
    manager.configure([{"name": "obs", **config}, {"name": "two", **config, "bucket": other}])
    node = manager.node("obs:m/x.txt")
    node.write_bytes(b"meta")
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket, other) as recorder:
        node.set_metadata({"owner": "me"})
        assert node.get_metadata()["owner"] == "me"
        url = node.url(expires_in=60)
        assert url and "X-Amz-Signature" in url
        with urllib.request.urlopen(url, timeout=10) as answer:  # loopback
            assert answer.read() == b"meta"
        node.copy_to("two:y.txt")
        manager.node("obs:m").delete()
    # (existence checks before them are obstore's HEADs and one-key listings)
    changes = [a for a in _agents(recorder) if not a.startswith(("HEAD", "GET"))]
    assert changes and all(a.endswith("botocore") for a in changes), changes
    assert manager.node("two:y.txt").read_bytes() == b"meta"
    assert not manager.node("obs:m/x.txt").exists


def test_exclusive_create_refuses_an_existing_file(storage: StorageManager) -> None:
    node = storage.node("obs:once.txt")
    node.location.backend.save_stream(node.location.path, [b"one"], exclusive=True)  # type: ignore[union-attr]
    with pytest.raises(FileExistsError, match="'obs'"):
        node.location.backend.save_stream(node.location.path, [b"two"], exclusive=True)  # type: ignore[union-attr]
    assert node.read_bytes() == b"one"


def test_errors_name_the_mount(env: dict[str, str], bucket: str) -> None:
    manager = StorageManager()
    port = closed_port()
    manager.configure(
        [
            {"name": "obs", **_config(env, bucket)},
            {"name": "gone", **_config(env, unique("genro-none"))},
            {
                "name": "down",
                **_config(env, bucket, endpoint_url=f"http://127.0.0.1:{port}", retries=0),
            },
        ]
    )
    with pytest.raises(StorageNotFoundError, match=r"'obs'.*'nothing/here.txt' not found"):
        manager.node("obs:nothing/here.txt").read_bytes()
    with pytest.raises(StorageNotFoundError, match=r"'gone'.*does not exist"):
        manager.node("gone:x.txt").read_bytes()
    with pytest.raises(StorageConnectionError, match=r"'down'.*cannot reach"):
        manager.node("down:x.txt").read_bytes()
    with pytest.raises(IsADirectoryError):
        manager.node("obs:").child("d/e.txt").write_bytes(b"1")
        manager.node("obs:d").read_bytes()


def test_without_keys_botocores_chain_answers(
    env: dict[str, str], bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No key in the mount: obstore asks botocore's credential chain (here the
    environment); nothing anywhere: the botocore route's error, naming the mount."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = {k: v for k, v in _config(env, bucket).items() if k not in ("key", "secret")}
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", env["SVC_S3_KEY"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env["SVC_S3_SECRET"])
    manager = StorageManager()
    manager.configure([{"name": "chain", **config}])
    manager.node("chain:c.txt").write_bytes(b"signed")
    assert manager.node("chain:c.txt").read_bytes() == b"signed"
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    manager = StorageManager()
    manager.configure([{"name": "nokeys", **config}])
    with pytest.raises(StorageAuthError, match=r"'nokeys'.*no credentials were found"):
        manager.node("nokeys:c.txt").read_bytes()


def test_the_client_key_is_checked() -> None:
    manager = StorageManager()
    with pytest.raises(StorageConfigError, match=r"'bucky'.*'client' must be"):
        manager.configure(
            [{"name": "bucky", "type": "s3", "bucket": "b", "anon": True, "client": "rust"}]
        )


def test_without_obstore_installed_the_mount_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from genro_storage.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "obstore", None)  # import obstore: ImportError
    manager = StorageManager()
    with pytest.raises(MissingDependencyError, match=r"'bucky'.*genro-storage\[obstore\]"):
        manager.configure(
            [{"name": "bucky", "type": "s3", "bucket": "b", "anon": True, "client": "obstore"}]
        )


def test_an_interpreter_using_obstore_exits_cleanly(
    env: dict[str, str], bucket: str, tmp_path: Path
) -> None:
    """Sync and async reads, a tree copy, requests still in flight at exit, and no
    close(): the process ends with status 0 and nothing on stderr (obstore's runtime
    threads are never running Python code at teardown)."""
    script = textwrap.dedent(
        f"""
        import asyncio, threading
        from genro_storage import AsyncStorageManager, StorageManager
        config = {_config(env, bucket)!r}
        manager = StorageManager()
        manager.configure([{{"name": "obs", **config}},
                           {{"name": "disk", "type": "local", "path": {str(tmp_path)!r}}}])
        for i in range(20):
            manager.node(f"obs:t/{{i}}.bin").write_bytes(b"x" * 1000)
        manager.node("obs:t").copy_to("disk:t")

        async def reads():
            amanager = AsyncStorageManager(manager)
            nodes = [amanager.node(f"obs:t/{{i}}.bin") for i in range(20)]
            assert len(await asyncio.gather(*(n.read_bytes() for n in nodes))) == 20

        asyncio.run(reads())
        for _ in range(8):  # still in flight when the interpreter ends
            threading.Thread(target=manager.node("obs:t/1.bin").read_bytes, daemon=True).start()
        print("done")
        """
    )
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        assert (done.returncode, done.stderr, done.stdout.strip()) == (0, "", "done")


#: requests left in flight when their loop goes away: in a daemon thread at interpreter
#: exit (without the exit hook, 1-2 runs in 30 aborted with status 134: a tokio thread
#: entering Python during finalization), and cancelled by ``wait_for`` before the loop
#: closes (without the shielded wait, "Event loop is closed" tracebacks from tokio)
_LEFT_IN_FLIGHT = """
import asyncio, sys, threading, time
from genro_storage import AsyncStorageManager, StorageManager
manager = StorageManager()
manager.configure([{{"name": "obs", **{config!r}}}])
amanager = AsyncStorageManager(manager)
nodes = [amanager.node(f"obs:t/{{i}}.bin") for i in range(20)]
if sys.argv[1] == "daemon-loop":
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    for node in nodes:
        asyncio.run_coroutine_threadsafe(node.read_bytes(), loop)
    time.sleep(0.1)  # the requests are out; the answers come 0.1-0.2 s later
else:
    async def main():
        try:
            await asyncio.wait_for(asyncio.gather(*(n.read_bytes() for n in nodes)), 0.15)
        except asyncio.TimeoutError:
            pass
    asyncio.run(main())
    time.sleep(0.5)  # the answers arrive after the loop closed
print("done")
"""


@pytest.mark.parametrize("case", ["daemon-loop", "cancelled"])
def test_requests_in_flight_never_break_the_exit(
    env: dict[str, str], bucket: str, case: str
) -> None:
    from urllib.parse import urlsplit

    from bench.netproxy import NetProxy
    from tests._procs import free_port

    config = _config(env, bucket)
    manager = StorageManager()
    manager.configure([{"name": "obs", **config}])
    for i in range(20):
        manager.node(f"obs:t/{i}.bin").write_bytes(b"x" * 1000)
    port = urlsplit(env["SVC_S3_ENDPOINT"]).port
    assert port
    with NetProxy(port, rtt=0.1, port=free_port()) as proxy:
        script = _LEFT_IN_FLIGHT.format(config={**config, "endpoint_url": proxy.endpoint})
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, "-c", script, case],
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "PYTHONPATH": os.getcwd()},
            )
            assert (done.returncode, done.stderr, done.stdout.strip()) == (0, "", "done")


def test_a_streamed_async_read_cut_twice_arrives_intact(env: dict[str, str], bucket: str) -> None:
    """``iter_bytes`` on the async API is one streamed GET: answers cut after their first
    bytes are asked again by obstore's own retries, and the bytes arrive intact."""
    from urllib.parse import urlsplit

    from bench.netproxy import Fault, NetProxy
    from tests._procs import free_port

    config = _config(env, bucket)
    data = os.urandom(3 * MiB + 11)
    manager = StorageManager()
    manager.configure([{"name": "obs", **config}])
    manager.node("obs:cut.bin").write_bytes(data)
    port = urlsplit(env["SVC_S3_ENDPOINT"]).port
    assert port
    cut = Fault("reset", times=2, match=r"^GET .*/cut\.bin")
    with NetProxy(port, faults=[cut], port=free_port()) as proxy:
        far = StorageManager()
        far.configure([{"name": "far", **config, "endpoint_url": proxy.endpoint}])

        async def stream() -> bytes:
            amanager = AsyncStorageManager(far)
            try:
                node = amanager.node("far:cut.bin")
                return b"".join([c async for c in node.iter_bytes(64 * 1024)])
            finally:
                await amanager.aclose()

        assert asyncio.run(stream()) == data
    assert cut.fired == 2, proxy.log


def test_keys_obstore_cannot_address_go_through_botocore(
    env: dict[str, str], bucket: str, tmp_path: Path
) -> None:
    """A prefix with an empty segment (``a//b``): object_store refuses such keys, so
    every operation of the mount takes the botocore route, with the same results."""
    config = {**_config(env, bucket), "prefix": f"{unique('odd')}//pre"}
    manager = StorageManager()
    manager.configure(
        [{"name": "odd", **config}, {"name": "disk", "type": "local", "path": str(tmp_path)}]
    )
    (tmp_path / "up.txt").write_bytes(b"uploaded")
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
        node = manager.node("odd:d/f.txt")
        node.write_bytes(b"0123456789")
        assert node.read_bytes() == b"0123456789"
        assert node.read_range(2, 5) == b"234"
        assert node.exists and node.size == 10 and manager.node("odd:d").isdir
        with node.open("rb") as fh:
            assert fh.read() == b"0123456789"
        with manager.node("odd:d/w.txt").open("wb") as fh:
            fh.write(b"written")
        assert [c.basename for c in manager.node("odd:d").children()] == ["f.txt", "w.txt"]
        assert [n.path for n, _ in manager.node("odd:").walk()] == ["d", "d/f.txt", "d/w.txt"]
        manager.node("disk:up.txt").copy_to("odd:d/up.txt")
        manager.node("odd:d/up.txt").copy_to("disk:down.txt")
        node.copy_to("odd:d/g.txt")
        manager.node("odd:d/g.txt").delete()

        async def reads() -> tuple[bytes, bytes, bool, list[str]]:
            amanager = AsyncStorageManager(manager)
            try:
                anode = amanager.node("odd:d/f.txt")
                await amanager.node("odd:d/a.txt").write_bytes(b"async")
                listed = [c.basename for c in await amanager.node("odd:d").children()]
                streamed = b"".join([c async for c in anode.iter_bytes(4)])
                return await anode.read_bytes(), streamed, await anode.exists(), listed
            finally:
                await amanager.aclose()

        whole, streamed, found, listed = asyncio.run(reads())
    agents = _agents(recorder)
    assert agents and all(a.endswith("botocore") for a in agents), agents
    assert (whole, streamed, found) == (b"0123456789", b"0123456789", True)
    assert listed == ["a.txt", "f.txt", "up.txt", "w.txt"]
    assert (tmp_path / "down.txt").read_bytes() == b"uploaded"
    assert not manager.node("odd:d/g.txt").exists


#: a parent that used obstore (or not) forks; the child reads through the mount and
#: reports how it ended, the parent waits at most 30 s for it
_FORKED = """
import os, sys, time
from genro_storage import StorageManager
from genro_storage.errors import StorageError
manager = StorageManager()
manager.configure([{{"name": "obs", **{config!r}}}])
node = manager.node("obs:f/one.bin")
if sys.argv[1] == "used":
    node.write_bytes(b"parent")
pid = os.fork()
if pid == 0:
    try:
        print("child read", node.read_bytes(), flush=True)
    except StorageError as exc:
        print("child refused:", exc, flush=True)
    os._exit(0)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("child status", os.waitstatus_to_exitcode(status))
        break
    time.sleep(0.05)
else:
    os.kill(pid, 9)
    print("child hung")
"""


@pytest.mark.parametrize("parent", ["used", "unused"])
def test_a_forked_child_is_refused_clearly_never_hangs(
    env: dict[str, str], bucket: str, client: Any, parent: str
) -> None:
    """obstore's runtime does not survive ``fork()``: a child forked after its parent sent
    an obstore request gets an error naming the mount and what to do (without the guard
    it waits forever); a child of a parent that sent none reads through obstore."""
    config = _config(env, bucket)
    client.put_object(Bucket=bucket, Key=f"{config['prefix']}/f/one.bin", Body=b"stored")
    done = subprocess.run(
        [sys.executable, "-c", _FORKED.format(config=config), parent],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "child status 0", done.stdout
    if parent == "used":
        assert lines[0].startswith(
            "child refused: Mount 'obs' (client: obstore): this process "
            "was forked after obstore ran in its parent"
        ), lines
        assert "'spawn'" in lines[0] and "client: botocore" in lines[0]
    else:
        assert lines[0] == "child read b'stored'", lines
