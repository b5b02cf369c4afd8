"""Commands and flags as rclone users expect them: ``du``, ``tree``, ``check``, ``ls -lh``,
``--bwlimit``, ``--retries``, ``--checkers``; on local and memory mounts here, ``check`` and
``du`` also on S3 (moto) and SFTP (sshd), ``--retries`` through a fault-injecting proxy."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest

from genro_storage.cli._bwlimit import RateLimit
from genro_storage.cli._sizes import human, parse_rate
from tests.test_cli import CLI, cli, src, tree  # noqa: F401 - fixtures

KiB = 1024


@pytest.fixture
def mem(cli: CLI) -> str:  # noqa: F811
    """A memory mount ``mem`` of its own (the memory store is shared by the process)."""
    cli.write_config(
        cli.config.read_text()
        + f"- name: mem\n  type: memory\n  base_path: /cli-{uuid.uuid4().hex}\n"
    )
    return "mem"


def _lines(text: str) -> list[str]:
    return text.strip("\n").splitlines()


# ---------------------------------------------------------------------- sizes
def test_human_sizes_read_like_ls_h() -> None:
    assert [human(n) for n in (0, 1023, 1024, 1536, 10 * KiB, 3 * KiB * KiB)] == [
        "0",
        "1023",
        "1.0K",
        "1.5K",
        "10K",
        "3.0M",
    ]
    assert human(1025) == "1.1K"  # rounded up: never smaller than it is
    assert human(5 * 1024**3 + 1) == "5.1G"


def test_rates_read_like_rclone() -> None:
    assert parse_rate("10M") == 10 * KiB * KiB
    assert parse_rate("512K") == 512 * KiB
    assert parse_rate("100B") == 100
    assert parse_rate("64") == 64 * KiB  # a bare number is KiB/s
    assert parse_rate("1.5G") == 1.5 * 1024**3
    assert parse_rate("off") == 0


def test_ls_l_h(cli: CLI) -> None:  # noqa: F811
    (cli.home / "small.bin").write_bytes(b"x" * 1536)
    (cli.home / "big.bin").write_bytes(b"x" * (3 * KiB * KiB))
    plain = cli.ok("ls", "-l", "home:")
    assert " 1536  " in plain and " 3145728  " in plain
    human_out = cli.ok("ls", "-l", "-h", "home:")
    rows = {line.split()[-1]: line.split()[1] for line in _lines(human_out)}
    assert rows["small.bin"] == "1.5K" and rows["big.bin"] == "3.0M" and rows["pub/"] == "-"
    assert cli.ok("ls", "-lh", "home:") == human_out
    assert "usage: genro-storage ls" in cli.ok("ls", "--help")


# ---------------------------------------------------------------------- du
def test_du_local_and_memory(cli: CLI, src: Path, mem: str) -> None:  # noqa: F811
    cli.ok("cp", "src", "home:tree")
    cli.ok("cp", "src/", "mem:tree")
    out = cli.ok("du", "home:tree")
    assert out.split() == ["9", "3", "files", "home:tree"]
    both = _lines(cli.ok("du", "home:tree", "mem:tree"))
    assert [line.split() for line in both] == [
        ["9", "3", "files", "home:tree"],
        ["9", "3", "files", "mem:tree"],
        ["18", "6", "files", "total"],
    ]
    rows = json.loads(cli.ok("du", "--json", "mem:tree", "src"))
    assert rows == [
        {"path": "mem:tree", "size": 9, "files": 3},
        {"path": str(src), "size": 9, "files": 3},
    ]
    assert cli.ok("du", "home:tree/one.txt").split()[:2] == ["2", "1"]


def test_du_h_and_every_mount(cli: CLI, mem: str) -> None:  # noqa: F811
    (cli.home / "pub" / "big.bin").write_bytes(b"x" * (2 * KiB * KiB + 1))
    out = cli.ok("du", "-h")  # no target: every configured mount
    rows = {line.split()[-1]: line.split()[:2] for line in _lines(out)}
    assert rows["home:"] == ["2.1M", "1"] and rows["ro:"] == ["2.1M", "1"]
    assert rows["mem:"] == ["0", "0"] and rows["total"] == ["4.1M", "2"]
    cli.fails(4, "du", "home:missing")


# ---------------------------------------------------------------------- tree
TREE = """\
{root}
├── build.log
├── one.txt
└── sub
    └── two.txt

