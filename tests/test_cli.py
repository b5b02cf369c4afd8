"""The ``genro-storage`` command line.

Commands run in this process (``genro_storage.cli.main`` with its own argv, stdin, stdout,
stderr, environment and working directory: a fresh interpreter per call cost ~0.7 s);
``python -m genro_storage`` runs as a real process where the process matters (the entry
point, ``serve``, a terminal's progress bar).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from genro_storage.cli import main

ROOT = Path(__file__).resolve().parent.parent


class CLI:
    """Runs the command with a config file naming a local mount ``home`` (and more)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "pub").mkdir()
        self.config = tmp_path / "mounts.yaml"
        self.write_config(
            f"- name: home\n  type: local\n  path: {self.home}\n"
            "- name: ro\n  path: 'home:pub'\n  permissions: readonly\n"
        )

    def write_config(self, text: str) -> None:
        self.config.write_text(text)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "GENRO_STORAGE_CONFIG"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.update(extra)
        return env

    def argv(self, args: tuple[str, ...], config: bool) -> list[str]:
        return [*(["--config", str(self.config)] if config else []), *args]

    def run(self, *args: str, config: bool = True, input: bytes | None = None, **env: str):
        """Run ``main(argv)`` here, as the process would: exit status, stdout/stderr bytes."""
        argv = self.argv(args, config)
        out, err = io.BytesIO(), io.BytesIO()
        streams = [
            io.TextIOWrapper(buf, encoding="utf-8", write_through=True) for buf in (out, err)
        ]
        stdin = io.TextIOWrapper(io.BytesIO(input or b""), encoding="utf-8")
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        os.environ.clear()
        os.environ.update(self.env(**env))
        os.chdir(self.tmp)
        try:
            with (
                contextlib.redirect_stdout(streams[0]),
                contextlib.redirect_stderr(streams[1]),
                _stdin(stdin),
            ):
                try:
                    code = main(argv)
                except SystemExit as exc:  # argparse: --help, --version, usage errors
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())

    def run_process(self, *args: str, config: bool = True, **env: str):
        """Run ``python -m genro_storage`` as a real process."""
        return subprocess.run(
            [sys.executable, "-m", "genro_storage", *self.argv(args, config)],
            cwd=self.tmp,
            env=self.env(**env),
            capture_output=True,
            timeout=60,
        )

    def ok(self, *args: str, **kw) -> str:
        result = self.run(*args, **kw)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stderr == b""
        return result.stdout.decode()

    def fails(self, code: int, *args: str, **kw) -> str:
        """The command exits with ``code`` and exactly one stderr line, no traceback."""
        result = self.run(*args, **kw)
        err = result.stderr.decode()
        assert result.returncode == code, (result.returncode, err)
        assert err.startswith("genro-storage: error: "), err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        return err


@contextlib.contextmanager
def _stdin(stream: io.TextIOWrapper):
    saved, sys.stdin = sys.stdin, stream
    try:
        yield
    finally:
        sys.stdin = saved


@pytest.fixture
def cli(tmp_path: Path) -> CLI:
    return CLI(tmp_path)


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def src(cli: CLI) -> Path:
    root = cli.tmp / "src"
    (root / "sub").mkdir(parents=True)
    (root / "one.txt").write_text("1\n")
    (root / "sub" / "two.txt").write_text("22\n")
    (root / "build.log").write_text("log\n")
    return root


# ---------------------------------------------------------------------- entry points
def test_help_lists_every_command(cli: CLI) -> None:
    out = cli.ok("--help", config=False)
    for command in (
        "mounts",
        "ls",
        "stat",
        "cat",
        "put",
        "get",
        "cp",
        "sync",
        "mv",
        "rm",
        "mkdir",
        "hash",
        "url",
        "serve",
        "du",
        "tree",
        "check",
    ):
        assert command in out
    assert "4 not found" in out


def test_version(cli: CLI) -> None:
    from genro_storage import __version__

    assert cli.ok("--version", config=False).strip() == f"genro-storage {__version__}"


def test_console_script_entry_point_is_main() -> None:
    assert main(["--config", "/nonexistent.yaml", "mounts"]) == 3