1 directory, 3 files
"""


def test_tree_local_and_memory(cli: CLI, src: Path, mem: str) -> None:  # noqa: F811
    assert cli.ok("tree", "src") == TREE.format(root=src)
    cli.ok("cp", "src/", "mem:t")
    assert cli.ok("tree", "mem:t") == TREE.format(root="mem:t")
    top = cli.ok("tree", "-L", "1", "mem:t")
    assert "two.txt" not in top and "└── sub" in top and "1 directory, 2 files" in top
    sized = cli.ok("tree", "-s", "mem:t")
    assert "├── [         4]  build.log" in sized
    assert "[     3]  two.txt" in cli.ok("tree", "-h", "src")
    assert cli.ok("tree", "-d", "src").endswith("└── sub\n\n1 directory\n")
    assert cli.run("tree", "-L", "0", "src").returncode == 1


# ---------------------------------------------------------------------- check
def _pair(cli: CLI, src: Path, dest: str) -> None:  # noqa: F811
    """Copy ``src`` to ``dest``, then make one file differ in size, one in content only,
    and one exist on each side only."""
    cli.ok("cp", "src/", dest)
    (src / "one.txt").write_text("9\n")  # same size, other content
    (src / "build.log").write_text("longer log\n")  # other size
    (src / "only-src.txt").write_text("s")
    cli.ok("put", "-", f"{dest}/only-dest.txt", input=b"d")


def test_check_equal_trees(cli: CLI, src: Path, mem: str) -> None:  # noqa: F811
    cli.ok("cp", "src/", "mem:same")
    result = cli.run("check", "src", "mem:same")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""
    assert _lines(result.stderr.decode()) == [
        "mem:same: 0 differences found",
        "mem:same: 3 matching files",
    ]


@pytest.mark.parametrize("dest", ["home:copy", "mem:copy"])
def test_check_reports_each_difference(
    cli: CLI,  # noqa: F811
    src: Path,  # noqa: F811
    mem: str,
    dest: str,
) -> None:
    _pair(cli, src, dest)
    result = cli.run("check", "src", dest)
    assert result.returncode == 1
    assert _lines(result.stdout.decode()) == [
        "build.log: sizes differ",
        "one.txt: md5 differ",
        f"only-dest.txt: file not in {src}",
        f"only-src.txt: file not in {dest}",
    ]
    assert _lines(result.stderr.decode()) == [
        f"{dest}: 1 files missing",
        f"{src}: 1 files missing",
        f"{dest}: 4 differences found",
        f"{dest}: 1 matching files",
    ]
    one_way = cli.run("check", "--one-way", "src", dest)
    assert one_way.returncode == 1 and b"only-dest" not in one_way.stdout
    sizes = cli.run("check", "--size-only", "--checkers", "1", "src", dest)
    assert _lines(sizes.stdout.decode()) == [
        "build.log: sizes differ",
        f"only-dest.txt: file not in {src}",
        f"only-src.txt: file not in {dest}",
    ]
    combined = cli.run("check", "src", dest, "--combined", "-")
    assert _lines(combined.stdout.decode()) == [
        "* build.log",
        "* one.txt",
        "- only-dest.txt",
        "+ only-src.txt",
        "= sub/two.txt",
    ]
    cli.run("check", "src", dest, "--combined", "report.txt")
    assert (cli.tmp / "report.txt").read_text() == combined.stdout.decode()
    only_logs = cli.run("check", "src", dest, "--include", "*.log", "--combined", "-")
    assert _lines(only_logs.stdout.decode()) == ["* build.log"]
    no_top = cli.run("check", "src", dest, "--exclude", "*.log", "--exclude", "on*")
    assert no_top.returncode == 0 and no_top.stdout == b""


def test_check_missing_sides(cli: CLI, src: Path) -> None:  # noqa: F811
    cli.fails(4, "check", "home:nope", "src")
    result = cli.run("check", "src", "home:absent")
    assert result.returncode == 1
    assert len(_lines(result.stdout.decode())) == 3
    assert cli.run("check", "src/one.txt", "src/one.txt").returncode == 0
    cli.fails(2, "check", "src", "src", "--checkers", "0")


# ---------------------------------------------------------------------- --bwlimit
def test_rate_limit_bucket_holds_the_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = RateLimit(1000, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        bucket.consume(500)
    assert now[0] == pytest.approx(5.0)  # 5000 bytes at 1000 B/s
    now[0] += 100  # idle: at most one second of credit
    before = now[0]
    bucket.consume(3000)
    assert now[0] - before == pytest.approx(2.0)
    assert list(bucket.chunks([b"ab", b"cd"])) == [b"ab", b"cd"]


def test_bwlimit_holds_a_real_copy_to_its_rate(cli: CLI) -> None:  # noqa: F811
    """256 KiB at 128 KiB/s takes at least 2 s: one file, then a tree of 4 files."""
    payload = os.urandom(256 * KiB)
    (cli.tmp / "one.bin").write_bytes(payload)
    started = time.monotonic()
    cli.ok("cp", "one.bin", "home:one.bin", "--bwlimit", "128K")
    assert 1.9 <= time.monotonic() - started < 30
    assert (cli.home / "one.bin").read_bytes() == payload
    folder = cli.tmp / "four"
    folder.mkdir()
    for i in range(4):
        (folder / f"{i}.bin").write_bytes(payload[i * 64 * KiB : (i + 1) * 64 * KiB])
    started = time.monotonic()
    cli.ok("sync", "four", "home:four", "--bwlimit", "128", "--transfers", "2")
    assert 1.9 <= time.monotonic() - started < 30
    assert sorted(p.name for p in (cli.home / "four").iterdir()) == [f"{i}.bin" for i in range(4)]
    started = time.monotonic()
    cli.ok("cp", "four", "home:fast")  # no limit: far quicker
    assert time.monotonic() - started < 1.5


def test_bwlimit_on_a_memory_mount(cli: CLI, mem: str) -> None:  # noqa: F811
    payload = os.urandom(64 * KiB)
    (cli.tmp / "m.bin").write_bytes(payload)
    started = time.monotonic()
    cli.ok("cp", "m.bin", "mem:m.bin", "--bwlimit", "64K")
    cli.ok("cp", "mem:m.bin", "back.bin", "--bwlimit", "64K")
    assert 1.9 <= time.monotonic() - started < 30
    assert (cli.tmp / "back.bin").read_bytes() == payload


def test_bwlimit_on_streams(cli: CLI) -> None:  # noqa: F811
    data = os.urandom(96 * KiB)
    started = time.monotonic()
    cli.ok("put", "-", "home:piped.bin", "--bwlimit", "64K", input=data)
    assert time.monotonic() - started >= 1.4
    assert (cli.home / "piped.bin").read_bytes() == data
    started = time.monotonic()
    result = cli.run("get", "home:piped.bin", "-", "--bwlimit", "64K")
    assert time.monotonic() - started >= 1.4 and result.stdout == data
    started = time.monotonic()
    result = cli.run("cat", "home:piped.bin", "--bwlimit", "64K")
    assert time.monotonic() - started >= 1.4 and result.stdout == data


def test_bwlimit_and_retries_refuse_bad_values(cli: CLI) -> None:  # noqa: F811
    assert "invalid rate" in cli.fails(2, "cp", "a", "home:b", "--bwlimit", "fast")
    cli.fails(2, "ls", "home:", "--retries", "-1")


def test_retries_set_on_network_mounts_only(cli: CLI) -> None:  # noqa: F811
    from genro_storage.cli._resolve import Session

    cli.write_config(
        cli.config.read_text()
        + "- name: s3\n  type: s3\n  bucket: b\n  endpoint_url: http://127.0.0.1:9\n"
        "  retries: 7\n"
    )
    with Session(str(cli.config), retries=0) as session:
        manager = session.load()
        assert manager.mount_config("s3")["retries"] == 0
        assert "retries" not in manager.mount_config("home")
    with Session(str(cli.config)) as session:
        assert session.load().mount_config("s3")["retries"] == 7


# ---------------------------------------------------------------------- S3 and SFTP
@pytest.fixture
def s3(cli: CLI) -> str:  # noqa: F811
    from tests.remote import make_bucket
    from tests.services import require_services

    env = require_services("s3")
    bucket = make_bucket(env, "rc")
    cli.write_config(
        cli.config.read_text() + f"- name: s3\n  type: s3\n  bucket: {bucket}\n"
        f"  endpoint_url: {env['SVC_S3_ENDPOINT']}\n"
        f"  key: {env['SVC_S3_KEY']}\n  secret: {env['SVC_S3_SECRET']}\n"
    )
    return "s3"


@pytest.fixture
def sftp(cli: CLI) -> str:  # noqa: F811
    from tests.conformance.targets import sftp_options
    from tests.services import require_services

    env = require_services("sftp")
    root = Path(env["SVC_SFTP_ROOT"]) / f"cli-{uuid.uuid4().hex[:10]}"
    root.mkdir()
    root.chmod(0o777)  # sshd's user is not this test's
    options = sftp_options(env)
    cli.write_config(
        cli.config.read_text()
        + "- name: sftp\n"
        + "".join(f"  {key}: {value}\n" for key, value in options.items())
        + f"  path: {root}\n"
    )
    return "sftp"


@pytest.mark.services
def test_check_and_du_on_s3(cli: CLI, src: Path, s3: str) -> None:  # noqa: F811
    cli.ok("cp", "src/", "s3:tree")
    assert cli.ok("du", "s3:tree").split() == ["9", "3", "files", "s3:tree"]
    assert cli.ok("du", "-h", "s3:").split()[:2] == ["9", "3"]
    equal = cli.run("check", "src", "s3:tree")
    assert equal.returncode == 0, equal.stdout
    assert b"hashes could not be checked" not in equal.stderr  # S3 ETags are MD5s
    _pair(cli, src, "s3:tree")
    result = cli.run("check", "src", "s3:tree")
    assert result.returncode == 1
    assert _lines(result.stdout.decode()) == [
        "build.log: sizes differ",
        "one.txt: md5 differ",  # from the stored ETag: nothing downloaded
        f"only-dest.txt: file not in {src}",
        "only-src.txt: file not in s3:tree",
    ]
    assert "└── two.txt" in cli.ok("tree", "s3:tree")


@pytest.mark.services
def test_check_and_du_on_sftp(cli: CLI, src: Path, sftp: str) -> None:  # noqa: F811
    cli.ok("cp", "src/", "sftp:tree")
    assert cli.ok("du", "sftp:tree").split() == ["9", "3", "files", "sftp:tree"]
    equal = cli.run("check", "src", "sftp:tree")
    assert equal.returncode == 0, equal.stdout
    assert "sftp:tree: 3 hashes could not be checked" in equal.stderr.decode()  # sizes only
    _pair(cli, src, "sftp:tree")
    result = cli.run("check", "src", "sftp:tree")
    assert result.returncode == 1
    assert _lines(result.stdout.decode()) == [  # one.txt: same size, no hash on SFTP
        "build.log: sizes differ",
        f"only-dest.txt: file not in {src}",
        "only-src.txt: file not in sftp:tree",
    ]
    assert "sftp:tree: 2 hashes could not be checked" in result.stderr.decode()


@pytest.mark.services
def test_retries_flag_overrides_the_mounts(cli: CLI, s3: str) -> None:  # noqa: F811
    """Two 503s on the upload: --retries 0 fails, --retries 3 gets through."""
    from urllib.parse import urlsplit

    from bench.netproxy import Fault, NetProxy
    from tests._procs import free_port
    from tests.services import require_services

    port = urlsplit(require_services("s3")["SVC_S3_ENDPOINT"]).port
    assert port
    (cli.tmp / "f.txt").write_text("payload")
    text = cli.config.read_text()
    for retries, ok in (("0", False), ("3", True)):
        fault = Fault("503", match=r"^PUT ", times=2)
        with NetProxy(port, faults=[fault], port=free_port()) as proxy:
            cli.write_config(text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{proxy.port}"))
            result = cli.run("--retries", retries, "cp", "f.txt", f"s3:r{retries}.txt")
        assert (result.returncode == 0) is ok, result.stderr.decode()
        assert fault.fired >= 1
    cli.write_config(text)
    assert cli.ok("cat", "s3:r3.txt") == "payload"


# ---------------------------------------------------------------------- streamed copies
def test_a_copy_without_progress_starts_while_the_source_is_listed(cli: CLI) -> None:  # noqa: F811
    """No bar, no --stats, no --bwlimit: the CLI asks for no byte total, so the engine
    copies files while it lists the source; --stats needs the total, so it lists first."""
    from typing import Any

    from genro_storage.backends.local import create
    from genro_storage.backends.registry import BACKENDS, register_backend

    source = cli.tmp / "many"
    source.mkdir()
    for i in range(20):
        (source / f"f{i:02d}.txt").write_text(str(i))
    copied_when_listed: list[int] = []
    out = cli.home / "out"

    def factory(config: dict[str, Any], mount_name: str) -> Any:
        backend = create({"type": "local", "path": config["path"]}, mount_name)
        listing = backend.walk_files

        def walk_files(path: str) -> Any:
            for entry in listing(path):
                copied_when_listed.append(len(list(out.glob("*.txt"))) if out.exists() else 0)
                yield entry

        backend.walk_files = walk_files  # type: ignore[method-assign]
        return backend

    register_backend("watched", factory, required=("path",), replace=True)
    try:
        cli.write_config(cli.config.read_text() + f"- name: w\n  type: watched\n  path: {source}\n")
        cli.ok("cp", "w:", "home:out", "--transfers", "1")
        assert copied_when_listed[-1] > 0  # files landed before the listing ended
        assert len(list(out.glob("*.txt"))) == 20
        copied_when_listed.clear()
        out = cli.home / "out2"  # the listing sees this one now
        result = cli.run("cp", "w:", "home:out2", "--transfers", "1", "--stats", "60")
        assert result.returncode == 0, result.stderr.decode()
        assert copied_when_listed and set(copied_when_listed) == {0}  # listed first
        assert len(list(out.glob("*.txt"))) == 20
    finally:
        BACKENDS.pop("watched", None)