@pytest.mark.server
def test_python_dash_m_runs_the_command_in_a_real_process(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("hi")
    result = cli.run_process("cat", "home:a.txt")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"hi", b"")
    missing = cli.run_process("cat", "home:missing.txt")
    assert missing.returncode == 4 and missing.stderr.startswith(b"genro-storage: error: ")


# ---------------------------------------------------------------------- mounts, config
def test_mounts_lists_names_types_and_locations(cli: CLI) -> None:
    out = cli.ok("mounts")
    assert out.splitlines()[0].split()[:3] == ["home", "local", str(cli.home)]
    assert "[readonly]" in out.splitlines()[1]


def test_mounts_json(cli: CLI) -> None:
    rows = json.loads(cli.ok("mounts", "--json"))
    assert [r["name"] for r in rows] == ["home", "ro"]
    assert rows[1]["readonly"] is True and rows[0]["type"] == "local"


def test_mounts_never_print_secrets(cli: CLI) -> None:
    cli.write_config(
        f"- name: home\n  type: local\n  path: {cli.home}\n"
        "- name: remote\n  type: sftp\n  host: 127.0.0.1\n  username: u\n  password: hunter2\n"
    )
    assert "hunter2" not in cli.ok("mounts") + cli.ok("mounts", "--json")


def test_config_from_environment_variable(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("env")
    assert cli.ok("cat", "home:a.txt", config=False, GENRO_STORAGE_CONFIG=str(cli.config)) == "env"


def test_config_flag_after_the_command(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("x")
    out = cli.run("ls", "home:", "--config", str(cli.config), config=False)
    assert out.returncode == 0 and "a.txt" in out.stdout.decode()


def test_bad_yaml_names_file_and_line(cli: CLI) -> None:
    cli.write_config("- name: home\n  type: [local\n")
    err = cli.fails(3, "mounts")
    assert "mounts.yaml" in err and "line" in err


def test_invalid_mount_config_names_the_key(cli: CLI) -> None:
    cli.write_config("- name: box\n  type: s3\n")
    assert "missing required field: 'bucket'" in cli.fails(3, "mounts")


def test_missing_config_file(cli: CLI) -> None:
    assert "configuration file not found" in cli.fails(
        3, "ls", "--config", "nope.yaml", config=False
    )


def test_unknown_mount(cli: CLI) -> None:
    err = cli.fails(4, "ls", "bogus:x")
    assert "unknown mount 'bogus'" in err and "home" in err


def test_unknown_command_is_a_usage_error(cli: CLI) -> None:
    assert "invalid choice" in cli.fails(2, "frobnicate")


def test_missing_argument_is_a_usage_error(cli: CLI) -> None:
    cli.fails(2, "cp", "home:a")


def test_debug_shows_the_traceback(cli: CLI) -> None:
    result = cli.run("--debug", "cat", "home:missing.txt")
    assert result.returncode == 4
    assert b"Traceback" in result.stderr


# ---------------------------------------------------------------------- ls, stat
def test_ls_plain_long_recursive(cli: CLI) -> None:
    (cli.home / "docs").mkdir()
    (cli.home / "docs" / "a.txt").write_text("hello")
    (cli.home / "b.bin").write_bytes(b"12")
    assert cli.ok("ls", "home:").split() == ["b.bin", "docs/", "pub/"]
    long = cli.ok("ls", "-l", "home:").splitlines()
    assert long[0].split()[0:2] == ["-", "2"] and long[0].endswith("b.bin")
    assert long[1].startswith("d") and long[1].endswith("docs/")
    assert "docs/a.txt" in cli.ok("ls", "-R", "home:").split()


def test_ls_json(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("hello")
    entries = json.loads(cli.ok("ls", "--json", "-R", "home:"))
    by_name = {e["name"]: e for e in entries}
    assert by_name["a.txt"]["size"] == 5 and by_name["a.txt"]["type"] == "file"
    assert by_name["a.txt"]["path"] == "home:a.txt"
    assert by_name["pub"]["type"] == "dir"


def test_ls_without_target_lists_mounts(cli: CLI) -> None:
    assert cli.ok("ls").split() == ["home:", "ro:"]


def test_ls_of_a_file_shows_the_file(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("hello")
    assert cli.ok("ls", "home:a.txt").strip() == "a.txt"


def test_ls_missing(cli: CLI) -> None:
    assert "home:nope: no such file or directory" in cli.fails(4, "ls", "home:nope")


def test_ls_plain_local_path(cli: CLI) -> None:
    (cli.tmp / "local.txt").write_text("x")
    assert "local.txt" in cli.ok("ls", ".").split()
    assert "local.txt" in cli.ok("ls", str(cli.tmp)).split()


def test_stat_human_and_json(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("hello")
    out = cli.ok("stat", "home:a.txt")
    assert "size:      5" in out and "mimetype:  text/plain" in out
    info = json.loads(cli.ok("stat", "--json", "home:a.txt"))
    assert info["size"] == 5 and info["type"] == "file" and info["mimetype"] == "text/plain"
    assert abs(info["mtime"] - (cli.home / "a.txt").stat().st_mtime) < 1
    both = json.loads(cli.ok("stat", "--json", "home:a.txt", "home:pub"))
    assert [b["type"] for b in both] == ["file", "dir"]


def test_stat_missing(cli: CLI) -> None:
    cli.fails(4, "stat", "home:nope.txt")


# ---------------------------------------------------------------------- cat, hash
def test_cat_streams_bytes(cli: CLI) -> None:
    data = bytes(range(256)) * 1000
    (cli.home / "blob.bin").write_bytes(data)
    assert cli.run("cat", "home:blob.bin").stdout == data


def test_cat_several_and_local(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("a")
    (cli.tmp / "b.txt").write_text("b")
    assert cli.ok("cat", "home:a.txt", "./b.txt") == "ab"


def test_cat_directory_is_an_error(cli: CLI) -> None:
    assert "is a directory" in cli.fails(1, "cat", "home:pub")


def test_hash(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("hello\n")
    assert cli.ok("hash", "home:a.txt") == "b1946ac92492d2347c6235b4d2611184  home:a.txt\n"
    rows = json.loads(cli.ok("hash", "--json", "home:a.txt"))
    assert rows == [{"path": "home:a.txt", "md5": "b1946ac92492d2347c6235b4d2611184"}]


# ---------------------------------------------------------------------- put, get
def test_put_and_get_roundtrip(cli: CLI) -> None:
    (cli.tmp / "report.pdf").write_bytes(b"%PDF-1")
    cli.ok("put", "report.pdf", "home:reports/")
    assert (cli.home / "reports" / "report.pdf").read_bytes() == b"%PDF-1"
    cli.ok("get", "home:reports/report.pdf", "back.pdf")
    assert (cli.tmp / "back.pdf").read_bytes() == b"%PDF-1"


def test_put_stdin_and_get_stdout(cli: CLI) -> None:
    cli.ok("put", "-", "home:in.txt", input=b"from stdin")
    assert (cli.home / "in.txt").read_text() == "from stdin"
    assert cli.ok("get", "home:in.txt", "-") == "from stdin"


def test_put_directory(cli: CLI, src: Path) -> None:
    cli.ok("put", str(src), "home:up")
    assert tree(cli.home / "up") == tree(src)


def test_get_missing(cli: CLI) -> None:
    cli.fails(4, "get", "home:nope.txt", "x.txt")
    assert not (cli.tmp / "x.txt").exists()


def test_put_into_readonly_mount_is_denied(cli: CLI) -> None:
    (cli.tmp / "a.txt").write_text("x")
    assert "read-only" in cli.fails(5, "put", "a.txt", "ro:a.txt")
    assert not (cli.home / "pub" / "a.txt").exists()


# ---------------------------------------------------------------------- cp
def test_cp_file_to_file_and_into_directory(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("a")
    cli.ok("cp", "home:a.txt", "home:b.txt")
    cli.ok("cp", "home:a.txt", "home:pub")
    assert (cli.home / "b.txt").read_text() == "a"
    assert (cli.home / "pub" / "a.txt").read_text() == "a"


def test_cp_tree_like_cp_r(cli: CLI, src: Path) -> None:
    cli.ok("cp", "src", "home:copy")
    assert tree(cli.home / "copy") == tree(src)
    cli.ok("cp", "src", "home:copy")  # existing directory: the tree goes inside it
    assert tree(cli.home / "copy" / "src") == tree(src)


def test_cp_trailing_slash_copies_contents(cli: CLI, src: Path) -> None:
    (cli.home / "flat").mkdir()
    cli.ok("cp", "src/", "home:flat")
    assert tree(cli.home / "flat") == tree(src)


def test_cp_several_sources_into_directory(cli: CLI) -> None:
    for name in ("a.txt", "b.txt"):
        (cli.tmp / name).write_text(name)
    cli.ok("cp", "a.txt", "b.txt", "home:both")
    assert tree(cli.home / "both") == {"a.txt": "a.txt", "b.txt": "b.txt"}


def test_cp_include_exclude(cli: CLI, src: Path) -> None:
    cli.ok("cp", "src/", "home:txt", "--include", "*.txt", "--exclude", "sub/*")
    assert tree(cli.home / "txt") == {"one.txt": "1\n"}


@pytest.mark.parametrize(
    ("skip", "copied"),
    [("never", True), ("exists", False), ("size", False), ("hash", True)],
)
def test_cp_skip_strategies(cli: CLI, skip: str, copied: bool) -> None:
    (cli.tmp / "a.txt").write_text("new")
    (cli.home / "a.txt").write_text("old")  # same size, other content
    out = cli.ok("cp", "a.txt", "home:a.txt", "--skip", skip, "-v")
    assert (cli.home / "a.txt").read_text() == ("new" if copied else "old")
    assert ("copied:" in out) is copied


def test_cp_verbose_lines_and_summary(cli: CLI, src: Path) -> None:
    out = cli.ok("cp", "src/", "home:v", "-v", "--exclude", "*.log")
    assert "copied: one.txt" in out and "copied: sub/two.txt" in out
    assert "skipped: build.log (matching exclude pattern '*.log')" in out
    assert out.splitlines()[-1] == "2 copied, 1 skipped, 0 deleted"


def test_cp_quiet_without_a_terminal(cli: CLI, src: Path) -> None:
    result = cli.run("cp", "src", "home:q")
    assert result.returncode == 0 and result.stdout == b"" and result.stderr == b""


@pytest.mark.server
def test_cp_shows_a_progress_bar_on_a_terminal(cli: CLI, src: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    cmd = [sys.executable, "-m", "genro_storage", "--config", str(cli.config)]
    proc = subprocess.Popen(
        [*cmd, "cp", "src", "home:bar"],
        cwd=cli.tmp,
        env=cli.env(),
        stderr=slave,
        stdout=subprocess.DEVNULL,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    assert b"3/3" in seen and b"file" in seen


def test_cp_dry_run_changes_nothing(cli: CLI, src: Path) -> None:
    out = cli.ok("cp", "src/", "home:dry", "--dry-run")
    assert not (cli.home / "dry").exists()
    assert "would copy: one.txt" in out
    assert out.splitlines()[-1].startswith("dry run: 3 to copy, 0 to skip")


def test_cp_into_itself_is_refused(cli: CLI, src: Path) -> None:
    assert "into itself" in cli.fails(1, "cp", "src", "src/inner")


def test_cp_missing_source(cli: CLI) -> None:
    cli.fails(4, "cp", "home:nope", "home:x")


def test_cp_traversal_is_refused(cli: CLI) -> None:
    assert "traversal" in cli.fails(8, "cp", "home:../../etc/passwd", "x")


# ---------------------------------------------------------------------- sync
def test_sync_transfers_only_changes(cli: CLI, src: Path) -> None:
    first = cli.ok("sync", "src", "home:mirror", "-v")
    assert first.splitlines()[-1] == "3 copied, 0 skipped, 0 deleted"
    assert tree(cli.home / "mirror") == tree(src)
    (src / "one.txt").write_text("9\n")  # same size, new content: hash sees it
    second = cli.ok("sync", "src", "home:mirror", "-v")
    assert "copied: one.txt" in second
    assert second.splitlines()[-1] == "1 copied, 2 skipped, 0 deleted"
    assert (cli.home / "mirror" / "one.txt").read_text() == "9\n"


def test_sync_skip_size_misses_same_size_edits(cli: CLI, src: Path) -> None:
    cli.ok("sync", "src", "home:m")
    (src / "one.txt").write_text("9\n")
    cli.ok("sync", "src", "home:m", "--skip", "size")
    assert (cli.home / "m" / "one.txt").read_text() == "1\n"


def test_sync_delete(cli: CLI, src: Path) -> None:
    cli.ok("sync", "src", "home:m")
    (cli.home / "m" / "extra.txt").write_text("x")
    (cli.home / "m" / "old" / "deep").mkdir(parents=True)
    (cli.home / "m" / "old" / "deep" / "z.txt").write_text("z")
    out = cli.ok("sync", "src", "home:m", "--delete", "-v")
    assert "deleted: extra.txt" in out and "deleted: old/" in out
    assert tree(cli.home / "m") == tree(src)
    assert not (cli.home / "m" / "old").exists()


def test_sync_delete_keeps_excluded_files(cli: CLI, src: Path) -> None:
    cli.ok("sync", "src", "home:m")
    (cli.home / "m" / "keep.log").write_text("k")
    cli.ok("sync", "src", "home:m", "--delete", "--exclude", "*.log")
    assert (cli.home / "m" / "keep.log").exists()


def test_sync_dry_run_with_delete_changes_nothing(cli: CLI, src: Path) -> None:
    cli.ok("sync", "src", "home:m")
    (cli.home / "m" / "extra.txt").write_text("x")
    (src / "one.txt").write_text("changed\n")
    before = tree(cli.home / "m")
    out = cli.ok("sync", "src", "home:m", "--delete", "--dry-run")
    assert tree(cli.home / "m") == before
    assert "would copy: one.txt" in out and "would delete: extra.txt" in out
    assert "would skip: sub/two.txt (same content" in out
    assert out.splitlines()[-1] == "dry run: 1 to copy, 2 to skip, 1 to delete (nothing changed)"


# ---------------------------------------------------------------------- mv, rm, mkdir
def test_mv_file_and_directory(cli: CLI, src: Path) -> None:
    (cli.home / "a.txt").write_text("a")
    cli.ok("mv", "home:a.txt", "home:pub/")
    assert not (cli.home / "a.txt").exists()
    assert (cli.home / "pub" / "a.txt").read_text() == "a"
    cli.ok("mv", "src", "home:moved")
    assert not src.exists() and (cli.home / "moved" / "sub" / "two.txt").exists()


def test_mv_out_of_readonly_is_denied(cli: CLI) -> None:
    (cli.home / "pub" / "a.txt").write_text("a")
    cli.fails(5, "mv", "ro:a.txt", "home:a.txt")
    assert (cli.home / "pub" / "a.txt").exists()


def test_rm(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("a")
    (cli.home / "d" / "e").mkdir(parents=True)
    cli.ok("rm", "home:a.txt")
    assert "use rm -r" in cli.fails(1, "rm", "home:d")
    cli.ok("rm", "-r", "home:d")
    assert not (cli.home / "a.txt").exists() and not (cli.home / "d").exists()


def test_rm_missing_and_force(cli: CLI) -> None:
    cli.fails(4, "rm", "home:nope")
    cli.ok("rm", "-f", "home:nope")


def test_rm_refuses_a_mount_root(cli: CLI) -> None:
    (cli.home / "kept.txt").write_text("kept")
    for spelling in ("home:", "home:.", "home:./", "home:./.", "ro:", "ro:."):
        assert "root of a mount" in cli.fails(5, "rm", "-r", spelling)
    assert (cli.home / "kept.txt").exists() and (cli.home / "pub").exists()


def test_mv_refuses_a_mount_root(cli: CLI) -> None:
    (cli.home / "kept.txt").write_text("kept")
    assert "root of a mount" in cli.fails(5, "mv", "home:.", "home:pub/x")
    assert (cli.home / "kept.txt").exists()


def test_rm_on_readonly_mount_is_denied(cli: CLI) -> None:
    (cli.home / "pub" / "a.txt").write_text("a")
    cli.fails(5, "rm", "ro:a.txt")


def test_mkdir(cli: CLI) -> None:
    cli.ok("mkdir", "home:new")
    assert (cli.home / "new").is_dir()
    assert "already exists" in cli.fails(1, "mkdir", "home:new")
    cli.fails(4, "mkdir", "home:x/y/z")
    cli.ok("mkdir", "-p", "home:x/y/z", "home:new")
    assert (cli.home / "x" / "y" / "z").is_dir()


def test_local_permission_error(cli: CLI) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    locked = cli.tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        (cli.tmp / "a.txt").write_text("x")
        cli.fails(5, "cp", "a.txt", str(locked / "a.txt"))
    finally:
        locked.chmod(0o700)


# ---------------------------------------------------------------------- url, serve
def test_url_on_local_mount_is_unsupported(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("a")
    assert "cannot make URLs" in cli.fails(6, "url", "home:a.txt")


def test_url_rejects_non_positive_expiry(cli: CLI) -> None:
    cli.fails(1, "url", "home:a.txt", "--expires", "0")


def _start_server(cli: CLI, *args: str) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "genro_storage", "--config", str(cli.config)]
    proc = subprocess.Popen(
        [*cmd, "serve", "--port", "0", *args],
        cwd=cli.tmp,
        env=cli.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    assert line.startswith("Serving "), line + proc.stderr.read().decode()  # type: ignore[union-attr]
    url = line.split(" at ", 1)[1].split()[0]
    return proc, url


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.communicate(timeout=10)  # also closes the pipes


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.server
def test_serve_prints_its_url_and_serves_files(cli: CLI) -> None:
    (cli.home / "docs").mkdir()
    (cli.home / "docs" / "a.txt").write_text("served")
    proc, url = _start_server(cli)
    try:
        assert url.startswith("http://127.0.0.1:")
        status, headers, body = _get(url + "home/docs/a.txt")
        assert (status, body) == (200, b"served")
        assert headers["Content-Type"].startswith("text/plain")
        assert _get(url + "home/docs/a.txt", "HEAD")[2] == b""
        assert _get(url + "home/missing.txt")[0] == 404
        assert _get(url + "nomount/a.txt")[0] == 404
        assert _get(url + "home/%2e%2e/mounts.yaml")[0] in (403, 404)
        assert _get(url + "home/docs/a.txt", "POST")[0] == 405
    finally:
        _stop(proc)


@pytest.mark.server
def test_serve_private_mount_with_signed_urls(cli: CLI) -> None:
    (cli.home / "docs").mkdir()
    (cli.home / "docs" / "secret.txt").write_text("for your eyes only")
    proc, url = _start_server(cli, "--mount", "home", "--secret", "s3cr3t")
    try:
        assert _get(url + "home/docs/secret.txt")[0] == 403
        signed = cli.ok(
            "url", "--signed", "--secret", "s3cr3t", "--base-url", url, "home:docs/secret.txt"
        ).strip()
        assert signed.startswith(url + "home/docs/secret.txt?expires=")
        assert _get(signed)[:3:2] == (200, b"for your eyes only")
        assert _get(signed.replace("secret.txt", "other.txt"))[0] == 403
        wrong = cli.ok(
            "url", "--signed", "--secret", "nope", "--base-url", url, "home:docs/secret.txt"
        )
        assert _get(wrong.strip())[0] == 403
    finally:
        _stop(proc)


def test_url_signed_needs_a_secret(cli: CLI) -> None:
    assert "--secret" in cli.fails(1, "url", "--signed", "home:a.txt")


def test_url_signed_reads_the_secret_from_the_environment(cli: CLI) -> None:
    out = cli.ok("url", "--signed", "home:a b.txt", GENRO_STORAGE_SECRET="k")
    assert out.startswith("/home/a%20b.txt?expires=") and "signature=" in out


@pytest.mark.server
def test_serve_routes_from_an_app_config(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("routed")
    cli.write_config(
        f"mounts:\n  - name: home\n    type: local\n    path: {cli.home}\nserve:\n  /files: home\n"
    )
    proc, url = _start_server(cli)
    try:
        assert _get(url + "files/a.txt")[2] == b"routed"
        assert _get(url + "home/a.txt")[0] == 404
    finally:
        _stop(proc)
    assert cli.ok("cat", "home:a.txt") == "routed"


@pytest.mark.server
def test_serve_only_the_named_mounts(cli: CLI) -> None:
    (cli.home / "a.txt").write_text("a")
    proc, url = _start_server(cli, "--mount", "ro")
    try:
        assert _get(url + "home/a.txt")[0] == 404
    finally:
        _stop(proc)


def test_serve_unknown_mount(cli: CLI) -> None:
    cli.fails(4, "serve", "--port", "0", "--mount", "nope")


def test_serve_without_mounts(cli: CLI) -> None:
    assert "nothing to serve" in cli.fails(6, "serve", "--port", "0", config=False)


def test_serve_port_in_use(cli: CLI) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        cli.fails(1, "serve", "--port", str(sock.getsockname()[1]))


# ---------------------------------------------------------------------- S3 (moto)
@pytest.fixture
def s3(cli: CLI):
    from tests.remote import make_bucket
    from tests.services import require_services

    env = require_services("s3")
    bucket = make_bucket(env, "cli")
    cli.write_config(
        cli.config.read_text() + f"- name: s3\n  type: s3\n  bucket: {bucket}\n"
        f"  endpoint_url: {env['SVC_S3_ENDPOINT']}\n"
        f"  key: {env['SVC_S3_KEY']}\n  secret: {env['SVC_S3_SECRET']}\n"
    )
    return bucket


@pytest.mark.services
def test_s3_every_command(cli: CLI, src: Path, s3: str) -> None:
    assert "s3" in cli.ok("mounts").split()
    cli.ok("put", "src/one.txt", "s3:docs/")
    assert cli.ok("cat", "s3:docs/one.txt") == "1\n"
    assert cli.ok("ls", "s3:docs").split() == ["one.txt"]
    assert json.loads(cli.ok("stat", "--json", "s3:docs/one.txt"))["size"] == 2
    assert cli.ok("hash", "s3:docs/one.txt").split()[0] == "b026324c6904b2a9cb4b88d6d61c81d1"
    first = cli.ok("sync", "src", "s3:mirror", "-v")
    assert first.splitlines()[-1] == "3 copied, 0 skipped, 0 deleted"
    again = cli.ok("sync", "src", "s3:mirror", "-v")
    assert again.splitlines()[-1] == "0 copied, 3 skipped, 0 deleted"
    dry = cli.ok("sync", "src", "s3:docs", "--delete", "--dry-run")
    assert "would delete" not in dry and cli.ok("ls", "s3:docs").split() == ["one.txt"]
    cli.ok("cp", "s3:mirror/", "home:back")
    assert tree(cli.home / "back") == tree(src)
    cli.ok("get", "s3:mirror/sub/two.txt", "two.txt")
    assert (cli.tmp / "two.txt").read_text() == "22\n"
    cli.ok("mv", "s3:docs/one.txt", "s3:moved.txt")
    cli.fails(4, "cat", "s3:docs/one.txt")
    assert "X-Amz-Expires=60" in cli.ok("url", "--expires", "60", "s3:moved.txt")
    cli.ok("mkdir", "-p", "s3:made")
    cli.ok("rm", "-r", "s3:mirror")
    assert "mirror/" not in cli.ok("ls", "s3:").split()
    assert json.loads(cli.ok("ls", "--json", "s3:"))
    cli.fails(4, "cat", "s3:nope.txt")


def test_a_yaml_error_names_the_config_file_and_line(cli: CLI) -> None:
    cli.write_config("- name: home\n  type: local\n  path: [unclosed\n")
    message = cli.fails(3, "ls", "home:")
    assert f'"{cli.config}", line' in message and "<unicode string>" not in message


def test_an_app_config_mount_error_names_the_file_and_line(cli: CLI) -> None:
    cli.write_config(
        f"mounts:\n  - name: home\n    type: local\n    path: {cli.home}\n    pth: x\n"
    )
    message = cli.fails(3, "ls", "home:")
    assert "unknown key 'pth'; did you mean 'path'?" in message
    assert f"{cli.config}, line 5" in message
